import DKL
import TestSupport
import XCTest

/// One line per op: its backward pass against central finite differences.
final class AutodiffTests: XCTestCase {
    let a = randomMatrix(3, 4, seed: 1), b = randomMatrix(4, 2, seed: 2), c = randomMatrix(3, 4, seed: 3)
    let row = randomMatrix(1, 4, seed: 4), positive = randomMatrix(3, 4, seed: 5, in: 0.2...2)

    func testMatmul() { checkGradients([a, b]) { $0[0].matmul($0[1]).square().sum() } }
    func testMatmulT() { checkGradients([a, c]) { $0[0].matmulT($0[1]).square().sum() } }
    func testAdd() { checkGradients([a, c]) { ($0[0] + $0[1]).square().sum() } }
    func testAddRowBroadcast() { checkGradients([a, row]) { ($0[0] + $0[1]).square().sum() } }
    func testSubtract() { checkGradients([a, row]) { ($0[0] - $0[1]).square().sum() } }
    func testMultiply() { checkGradients([a, c]) { ($0[0] * $0[1]).sum() } }
    func testMultiplyScalarBroadcast() { checkGradients([a, .scalar(0.7)]) { ($0[0] * $0[1]).square().sum() } }
    func testDivide() { checkGradients([a, positive]) { ($0[0] / $0[1]).sum() } }
    func testScaled() { checkGradients([a]) { $0[0].scaled(-2.5).square().sum() } }
    func testMean() { checkGradients([a]) { $0[0].square().mean() } }
    func testSumRows() { checkGradients([a]) { $0[0].sumRows().square().sum() } }
    func testColumns() { checkGradients([a]) { $0[0].columns(1..<3).square().sum() } }
    func testConcat() { checkGradients([a, c]) { $0[0].concatColumns($0[1].scaled(2)).square().sum() } }
    func testReshape() { checkGradients([a, randomMatrix(6, 2, seed: 9)]) { ($0[0].reshaped(6, 2) * $0[1]).sum() } }
    func testRelu() { checkGradients([a]) { $0[0].relu().square().sum() } }
    func testTanh() { checkGradients([a]) { $0[0].tanh().sum() } }
    func testSigmoid() { checkGradients([a]) { $0[0].sigmoid().sum() } }
    func testSoftplus() { checkGradients([a.map { $0 * 40 }], rtol: 1e-5) { $0[0].softplus().sum() } }
    func testExp() { checkGradients([a]) { $0[0].exp().sum() } }
    func testLog() { checkGradients([positive]) { $0[0].log().sum() } }
    func testSin() { checkGradients([a]) { $0[0].sin().sum() } }
    func testCos() { checkGradients([a]) { $0[0].cos().sum() } }
    func testSqrt() { checkGradients([positive]) { $0[0].sqrt().sum() } }

    /// The reparameterization z = μ + exp(½ log σ²)·ε, and a KL term, as a VAE uses them.
    func testReparameterizationAndKL() {
        let eps = randomMatrix(3, 4, seed: 8)
        checkGradients([a, c]) { v in
            let t = v[0].tape
            let z = v[0] + v[1].scaled(0.5).exp() * t.constant(eps)
            let kl = (v[1].exp() + v[0].square() - v[1]).sum().scaled(0.5)
            return z.square().sum() + kl
        }
    }

    /// A value reused by two ops accumulates both gradients.
    func testFanOut() { checkGradients([a]) { ($0[0].exp() * $0[0].sin()).sum() } }

    /// The harness can fail: a wrong derivative is caught.
    func testNegativeControlWrongDerivativeIsCaught() {
        let t = Tape()
        let x = t.variable(a)
        let wrong = t.record(x.value.map { $0 * $0 }, parents: [x]) { g, tape in tape.accumulate(x, g) }   // should be 2x·g
        let loss = wrong.sum()
        t.backward(loss)
        XCTAssertNotEqual(t.grad(x).data, a.data.map { 2 * $0 })
    }
}

final class CholeskyTests: XCTestCase {
    func spd(_ n: Int, seed: UInt64) -> Matrix {
        let m = randomMatrix(n, n, seed: seed)
        var s = m.matmul(m, transB: true)
        for i in 0..<n { s[i, i] += 0.5 }
        return s
    }

    func testFactorSolveInverseLogdet() throws {
        let a = spd(6, seed: 1)
        let c = try Cholesky(a)
        XCTAssertEqual(c.jitter, 0)
        assertClose(c.l.matmul(c.l, transB: true).data, a.data, rtol: 1e-12, atol: 1e-12)
        let b = randomMatrix(6, 1, seed: 2).data
        assertClose(a.matmul(Matrix(column: c.solve(b))).data, b, rtol: 1e-10, atol: 1e-12)
        assertClose(a.matmul(c.inverse()).data, Matrix.identity(6).data, rtol: 0, atol: 1e-10)
        // log det against the product of the LU pivots of the same matrix, computed by hand (2×2).
        let two = try Cholesky(Matrix(rows: 2, cols: 2, data: [4, 2, 2, 3]))
        assertClose(two.logDeterminant, log(8.0), rtol: 1e-14)
    }

