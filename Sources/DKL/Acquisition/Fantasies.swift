import Foundation

/// A GP's latent variances over a candidate set as fantasized observations are added one
/// at a time ("kriging believer": each fantasy is observed at its posterior mean, which
/// leaves the mean unchanged). Observing candidate i shrinks every variance by the rank-one
/// term c(x)²/(σ²(x_i) + noise), with c the current posterior covariance with x_i — equal
/// to conditioning the GP on the fantasy (`GPPosterior.adding`) and predicting again, in
/// O(m·n) per fantasy instead of O(m·n²). Memory: one m-vector per fantasy.
public struct FantasizedVariance: Sendable {
    public let posterior: GPPosterior
    /// m×d candidates in the posterior's input space.
    public let candidates: Matrix
    /// The current latent variances (the GP's units).
    public private(set) var variance: [Double]
    private var covariances: [[Double]] = []
    private var denominators: [Double] = []

    public init(posterior: GPPosterior, candidates: Matrix, variance: [Double]) {
        precondition(variance.count == candidates.rows)
        self.posterior = posterior; self.candidates = candidates; self.variance = variance
    }

    /// Adds a fantasized observation at candidate i.
    public mutating func observe(_ i: Int) {
        let m = candidates.rows, n = posterior.count, p = posterior.parameters
        // c(x) = k(x, x_i) − k(x, X)K⁻¹k(X, x_i), then the earlier fantasies' rank-one terms.
        let xi = candidates.rows(i..<(i + 1))
        let w = posterior.cholesky.solve(posterior.kernel.matrix(posterior.inputs, xi, lengthscales: p.lengthscales,
                                                                 outputscale: p.outputscale).data)
        var c = [Double](repeating: 0, count: m)
        var start = 0
        let chunk = max(64, (1 << 22) / max(n, 1))
        while start < m {
            let rows = min(chunk, m - start)
            let block = candidates.rows(start..<(start + rows))
            let kx = posterior.kernel.matrix(block, posterior.inputs, lengthscales: p.lengthscales, outputscale: p.outputscale)
            let ki = posterior.kernel.matrix(block, xi, lengthscales: p.lengthscales, outputscale: p.outputscale)
            for r in 0..<rows {
                var dot = 0.0
                for j in 0..<n { dot += kx.data[r * n + j] * w[j] }
                c[start + r] = ki.data[r] - dot
            }
            start += rows
        }
        for (s, cs) in covariances.enumerated() {
            let f = cs[i] / denominators[s]
            for x in 0..<m { c[x] -= cs[x] * f }
        }
        let d = max(variance[i], 0) + p.noise
        for x in 0..<m { variance[x] = max(variance[x] - c[x] * c[x] / d, 0) }
        covariances.append(c)
        denominators.append(d)
    }
}

/// An ensemble's combined predictions over a candidate set, with fantasized observations
/// added one at a time to every member (see `FantasizedVariance`): the members' means stay,
/// their variances shrink, and the combined moments follow.
public struct EnsembleFantasies: Sendable {
    public let ensemble: DKLEnsemble
    /// The combined mean and latent variance in the targets' units, with the fantasies so far.
    public private(set) var mean: [Double]
    public private(set) var variance: [Double]
    private var members: [FantasizedVariance]
    private var memberMeans: [[Double]]

    /// Embeds the candidates (rows of raw inputs) and predicts them with every member: the
    /// numbers `DKLEnsemble.predict` gives, before any fantasy.
    public init(ensemble: DKLEnsemble, candidates x: Matrix) throws {
        self.ensemble = ensemble
        let members = ensemble.members, posteriors = try ensemble.posteriors()
        let each = Parallel.lanesMap(members.count) { k -> (FantasizedVariance, [Double]) in
            let z = members[k].embed(x)
            let (mu, v) = posteriors[k].predict(z)
            return (FantasizedVariance(posterior: posteriors[k], candidates: z, variance: v), mu)
        }
        self.members = each.map(\.0)
        memberMeans = each.map(\.1)
        (mean, variance) = ([], [])
        combine()
    }

    /// Adds a fantasized observation at candidate i to every member.
    public mutating func observe(_ i: Int) {
        members.withUnsafeMutableBufferPointer { sp in
            nonisolated(unsafe) let s = sp
            Parallel.lanes(s.count) { k in s[k].observe(i) }
        }
        combine()
    }

    /// Members' predictions in the targets' units, combined as `DKLEnsemble.predict` does.
    private mutating func combine() {
        let preds = ensemble.members.indices.map { ensemble.members[$0].inTargetUnits(mean: memberMeans[$0], variance: members[$0].variance) }
        (mean, variance) = preds.count == 1 ? preds[0] : Ensemble.combine(preds)
    }
}
