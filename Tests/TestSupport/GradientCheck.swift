import DKL
import XCTest

/// Checks the tape's gradients of a scalar function of `inputs` against central finite
/// differences in Double, reporting the worst element. `build` makes the scalar from the
/// inputs' variables on a fresh tape.
public func checkGradients(_ inputs: [Matrix], eps: Double = 1e-6, rtol: Double = 1e-6, atol: Double = 1e-8,
                           file: StaticString = #filePath, line: UInt = #line,
                           _ build: ([Var]) -> Var) {
    let tape = Tape()
    let vars = inputs.map { tape.variable($0) }
    let out = build(vars)
    XCTAssertEqual(out.value.count, 1, "the function must be scalar", file: file, line: line)
    tape.backward(out)
    let analytic = vars.map { tape.grad($0) }
    func f(_ xs: [Matrix]) -> Double {
        let t = Tape()
        return build(xs.map { t.variable($0) }).value.data[0]
    }
    for (k, input) in inputs.enumerated() {
        var numeric = [Double](repeating: 0, count: input.count)
        for i in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[k].data[i] += eps
            minus[k].data[i] -= eps
            numeric[i] = (f(plus) - f(minus)) / (2 * eps)
        }
        assertClose(analytic[k].data, numeric, rtol: rtol, atol: atol, "gradient of input \(k)", file: file, line: line)
    }
}

/// A seeded matrix with entries uniform in `range`.
public func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64, in range: ClosedRange<Double> = -1...1) -> Matrix {
    var g = Xoshiro(seed: seed)
    return Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in range.lowerBound + (range.upperBound - range.lowerBound) * g.uniform() })
}
