/// A dense row-major matrix of Doubles over one contiguous buffer. Vectors are 1×n or n×1.
import DKLCore

public struct Matrix: Equatable, Sendable {
    public var rows: Int
    public var cols: Int
    public var data: [Double]

    public init(rows: Int, cols: Int, data: [Double]) {
        precondition(data.count == rows * cols, "Matrix: \(data.count) values for \(rows)×\(cols)")
        self.rows = rows; self.cols = cols; self.data = data
    }

    public init(rows: Int, cols: Int, repeating v: Double = 0) {
        self.init(rows: rows, cols: cols, data: [Double](repeating: v, count: rows * cols))
    }

    /// A matrix whose every element the caller will set (no zero fill).
    public static func uninitialized(rows: Int, cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, data: [Double](unsafeUninitializedCapacity: rows * cols) { _, n in n = rows * cols })
    }

    /// A 1×n row.
    public init(row: [Double]) { self.init(rows: 1, cols: row.count, data: row) }
    /// An n×1 column.
    public init(column: [Double]) { self.init(rows: column.count, cols: 1, data: column) }
    public static func scalar(_ v: Double) -> Matrix { Matrix(rows: 1, cols: 1, data: [v]) }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.data[i * n + i] = 1 }
        return m
    }

    public var count: Int { data.count }
    public var shape: (Int, Int) { (rows, cols) }

    @inline(__always)
    public subscript(i: Int, j: Int) -> Double {
        get { data[i * cols + j] }
        set { data[i * cols + j] = newValue }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Double] { Array(data[(i * cols)..<((i + 1) * cols)]) }

    /// Rows `range` as a matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, data: Array(data[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// Rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> Matrix {
        var out = [Double](); out.reserveCapacity(indices.count * cols)
        for i in indices { out.append(contentsOf: data[(i * cols)..<((i + 1) * cols)]) }
        return Matrix(rows: indices.count, cols: cols, data: out)
    }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.data[j * rows + i] = data[i * cols + j] } }
        return t
    }

    /// The sum of all elements.
    public var sum: Double { data.reduce(0, +) }

    /// Elementwise map.
    public func map(_ f: (Double) -> Double) -> Matrix { Matrix(rows: rows, cols: cols, data: data.map(f)) }

    public var allFinite: Bool { data.allSatisfy(\.isFinite) }
}
