import Foundation
import DKLCore

/// Linear-algebra and shape ops. Each records its value and its backward pass.
extension Var {
    /// self·other (matrix product).
    public func matmul(_ other: Var) -> Var {
        let (a, b) = (self, other)
        return tape.record(a.value.matmul(b.value), parents: [a, b]) { g, t in
            t.accumulate(a, g.matmul(t.value(b), transB: true))
            t.accumulate(b, t.value(a).matmul(g, transA: true))
        }
    }

    /// self·otherᵀ.
    public func matmulT(_ other: Var) -> Var {
        let (a, b) = (self, other)
        return tape.record(a.value.matmul(b.value, transB: true), parents: [a, b]) { g, t in
            t.accumulate(a, g.matmul(t.value(b)))
            t.accumulate(b, g.matmul(t.value(a), transA: true))
        }
    }

    /// Elementwise sum; `other` may be a 1×n row (added to every row) or a 1×1 scalar.
    public static func + (a: Var, b: Var) -> Var {
        let (av, bv) = (a.value, b.value)
        if bv.rows == 1 && bv.cols == av.cols && av.rows > 1 { return a.addingRow(b) }
        return a.broadcasting(b, { $0 + $1 }, { g, _, _ in g }, { g, _, _ in g })
    }

    /// self + a 1×n row added to every row (a layer's bias): the hot path of every network.
    func addingRow(_ b: Var) -> Var {
        let a = self
        var out = a.value
        let n = out.cols
        b.value.data.withUnsafeBufferPointer { bb in
            out.data.withUnsafeMutableBufferPointer { o in
                for row in 0..<(o.count / max(n, 1)) { for j in 0..<n { o[row * n + j] += bb[j] } }
            }
        }
        return tape.record(out, parents: [a, b]) { g, t in
            t.accumulate(a, g)
            var gb = Matrix(rows: 1, cols: n)
            gb.data.withUnsafeMutableBufferPointer { s in
                g.data.withUnsafeBufferPointer { gg in
                    for row in 0..<(gg.count / max(n, 1)) { for j in 0..<n { s[j] += gg[row * n + j] } }
                }
            }
            t.accumulate(b, gb)
        }
    }
    public static func - (a: Var, b: Var) -> Var { a.broadcasting(b, { $0 - $1 }, { g, _, _ in g }, { g, _, _ in -g }) }
    /// Elementwise product (with the same broadcasting).
    public static func * (a: Var, b: Var) -> Var { a.broadcasting(b, { $0 * $1 }, { g, _, y in g * y }, { g, x, _ in g * x }) }
    public static func / (a: Var, b: Var) -> Var { a.broadcasting(b, { $0 / $1 }, { g, _, y in g / y }, { g, x, y in -g * x / (y * y) }) }

    /// A binary elementwise op where `b` is the same shape as `a`, a 1×n row or a 1×1 scalar;
    /// `da`, `db` give ∂/∂a and ∂/∂b times the output gradient g, from (g, a, b).
    func broadcasting(_ b: Var, _ f: @escaping (Double, Double) -> Double,
                      _ da: @escaping (Double, Double, Double) -> Double,
                      _ db: @escaping (Double, Double, Double) -> Double) -> Var {
        let a = self
        let (av, bv) = (a.value, b.value)
        let mode: Int   // 0 same shape, 1 row, 2 scalar
        if bv.rows == av.rows && bv.cols == av.cols { mode = 0 } else if bv.rows == 1 && bv.cols == av.cols { mode = 1 } else {
            precondition(bv.count == 1, "broadcast of \(bv.rows)×\(bv.cols) onto \(av.rows)×\(av.cols)")
            mode = 2
        }
        let n = av.cols
        @inline(__always) func bi(_ i: Int) -> Int { mode == 0 ? i : mode == 1 ? i % n : 0 }
        var out = av
        for i in 0..<out.count { out.data[i] = f(av.data[i], bv.data[bi(i)]) }
        return tape.record(out, parents: [a, b]) { g, t in
            let (x, y) = (t.value(a), t.value(b))
            var ga = g, gb = Matrix(rows: y.rows, cols: y.cols)
            for i in 0..<g.count {
                let (xi, yi) = (x.data[i], y.data[bi(i)])
                ga.data[i] = da(g.data[i], xi, yi)
                gb.data[bi(i)] += db(g.data[i], xi, yi)
            }
            t.accumulate(a, ga)
            t.accumulate(b, gb)
        }
    }

    /// c·self for a constant c.
    public func scaled(_ c: Double) -> Var {
        let a = self
        return tape.record(a.value.map { $0 * c }, parents: [a]) { g, t in t.accumulate(a, g.map { $0 * c }) }
    }

    /// The sum of all elements (1×1).
    public func sum() -> Var {
        let a = self
        return tape.record(.scalar(a.value.sum), parents: [a]) { g, t in
            let v = t.value(a)
            t.accumulate(a, Matrix(rows: v.rows, cols: v.cols, repeating: g.data[0]))
        }
    }

    /// The mean of all elements (1×1).
    public func mean() -> Var { sum().scaled(1 / Double(value.count)) }

