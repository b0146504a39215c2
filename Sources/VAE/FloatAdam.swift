import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// Adam (Kingma and Ba) on Float parameter arrays, in vector registers
/// (`VectorKernels.adam`): the optimizer of the networks trained in Float. The same update
/// as `Adam` without weight decay; its moments are public so that training can be saved
/// and resumed exactly.
public struct FloatAdam: Sendable, Equatable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var step = 0
    public var m: [[Float]] = []
    public var v: [[Float]] = []

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    public mutating func update(_ params: inout [[Float]], _ grads: [[Float]]) { update(&params, grads, nil) }

    /// The update with the gradient w₀·g₀ + w₁·g₁ (the gradients of a batch's two halves,
    /// weighted by their shares, combined on the fly), or g₀ alone when `second` is nil.
    public mutating func update(_ params: inout [[Float]], _ first: [[Float]], _ second: (grads: [[Float]], w0: Float, w1: Float)?) {
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        let c = constants(step: step, w0: second?.w0 ?? 1, w1: second?.w1 ?? 0)
        for k in params.indices { FloatAdam.apply(&params[k], &m[k], &v[k], first[k], second?.grads[k], c) }
    }

    public struct Constants: Sendable { var b1, b2, eps, lrc, rc2, w0, w1: Float }

    /// The constants of update number `step` (counted from 1) with the gradient w₀·g₀ + w₁·g₁.
    public func constants(step: Int, w0: Float = 1, w1: Float = 0) -> Constants {
        // lr·m̂/(√v̂ + ε) as (lr/c1)·m/(√v·(1/√c2) + ε), computed in Double then rounded once.
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        return Constants(b1: Float(beta1), b2: Float(beta2), eps: Float(epsilon), lrc: Float(learningRate / c1),
                         rc2: Float(1 / c2.squareRoot()), w0: w0, w1: w1)
    }

    /// One array's update from its moments and gradient (g₀, or w₀·g₀ + w₁·g₁ with `g1`).
    /// Elementwise, so arrays may be updated in any order or side by side.
    public static func apply(_ p: inout [Float], _ m: inout [Float], _ v: inout [Float], _ g0: [Float], _ g1: [Float]?, _ c: Constants) {
        let n = p.count
        precondition(m.count == n && v.count == n && g0.count == n && (g1?.count ?? n) == n, "FloatAdam: arrays of different sizes")
        p.withUnsafeMutableBufferPointer { pp in
            m.withUnsafeMutableBufferPointer { mm in
                v.withUnsafeMutableBufferPointer { vv in
                    g0.withUnsafeBufferPointer { a in
                        if let g1 {
                            g1.withUnsafeBufferPointer { b in
                                VectorKernels.adam(pp.baseAddress!, mm.baseAddress!, vv.baseAddress!, a.baseAddress!, b.baseAddress!, count: n, c)
                            }
                        } else {
                            VectorKernels.adam(pp.baseAddress!, mm.baseAddress!, vv.baseAddress!, a.baseAddress!, nil, count: n, c)
                        }
                    }
                }
            }
        }
    }
}
