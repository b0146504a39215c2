import Foundation
import Synchronization
import CPlatform
import DKLCore

/// The arithmetic of a prediction's variance product, the one O(n²) operation per candidate.
public enum VariancePrecision: String, Sendable, CaseIterable {
    /// Every operation in float64.
    case double
    /// The product by L⁻¹ in float32, on the difference between a candidate's kernel row and
    /// that of its most correlated training point, whose own share of the variance is known in
    /// float64; everything else in float64. About twice as fast; each posterior checks it on
    /// probes first and keeps float64 if any variance there is off by more than `tolerance`.
    case single

    /// The largest relative difference from float64 that a probe may show for `single` to be used.
    public static let tolerance = 1e-5
}

/// What the single-precision product needs beyond the posterior, built once per posterior.
struct SinglePrecisionFactors: Sendable {
    /// L⁻ᵀ rounded to float32 (row-major, upper): row a is L⁻¹'s column a, zero before a.
    var inverseTransposed: [Float]
    /// diag K⁻¹ (the squared norms of L⁻¹'s columns).
    var inverseDiagonal: [Double]
    /// K_f, the training points' kernel matrix without noise: row a is an anchor's kernel row.
    var kernelMatrix: [Double]
    /// What the factored matrix has on its diagonal beyond the kernel, point by point:
    /// noise + jitter + the point's own noise.
    var tau2: [Double]
    /// Whether the probes found float32 accurate enough for this posterior.
    var accurate: Bool
}

/// A posterior's single-precision factors, built by the first prediction that needs them and
/// shared by its copies (they depend only on the factorization, which copies share too).
final class SinglePrecisionCache: Sendable {
    let factors = Mutex<SinglePrecisionFactors?>(nil)
}

extension GPPosterior {
    /// The arithmetic `predict` uses when asked for `precision`: `.double` for `.single` when
    /// this posterior's probes found float32 not accurate enough.
    public func precisionInUse(_ precision: VariancePrecision) -> VariancePrecision {
        precision == .single && singlePrecisionFactors().accurate ? .single : .double
    }

    /// The single-precision factors, built on first use.
    func singlePrecisionFactors() -> SinglePrecisionFactors {
        singleCache.factors.withLock { cached in
            if let cached { return cached }
            let built = buildSinglePrecisionFactors()
            cached = built
            return built
        }
    }

    private func buildSinglePrecisionFactors() -> SinglePrecisionFactors {
        let n = count
        let inv = inverseFactor.data
        var transposed = [Float](repeating: 0, count: n * n)
        var diagonal = [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0...i { transposed[j * n + i] = Float(inv[i * n + j]); diagonal[j] += inv[i * n + j] * inv[i * n + j] } }
        let kf = kernel.matrix(inputs, inputs, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale,
                               parallel: false).data
        var f = SinglePrecisionFactors(inverseTransposed: transposed,
                                       inverseDiagonal: diagonal, kernelMatrix: kf,
                                       tau2: (0..<n).map { parameters.noise + cholesky.jitter + (pointNoise.isEmpty ? 0 : pointNoise[$0]) }, accurate: true)
        f.accurate = probe(f)
        return f
    }

    /// Compares both precisions on probes where float32 errs most: points a quarter and half
    /// of the way from a training point to its most correlated neighbour, where the variance
    /// is small and the difference from the anchor's kernel row is not.
    private func probe(_ f: SinglePrecisionFactors) -> Bool {
        let n = count, d = inputs.cols
        let anchors = (0..<min(n, 32)).map { $0 * n / min(n, 32) }
        let rows = kernel.matrix(inputs.gather(anchors), inputs, lengthscales: parameters.lengthscales,
                                 outputscale: parameters.outputscale, parallel: false)
        var probes = Matrix(rows: 2 * anchors.count, cols: d)
        for (p, a) in anchors.enumerated() {
            var b = a, best = -Double.infinity
            for i in 0..<n where i != a && rows[p, i] > best { best = rows[p, i]; b = i }
            for (q, t) in [0.25, 0.5].enumerated() {
                for c in 0..<d { probes[2 * p + q, c] = inputs[a, c] + t * (inputs[b, c] - inputs[a, c]) }
            }
        }
        let m = probes.rows
        var mean64 = [Double](repeating: 0, count: m), var64 = mean64, mean32 = mean64, var32 = mean64
        predictChunk(probes, mean: &mean64, variance: &var64)
        predictChunkSingle(probes, factors: f, mean: &mean32, variance: &var32)
        for j in 0..<m where !(abs(var32[j] - var64[j]) <= VariancePrecision.tolerance * max(var64[j], 1e-12 * parameters.outputscale)) {
            return false
        }
        return true
    }

