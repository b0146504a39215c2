import CPlatform
import DKLCore
import DKLNumerics
import DKLData

/// The elementwise Float kernels of network training (Sources/CPlatform/kernels.c), each
/// compiled for AVX-512, AVX2 and the x86-64 baseline and chosen at load time; all give the
/// same bits.
enum VectorKernels {
    /// Adam's update of `count` parameters from their moments and the gradient w₀·g₀ + w₁·g₁
    /// (g₀ alone when `g1` is nil).
    static func adam(_ p: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                     _ g0: UnsafePointer<Float>, _ g1: UnsafePointer<Float>?, count: Int, _ c: FloatAdam.Constants) {
        dkl_adam_f32(p, m, v, g0, g1, count, c.b1, c.b2, c.eps, c.lrc, c.rc2, c.w0, c.w1)
    }

    /// tanh of `count` values in place (absolute error a few 1e-8).
    static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        dkl_tanh_f32(x, count)
    }
}
