import COpenBLAS
import Foundation
import Synchronization
import DKLCore

/// The toolkit's door to OpenBLAS and LAPACKE: the files of this folder are the only ones
/// that import the C module. Matrices are row-major.
public enum BLAS {
    /// C ← α·op(A)·op(B) + β·C for row-major A (m×k, or k×m if `transA`), B (k×n, or n×k).
    public static func gemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                            m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                            alpha: Double = 1, beta: Double = 0) {
        follow()
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    beta, c, Int32(n))
    }

    /// The single-precision gemm, for the networks trained in Float (the VAEs).
    public static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                            m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                            alpha: Float = 1, beta: Float = 0) {
        follow()
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    beta, c, Int32(n))
    }

    /// In-place lower Cholesky factor of the row-major n×n matrix `a`; returns LAPACK's info
    /// (0 on success, i > 0 when the leading minor of order i is not positive definite).
    /// A row-major lower triangle is a column-major upper one, so LAPACK works in place
    /// without the transposed copies LAPACKE's row-major path makes.
    public static func potrf(_ a: UnsafeMutablePointer<Double>, n: Int) -> Int {
        follow()
        return Int(LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n)))
    }

    /// The inverse of A from its lower Cholesky factor L (in place; lower triangle set):
    /// L⁻¹ by `trtri`, then (L⁻¹)ᵀL⁻¹ by LAPACK's blocked dlauum.
    public static func potri(_ a: UnsafeMutablePointer<Double>, n: Int) {
        trtri(a, n: n)
        _ = LAPACKE_dlauum_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n))
    }

    /// Solves L·X = B (or Lᵀ·X = B when `transpose`) for lower-triangular L (n×n), B n×m, in place.
    public static func trsm(_ l: UnsafePointer<Double>, _ b: UnsafeMutablePointer<Double>, n: Int, m: Int, transpose: Bool) {
        follow()
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit,
                    Int32(n), Int32(m), 1, l, Int32(n), b, Int32(m))
    }

    /// B ← L·B for lower-triangular L (n×n), B n×m, in place.
    public static func trmm(_ l: UnsafePointer<Double>, _ b: UnsafeMutablePointer<Double>, n: Int, m: Int) {
        follow()
        cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, Int32(n), Int32(m), 1, l, Int32(n), b, Int32(m))
    }

    /// B ← B·U in single precision for upper-triangular U (n×n) and B m×n, in place: with
    /// U = Lᵀ, each row b of B becomes L·b.
    public static func trmmUpperRight(_ u: UnsafePointer<Float>, _ b: UnsafeMutablePointer<Float>, n: Int, m: Int) {
        follow()
        cblas_strmm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, Int32(m), Int32(n), 1, u, Int32(n), b, Int32(n))
    }

    /// In-place inverse of the row-major lower-triangular n×n matrix `a` with a nonzero
    /// diagonal. Recursive on halves, [A 0; B D]⁻¹ = [A⁻¹ 0; −D⁻¹BA⁻¹ D⁻¹], with the
    /// off-diagonal block by two triangular products, so that the work is done in
    /// matrix-matrix products; OpenBLAS's dtrtri runs unblocked (matrix-vector products) at
    /// the sizes DKL trains on.
    public static func trtri(_ a: UnsafeMutablePointer<Double>, n: Int) {
        follow()
        triangularInverse(a, n: n, ld: n)
    }

    /// `trtri` on the n×n diagonal block at `a` of a matrix with row length `ld`. In BLAS's
    /// column-major terms the block is upper triangular: U = [A B; 0 D] with U⁻¹ =
    /// [A⁻¹ −A⁻¹BD⁻¹; 0 D⁻¹].
    private static func triangularInverse(_ a: UnsafeMutablePointer<Double>, n: Int, ld: Int) {
        if n <= 32 {
            _ = LAPACKE_dtrtri_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int8(UInt8(ascii: "N")), Int32(n), a, Int32(ld))
            return
        }
        let h = n / 2, r = n - h
        let upperLeft = a, offDiagonal = a + h * ld, lowerRight = a + h * ld + h
        triangularInverse(upperLeft, n: h, ld: ld)
        triangularInverse(lowerRight, n: r, ld: ld)
        cblas_dtrmm(CblasColMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, Int32(h), Int32(r), 1,
                    upperLeft, Int32(ld), offDiagonal, Int32(ld))
        cblas_dtrmm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, Int32(h), Int32(r), -1,
                    lowerRight, Int32(ld), offDiagonal, Int32(ld))
    }

    /// Solves L·x = b (or Lᵀ·x = b) for one vector, in place.
    public static func trsv(_ l: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>, n: Int, transpose: Bool) {
        follow()
        cblas_dtrsv(CblasRowMajor, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit, Int32(n), l, Int32(n), x, 1)
    }

    /// y ← α·op(A)·x + β·y for row-major A (m×n).
    public static func gemv(_ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>,
                            m: Int, n: Int, transpose: Bool = false, alpha: Double = 1, beta: Double = 0) {
        follow()
        cblas_dgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n), x, 1, beta, y, 1)
    }

    /// C ← α·A·Aᵀ + β·C (lower triangle) for row-major A (n×k).
    public static func syrk(_ a: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>, n: Int, k: Int, alpha: Double = 1, beta: Double = 0) {
        follow()
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, Int32(n), Int32(k), alpha, a, Int32(k), beta, c, Int32(n))
    }

    /// The number of OpenBLAS threads in use.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Stops OpenBLAS's idle worker threads, which otherwise keep spinning for a while after
    /// each threaded call (OpenBLAS's default: 2²⁸ cycles) and take the cores from the
    /// toolkit's own threads; the next threaded call or change of the thread count starts
    /// them again. Call only while no BLAS call runs. A no-op with a BLAS that lacks the
    /// entry point (found at run time: it is not in cblas.h).
    public static func stopIdleThreads() { _ = shutdown?() }
    private static let shutdown: (@convention(c) () -> Int32)? =
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_").map { unsafeBitCast($0, to: (@convention(c) () -> Int32).self) }

    /// OpenBLAS's thread count follows `Parallel.threads` once it has been set (the one
    /// setting, from `--threads`): every threaded entry point checks it first (one relaxed
    /// atomic load when nothing changed), except inside `singleThreaded`, which holds
    /// OpenBLAS at one thread.
    @inline(__always) static func follow() {
        let n = Parallel.threadSetting
        if n != 0 && applied.load(ordering: .relaxed) != n { adopt() }
    }
    private static func adopt() {
        state.withLock { s in
            let n = Parallel.threadSetting
            guard s.depth == 0, n != 0 else { return }
            openblas_set_num_threads(Int32(n))
            applied.store(n, ordering: .relaxed)
        }
    }
    /// The count OpenBLAS has been given outside `singleThreaded` (0: none yet).
    private static let applied = Atomic<Int>(0)
    /// How many `singleThreaded` bodies are running, and the count to restore after them.
    private static let state = Mutex<(depth: Int, saved: Int)>((0, 1))

    /// Runs `body` with OpenBLAS on one thread, for work spread over the toolkit's own
    /// threads instead (each calling BLAS). Nested and concurrent uses share one switch to
    /// one thread and one switch back (to `Parallel.threads` once set, else to the count before).
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { s in
            if s.depth == 0 {
                s.saved = threads
                openblas_set_num_threads(1)
                // After the change: a pool stopped before it would be started again (OpenBLAS
                // restarts it on any change of the thread count).
                stopIdleThreads()
            }
            s.depth += 1
        }
        defer {
            state.withLock { s in
                s.depth -= 1
                if s.depth == 0 {
                    let n = Parallel.threadSetting
                    openblas_set_num_threads(Int32(n != 0 ? n : s.saved))
                    if n != 0 { applied.store(n, ordering: .relaxed) }
                }
            }
        }
        return try body()
    }
}

extension Matrix {
    /// op(self)·op(other), through dgemm.
    public func matmul(_ other: Matrix, transA: Bool = false, transB: Bool = false) -> Matrix {
        let m = transA ? cols : rows, k = transA ? rows : cols
        let n = transB ? other.rows : other.cols
        precondition(k == (transB ? other.cols : other.rows), "matmul: inner sizes \(k) and \(transB ? other.cols : other.rows)")
        if m == 0 || n == 0 || k == 0 { return Matrix(rows: m, cols: n) }
        // gemm with β = 0 writes every element and reads none: no zero fill first.
        var c = Matrix.uninitialized(rows: m, cols: n)
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                c.data.withUnsafeMutableBufferPointer { cc in
                    BLAS.gemm(a.baseAddress!, b.baseAddress!, cc.baseAddress!, m: m, n: n, k: k, transA: transA, transB: transB)
                }
            }
        }
        return c
    }
}
