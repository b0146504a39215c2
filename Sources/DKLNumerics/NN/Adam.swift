import CPlatform
import Foundation
import DKLCore

/// Adam (Kingma and Ba), with decoupled weight decay when `weightDecay` > 0 (AdamW,
/// Loshchilov and Hutter). The state is kept per parameter, in the order given.
public struct Adam: Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// Which parameters the weight decay applies to (all when nil).
    public var decayMask: [Bool]?
    public private(set) var step = 0
    var m: [[Double]] = []
    var v: [[Double]] = []

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decayMask: [Bool]? = nil) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.decayMask = decayMask
    }

    /// One update of `params` from their gradients.
    public mutating func update(_ params: inout [Matrix], _ grads: [Matrix]) {
        if m.isEmpty {
            m = params.map { [Double](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        // lr·m̂/(√v̂ + ε) with m̂ = m/c1, v̂ = v/c2, as lr/c1 · m/(√v/√c2 + ε): one square root
        // and one division per parameter.
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        let lrc = learningRate / c1, rc2 = 1 / c2.squareRoot()
        for k in params.indices {
            let decay = weightDecay > 0 && (decayMask?[k] ?? true) ? learningRate * weightDecay : 0
            let (b1, b2, eps) = (beta1, beta2, epsilon)
            params[k].data.withUnsafeMutableBufferPointer { p in
                m[k].withUnsafeMutableBufferPointer { mk in
                    v[k].withUnsafeMutableBufferPointer { vk in
                        grads[k].data.withUnsafeBufferPointer { g in
                            // Sources/CPlatform/kernels.c: eight at a time in the machine's widest
                            // vectors, the same operations in the same order on every machine.
                            guard p.count > 0 else { return }
                            dkl_adam_f64(p.baseAddress!, mk.baseAddress!, vk.baseAddress!, g.baseAddress!, p.count, b1, b2, eps, lrc, rc2, decay)
                        }
                    }
                }
            }
        }
    }
}
