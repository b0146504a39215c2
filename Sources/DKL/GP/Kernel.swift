import Foundation

/// Stationary kernels of the scaled distance r = ‖(z − z′)/ℓ‖ (ARD lengthscales ℓ), with
/// unit output scale (the GP multiplies by its output scale):
///
/// * RBF: exp(−r²/2)
/// * Matérn 1/2: exp(−r);  3/2: (1 + √3 r)·exp(−√3 r);  5/2: (1 + √5 r + 5r²/3)·exp(−√5 r)
public enum Kernel: String, Sendable, CaseIterable {
    case rbf, matern12, matern32, matern52

    /// k (times `scale`) and, if `dk` is given, (1/r)·dk/dr for a run of squared distances
    /// r² (one `FastMath.exp` per element). (1/r)·dk/dr is finite at r = 0 except for
    /// Matérn 1/2, where 0 is given: the kernel has a cusp there and coincident points get
    /// no input gradient.
    @inline(__always)
    public func fill(r2: UnsafePointer<Double>, count: Int, scale s: Double, k: UnsafeMutablePointer<Double>, dk: UnsafeMutablePointer<Double>?) {
        switch self {
        case .rbf:
            for j in 0..<count { k[j] = FastMath.exp(-0.5 * r2[j]) }
            if let dk { for j in 0..<count { dk[j] = -k[j] } }
        case .matern12:
            for j in 0..<count { k[j] = FastMath.exp(-r2[j].squareRoot()) }
            if let dk { for j in 0..<count { let r = r2[j].squareRoot(); dk[j] = r > 0 ? -k[j] / r : 0 } }
        case .matern32:
            for j in 0..<count {
                let r = (3 * r2[j]).squareRoot(), e = FastMath.exp(-r)
                k[j] = (1 + r) * e
                dk?[j] = -3 * e
            }
        case .matern52:
            for j in 0..<count {
                let r = (5 * r2[j]).squareRoot(), e = FastMath.exp(-r)
                k[j] = (1 + r + r * r / 3) * e
                dk?[j] = -(5.0 / 3) * (1 + r) * e
            }
        }
        if s != 1 { for j in 0..<count { k[j] *= s } }
    }

    /// Squared distances from row i of `zs` (already divided by the lengthscales) to rows
    /// 0..<count, into `out`.
    @inline(__always)
    static func distances(_ zs: UnsafePointer<Double>, row i: Int, to other: UnsafePointer<Double>, count: Int, d: Int,
                          into out: UnsafeMutablePointer<Double>) {
        if d == 2 {
            let (a, b) = (zs[2 * i], zs[2 * i + 1])
            for j in 0..<count { let t0 = a - other[2 * j], t1 = b - other[2 * j + 1]; out[j] = t0 * t0 + t1 * t1 }
            return
        }
        for j in 0..<count {
            var s = 0.0
            for c in 0..<d { let t = zs[i * d + c] - other[j * d + c]; s += t * t }
            out[j] = s
        }
    }

    /// The kernel matrix s·k(a, b), m×n; its rows are shared between threads when `parallel`.
    public func matrix(_ a: Matrix, _ b: Matrix, lengthscales: [Double], outputscale s: Double, parallel: Bool = true) -> Matrix {
        let d = lengthscales.count
        precondition(a.cols == d && b.cols == d)
        let inv = lengthscales.map { 1 / $0 }
        let sa = a.data.enumerated().map { $0.element * inv[$0.offset % d] }
        let sb = b.data.enumerated().map { $0.element * inv[$0.offset % d] }
        var out = Matrix.uninitialized(rows: a.rows, cols: b.rows)   // every element is set below
        let m = b.rows
        sa.withUnsafeBufferPointer { pa in
            sb.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { o in
                    nonisolated(unsafe) let (ap, bp, op) = (pa.baseAddress!, pb.baseAddress!, o.baseAddress!)
                    let minimumRows = parallel ? max(1, 65_536 / max(m, 1)) : Int.max / Parallel.parts
                    Parallel.forEachPart(a.rows, minimumRows: minimumRows) { _, rows in
                        let r2 = UnsafeMutablePointer<Double>.allocate(capacity: m)
                        defer { r2.deallocate() }
                        for i in rows {
                            Kernel.distances(ap, row: i, to: bp, count: m, d: d, into: r2)
                            fill(r2: r2, count: m, scale: s, k: op + i * m, dk: nil)
                        }
                    }
                }
            }
        }
        return out
    }
}