    /// One chunk of `predict` with the single-precision product. With a the candidate's most
    /// correlated training point, its kernel row is k = d + K_f·e_a, where K = K_f + τ²I = LLᵀ,
    /// so L⁻¹k = u + Lᵀe_a − τ²L⁻¹e_a with u = L⁻¹d, and
    ///   |L⁻¹k|² = |u|² + 2d_a − 2τ²(L⁻¹e_a)ᵀu + K_aa − 2τ² + τ⁴(K⁻¹)_aa.
    /// Only u is computed in float32, and it is small where the variance is (near the training
    /// points), so its rounding moves the variance far less than rounding L⁻¹k itself would.
    /// A candidate at a training point's very place has d = 0 and needs no product at all.
    func predictChunkSingle(_ block: Matrix, factors f: SinglePrecisionFactors,
                            mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>) {
        let n = count, rows = block.rows, s = parameters.outputscale
        precondition(block.cols == inputs.cols, "GPPosterior.predict: candidates have \(block.cols) columns, the training inputs \(inputs.cols)")
        // The kernel rows, candidate by candidate (rows×n).
        let ks = kernel.matrix(block, inputs, lengthscales: parameters.lengthscales, outputscale: s, parallel: false)
        var anchor = [Int](repeating: 0, count: rows)
        ks.data.withUnsafeBufferPointer { k in
            alpha.withUnsafeBufferPointer { a in
                BLAS.gemv(k.baseAddress!, a.baseAddress!, mean, m: rows, n: n, beta: 1)
            }
            for j in 0..<rows {
                let row = k.baseAddress! + j * n
                var best = 0, value = row[0]
                for i in 1..<n where row[i] > value { value = row[i]; best = i }
                anchor[j] = best
            }
        }
        var diff = [Float](unsafeUninitializedCapacity: rows * n) { _, c in c = rows * n }
        var moved: [Int] = []   // the candidates with d ≠ 0, in the order of diff's rows
        var dAnchor = [Double](repeating: 0, count: rows)
        ks.data.withUnsafeBufferPointer { k in
            f.kernelMatrix.withUnsafeBufferPointer { kf in
                diff.withUnsafeMutableBufferPointer { out in
                    for j in 0..<rows {
                        let a = anchor[j]
                        dAnchor[j] = k[j * n + a] - kf[a * n + a]
                        if dkl_anchor_difference(k.baseAddress! + j * n, kf.baseAddress! + a * n, n,
                                                 out.baseAddress! + moved.count * n) != 0 {
                            moved.append(j)
                        }
                    }
                }
            }
        }
        var squared = [Double](repeating: 0, count: rows), cross = squared
        if !moved.isEmpty {
            // Each row d becomes u = L⁻¹d: D·L⁻ᵀ.
            f.inverseTransposed.withUnsafeBufferPointer { lt in
                diff.withUnsafeMutableBufferPointer { u in BLAS.trmmUpperRight(lt.baseAddress!, u.baseAddress!, n: n, m: moved.count) }
            }
            diff.withUnsafeBufferPointer { u in
                f.inverseTransposed.withUnsafeBufferPointer { lt in
                    for (q, j) in moved.enumerated() {
                        let a = anchor[j]
                        dkl_square_and_dot(u.baseAddress! + q * n, lt.baseAddress! + a * n, n, a, &squared[j], &cross[j])
                    }
                }
            }
        }
        for j in 0..<rows {
            let a = anchor[j], tau2 = f.tau2[a]
            // s − |L⁻¹k|² with K_aa = s + τ_a².
            let v = tau2 - tau2 * tau2 * f.inverseDiagonal[a] - 2 * dAnchor[j] + 2 * tau2 * cross[j] - squared[j]
            variance[j] = max(v, 0)
        }
    }
}
