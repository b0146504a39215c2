import COpenBLAS

/// The toolkit's door to OpenBLAS and LAPACKE: the only file (with its siblings in
/// this folder) that imports the C module. Matrices are row-major Double buffers.
public enum BLAS {
    /// C ← α·op(A)·op(B) + β·C for row-major A (m×k, or k×m if `transA`), B (k×n, or n×k).
    public static func gemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                            m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                            alpha: Double = 1, beta: Double = 0) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    beta, c, Int32(n))
    }

    /// In-place lower Cholesky factor of the row-major n×n matrix `a`; returns LAPACK's info
    /// (0 on success, i > 0 when the leading minor of order i is not positive definite).
    public static func potrf(_ a: UnsafeMutablePointer<Double>, n: Int) -> Int {
        Int(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), a, Int32(n)))
    }
}
