import Foundation
import DKLCore

/// An exact GP conditioned on training points, with fixed hyperparameters: predictions
/// in chunks from the cached Cholesky factor (never a candidate×candidate matrix), and
/// the O(n²) addition of one observation.
public struct GPPosterior: Sendable {
    public let kernel: Kernel
    public let parameters: GPParameters
    public private(set) var inputs: Matrix
    public private(set) var targets: [Double]
    public private(set) var cholesky: Cholesky
    /// L⁻¹ (lower triangular): the variance reduction k*ᵀK⁻¹k* is |L⁻¹k*|².
    public private(set) var inverseFactor: Matrix
    /// K⁻¹(y − c).
    public private(set) var alpha: [Double]
    /// Each training point's own noise variance on K's diagonal, beyond `parameters.noise`
    /// (empty: none).
    public private(set) var pointNoise: [Double]
    /// The factors of single-precision predictions, built by the first one.
    private(set) var singleCache = SinglePrecisionCache()

    /// `pointNoise`: each point's own noise variance (measured), added to the learnt noise.
    public init(inputs: Matrix, targets: [Double], kernel: Kernel, parameters: GPParameters, pointNoise: [Double] = []) throws {
        precondition(pointNoise.isEmpty || pointNoise.count == inputs.rows, "GPPosterior: \(pointNoise.count) noise variances for \(inputs.rows) points")
        self.kernel = kernel
        self.parameters = parameters
        self.inputs = inputs
        self.targets = targets
        self.pointNoise = pointNoise
        var k = kernel.matrix(inputs, inputs, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale)
        for i in 0..<inputs.rows { k[i, i] += parameters.noise + (pointNoise.isEmpty ? 0 : pointNoise[i]) }
        cholesky = try Cholesky(k)
        inverseFactor = cholesky.inverseFactor()
        alpha = cholesky.solve(targets.map { $0 - parameters.mean })
    }

    public var count: Int { inputs.rows }

    /// Candidates are predicted this many rows at a time by default: a fixed number, so that
    /// callers who split their candidates into calls of a multiple of it (dkl-predict's
    /// chunks) get bit for bit the numbers of one call over all of them.
    public static let chunkRows = 1024

    /// Mean and latent variance (add `parameters.noise` for the noisy variance) at each
    /// row of `candidates`, computed `chunk` rows at a time. `features`, when given, maps a
    /// range of rows of the raw candidates (m×w) to their inputs to the kernel (m×d) first,
    /// so that the network and the GP run chunk by chunk and no m×d matrix of features is
    /// ever whole.
    /// Chunks run side by side on the cores, each with one BLAS thread; the result does not
    /// depend on the number of threads. `precision` is the variance product's arithmetic
    /// (see `VariancePrecision`); `.single` falls back to float64 for a posterior whose
    /// probes find float32 not accurate enough.
    public func predict(_ candidates: Matrix, chunk: Int? = nil, precision: VariancePrecision = .double,
                        features: (@Sendable (Matrix, Range<Int>) -> Matrix)? = nil) -> (mean: [Double], variance: [Double]) {
        let m = candidates.rows, n = count
        var mean = [Double](repeating: parameters.mean, count: m)
        var variance = [Double](repeating: parameters.outputscale, count: m)
        if n == 0 || m == 0 { return (mean, variance) }
        let rowsPerChunk = max(1, chunk ?? GPPosterior.chunkRows)
        let chunks = (m + rowsPerChunk - 1) / rowsPerChunk
        let factors = precision == .single ? singlePrecisionFactors() : nil
        let single = factors?.accurate == true ? factors : nil
        mean.withUnsafeMutableBufferPointer { meanOut in
            variance.withUnsafeMutableBufferPointer { varOut in
                let (mo, vo) = (SharedBuffer(meanOut), SharedBuffer(varOut))
                withoutActuallyEscaping(features ?? { $0.rows($1) }) { features in
                    Parallel.lanes(chunks) { c in
                        let start = c * rowsPerChunk, rows = min(rowsPerChunk, m - start)
                        let block = features(candidates, start..<(start + rows))
                        if let single {
                            predictChunkSingle(block, factors: single, mean: mo.base + start, variance: vo.base + start)
                        } else {
                            predictChunk(block, mean: mo.base + start, variance: vo.base + start)
                        }
                    }
                }
            }
        }
        return (mean, variance)
    }

    /// One chunk of `predict`: the kernel inputs of `rows` candidates.
    func predictChunk(_ block: Matrix, mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>) {
        let n = count, rows = block.rows
        precondition(block.cols == inputs.cols, "GPPosterior.predict: candidates have \(block.cols) columns, the training inputs \(inputs.cols)")
        // K* is n×rows here (transposed), so that one triangular product gives v = L⁻¹K*.
        var ks = kernel.matrix(inputs, block, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale,
                               parallel: false)
        var sq = [Double](repeating: 0, count: rows)
        ks.data.withUnsafeMutableBufferPointer { k in
            // μ = c + K*ᵀα as one matrix-vector product.
            alpha.withUnsafeBufferPointer { a in
                BLAS.gemv(k.baseAddress!, a.baseAddress!, mean, m: n, n: rows, transpose: true, beta: 1)
            }
            inverseFactor.data.withUnsafeBufferPointer { c in BLAS.trmm(c.baseAddress!, k.baseAddress!, n: n, m: rows) }
            for i in 0..<n { for j in 0..<rows { sq[j] += k[i * rows + j] * k[i * rows + j] } }
        }
        for j in 0..<rows { variance[j] = max(parameters.outputscale - sq[j], 0) }
    }

    /// The posterior with one more observation (z, y) (of its own noise variance `noise`,
    /// beyond the learnt one) and the same hyperparameters, in O(n²).
    public func adding(_ z: [Double], _ y: Double, noise: Double = 0) throws -> GPPosterior {
        precondition(z.count == inputs.cols)
        var next = self
        next.singleCache = SinglePrecisionCache()
        let zm = Matrix(row: z)
        let c = kernel.matrix(inputs, zm, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale).data
        next.cholesky = try cholesky.appending(column: c, diagonal: parameters.outputscale + parameters.noise + noise)
        if !pointNoise.isEmpty || noise != 0 { next.pointNoise = (pointNoise.isEmpty ? [Double](repeating: 0, count: count) : pointNoise) + [noise] }
        next.inverseFactor = Cholesky.extendInverse(inverseFactor, by: next.cholesky)
        next.inputs = Matrix(rows: inputs.rows + 1, cols: inputs.cols, data: inputs.data + z)
        next.targets = targets + [y]
        next.alpha = next.cholesky.solve(next.targets.map { $0 - parameters.mean })
        return next
    }
}
