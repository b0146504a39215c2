import Foundation
import DKLCore
import DKLNumerics
import DKLData

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

    /// tanh in vector registers (`VectorKernels.tanh`): s·(1 − e)/(1 + e) with e = exp(−2|x|)
    /// from 2^k and a polynomial, no library call; absolute error a few 1e-8.
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        VectorKernels.tanh(x, count: count)
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
