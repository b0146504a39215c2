import DKL
import XCTest

/// A gradient that central differences do not confirm: the worst element.
public struct GradientMismatch: Error, CustomStringConvertible {
    public let input: Int, index: Int
    public let analytic: Double, numeric: Double
    public var description: String {
        "gradient of input \(input) at \(index): \(analytic) analytically, \(numeric) by central differences (|Δ| = \(abs(analytic - numeric)))"
    }
}

/// The one finite-difference check, for the tape and the VAE alike: `analytic[k][i]` against
/// (f(x + eps·e) − f(x − eps·e)) / 2eps for every element of every parameter array. Returns
/// the worst |Δ|; throws the worst mismatch when an element exceeds atol + rtol·|numeric|.
@discardableResult
public func compareWithFiniteDifferences(_ params: [[Double]], analytic: [[Double]], eps: Double = 1e-6, rtol: Double = 1e-6, atol: Double = 1e-8,
                                         _ f: ([[Double]]) -> Double) throws -> Double {
    precondition(params.count == analytic.count)
    var worst = 0.0, worstExcess = 0.0
    var mismatch: GradientMismatch?
    for k in params.indices {
        precondition(params[k].count == analytic[k].count, "input \(k): \(params[k].count) values, \(analytic[k].count) gradients")
        for i in params[k].indices {
            var plus = params, minus = params
            plus[k][i] += eps
            minus[k][i] -= eps
            let numeric = (f(plus) - f(minus)) / (2 * eps)
            let delta = abs(numeric - analytic[k][i])
            worst = max(worst, delta)
            let excess = delta - (atol + rtol * abs(numeric))
            if excess > worstExcess || !delta.isFinite {
                worstExcess = delta.isFinite ? excess : .infinity
                mismatch = GradientMismatch(input: k, index: i, analytic: analytic[k][i], numeric: numeric)
            }
        }
    }
    if let mismatch { throw mismatch }
    return worst
}

/// The tape's gradients of the scalar `build(inputs)` against central differences: the
/// worst |Δ|, or the worst mismatch thrown. `build` makes the scalar on a fresh tape.
@discardableResult
public func tapeGradientError(_ inputs: [Matrix], eps: Double = 1e-6, rtol: Double = 1e-6, atol: Double = 1e-8, _ build: ([Var]) -> Var) throws -> Double {
    let tape = Tape()
    let vars = inputs.map { tape.variable($0) }
    let out = build(vars)
    precondition(out.value.count == 1, "the function must be scalar")
    tape.backward(out)
    let analytic = vars.map { tape.grad($0).data }
    return try compareWithFiniteDifferences(inputs.map(\.data), analytic: analytic, eps: eps, rtol: rtol, atol: atol) { xs in
        let t = Tape()
        return build(zip(inputs, xs).map { t.variable(Matrix(rows: $0.rows, cols: $0.cols, data: $1)) }).value.data[0]
    }
}

/// `tapeGradientError` as a test assertion: a mismatch fails the test (at the caller's line)
/// with the worst element.
public func checkGradients(_ inputs: [Matrix], eps: Double = 1e-6, rtol: Double = 1e-6, atol: Double = 1e-8,
                           file: StaticString = #filePath, line: UInt = #line,
                           _ build: ([Var]) -> Var) {
    do { try tapeGradientError(inputs, eps: eps, rtol: rtol, atol: atol, build) } catch { XCTFail("\(error)", file: file, line: line) }
}

/// A seeded matrix with entries uniform in `range`.
public func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64, in range: ClosedRange<Double> = -1...1) -> Matrix {
    var g = Xoshiro(seed: seed)
    return Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in range.lowerBound + (range.upperBound - range.lowerBound) * g.uniform() })
}
