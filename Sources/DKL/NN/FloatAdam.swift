import Foundation

/// Adam (Kingma and Ba) on Float parameter arrays, eight at a time: the optimizer of the
/// networks trained in Float. The same update as `Adam` without weight decay; its moments
/// are public so that training can be saved and resumed exactly.
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

    public mutating func update(_ params: inout [[Float]], _ grads: [[Float]]) {
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        // lr·m̂/(√v̂ + ε) as (lr/c1)·m/(√v·(1/√c2) + ε), computed in Double then rounded once.
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        let lrc = Float(learningRate / c1), rc2 = Float(1 / c2.squareRoot())
        let (b1, b2, eps) = (Float(beta1), Float(beta2), Float(epsilon))
        for k in params.indices {
            params[k].withUnsafeMutableBufferPointer { p in
                m[k].withUnsafeMutableBufferPointer { mk in
                    v[k].withUnsafeMutableBufferPointer { vk in
                        grads[k].withUnsafeBufferPointer { g in
                            func step(_ pv: inout SIMD8<Float>, _ mv: inout SIMD8<Float>, _ vv: inout SIMD8<Float>, _ gv: SIMD8<Float>) {
                                mv = b1 * mv + (1 - b1) * gv
                                vv = b2 * vv + (1 - b2) * gv * gv
                                pv -= lrc * mv / (FastMath.sqrt8(vv) * rc2 + eps)
                            }
                            let (pp, mp, vp, gp) = (UnsafeMutableRawPointer(p.baseAddress!), UnsafeMutableRawPointer(mk.baseAddress!),
                                                    UnsafeMutableRawPointer(vk.baseAddress!), UnsafeRawPointer(g.baseAddress!))
                            let whole = p.count / 8 * 8
                            for i in stride(from: 0, to: whole, by: 8) {
                                let o = i * 4
                                var pv = pp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                                var mv = mp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                                var vv = vp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
                                step(&pv, &mv, &vv, gp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self))
                                pp.storeBytes(of: pv, toByteOffset: o, as: SIMD8<Float>.self)
                                mp.storeBytes(of: mv, toByteOffset: o, as: SIMD8<Float>.self)
                                vp.storeBytes(of: vv, toByteOffset: o, as: SIMD8<Float>.self)
                            }
                            if whole < p.count {
                                var (pv, mv, vv, gv) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                                for t in 0..<(p.count - whole) { pv[t] = p[whole + t]; mv[t] = mk[whole + t]; vv[t] = vk[whole + t]; gv[t] = g[whole + t] }
                                step(&pv, &mv, &vv, gv)
                                for t in 0..<(p.count - whole) { p[whole + t] = pv[t]; mk[whole + t] = mv[t]; vk[whole + t] = vv[t] }
                            }
                        }
                    }
                }
            }
        }
    }
}
