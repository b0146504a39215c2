import Foundation
import DKLCore

/// A multilayer perceptron: Linear → activation → … → Linear (no activation after the
/// last layer). Weights are stored in×out so that a batch X (n×in) maps to X·W + b.
public struct MLP: Sendable {
    public enum Activation: String, Sendable, CaseIterable { case relu, tanh, sigmoid, softplus }

    public var widths: [Int]
    public var activation: Activation
    /// W₀, b₀, W₁, b₁, …: the trainable parameters in order.
    public var parameters: [Matrix]

    /// Seeded initialization as PyTorch's `nn.Linear` does it: weights and biases uniform in
    /// ±1/√fan_in.
    public init(widths: [Int], activation: Activation = .relu, seed: UInt64) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 })
        self.widths = widths
        self.activation = activation
        var g = Xoshiro(seed: seed)
        parameters = []
        for (fanIn, fanOut) in zip(widths, widths.dropFirst()) {
            let bound = 1 / Double(fanIn).squareRoot()
            parameters.append(Matrix(rows: fanIn, cols: fanOut, data: (0..<(fanIn * fanOut)).map { _ in bound * (2 * g.uniform() - 1) }))
            parameters.append(Matrix(rows: 1, cols: fanOut, data: (0..<fanOut).map { _ in bound * (2 * g.uniform() - 1) }))
        }
    }

    public init(widths: [Int], activation: Activation, parameters: [Matrix]) {
        self.widths = widths; self.activation = activation; self.parameters = parameters
    }

    public var inputWidth: Int { widths[0] }
    public var outputWidth: Int { widths[widths.count - 1] }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// The forward pass on a tape, with the parameters given as tape variables.
    public func forward(_ x: Var, _ params: [Var]) -> Var {
        var h = x
        let layers = params.count / 2
        for l in 0..<layers {
            h = h.matmul(params[2 * l]) + params[2 * l + 1]
            if l < layers - 1 {
                switch activation {
                case .relu: h = h.relu()
                case .tanh: h = h.tanh()
                case .sigmoid: h = h.sigmoid()
                case .softplus: h = h.softplus()
                }
            }
        }
        return h
    }

    /// The forward pass without a tape (prediction), on a batch of rows.
    public func apply(_ x: Matrix) -> Matrix { apply(x, rows: 0..<x.rows) }

    /// The forward pass on rows `range` of `x`, read in place (no copy of the rows).
    public func apply(_ x: Matrix, rows range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= x.rows)
        let w0 = parameters[0]
        precondition(x.cols == w0.rows, "matmul: inner sizes \(x.cols) and \(w0.rows)")
        var h = range.isEmpty || x.cols == 0 ? Matrix(rows: range.count, cols: w0.cols) : Matrix.uninitialized(rows: range.count, cols: w0.cols)
        if !range.isEmpty && x.cols > 0 {
            x.data.withUnsafeBufferPointer { a in
                w0.data.withUnsafeBufferPointer { b in
                    h.data.withUnsafeMutableBufferPointer { c in
                        BLAS.gemm(a.baseAddress! + range.lowerBound * x.cols, b.baseAddress!, c.baseAddress!, m: range.count, n: w0.cols, k: x.cols)
                    }
                }
            }
        }
        let layers = parameters.count / 2
        for l in 0..<layers {
            if l > 0 { h = h.matmul(parameters[2 * l]) }
            let b = parameters[2 * l + 1].data
            let last = l == layers - 1
            let act = activation
            h.data.withUnsafeMutableBufferPointer { d in
                b.withUnsafeBufferPointer { bias in
                    let n = bias.count
                    for row in 0..<(d.count / max(n, 1)) {
                        let r = d.baseAddress! + row * n
                        for j in 0..<n { r[j] += bias[j] }
                        if last { continue }
                        switch act {
                        case .relu: for j in 0..<n { r[j] = max(r[j], 0) }
                        case .tanh: for j in 0..<n { r[j] = Foundation.tanh(r[j]) }
                        case .sigmoid: for j in 0..<n { r[j] = Activations.sigmoid(r[j]) }
                        case .softplus: for j in 0..<n { r[j] = Activations.softplus(r[j]) }
                        }
                    }
                }
            }
        }
        return h
    }
}
