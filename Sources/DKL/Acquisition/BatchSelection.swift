import Foundation

/// Choosing q points at once on a discrete candidate set.
public enum BatchSelection {
    /// Greedy selection with fantasized observations ("kriging believer"): each chosen point
    /// is observed at its posterior mean, which leaves the mean unchanged and shrinks the
    /// variance by the rank-one term c(x)²/(σ²(x_q) + noise), c the posterior covariance with
    /// x_q. This equals conditioning the GP on each fantasy (`GPPosterior.adding`) and
    /// predicting again, in O(m·n) per point instead of O(m·n²).
    ///
    /// - Parameters:
    ///   - posterior: the GP (in the embedding space of `candidates`, standardized units).
    ///   - candidates: m×d embedded candidates; `mean`, `variance`: their latent predictions.
    ///   - excluded: candidate indices never chosen (already measured).
    /// - Returns: the chosen candidate indices, in order.
    public static func greedyFantasized(posterior: GPPosterior, candidates: Matrix, mean: [Double], variance: [Double],
                                        q: Int, acquisition: Acquisition, best: Double, maximize: Bool = true,
                                        excluded: Set<Int> = []) -> [Int] {
        let m = candidates.rows
        var v = variance
        var chosen: [Int] = []
        var covs: [[Double]] = []     // c_s over all candidates
        var denominators: [Double] = []
        var blocked = excluded
        let p = posterior.parameters
        for _ in 0..<min(q, m - blocked.count) {
            let scores = acquisition.scores(mean: mean, variance: v, best: best, maximize: maximize)
            guard let i = BatchSelection.argmax(scores, excluding: blocked) else { break }
            chosen.append(i)
            blocked.insert(i)
            // c(x) = k(x, x_i) − k(x, X)K⁻¹k(X, x_i), then the earlier fantasies' rank-one terms.
            let xi = candidates.rows(i..<(i + 1))
            let w = posterior.cholesky.solve(posterior.kernel.matrix(posterior.inputs, xi, lengthscales: p.lengthscales,
                                                                     outputscale: p.outputscale).data)
            var c = [Double](repeating: 0, count: m)
            var start = 0
            let chunk = max(64, (1 << 22) / max(posterior.count, 1))
            while start < m {
                let rows = min(chunk, m - start)
                let block = candidates.rows(start..<(start + rows))
                let kx = posterior.kernel.matrix(block, posterior.inputs, lengthscales: p.lengthscales, outputscale: p.outputscale)
                let ki = posterior.kernel.matrix(block, xi, lengthscales: p.lengthscales, outputscale: p.outputscale)
                for r in 0..<rows {
                    var dot = 0.0
                    for j in 0..<posterior.count { dot += kx.data[r * posterior.count + j] * w[j] }
                    c[start + r] = ki.data[r] - dot
                }
                start += rows
            }
            for (s, cs) in covs.enumerated() {
                let f = cs[i] / denominators[s]
                for x in 0..<m { c[x] -= cs[x] * f }
            }
            let d = max(v[i], 0) + p.noise
            for x in 0..<m { v[x] = max(v[x] - c[x] * c[x] / d, 0) }
            covs.append(c)
            denominators.append(d)
        }
        return chosen
    }

    /// Greedy selection where each chosen point damps the scores around it in pixel
    /// coordinates: s ← min + (s − min)·(1 − exp(−d²/(2r²))) (local penalization), and the
    /// same around `recent` points (a recent-point penalty).
    public static func locallyPenalized(scores: [Double], coordinates: [(Int, Int)], q: Int, radius: Double,
                                        excluded: Set<Int> = [], recent: [(Int, Int)] = []) -> [Int] {
        precondition(scores.count == coordinates.count)
        var s = scores
        let floor = (scores.filter(\.isFinite).min() ?? 0)
        func damp(around c: (Int, Int)) {
            for k in 0..<s.count where s[k].isFinite {
                let dy = Double(coordinates[k].0 - c.0), dx = Double(coordinates[k].1 - c.1)
                s[k] = floor + (s[k] - floor) * (1 - exp(-(dy * dy + dx * dx) / (2 * radius * radius)))
            }
        }
        for c in recent { damp(around: c) }
        var chosen: [Int] = []
        var blocked = excluded
        for _ in 0..<q {
            guard let i = argmax(s, excluding: blocked) else { break }
            chosen.append(i)
            blocked.insert(i)
            damp(around: coordinates[i])
        }
        return chosen
    }

    /// The index of the largest score not excluded (the lowest index among ties); NaN never wins.
    public static func argmax(_ scores: [Double], excluding: Set<Int> = []) -> Int? {
        var best: Int?
        for (i, v) in scores.enumerated() where !excluding.contains(i) && !v.isNaN {
            if best == nil || v > scores[best!] { best = i }
        }
        return best
    }
}