    /// The recursive triangular inverse past its base case (32): odd and even splits.
    func testInverseAtSizesThatRecurse() throws {
        for n in [1, 33, 65, 150, 257] {
            let a = spd(n, seed: UInt64(n))
            let c = try Cholesky(a)
            let inv = c.inverseFactor()
            assertClose(c.l.matmul(inv).data, Matrix.identity(n).data, rtol: 0, atol: 1e-10, "L·L⁻¹, n = \(n)")
            XCTAssertTrue((0..<n).allSatisfy { i in ((i + 1)..<n).allSatisfy { inv[i, $0] == 0 } }, "upper zero, n = \(n)")
            let full = c.inverse()
            assertClose(a.matmul(full).data, Matrix.identity(n).data, rtol: 0, atol: 1e-8, "A·A⁻¹, n = \(n)")
            assertClose(full.data, full.transposed.data, rtol: 0, atol: 0, "symmetric, n = \(n)")
        }
    }

    func testJitterLadderAndItsLimit() throws {
        // A rank-1 (singular) matrix needs jitter; the jitter used is reported.
        let v = Matrix(column: [1, 2, 3])
        let singular = v.matmul(v, transB: true)
        let c = try Cholesky(singular)
        XCTAssertGreaterThan(c.jitter, 0)
        XCTAssertLessThanOrEqual(c.jitter, 1e-8 * (14.0 / 3) * 1e6)
        // An indefinite matrix fails with a clear message after the last try.
        XCTAssertThrowsError(try Cholesky(Matrix(rows: 2, cols: 2, data: [1, 0, 0, -1]))) {
            XCTAssertTrue("\($0)".contains("not positive definite even with jitter"), "\($0)")
        }
        XCTAssertThrowsError(try Cholesky(Matrix(rows: 1, cols: 1, data: [.nan]))) { XCTAssertTrue("\($0)".contains("NaN")) }
    }

    func testAppendingOneRowEqualsRefactoring() throws {
        let a = spd(7, seed: 3)
        let small = try Cholesky(Matrix(rows: 6, cols: 6, data: (0..<36).map { a[$0 / 6, $0 % 6] }))
        let grown = try small.appending(column: (0..<6).map { a[$0, 6] }, diagonal: a[6, 6])
        assertClose(grown.l.data, try Cholesky(a).l.data, rtol: 1e-12, atol: 1e-13)
        // L⁻¹ and its O(n²) extension: L·L⁻¹ = I, upper triangle zero, extension = inverting again.
        let inv = small.inverseFactor()
        assertClose(small.l.matmul(inv).data, Matrix.identity(6).data, rtol: 0, atol: 1e-12)
        XCTAssertTrue((0..<6).allSatisfy { i in ((i + 1)..<6).allSatisfy { inv[i, $0] == 0 } })
        assertClose(Cholesky.extendInverse(inv, by: grown).data, grown.inverseFactor().data, rtol: 1e-12, atol: 1e-13)
    }
}

/// Convolution and pooling: gradients, and values against a direct loop.
final class ConvTests: XCTestCase {
    let shape = ImageShape(channels: 2, height: 5, width: 6)

    func testConv2dGradients() {
        let x = randomMatrix(2, shape.count, seed: 1), w = randomMatrix(3, 2 * 9, seed: 2), b = randomMatrix(1, 3, seed: 3)
        for p in [0, 1] {
            checkGradients([x, w, b]) { v in v[0].conv2d(shape, weight: v[1], bias: v[2], kernel: 3, padding: p).0.square().sum() }
        }
    }

    func testConv2dValueAgainstDirectLoop() {
        let x = randomMatrix(1, shape.count, seed: 4), w = randomMatrix(1, 2 * 9, seed: 5)
        let t = Tape()
        let (y, o) = t.constant(x).conv2d(shape, weight: t.constant(w), bias: t.constant(.scalar(0.5)), kernel: 3, padding: 1)
        XCTAssertEqual(o, ImageShape(channels: 1, height: 5, width: 6))
        for oy in 0..<5 { for ox in 0..<6 {
            var s = 0.5
            for c in 0..<2 { for ky in 0..<3 { for kx in 0..<3 {
                let (iy, ix) = (oy + ky - 1, ox + kx - 1)
                if iy >= 0 && iy < 5 && ix >= 0 && ix < 6 { s += w.data[(c * 3 + ky) * 3 + kx] * x.data[(c * 5 + iy) * 6 + ix] }
            } } }
            XCTAssertEqual(y.value.data[oy * 6 + ox], s, accuracy: 1e-13)
        } }
    }

    func testPoolingGradientsAndValues() {
        let x = randomMatrix(2, shape.count, seed: 6)
        checkGradients([x]) { $0[0].maxPool(shape, size: 2).0.square().sum() }
        checkGradients([x]) { $0[0].avgPool(shape, size: 2).0.square().sum() }
        let t = Tape()
        let (m, o) = t.constant(x).maxPool(shape, size: 2)
        XCTAssertEqual(o, ImageShape(channels: 2, height: 2, width: 3))
        XCTAssertEqual(m.value.data[0], [x.data[0], x.data[1], x.data[6], x.data[7]].max()!)
    }
}
