/// A trainable map from inputs (one row per sample) to features: the DKL feature extractor.
import DKLCore

public protocol FeatureNetwork: Sendable {
    /// The trainable parameters, in a fixed order.
    var parameters: [Matrix] { get set }
    var inputWidth: Int { get }
    var outputWidth: Int { get }
    /// The forward pass on a tape, with `params` the tape variables of `parameters`.
    func forward(_ x: Var, _ params: [Var]) -> Var
    /// The forward pass without gradients.
    func apply(_ x: Matrix) -> Matrix
    /// The forward pass without gradients on rows `rows` of `x`.
    func apply(_ x: Matrix, rows: Range<Int>) -> Matrix
    /// Which parameters weight decay applies to (weights, not biases).
    var decayMask: [Bool] { get }
}

extension MLP: FeatureNetwork {
    public var decayMask: [Bool] { parameters.indices.map { $0 % 2 == 0 } }
}

extension FeatureNetwork {
    /// By a copy of the rows; a network that can read them in place says so.
    public func apply(_ x: Matrix, rows: Range<Int>) -> Matrix { apply(x.rows(rows)) }
}
