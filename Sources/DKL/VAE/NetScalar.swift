import Foundation

/// The element type of the VAE networks: Float to train and run (single-precision BLAS),
/// Double for the gradient checks. The same generic code runs in
/// both, so the checks in Double cover what runs in Float.
public protocol NetScalar: BinaryFloatingPoint, Sendable {
    /// C ← op(A)·op(B), row-major.
    static func gemm(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>,
                     m: Int, n: Int, k: Int, transA: Bool, transB: Bool)
    /// tanh of `count` values in place.
    static func tanh(_ x: UnsafeMutablePointer<Self>, count: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
}

extension Float: NetScalar {
    public static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                            m: Int, n: Int, k: Int, transA: Bool, transB: Bool) {
        BLAS.gemm(a, b, c, m: m, n: n, k: k, transA: transA, transB: transB)
    }

    /// tanh(x) = s·(1 − e)/(1 + e) with e = exp(−2|x|) ∈ (0, 1], eight at a time; e is
    /// 2^k·e^r with |r| ≤ ln2/2 and e^r from its Taylor polynomial of degree 7 (relative
    /// truncation below 2e-8). Absolute error a few 1e-8: float rounding, no library call.
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func tanh8(_ v: SIMD8<Float>) -> SIMD8<Float> {
            let absolute: SIMD8<Float> = v.replacing(with: -v, where: v .< 0)
            let a: SIMD8<Float> = (absolute * -2).replacing(with: -87, where: absolute .> 43.5)
            let magic: Float = 12582912   // 1.5·2²³: t + magic holds round(t) in its low bits
            let t = a * 1.442695 + magic
            let k = t - magic
            let r = (a - k * 0.693359375) + k * 2.12194440e-4
            let r2 = r * r
            let p01: SIMD8<Float> = 1 + r, p23: SIMD8<Float> = 0.5 + r * 0.16666667
            let p45: SIMD8<Float> = 0.041666668 + r * 0.008333334, p67: SIMD8<Float> = 0.0013888889 + r * 0.0001984127
            let q: SIMD8<Float> = p45 + r2 * p67
            let p: SIMD8<Float> = p01 + r2 * (p23 + r2 * q)
            let k32: SIMD8<Int32> = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(SIMD8<Float>(repeating: magic), to: SIMD8<Int32>.self)
            let bits: SIMD8<Int32> = (k32 &+ 127) &<< 23
            let e = p * unsafeBitCast(bits, to: SIMD8<Float>.self)
            let y = (1 - e) / (1 + e)
            return y.replacing(with: -y, where: v .< 0)
        }
        let raw = UnsafeMutableRawPointer(x)
        let whole = count / 8 * 8
        for i in stride(from: 0, to: whole, by: 8) {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: tanh8(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
        }
        if whole < count {
            var v = SIMD8<Float>()
            for t in 0..<(count - whole) { v[t] = x[whole + t] }
            let y = tanh8(v)
            for t in 0..<(count - whole) { x[whole + t] = y[t] }
        }
    }
    public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    public static func sin(_ x: Float) -> Float { Foundation.sin(x) }
    public static func cos(_ x: Float) -> Float { Foundation.cos(x) }
}

extension Double: NetScalar {
    public static func gemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                            m: Int, n: Int, k: Int, transA: Bool, transB: Bool) {
        BLAS.gemm(a, b, c, m: m, n: n, k: k, transA: transA, transB: transB)
    }
    public static func tanh(_ x: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { x[i] = Foundation.tanh(x[i]) }
    }
    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
    public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
}