    /// Column sums (1×cols).
    public func sumRows() -> Var {
        let a = self
        let v = a.value
        var s = Matrix(rows: 1, cols: v.cols)
        for i in 0..<v.rows { for j in 0..<v.cols { s.data[j] += v.data[i * v.cols + j] } }
        return tape.record(s, parents: [a]) { g, t in
            let v = t.value(a)
            var out = Matrix(rows: v.rows, cols: v.cols)
            for i in 0..<v.rows { for j in 0..<v.cols { out.data[i * v.cols + j] = g.data[j] } }
            t.accumulate(a, out)
        }
    }

    /// Columns `range` of self.
    public func columns(_ range: Range<Int>) -> Var {
        let a = self
        let v = a.value
        var out = Matrix(rows: v.rows, cols: range.count)
        for i in 0..<v.rows { for (k, j) in range.enumerated() { out.data[i * range.count + k] = v.data[i * v.cols + j] } }
        return tape.record(out, parents: [a]) { g, t in
            let v = t.value(a)
            var ga = Matrix(rows: v.rows, cols: v.cols)
            for i in 0..<v.rows { for (k, j) in range.enumerated() { ga.data[i * v.cols + j] = g.data[i * range.count + k] } }
            t.accumulate(a, ga)
        }
    }

    /// [self other] side by side (same number of rows).
    public func concatColumns(_ other: Var) -> Var {
        let (a, b) = (self, other)
        let (x, y) = (a.value, b.value)
        precondition(x.rows == y.rows)
        var out = Matrix(rows: x.rows, cols: x.cols + y.cols)
        for i in 0..<x.rows {
            for j in 0..<x.cols { out.data[i * out.cols + j] = x.data[i * x.cols + j] }
            for j in 0..<y.cols { out.data[i * out.cols + x.cols + j] = y.data[i * y.cols + j] }
        }
        return tape.record(out, parents: [a, b]) { g, t in
            t.accumulate(a, Matrix(rows: x.rows, cols: x.cols, data: (0..<x.count).map { g.data[($0 / x.cols) * out.cols + $0 % x.cols] }))
            t.accumulate(b, Matrix(rows: y.rows, cols: y.cols, data: (0..<y.count).map { g.data[($0 / y.cols) * out.cols + x.cols + $0 % y.cols] }))
        }
    }

    /// The same values seen as rows×cols (row-major order kept).
    public func reshaped(_ rows: Int, _ cols: Int) -> Var {
        let a = self
        let v = a.value
        precondition(rows * cols == v.count)
        return tape.record(Matrix(rows: rows, cols: cols, data: v.data), parents: [a]) { g, t in
            let v = t.value(a)
            t.accumulate(a, Matrix(rows: v.rows, cols: v.cols, data: g.data))
        }
    }
}

/// Elementwise functions: f and f' from the input (and output, to avoid recomputing).
extension Var {
    func unary(_ f: (Double) -> Double, _ df: @escaping (_ x: Double, _ y: Double) -> Double) -> Var {
        let a = self
        let out = a.value.map(f)
        return tape.record(out, parents: [a]) { g, t in
            let x = t.value(a)
            var ga = g
            for i in 0..<g.count { ga.data[i] = g.data[i] * df(x.data[i], out.data[i]) }
            t.accumulate(a, ga)
        }
    }

    public func relu() -> Var {
        let a = self
        let out = a.value.map { max($0, 0) }
        return tape.record(out, parents: [a]) { g, t in
            var ga = g
            ga.data.withUnsafeMutableBufferPointer { d in
                out.data.withUnsafeBufferPointer { y in for i in 0..<d.count where y[i] <= 0 { d[i] = 0 } }
            }
            t.accumulate(a, ga)
        }
    }
    public func tanh() -> Var { unary({ Foundation.tanh($0) }, { _, y in 1 - y * y }) }
    public func sigmoid() -> Var { unary(Activations.sigmoid, { _, y in y * (1 - y) }) }
    /// log(1 + eˣ), computed without overflow.
    public func softplus() -> Var { unary(Activations.softplus, { x, _ in Activations.sigmoid(x) }) }
    public func exp() -> Var { unary({ Foundation.exp($0) }, { _, y in y }) }
    public func log() -> Var { unary({ Foundation.log($0) }, { x, _ in 1 / x }) }
    public func sin() -> Var { unary({ Foundation.sin($0) }, { x, _ in Foundation.cos(x) }) }
    public func cos() -> Var { unary({ Foundation.cos($0) }, { x, _ in -Foundation.sin(x) }) }
    public func square() -> Var { unary({ $0 * $0 }, { x, _ in 2 * x }) }
    public func sqrt() -> Var { unary({ $0.squareRoot() }, { _, y in 0.5 / y }) }
}

/// Scalar activation functions shared by ops and plain code.
public enum Activations {
    @inline(__always) public static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    @inline(__always) public static func softplus(_ x: Double) -> Double { x > 30 ? x : x < -30 ? exp(x) : log1p(exp(x)) }
    /// The inverse of softplus: log(eʸ − 1), for y > 0.
    @inline(__always) public static func softplusInverse(_ y: Double) -> Double { y > 30 ? y : log(expm1(y)) }
}
