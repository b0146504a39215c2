import CPlatform
import Foundation
import DKLCore

/// Stationary kernels of the scaled distance r = ‖(z − z′)/ℓ‖ (ARD lengthscales ℓ), with
/// unit output scale (the GP multiplies by its output scale):
///
/// * RBF: exp(−r²/2)
/// * Matérn 1/2: exp(−r);  3/2: (1 + √3 r)·exp(−√3 r);  5/2: (1 + √5 r + 5r²/3)·exp(−√5 r)
public enum Kernel: String, Sendable, CaseIterable {
    case rbf, matern12, matern32, matern52

    /// k (times `scale`) and, if `dk` is given, (1/r)·dk/dr for a run of squared distances
    /// r², eight at a time in the machine's widest vectors (`dkl_kernel_fill`,
    /// Sources/CPlatform/kernels.c: the operations of `values` and `FastMath.exp4` in their
    /// order, so the same bits on every machine; the last few are padded into one more group).
    /// (1/r)·dk/dr is finite at r = 0 except for Matérn 1/2, where 0 is given: the kernel
    /// has a cusp there and coincident points get no input gradient.
    @inline(__always)
    public func fill(r2: UnsafePointer<Double>, count: Int, scale s: Double, k: UnsafeMutablePointer<Double>, dk: UnsafeMutablePointer<Double>?) {
        guard count > 0 else { return }
        let kind: Int32
        switch self {
        case .rbf: kind = 0
        case .matern12: kind = 1
        case .matern32: kind = 2
        case .matern52: kind = 3
        }
        dkl_kernel_fill(kind, r2, count, s, k, dk)
    }

    /// k and (1/r)·dk/dr at four squared distances: the reference `fill`'s C kernel
    /// reproduces bit for bit (GPTests checks it).
    @inline(__always)
    public func values(_ r2: SIMD4<Double>) -> (k: SIMD4<Double>, dk: SIMD4<Double>) {
        switch self {
        case .rbf:
            let k = FastMath.exp4(-0.5 * r2)
            return (k, -k)
        case .matern12:
            let r = FastMath.sqrt4(r2), k = FastMath.exp4(-r)
            return (k, (-k / r).replacing(with: 0, where: r .== 0))
        case .matern32:
            let r = FastMath.sqrt4(3 * r2), e = FastMath.exp4(-r)
            return ((1 + r) * e, -3 * e)
        case .matern52:
            let r = FastMath.sqrt4(5 * r2), e = FastMath.exp4(-r)
            return ((1 + r + r * r / 3) * e, -(5.0 / 3) * (1 + r) * e)
        }
    }

    /// Squared distances from the point `a` (d values) to points 0..<count of `bt`, which
    /// holds its points by columns (value c of point j at bt[c·stride + j]; all already
    /// divided by the lengthscales), into `out`. Summed over c in order, one vectorizable
    /// pass per dimension.
    @inline(__always)
    static func distances(from a: UnsafePointer<Double>, toColumns bt: UnsafePointer<Double>, stride: Int, count: Int, d: Int,
                          into out: UnsafeMutablePointer<Double>) {
        for j in 0..<count { let t = a[0] - bt[j]; out[j] = t * t }
        for c in 1..<max(d, 1) {
            let ac = a[c], col = bt + c * stride
            for j in 0..<count { let t = ac - col[j]; out[j] += t * t }
        }
    }

    /// The rows of `z` (n×d) divided by the lengthscales, by columns (d×n): the layout `distances` reads.
    static func scaledColumns(_ z: Matrix, _ lengthscales: [Double]) -> [Double] {
        let n = z.rows, d = z.cols
        var out = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for c in 0..<d { out[c * n + i] = z.data[i * d + c] / lengthscales[c] } }
        return out
    }

    /// The kernel matrix s·k(a, b), m×n; its rows are shared between threads when `parallel`.
    public func matrix(_ a: Matrix, _ b: Matrix, lengthscales: [Double], outputscale s: Double, parallel: Bool = true) -> Matrix {
        let d = lengthscales.count
        precondition(a.cols == d && b.cols == d)
        let sa = a.data.enumerated().map { $0.element / lengthscales[$0.offset % d] }
        let sb = Kernel.scaledColumns(b, lengthscales)
        var out = Matrix.uninitialized(rows: a.rows, cols: b.rows)   // every element is set below
        let m = b.rows
        sa.withUnsafeBufferPointer { pa in
            sb.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { o in
                    let (sap, sbp, sop) = (SharedBuffer(pa), SharedBuffer(pb), SharedBuffer(o))
                    let minimumRows = parallel ? max(1, 65_536 / max(m, 1)) : Int.max
                    Parallel.forEachPart(a.rows, minimumRows: minimumRows) { _, rows in
                        let (ap, bp, op) = (sap.base, sbp.base, sop.base)
                        let r2 = UnsafeMutablePointer<Double>.allocate(capacity: m)
                        defer { r2.deallocate() }
                        for i in rows {
                            Kernel.distances(from: ap + i * d, toColumns: bp, stride: m, count: m, d: d, into: r2)
                            fill(r2: r2, count: m, scale: s, k: op + i * m, dk: nil)
                        }
                    }
                }
            }
        }
        return out
    }
}
