#if arch(x86_64)
import _Builtin_intrinsics.intel   // sqrtpd: Swift's scalar squareRoot() keeps a libm fallback that blocks vectorization
import DKLCore
#endif

/// A branch-free exponential for the kernels' hot loops, four values at a time (no library
/// call, no conversion traps; the four lanes vectorize on plain x86-64, where the scalar
/// loop does not): e^x = 2^k·e^r with k = round(x/ln 2), |r| ≤ ln2/2, and e^r from its
/// Taylor polynomial of degree 13 (truncation below 1e-17 relative), evaluated by Estrin's
/// scheme. Accurate to a few ulps for x ≥ −708; returns 0 below (where e^x is subnormal or 0) and is not meant for
/// x > 709.
public enum FastMath {
    @inline(__always)
    public static func exp4(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let below = x .< -708.0
        let xc = x.replacing(with: -708.0, where: below)
        // k = round(x/ln 2) by the 1.5·2⁵² trick (no Double→Int conversion, which would trap
        // on overflow): the low bits of t then hold k, from which 2^k is built with wrapping shifts.
        let t = xc * 1.4426950408889634 + 6755399441055744.0
        let k = t - 6755399441055744.0
        let r = (xc - k * 0.6931471803691238) - k * 1.9082149292705877e-10
        // The polynomial by Estrin's scheme: pairs, then r², r⁴, r⁸, so that the chain of
        // dependent multiply-adds is four long instead of Horner's thirteen.
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let p01 = 1 + r                                                   // 1/0!, 1/1!
        let p23 = 0.5 + r * 0.16666666666666666                           // 1/2!, 1/3!
        let p45 = 0.041666666666666664 + r * 0.008333333333333333         // 1/4!, 1/5!
        let p67 = 0.001388888888888889 + r * 0.0001984126984126984        // 1/6!, 1/7!
        let p89 = 2.48015873015873e-05 + r * 2.7557319223985893e-06       // 1/8!, 1/9!
        let p1011 = 2.755731922398589e-07 + r * 2.505210838544172e-08     // 1/10!, 1/11!
        let p1213 = 2.08767569878681e-09 + r * 1.6059043836821613e-10     // 1/12!, 1/13!
        let q0 = p01 + r2 * p23, q1 = p45 + r2 * p67, q2 = p89 + r2 * p1011
        let p = (q0 + r4 * q1) + r8 * (q2 + r4 * p1213)
        let scale = unsafeBitCast((unsafeBitCast(t, to: SIMD4<UInt64>.self) &+ 1023) &<< 52, to: SIMD4<Double>.self)
        return (p * scale).replacing(with: 0, where: below)
    }

    /// One value through `exp4` (the same arithmetic, so the same result).
    @inline(__always)
    public static func exp(_ x: Double) -> Double { exp4(SIMD4(repeating: x))[0] }

    /// Correctly rounded square roots of four values (the same results as `squareRoot()`),
    /// by SSE2's sqrtpd on x86-64.
    @inline(__always)
    public static func sqrt4(_ x: SIMD4<Double>) -> SIMD4<Double> {
        #if arch(x86_64)
        return SIMD4(lowHalf: _mm_sqrt_pd(x.lowHalf), highHalf: _mm_sqrt_pd(x.highHalf))
        #else
        return x.squareRoot()
        #endif
    }

    /// Correctly rounded square roots of eight Floats, by SSE's sqrtps on x86-64.
    @inline(__always)
    public static func sqrt8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(x86_64)
        return SIMD8(lowHalf: _mm_sqrt_ps(x.lowHalf), highHalf: _mm_sqrt_ps(x.highHalf))
        #else
        return x.squareRoot()
        #endif
    }
}
