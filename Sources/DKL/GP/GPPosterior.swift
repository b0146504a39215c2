import Foundation

/// An exact GP conditioned on training points, with fixed hyperparameters: predictions
/// in chunks from the cached Cholesky factor (never a candidate×candidate matrix), and
/// the O(n²) addition of one observation.
public struct GPPosterior: Sendable {
    public let kernel: Kernel
    public let parameters: GPParameters
    public private(set) var inputs: Matrix
    public private(set) var targets: [Double]
    public private(set) var cholesky: Cholesky
    /// K⁻¹(y − c).
    public private(set) var alpha: [Double]

    public init(inputs: Matrix, targets: [Double], kernel: Kernel, parameters: GPParameters) throws {
        self.kernel = kernel
        self.parameters = parameters
        self.inputs = inputs
        self.targets = targets
        var k = kernel.matrix(inputs, inputs, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale)
        for i in 0..<inputs.rows { k[i, i] += parameters.noise }
        cholesky = try Cholesky(k)
        alpha = cholesky.solve(targets.map { $0 - parameters.mean })
    }

    public var count: Int { inputs.rows }

    /// Mean and latent variance (add `parameters.noise` for the noisy variance) at each
    /// row of `candidates` (m×d), computed `chunk` rows at a time.
    public func predict(_ candidates: Matrix, chunk: Int? = nil) -> (mean: [Double], variance: [Double]) {
        let m = candidates.rows, n = count, d = candidates.cols
        let rowsPerChunk = chunk ?? max(64, min(8192, (1 << 22) / max(n, 1)))
        var mean = [Double](repeating: parameters.mean, count: m)
        var variance = [Double](repeating: parameters.outputscale, count: m)
        if n == 0 { return (mean, variance) }
        var start = 0
        while start < m {
            let rows = min(rowsPerChunk, m - start)
            let block = Matrix(rows: rows, cols: d, data: Array(candidates.data[(start * d)..<((start + rows) * d)]))
            // K* is n×rows here (transposed), so one triangular solve gives v = L⁻¹K*.
            var ks = kernel.matrix(inputs, block, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale)
            // μ = c + K*ᵀα as one matrix-vector product.
            ks.data.withUnsafeBufferPointer { k in
                alpha.withUnsafeBufferPointer { a in
                    mean.withUnsafeMutableBufferPointer { m in
                        BLAS.gemv(k.baseAddress!, a.baseAddress!, m.baseAddress! + start, m: n, n: rows, transpose: true, beta: 1)
                    }
                }
            }
            ks = cholesky.solveLower(ks)
            var sq = [Double](repeating: 0, count: rows)
            ks.data.withUnsafeBufferPointer { v in
                for i in 0..<n { for j in 0..<rows { sq[j] += v[i * rows + j] * v[i * rows + j] } }
            }
            for j in 0..<rows { variance[start + j] = max(parameters.outputscale - sq[j], 0) }
            start += rows
        }
        return (mean, variance)
    }

    /// The posterior with one more observation (z, y) and the same hyperparameters, in O(n²).
    public func adding(_ z: [Double], _ y: Double) throws -> GPPosterior {
        precondition(z.count == inputs.cols)
        var next = self
        let zm = Matrix(row: z)
        let c = kernel.matrix(inputs, zm, lengthscales: parameters.lengthscales, outputscale: parameters.outputscale).data
        next.cholesky = try cholesky.appending(column: c, diagonal: parameters.outputscale + parameters.noise)
        next.inputs = Matrix(rows: inputs.rows + 1, cols: inputs.cols, data: inputs.data + z)
        next.targets = targets + [y]
        next.alpha = next.cholesky.solve(next.targets.map { $0 - parameters.mean })
        return next
    }
}
