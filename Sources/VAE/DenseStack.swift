/// Linear → activation → … → Linear (no activation after the last layer) over a batch of
/// rows, with a hand-written backward pass. The weights live in the model's parameter list:
/// W_l (in×out, row-major) at `first + 2l`, the bias b_l (out) at `first + 2l + 1`.
import DKLCore
import DKLNumerics
import DKLData

public struct DenseStack: Sendable, Equatable {
    public let widths: [Int]
    public let activation: NetActivation
    public let first: Int

    public init(widths: [Int], activation: NetActivation, first: Int) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 })
        self.widths = widths; self.activation = activation; self.first = first
    }

    public var layers: Int { widths.count - 1 }
    public var parameterCount: Int { 2 * layers }
    public var shapes: [(Int, Int)] { (0..<layers).flatMap { [(widths[$0], widths[$0 + 1]), (1, widths[$0 + 1])] } }

    /// Uniform in ±1/√fan_in, as PyTorch's `nn.Linear` initializes.
    public func initialParameters<T: NetScalar>(_ g: inout Xoshiro) -> [[T]] {
        shapes.enumerated().map { k, s in
            let bound = 1 / Double(widths[k / 2]).squareRoot()
            return (0..<(s.0 * s.1)).map { _ in T(bound * (2 * g.uniform() - 1)) }
        }
    }

    /// The forward pass; `cache` receives the input and every layer's output (what the
    /// backward pass needs).
    public func forward<T: NetScalar>(_ x: NetMatrix<T>, _ params: [[T]], cache: inout [NetMatrix<T>]) -> NetMatrix<T> {
        precondition(x.cols == widths[0], "DenseStack: input of width \(x.cols), expected \(widths[0])")
        cache = [x]
        var h = x
        for l in 0..<layers {
            h = DenseStack.affine(h, params[first + 2 * l], params[first + 2 * l + 1], out: widths[l + 1])
            if l < layers - 1 { activation.apply(&h) }
            cache.append(h)
        }
        return h
    }

    /// x·W + b.
    static func affine<T: NetScalar>(_ x: NetMatrix<T>, _ w: [T], _ b: [T], out: Int) -> NetMatrix<T> {
        var y = NetMatrix.product(x, NetMatrix(rows: x.cols, cols: out, data: w))
        y.addRow(b)
        return y
    }

    /// Sets the parameters' gradients in `grads` given the gradient `g` of the output (each
    /// parameter gets its gradient from this stack alone); returns the gradient of the
    /// input when `inputGradient`.
    @discardableResult
    public func backward<T: NetScalar>(_ g: NetMatrix<T>, _ params: [[T]], cache: [NetMatrix<T>], grads: inout [[T]], inputGradient: Bool) -> NetMatrix<T>? {
        var g = g
        for l in stride(from: layers - 1, through: 0, by: -1) {
            if l < layers - 1 { activation.backward(&g, output: cache[l + 1]) }
            let x = cache[l]
            let (wi, bi) = (first + 2 * l, first + 2 * l + 1)
            // dW = xᵀ·g, db = Σ rows of g.
            grads[wi] = NetMatrix.product(x, g, transA: true).data
            grads[bi] = g.columnSums()
            if l == 0 && !inputGradient { return nil }
            // dx = g·Wᵀ.
            g = NetMatrix.product(g, NetMatrix(rows: x.cols, cols: g.cols, data: params[wi]), transB: true)
        }
        return g
    }
}
