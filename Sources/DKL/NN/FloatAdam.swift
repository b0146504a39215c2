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

    public mutating func update(_ params: inout [[Float]], _ grads: [[Float]]) { update(&params, grads, nil) }

    /// The update with the gradient w₀·g₀ + w₁·g₁ (the gradients of a batch's two halves,
    /// weighted by their shares, combined on the fly), or g₀ alone when `second` is nil.
    public mutating func update(_ params: inout [[Float]], _ first: [[Float]], _ second: (grads: [[Float]], w0: Float, w1: Float)?) {
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        // lr·m̂/(√v̂ + ε) as (lr/c1)·m/(√v·(1/√c2) + ε), computed in Double then rounded once.
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        let constants = Constants(b1: Float(beta1), b2: Float(beta2), eps: Float(epsilon), lrc: Float(learningRate / c1),
                                  rc2: Float(1 / c2.squareRoot()), w0: second?.w0 ?? 1, w1: second?.w1 ?? 0)
        // Two halves of every array side by side: the update is elementwise, so the result
        // is the same on any number of threads. The arrays' buffers are pinned first: an
        // array's withUnsafeMutableBufferPointer must not run on two threads at once.
        var (mm, vv) = (m, v)
        m = []; v = []
        FloatAdam.pinned(&params) { p in
            FloatAdam.pinned(&mm) { mk in
                FloatAdam.pinned(&vv) { vk in
                    nonisolated(unsafe) let (p, mk, vk) = (p, mk, vk)
                    Parallel.lanes(2) { half in
                        for k in 0..<p.count {
                            let n = first[k].count
                            let mid = n / 16 * 8
                            let (lo, count) = half == 0 ? (0, mid) : (mid, n - mid)
                            first[k].withUnsafeBufferPointer { g0 in
                                if let second {
                                    second.grads[k].withUnsafeBufferPointer { g1 in
                                        FloatAdam.step(p[k] + lo, mk[k] + lo, vk[k] + lo, g0.baseAddress! + lo, g1.baseAddress! + lo, count: count, constants)
                                    }
                                } else {
                                    FloatAdam.step(p[k] + lo, mk[k] + lo, vk[k] + lo, g0.baseAddress! + lo, nil, count: count, constants)
                                }
                            }
                        }
                    }
                }
            }
        }
        m = mm; v = vv
    }

    struct Constants { var b1, b2, eps, lrc, rc2, w0, w1: Float }

    /// Runs `body` with the base addresses of all the arrays (none may be empty).
    static func pinned(_ arrays: inout [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> Void) {
        arrays.withUnsafeMutableBufferPointer { all in
            func nest(_ k: Int, _ pointers: [UnsafeMutablePointer<Float>]) {
                if k == all.count { body(pointers); return }
                all[k].withUnsafeMutableBufferPointer { nest(k + 1, pointers + [$0.baseAddress!]) }
            }
            nest(0, [])
        }
    }

    /// The update of `count` parameters from their moments and gradient (w₀·g₀ + w₁·g₁, or
    /// g₀ alone), eight at a time (the last few padded into one more group, so that all go
    /// through the same arithmetic).
    static func step(_ p: UnsafeMutablePointer<Float>, _ mk: UnsafeMutablePointer<Float>, _ vk: UnsafeMutablePointer<Float>,
                     _ g0: UnsafePointer<Float>, _ g1: UnsafePointer<Float>?, count: Int, _ c: Constants) {
        @inline(__always) func update(_ pv: inout SIMD8<Float>, _ mv: inout SIMD8<Float>, _ vv: inout SIMD8<Float>, _ gv: SIMD8<Float>) {
            mv = c.b1 * mv + (1 - c.b1) * gv
            vv = c.b2 * vv + (1 - c.b2) * gv * gv
            pv -= c.lrc * mv / (FastMath.sqrt8(vv) * c.rc2 + c.eps)
        }
        let (pp, mp, vp) = (UnsafeMutableRawPointer(p), UnsafeMutableRawPointer(mk), UnsafeMutableRawPointer(vk))
        let (ga, gb) = (UnsafeRawPointer(g0), g1.map(UnsafeRawPointer.init))
        let whole = count / 8 * 8
        for i in stride(from: 0, to: whole, by: 8) {
            let o = i * 4
            var pv = pp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            var mv = mp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            var vv = vp.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            var gv = ga.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            if let gb { gv = c.w0 * gv + c.w1 * gb.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) }
            update(&pv, &mv, &vv, gv)
            pp.storeBytes(of: pv, toByteOffset: o, as: SIMD8<Float>.self)
            mp.storeBytes(of: mv, toByteOffset: o, as: SIMD8<Float>.self)
            vp.storeBytes(of: vv, toByteOffset: o, as: SIMD8<Float>.self)
        }
        if whole < count {
            var (pv, mv, vv, gv) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for t in 0..<(count - whole) {
                pv[t] = p[whole + t]; mv[t] = mk[whole + t]; vv[t] = vk[whole + t]
                gv[t] = g1.map { c.w0 * g0[whole + t] + c.w1 * $0[whole + t] } ?? g0[whole + t]
            }
            update(&pv, &mv, &vv, gv)
            for t in 0..<(count - whole) { p[whole + t] = pv[t]; mk[whole + t] = mv[t]; vk[whole + t] = vv[t] }
        }
    }
}
