import Foundation
import DKLCore

/// Thompson sampling on a candidate subset: one joint draw of the latent function from
/// the posterior on at most `maxSubset` candidates (never a joint draw over all of them),
/// and the index of its maximum (or minimum).
public enum Thompson {
    public static func choose(posterior: GPPosterior, candidates: Matrix, maxSubset: Int = 2000, seed: UInt64,
                              maximize: Bool = true, excluded: Set<Int> = []) throws -> Int? {
        try chooseWithValue(posterior: posterior, candidates: candidates, maxSubset: maxSubset, seed: seed,
                            maximize: maximize, excluded: excluded)?.index
    }

    /// The same, with the drawn function's value at the chosen candidate.
    public static func chooseWithValue(posterior: GPPosterior, candidates: Matrix, maxSubset: Int = 2000, seed: UInt64,
                                       maximize: Bool = true, excluded: Set<Int> = []) throws -> (index: Int, value: Double)? {
        var rng = Xoshiro(seed: seed)
        var pool = (0..<candidates.rows).filter { !excluded.contains($0) }
        if pool.isEmpty { return nil }
        if pool.count > maxSubset { pool.shuffle(using: &rng); pool = Array(pool.prefix(maxSubset)).sorted() }
        let sample = try draw(posterior: posterior, points: candidates.gather(pool), rng: &rng)
        let scores = maximize ? sample : sample.map { -$0 }
        return BatchSelection.argmax(scores).map { (pool[$0], sample[$0]) }
    }

    /// One joint sample of the latent function at `points` (s×d).
    public static func draw(posterior: GPPosterior, points: Matrix, rng: inout Xoshiro) throws -> [Double] {
        let p = posterior.parameters
        let (mean, _) = posterior.predict(points)
        var cov = posterior.kernel.matrix(points, points, lengthscales: p.lengthscales, outputscale: p.outputscale)
        if posterior.count > 0 {
            let v = posterior.cholesky.solveLower(posterior.kernel.matrix(posterior.inputs, points, lengthscales: p.lengthscales,
                                                                          outputscale: p.outputscale))
            let vtv = v.matmul(v, transA: true)
            for i in 0..<cov.count { cov.data[i] -= vtv.data[i] }
        }
        let l = try Cholesky(cov, maxTries: 10).l
        let z = (0..<points.rows).map { _ in rng.normal() }
        return (0..<points.rows).map { i in
            var s = mean[i]
            for j in 0...i { s += l.data[i * points.rows + j] * z[j] }
            return s
        }
    }
}
