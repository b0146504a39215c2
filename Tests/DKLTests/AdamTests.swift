import XCTest
import DKL
import TestSupport

/// Adam and AdamW against the textbook update written out in scalar form here:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·wd·p − lr·m̂/(√v̂ + ε)
/// with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) (PyTorch's Adam and AdamW).
final class AdamTests: XCTestCase {
    static func reference(_ p0: [[Double]], grads: [[[Double]]], lr: Double, wd: Double, mask: [Bool]) -> [[Double]] {
        var p = p0, m = p0.map { $0.map { _ in 0.0 } }, v = m
        for (t, g) in grads.enumerated() {
            let c1 = 1 - pow(0.9, Double(t + 1)), c2 = 1 - pow(0.999, Double(t + 1))
            for k in p.indices {
                for i in p[k].indices {
                    m[k][i] = 0.9 * m[k][i] + 0.1 * g[k][i]
                    v[k][i] = 0.999 * v[k][i] + 0.001 * g[k][i] * g[k][i]
                    let decay = mask[k] ? lr * wd * p[k][i] : 0
                    p[k][i] -= decay + lr * (m[k][i] / c1) / ((v[k][i] / c2).squareRoot() + 1e-8)
                }
            }
        }
        return p
    }

    /// Parameter blocks of 7 and 4 values (a partial group of four and a whole one), five steps.
    func check(weightDecay: Double) {
        var rng = Xoshiro(seed: 11)
        let p0 = [(0..<7).map { _ in rng.normal() }, (0..<4).map { _ in rng.normal() }]
        let grads = (0..<5).map { _ in p0.map { $0.map { _ in rng.normal() * 0.1 } } }
        let mask = [true, false]
        var adam = Adam(learningRate: 0.01, weightDecay: weightDecay, decayMask: mask)
        var params = [Matrix(rows: 1, cols: 7, data: p0[0]), Matrix(rows: 2, cols: 2, data: p0[1])]
        for g in grads { adam.update(&params, [Matrix(rows: 1, cols: 7, data: g[0]), Matrix(rows: 2, cols: 2, data: g[1])]) }
        let expected = AdamTests.reference(p0, grads: grads, lr: 0.01, wd: weightDecay, mask: mask)
        assertClose(params[0].data, expected[0], rtol: 1e-13)
        assertClose(params[1].data, expected[1], rtol: 1e-13)
        XCTAssertEqual(adam.step, 5)
    }

    func testAdam() { check(weightDecay: 0) }
    func testAdamW() { check(weightDecay: 0.5) }
}

/// Adam in Float against the same textbook update in Double, with the gradient given whole
/// or as two weighted halves of a batch.
final class FloatAdamTests: XCTestCase {
    func testAgainstTheTextbookUpdate() {
        var rng = Xoshiro(seed: 12)
        // Blocks of 37 and 5 values: a partial group of eight, and the two lanes' halves.
        let p0 = [(0..<37).map { _ in rng.normal() }, (0..<5).map { _ in rng.normal() }]
        let halves = (0..<6).map { _ in (0..<2).map { _ in p0.map { $0.map { _ in rng.normal() * 0.1 } } } }
        let (w0, w1): (Float, Float) = (0.375, 0.625)
        let whole = halves.map { h in zip(h[0], h[1]).map { a, b in zip(a, b).map { Double(w0) * Double(Float($0)) + Double(w1) * Double(Float($1)) } } }
        let expected = AdamTests.reference(p0.map { $0.map { Double(Float($0)) } }, grads: whole, lr: 0.01, wd: 0, mask: [false, false])
        var split = p0.map { $0.map(Float.init) }, single = split
        var a = FloatAdam(learningRate: 0.01), b = FloatAdam(learningRate: 0.01)
        for (h, g) in zip(halves, whole) {
            a.update(&split, h[0].map { $0.map(Float.init) }, (h[1].map { $0.map(Float.init) }, w0, w1))
            b.update(&single, g.map { $0.map(Float.init) })
        }
        for k in expected.indices {
            assertClose(split[k].map(Double.init), expected[k], rtol: 1e-5, atol: 1e-6, "halves, block \(k)")
            assertClose(single[k].map(Double.init), expected[k], rtol: 1e-5, atol: 1e-6, "whole, block \(k)")
        }
        XCTAssertEqual(a.step, 6)
    }
}
