import Foundation
import DKLCore

/// The lower Cholesky factor L of a symmetric positive-definite matrix (A = L·Lᵀ), with
/// the solves, the log-determinant, the inverse and the O(n²) extension by one row that
/// Gaussian processes need.
public struct Cholesky: Sendable {
    /// L, row-major n×n; the strict upper triangle is zero.
    public private(set) var l: Matrix
    /// The jitter added to the diagonal to make the factorization succeed (0 if none).
    public let jitter: Double
    public var n: Int { l.rows }

    /// Tries A, then A + j·I for j = 1e-8·mean(diag A) ×10 per try (at most `maxTries`).
    /// Only A's lower triangle is read. Throws, naming the last jitter tried, when no try
    /// succeeds or A holds NaN or infinity (which then shows in the factor's diagonal).
    public init(_ a: Matrix, maxTries: Int = 6) throws {
        precondition(a.rows == a.cols, "Cholesky of a non-square matrix")
        let n = a.rows
        let nonFinite = DKLError.data("the kernel matrix holds NaN or infinity (diverged parameters?)")
        guard (0..<n).allSatisfy({ a[$0, $0].isFinite }) else { throw nonFinite }
        let meanDiag = n == 0 ? 1 : (0..<n).map { a[$0, $0] }.reduce(0, +) / Double(n)
        var jitter = 0.0
        for attempt in 0...maxTries {
            var m = a
            if jitter > 0 { for i in 0..<n { m.data[i * n + i] += jitter } }
            let info = m.data.withUnsafeMutableBufferPointer { BLAS.potrf($0.baseAddress!, n: n) }
            if info == 0 {
                guard (0..<n).allSatisfy({ m[$0, $0].isFinite }) else { throw nonFinite }
                for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { m.data[i * n + j] = 0 } }
                l = m
                self.jitter = jitter
                return
            }
            if info < 0 || (0..<n).contains(where: { m[$0, $0].isNaN }) { throw nonFinite }
            if attempt == maxTries { break }
            jitter = jitter == 0 ? 1e-8 * max(abs(meanDiag), 1e-300) : jitter * 10
        }
        throw DKLError.data("the kernel matrix is not positive definite even with jitter \(String(format: "%.3g", jitter)) on its diagonal (duplicate inputs with near-zero noise?)")
    }

    init(factor: Matrix, jitter: Double) { l = factor; self.jitter = jitter }

    /// Factors A in its own storage, without jitter and without a copy: nil when A is not
    /// positive definite (its storage is then spent; `init` tries again with jitter). Only
    /// A's lower triangle is read; throws as `init` does on NaN or infinity.
    public static func factoring(_ a: consuming Matrix) throws -> Cholesky? {
        precondition(a.rows == a.cols, "Cholesky of a non-square matrix")
        let n = a.rows
        var m = consume a
        let nonFinite = DKLError.data("the kernel matrix holds NaN or infinity (diverged parameters?)")
        guard (0..<n).allSatisfy({ m[$0, $0].isFinite }) else { throw nonFinite }
        let info = m.data.withUnsafeMutableBufferPointer { BLAS.potrf($0.baseAddress!, n: n) }
        if info < 0 || (0..<n).contains(where: { m[$0, $0].isNaN }) { throw nonFinite }
        guard info == 0 else { return nil }
        guard (0..<n).allSatisfy({ m[$0, $0].isFinite }) else { throw nonFinite }
        m.data.withUnsafeMutableBufferPointer { p in for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { p[i * n + j] = 0 } } }
        return Cholesky(factor: m, jitter: 0)
    }

    /// A⁻¹'s lower triangle in the factor's own storage, consuming it (see `inverse`).
    public consuming func inverseInPlace() -> Matrix {
        let n = self.n
        var m = l
        l = Matrix(rows: 0, cols: 0)
        if n > 0 { m.data.withUnsafeMutableBufferPointer { BLAS.potri($0.baseAddress!, n: n) } }
        return m
    }

    /// log det A = 2·Σ log L_ii.
    public var logDeterminant: Double { 2 * (0..<n).reduce(0.0) { $0 + log(l[$1, $1]) } }

    /// Solves A·x = b.
    public func solve(_ b: [Double]) -> [Double] {
        var x = b
        l.data.withUnsafeBufferPointer { lp in
            x.withUnsafeMutableBufferPointer { xp in
                BLAS.trsv(lp.baseAddress!, xp.baseAddress!, n: n, transpose: false)
                BLAS.trsv(lp.baseAddress!, xp.baseAddress!, n: n, transpose: true)
            }
        }
        return x
    }

    /// Solves L·X = B for B (n×m).
    public func solveLower(_ b: Matrix) -> Matrix {
        var x = b
        if b.cols == 0 || n == 0 { return x }
        l.data.withUnsafeBufferPointer { lp in
            x.data.withUnsafeMutableBufferPointer { BLAS.trsm(lp.baseAddress!, $0.baseAddress!, n: n, m: b.cols, transpose: false) }
        }
        return x
    }

    /// Solves A·X = B for B (n×m).
    public func solve(_ b: Matrix) -> Matrix {
        var x = solveLower(b)
        if b.cols == 0 || n == 0 { return x }
        l.data.withUnsafeBufferPointer { lp in
            x.data.withUnsafeMutableBufferPointer { BLAS.trsm(lp.baseAddress!, $0.baseAddress!, n: n, m: b.cols, transpose: true) }
        }
        return x
    }

    /// L⁻¹, lower triangular (the strict upper triangle zero): |L⁻¹b|² = bᵀA⁻¹b by one
    /// triangular product, which runs at the matrix-multiply rate where a solve does not.
    public func inverseFactor() -> Matrix {
        var m = l
        if n > 0 { m.data.withUnsafeMutableBufferPointer { BLAS.trtri($0.baseAddress!, n: n) } }
        return m
    }

    /// L′⁻¹ for the factor `extended` by one row [L 0; wᵀ s] (from `appending`), given
    /// `inverse` = L⁻¹, in O(n²): its last row is (−wᵀL⁻¹/s, 1/s).
    public static func extendInverse(_ inverse: Matrix, by extended: Cholesky) -> Matrix {
        let n = inverse.rows
        precondition(extended.n == n + 1)
        var out = Matrix(rows: n + 1, cols: n + 1)
        for i in 0..<n { for j in 0...i { out.data[i * (n + 1) + j] = inverse.data[i * n + j] } }
        let s = extended.l[n, n]
        var row = [Double](repeating: 0, count: n)
        if n > 0 {
            let w = Array(extended.l.data[(n * (n + 1))..<(n * (n + 1) + n)])
            inverse.data.withUnsafeBufferPointer { c in
                w.withUnsafeBufferPointer { wp in
                    row.withUnsafeMutableBufferPointer { BLAS.gemv(c.baseAddress!, wp.baseAddress!, $0.baseAddress!, m: n, n: n, transpose: true, alpha: -1 / s) }
                }
            }
        }
        for j in 0..<n { out.data[n * (n + 1) + j] = row[j] }
        out.data[n * (n + 1) + n] = 1 / s
        return out
    }

    /// A⁻¹ from the factor: full and symmetric, or only its lower triangle (the upper is then
    /// left as L's zeros) when `lowerOnly`.
    public func inverse(lowerOnly: Bool = false) -> Matrix {
        var m = l
        if n > 0 { m.data.withUnsafeMutableBufferPointer { BLAS.potri($0.baseAddress!, n: n) } }
        if !lowerOnly { for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { m.data[i * n + j] = m.data[j * n + i] } } }
        return m
    }

    /// The factor of the matrix extended by one row and column [A c; cᵀ d], in O(n²):
    /// the new row is (L⁻¹c)ᵀ and its diagonal √(d − |L⁻¹c|²).
    public func appending(column c: [Double], diagonal d: Double) throws -> Cholesky {
        precondition(c.count == n)
        var w = c
        l.data.withUnsafeBufferPointer { lp in
            w.withUnsafeMutableBufferPointer { if n > 0 { BLAS.trsv(lp.baseAddress!, $0.baseAddress!, n: n, transpose: false) } }
        }
        let s = d + jitter - w.reduce(0) { $0 + $1 * $1 }
        guard s > 0, s.isFinite else {
            throw DKLError.data("the extended kernel matrix is not positive definite (a repeated point with near-zero noise?)")
        }
        var m = Matrix(rows: n + 1, cols: n + 1)
        for i in 0..<n { for j in 0...i { m.data[i * (n + 1) + j] = l.data[i * n + j] } }
        for j in 0..<n { m.data[n * (n + 1) + j] = w[j] }
        m.data[n * (n + 1) + n] = s.squareRoot()
        return Cholesky(factor: m, jitter: jitter)
    }
}
