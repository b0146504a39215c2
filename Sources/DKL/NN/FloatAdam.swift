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

    public mutating func update(_ params: inout [[Float]], _ grads: [[Float]]) { update(&params, [grads], weights: [1]) }

    /// The update with the gradient Σₖ wₖ·partsₖ, summed in order (the gradients of a
    /// batch's parts, weighted by their shares, combined on the fly).
    public mutating func update(_ params: inout [[Float]], _ parts: [[[Float]]], weights: [Float]) {
        precondition(!parts.isEmpty && parts.count == weights.count)
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        // lr·m̂/(√v̂ + ε) as (lr/c1)·m/(√v·(1/√c2) + ε), computed in Double then rounded once.
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        let lrc = Float(learningRate / c1), rc2 = Float(1 / c2.squareRoot())
        let (b1, b2, eps) = (Float(beta1), Float(beta2), Float(epsilon))
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
                        var g = [Float]()
                        for k in 0..<p.count {
                            let n = parts[0][k].count
                            let mid = n / 16 * 8
                            let (lo, count) = half == 0 ? (0, mid) : (mid, n - mid)
                            if parts.count == 1 && weights[0] == 1 {
                                parts[0][k].withUnsafeBufferPointer { g in
                                    FloatAdam.step(p[k] + lo, mk[k] + lo, vk[k] + lo, g.baseAddress! + lo, count: count,
                                                   b1: b1, b2: b2, eps: eps, lrc: lrc, rc2: rc2)
                                }
                                continue
                            }
                            // The combined gradient, a few thousand at a time (stays in cache).
                            var start = lo
                            while start < lo + count {
                                let c = min(4096, lo + count - start)
                                g.removeAll(keepingCapacity: true)
                                g.append(contentsOf: repeatElement(0, count: c))
                                g.withUnsafeMutableBufferPointer { gg in
                                    for (part, w) in zip(parts, weights) {
                                        part[k].withUnsafeBufferPointer { pk in for i in 0..<c { gg[i] += w * pk[start + i] } }
                                    }
                                    FloatAdam.step(p[k] + start, mk[k] + start, vk[k] + start, gg.baseAddress!, count: c,
                                                   b1: b1, b2: b2, eps: eps, lrc: lrc, rc2: rc2)
                                }
                                start += c
                            }
                        }
                    }
                }
            }
        }
        m = mm; v = vv
    }

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

    /// The update of `count` parameters from their moments and gradients, eight at a time
    /// (the last few padded into one more group, so that all go through the same arithmetic).
    static func step(_ p: UnsafeMutablePointer<Float>, _ mk: UnsafeMutablePointer<Float>, _ vk: UnsafeMutablePointer<Float>,
                     _ g: UnsafePointer<Float>, count: Int, b1: Float, b2: Float, eps: Float, lrc: Float, rc2: Float) {
        @inline(__always) func step(_ pv: inout SIMD8<Float>, _ mv: inout SIMD8<Float>, _ vv: inout SIMD8<Float>, _ gv: SIMD8<Float>) {
            mv = b1 * mv + (1 - b1) * gv
            vv = b2 * vv + (1 - b2) * gv * gv
            pv -= lrc * mv / (FastMath.sqrt8(vv) * rc2 + eps)
        }
        let (pp, mp, vp, gp) = (UnsafeMutableRawPointer(p), UnsafeMutableRawPointer(mk), UnsafeMutableRawPointer(vk), UnsafeRawPointer(g))
        let whole = count / 8 * 8
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
        if whole < count {
            var (pv, mv, vv, gv) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for t in 0..<(count - whole) { pv[t] = p[whole + t]; mv[t] = mk[whole + t]; vv[t] = vk[whole + t]; gv[t] = g[whole + t] }
            step(&pv, &mv, &vv, gv)
            for t in 0..<(count - whole) { p[whole + t] = pv[t]; mk[whole + t] = mv[t]; vk[whole + t] = vv[t] }
        }
    }
}
