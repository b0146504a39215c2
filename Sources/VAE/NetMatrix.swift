/// A dense row-major rows×cols block of Float or Double: the VAE networks' activations
/// and gradients.
import DKLCore
import DKLNumerics
import DKLData

public struct NetMatrix<T: NetScalar>: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var data: [T]

    public init(rows: Int, cols: Int, data: [T]) {
        precondition(data.count == rows * cols, "NetMatrix: \(data.count) values for \(rows)×\(cols)")
        self.rows = rows; self.cols = cols; self.data = data
    }

    public init(rows: Int, cols: Int) { self.init(rows: rows, cols: cols, data: [T](repeating: 0, count: rows * cols)) }

    /// A matrix whose every element the caller will set (no zero fill).
    public static func uninitialized(rows: Int, cols: Int) -> NetMatrix {
        NetMatrix(rows: rows, cols: cols, data: [T](unsafeUninitializedCapacity: rows * cols) { _, n in n = rows * cols })
    }

    public var count: Int { data.count }

    /// op(a)·op(b).
    public static func product(_ a: NetMatrix, _ b: NetMatrix, transA: Bool = false, transB: Bool = false) -> NetMatrix {
        let m = transA ? a.cols : a.rows, k = transA ? a.rows : a.cols
        let n = transB ? b.rows : b.cols
        precondition(k == (transB ? b.cols : b.rows), "product: inner sizes \(k) and \(transB ? b.cols : b.rows)")
        if m == 0 || n == 0 || k == 0 { return NetMatrix(rows: m, cols: n) }
        var c = NetMatrix.uninitialized(rows: m, cols: n)
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                c.data.withUnsafeMutableBufferPointer { pc in
                    T.gemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, transA: transA, transB: transB)
                }
            }
        }
        return c
    }

    /// Adds the row `bias` (cols values) to every row.
    public mutating func addRow(_ bias: [T]) {
        let n = cols
        data.withUnsafeMutableBufferPointer { d in
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { let row = d.baseAddress! + r * n; for j in 0..<n { row[j] += b[j] } }
            }
        }
    }

    /// The column sums (a bias's gradient).
    public func columnSums() -> [T] {
        var s = [T](repeating: 0, count: cols)
        let n = cols
        data.withUnsafeBufferPointer { d in
            s.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows { let row = d.baseAddress! + r * n; for j in 0..<n { o[j] += row[j] } }
            }
        }
        return s
    }

    /// Columns `range` as a matrix.
    public func columns(_ range: Range<Int>) -> NetMatrix {
        var out = NetMatrix(rows: rows, cols: range.count)
        for i in 0..<rows { for (k, j) in range.enumerated() { out.data[i * range.count + k] = data[i * cols + j] } }
        return out
    }

    /// Rows at `indices`, in that order.
    public func gather(_ indices: some Collection<Int>) -> NetMatrix {
        var out = [T](); out.reserveCapacity(indices.count * cols)
        for i in indices { out.append(contentsOf: data[(i * cols)..<((i + 1) * cols)]) }
        return NetMatrix(rows: indices.count, cols: cols, data: out)
    }
}

/// The hidden layers' activation functions, applied in place, and their derivatives from
/// the output.
public enum NetActivation: String, Sendable, CaseIterable {
    case tanh, relu

    func apply<T: NetScalar>(_ x: inout NetMatrix<T>) {
        let n = x.count
        x.data.withUnsafeMutableBufferPointer { d in
            switch self {
            case .tanh: T.tanh(d.baseAddress!, count: n)
            case .relu: for i in 0..<n where d[i] < 0 { d[i] = 0 }
            }
        }
    }

    /// g ← g·f′ where y = f(x) is the layer's output.
    func backward<T: NetScalar>(_ g: inout NetMatrix<T>, output y: NetMatrix<T>) {
        let n = g.count
        g.data.withUnsafeMutableBufferPointer { gg in
            y.data.withUnsafeBufferPointer { yy in
                switch self {
                case .tanh: for i in 0..<n { gg[i] *= 1 - yy[i] * yy[i] }
                case .relu: for i in 0..<n where yy[i] <= 0 { gg[i] = 0 }
                }
            }
        }
    }
}
