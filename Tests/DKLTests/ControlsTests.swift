import DKL
import Foundation
import TestSupport
import XCTest

/// The checks can fail: the finite-difference helper flags a wrong backward pass, on the
/// tape and for the VAE's loss, and names the element.
final class GradientControlTests: XCTestCase {
    /// Σx² recorded with the backward pass of Σx (gradient 1 instead of 2x): flagged.
    func testAWrongBackwardPassIsFlagged() {
        let x = randomMatrix(3, 4, seed: 1)
        func wrong(_ v: Var) -> Var {
            let value = Matrix.scalar(v.value.data.map { $0 * $0 }.reduce(0, +))
            return v.tape.record(value, parents: [v]) { g, t in t.accumulate(v, Matrix(rows: v.rows, cols: v.cols, data: [Double](repeating: g.data[0], count: v.rows * v.cols))) }
        }
        XCTAssertThrowsError(try tapeGradientError([x]) { wrong($0[0]) }) { error in
            guard let m = error as? GradientMismatch else { return XCTFail("\(error)") }
            XCTAssertEqual(m.input, 0)
            XCTAssertEqual(m.analytic, 1)
            XCTAssertEqual(m.numeric, 2 * x.data[m.index], accuracy: 1e-6)
        }
        // The same op with the right backward pass passes, with a small worst error.
        let right = try? tapeGradientError([x]) { v in
            let value = Matrix.scalar(v[0].value.data.map { $0 * $0 }.reduce(0, +))
            return v[0].tape.record(value, parents: [v[0]]) { g, t in t.accumulate(v[0], v[0].value.map { 2 * $0 * g.data[0] }) }
        }
        XCTAssertNotNil(right)
        XCTAssertLessThan(right ?? 1, 1e-7)
    }

    /// A VAE gradient with one element off by 1% is flagged at that element.
    func testAnAlteredVAEGradientIsFlagged() throws {
        var c = VAEConfig()
        c.latent = 2; c.encoderHidden = [5]; c.decoderHidden = [5]
        let m = VAE(config: c, shape: [6], field: "f", offset: 0, scale: 1)
        let params = m.parameters.map { $0.map(Double.init) }
        var g = Xoshiro(seed: 4)
        let x = NetMatrix<Double>(rows: 3, cols: 6, data: (0..<18).map { _ in g.uniform() })
        let noise = NetMatrix<Double>(rows: 3, cols: 2, data: (0..<6).map { _ in g.normal() })
        var grads = m.loss(x, noise: noise, params, gradients: true).1
        let f = { (p: [[Double]]) in m.loss(x, noise: noise, p, gradients: false).0.total }
        let worst = try compareWithFiniteDifferences(params, analytic: grads, rtol: 1e-5, atol: 1e-7, f)
        XCTAssertLessThan(worst, 1e-6)
        let (k, i) = (1, grads[1].indices.max { abs(grads[1][$0]) < abs(grads[1][$1]) }!)
        grads[k][i] *= 1.01
        XCTAssertThrowsError(try compareWithFiniteDifferences(params, analytic: grads, rtol: 1e-5, atol: 1e-7, f)) { error in
            guard let mismatch = error as? GradientMismatch else { return XCTFail("\(error)") }
            XCTAssertEqual(mismatch.input, k)
            XCTAssertEqual(mismatch.index, i)
        }
    }
}

/// PredictiveScore and TruthRanking against sums written out here.
final class PredictiveScoreTests: XCTestCase {
    func testScoresAgainstHandSums() {
        let mean = [1.0, 2.0, 0.5, 4.0], variance = [0.25, 1.0, 4.0, 0.01], truth = [1.5, 2.0, -4.0, 4.0]
        let s = PredictiveScore(mean: mean, variance: variance, truth: truth, indices: [0, 1, 2])
        XCTAssertEqual(s.count, 3)
        // e = −0.5, 0, 4.5; v = 0.25, 1, 4.
        XCTAssertEqual(s.rmse, ((0.25 + 0 + 20.25) / 3).squareRoot(), accuracy: 1e-15)
        let nl = [(0.25, 0.25), (1.0, 0.0), (4.0, 20.25)].map { 0.5 * log(2 * Double.pi * $0.0) + $0.1 / (2 * $0.0) }.reduce(0, +) / 3
        XCTAssertEqual(s.nlpd, nl, accuracy: 1e-15)
        XCTAssertEqual(s.coverage, 2.0 / 3)   // |4.5| > 2·2
        XCTAssertEqual(s.meanSquaredZ, (1 + 0 + 20.25 / 4) / 3, accuracy: 1e-15)
        XCTAssertEqual(PredictiveScore(mean: [], variance: [], truth: []).count, 0)
        XCTAssertTrue(PredictiveScore(mean: [], variance: [], truth: []).rmse.isNaN)
    }

    func testRankingAndTopPercent() {
        let values = (1...250).map(Double.init)
        let up = TruthRanking(values, maximize: true), down = TruthRanking(values, maximize: false)
        XCTAssertEqual(up.topCount, 3)        // ⌈250/100⌉
        XCTAssertEqual(up.topValue, 248)
        XCTAssertEqual(down.topValue, 3)
        XCTAssertEqual(up.rank(250), 1)
        XCTAssertEqual(up.rank(247.5), 4)
        XCTAssertEqual(down.rank(1), 1)
        XCTAssertTrue(up.isTop(248)); XCTAssertFalse(up.isTop(247)); XCTAssertFalse(up.isTop(.nan))
    }
}

/// --com's mean pattern and reference centre against sums over the cube written out here.
final class CentreOfMassReferenceTests: XCTestCase {
    func testMeanPatternAndReferenceCentre() throws {
        let dir = TempDir()
        let (h, w, ky, kx) = (3, 4, 5, 6)
        var g = Xoshiro(seed: 11)
        var cube = (0..<(h * w * ky * kx)).map { _ in g.uniform() }
        cube[7] = .nan   // left out of the mean
        try NPYFile.write(dir.path + "/c.npy", shape: [h, w, ky, kx], values: .double(cube))
        let source = try ArrayFile.open(dir.path + "/c.npy")
        var sum = [Double](repeating: 0, count: ky * kx)
        for (i, v) in cube.enumerated() where v.isFinite { sum[i % (ky * kx)] += v }
        assertClose(try CentreOfMass.meanPattern(source), sum.map { $0 / Double(h * w) }, rtol: 1e-14)
        let mask = (0..<(ky * kx)).map { $0 % 3 != 0 }
        var (my, mx, total) = (0.0, 0.0, 0.0)
        for i in 0..<(ky * kx) where mask[i] { my += Double(i / kx) * sum[i]; mx += Double(i % kx) * sum[i]; total += sum[i] }
        let c = try CentreOfMass.reference(source, mask: mask)
        XCTAssertEqual(c.y, my / total, accuracy: 1e-12)
        XCTAssertEqual(c.x, mx / total, accuracy: 1e-12)
        let disc = CentreOfMass.disc(height: ky, width: kx, centre: (2, 2.5), radius: 1.2)
        XCTAssertEqual(disc.indices.filter { disc[$0] }, [2 * kx + 2, 2 * kx + 3, 1 * kx + 2, 1 * kx + 3, 3 * kx + 2, 3 * kx + 3].sorted())
    }
}
