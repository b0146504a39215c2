import Foundation
import DKLCore

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

/// Predictions over a candidate set that fantasized observations update one at a time:
/// what greedy batch selection needs of a model (`BatchSelection.greedyFantasized`).
public protocol Fantasizing {
    /// The mean and latent variance of every candidate, with the fantasies so far.
    var mean: [Double] { get }
    var variance: [Double] { get }
    /// Adds a fantasized observation at candidate i (its mean stays, variances shrink).
    mutating func observe(_ i: Int)
}
