/// The negative ELBO per record, split into its parts, and the rotational encoder's
/// consistency term when training asks for it (in `total`, weighted).
import DKLCore
import DKLNumerics
import DKLData

public struct VAELoss: Sendable, Equatable {
    public var reconstruction = 0.0
    public var kl = 0.0
    public var consistency = 0.0
    public var total = 0.0
    public init() {}

    /// The weighted mean of losses over parts of a batch or a set (weights: their sizes).
    public static func mean(_ parts: [(loss: VAELoss, weight: Double)]) -> VAELoss {
        var m = VAELoss()
        let w = parts.reduce(0) { $0 + $1.weight }
        guard w > 0 else { return m }
        for (loss, weight) in parts {
            m.reconstruction += weight / w * loss.reconstruction; m.kl += weight / w * loss.kl
            m.consistency += weight / w * loss.consistency; m.total += weight / w * loss.total
        }
        return m
    }
}

extension VAE {
    /// The mean over the batch of reconstruction + β·KL for normalized inputs x (B×D), with
    /// z = μ + exp(λ/2)·ε for the noise ε (B×latent), or z = μ when `noise` is nil; and,
    /// when `gradients`, the loss's gradient with respect to `params`.
    ///
    /// Reconstruction per record: Σ (x − a)² (Gaussian) or Σ softplus(a) − x·a (Bernoulli on
    /// the logits a). KL per latent: ½(μ² + e^λ − 1 − λ) against N(0, 1); the rotational
    /// decoder's angle has a prior of width ρ and no mean term: −λ/2 + log ρ + e^λ/(2ρ²) − ½.
    /// With `turned` (the records turned by angles δ, `ImageRotation`), the consistency term
    /// w·(1 − cos(φ′ − φ − δ)) per record is added, φ and φ′ the angle means of a record and
    /// of its turned copy, w the configured weight.
    public func loss<T: NetScalar>(_ x: NetMatrix<T>, noise: NetMatrix<T>?, _ params: [[T]], gradients: Bool,
                                   turned: (x: NetMatrix<T>, angles: [T])? = nil) -> (VAELoss, [[T]]) {
        let (b, l) = (x.rows, latentWidth)
        var encCache = EncoderCache<T>()
        let out = encoderForward(x, params, cache: &encCache)
        var z = NetMatrix<T>(rows: b, cols: l), sd = NetMatrix<T>(rows: b, cols: l)
        for i in 0..<b {
            for j in 0..<l {
                let mu = out.data[i * 2 * l + j], lv = out.data[i * 2 * l + l + j]
                sd.data[i * l + j] = T.exp(lv / 2)
                z.data[i * l + j] = mu + (noise.map { sd.data[i * l + j] * $0.data[i * l + j] } ?? 0)
            }
        }
        var decCache = DecoderCache<T>()
        let a = decoderForward(z, params, cache: &decCache)

        var result = VAELoss()
        let invB = 1 / T(b)
        var da = NetMatrix<T>.uninitialized(rows: b, cols: a.cols)
        var reconstruction = 0.0
        switch config.likelihood {
        case .gaussian:
            // Summed per record in T (vectorizes), then across records in Double.
            let d = a.cols
            a.data.withUnsafeBufferPointer { pa in
                x.data.withUnsafeBufferPointer { px in
                    da.data.withUnsafeMutableBufferPointer { pd in
                        for i in 0..<b {
                            var s: T = 0
                            for j in (i * d)..<((i + 1) * d) {
                                let r = pa[j] - px[j]
                                s += r * r
                                pd[j] = 2 * r * invB
                            }
                            reconstruction += Double(s)
                        }
                    }
                }
            }
        case .bernoulli:
            for i in 0..<a.count {
                let (ai, xi) = (a.data[i], x.data[i])
                // softplus(a) − x·a = max(a, 0) − x·a + log(1 + e^−|a|), safe for any a.
                let e = T.exp(-abs(ai))
                reconstruction += Double(max(ai, 0) - xi * ai + T.log1p(e))
                let sigmoid = ai >= 0 ? 1 / (1 + e) : e / (1 + e)
                da.data[i] = (sigmoid - xi) * invB
            }
        }
        let rho = T(config.rotationPrior)
        var dmu = NetMatrix<T>(rows: b, cols: l), dlv = NetMatrix<T>(rows: b, cols: l)
        var kl = 0.0
        let beta = T(config.beta)
        for i in 0..<b {
            for j in 0..<l {
                let mu = out.data[i * 2 * l + j], lv = out.data[i * 2 * l + l + j]
                let v = sd.data[i * l + j] * sd.data[i * l + j]
                if config.decoder == .rotational && j == 0 {
                    kl += Double(-lv / 2 + T.log(rho) + v / (2 * rho * rho) - 0.5)
                    dlv.data[i * l + j] = beta * invB * (v / (2 * rho * rho) - 0.5)
                } else {
                    kl += Double((mu * mu + v - 1 - lv) / 2)
                    dmu.data[i * l + j] = beta * invB * mu
                    dlv.data[i * l + j] = beta * invB * (v - 1) / 2
                }
            }
        }
        result.reconstruction = reconstruction / Double(b)
        result.kl = kl / Double(b)
        result.total = result.reconstruction + config.beta * result.kl
        // The consistency term: its gradient with respect to φ (dphi) and φ′ (dturned).
        var turnedCache = EncoderCache<T>(), dphi = [T](repeating: 0, count: b), dturned: NetMatrix<T>?
        if let turned, config.decoder == .rotational, config.rotationConsistency > 0 {
            precondition(turned.x.rows == b && turned.angles.count == b)
            let w = T(config.rotationConsistency)
            let out2 = encoderForward(turned.x, params, cache: &turnedCache)
            var d2 = NetMatrix<T>(rows: b, cols: 2 * l)
            var sum = 0.0
            for i in 0..<b {
                let e = out2.data[i * 2 * l] - out.data[i * 2 * l] - turned.angles[i]
                sum += Double(1 - T.cos(e))
                let g = w * invB * T.sin(e)
                d2.data[i * 2 * l] = g
                dphi[i] = -g
            }
            result.consistency = sum / Double(b)
            result.total += config.rotationConsistency * result.consistency
            dturned = d2
        }
        guard gradients else { return (result, []) }

        var grads = [[T]](repeating: [], count: params.count)
        let dz = decoderBackward(da, params, cache: decCache, grads: &grads)
        var dout = NetMatrix<T>(rows: b, cols: 2 * l)
        for i in 0..<b {
            for j in 0..<l {
                let eps = noise?.data[i * l + j] ?? 0
                dout.data[i * 2 * l + j] = dz.data[i * l + j] + dmu.data[i * l + j] + (j == 0 ? dphi[i] : 0)
                dout.data[i * 2 * l + l + j] = dz.data[i * l + j] * eps * sd.data[i * l + j] / 2 + dlv.data[i * l + j]
            }
        }
        encoderBackward(dout, params, cache: encCache, grads: &grads)
        if let dturned {
            // The turned copies pass through the same encoder: their gradients add.
            var more = [[T]](repeating: [], count: params.count)
            encoderBackward(dturned, params, cache: turnedCache, grads: &more)
            for k in more.indices where !more[k].isEmpty {
                for i in more[k].indices { grads[k][i] += more[k][i] }
            }
        }
        return (result, grads)
    }
}
