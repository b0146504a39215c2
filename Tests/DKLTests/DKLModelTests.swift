import DKL
import Foundation
import TestSupport
import XCTest

final class DKLModelTests: XCTestCase {
    /// y = sin(3·x₀) + x₁² + noise on 4-D inputs (two irrelevant), train and test sets.
    static func problem(n: Int, seed: UInt64) -> (Matrix, [Double]) {
        var g = Xoshiro(seed: seed)
        let x = Matrix(rows: n, cols: 4, data: (0..<(4 * n)).map { _ in 2 * g.uniform() - 1 })
        let y = (0..<n).map { i in sin(3 * x[i, 0]) + x[i, 1] * x[i, 1] + 0.05 * g.normal() }
        return (x, y)
    }

    func config(_ iterations: Int = 150) -> DKLConfig {
        var c = DKLConfig()
        c.hidden = [16]
        c.iterations = iterations
        c.seed = 3
        return c
    }

    func testLearnsASmoothFunctionWithCalibratedVariance() throws {
        let (x, y) = DKLModelTests.problem(n: 120, seed: 1)
        let (xt, yt) = DKLModelTests.problem(n: 300, seed: 2)
        let m = try DKLTrainer.train(x: x, y: y, config: config())
        XCTAssertLessThan(m.lossCurve.last!, m.lossCurve.first! - 0.3, "the loss falls")
        let p = try m.predict(xt)
        let sd = (yt.map { $0 * $0 }.reduce(0, +) / 300 - pow(yt.reduce(0, +) / 300, 2)).squareRoot()
        let rmse = (zip(p.mean, yt).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 300).squareRoot()
        XCTAssertLessThan(rmse, 0.35 * sd, "much better than the prior (RMSE \(rmse), sd \(sd))")
        let inside = zip(zip(p.mean, p.variance), yt).filter { abs($0.0.0 - $0.1) <= 2 * ($0.0.1 + p.noise).squareRoot() }.count
        XCTAssertGreaterThan(Double(inside) / 300, 0.85, "±2σ covers the test targets")
        XCTAssertGreaterThan(m.keptIteration, 0)
        XCTAssertTrue(m.validationNLPD.isFinite)
    }

    func testSaveLoadPredictIsIdentical() throws {
        let (x, y) = DKLModelTests.problem(n: 40, seed: 4)
        var m = try DKLTrainer.train(x: x, y: y, config: config(30))
        m.provenance = [["tool": "test"]]
        let dir = TempDir()
        try m.save(to: dir.file("m.h5"))
        let back = try DKLModel.load(from: dir.file("m.h5"))
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.lossCurve, m.lossCurve)
        XCTAssertEqual(back.provenance.count, 1)
        let (xt, _) = DKLModelTests.problem(n: 50, seed: 5)
        let (a, b) = (try m.predict(xt), try back.predict(xt))
        XCTAssertEqual(a.mean, b.mean)
        XCTAssertEqual(a.variance, b.variance)
        XCTAssertEqual(a.noise, b.noise)
        XCTAssertEqual(dir.listing(), ["m.h5"])
        XCTAssertThrowsError(try DKLModel.load(from: fixtures + "/h5/plain.h5")) { XCTAssertTrue("\($0)".contains("not a dkl model file"), "\($0)") }
    }

    /// The variance product's arithmetic is a setting of the model file; files written before
    /// it was one predict with the default.
    func testTheVariancePrecisionIsStoredWithTheModel() throws {
        var c = config(30)
        c.variancePrecision = .double
        XCTAssertEqual(try DKLConfig(json: c.json).variancePrecision, .double)
        var old = c.json
        old.remove("variance_precision")
        XCTAssertEqual(try DKLConfig(json: old).variancePrecision, .single)
        var bad = c.json
        bad.set("variance_precision", .string("half"))
        XCTAssertThrowsError(try DKLConfig(json: bad)) { XCTAssertTrue("\($0)".contains("variance_precision"), "\($0)") }
    }

    func testSameSeedSameModelAndWarmStartKeepsTheModel() throws {
        let (x, y) = DKLModelTests.problem(n: 40, seed: 6)
        let a = try DKLTrainer.train(x: x, y: y, config: config(20)), b = try DKLTrainer.train(x: x, y: y, config: config(20))
        XCTAssertEqual(a.network!.parameters, b.network!.parameters)
        var c0 = config(0)
        c0.validationFraction = 0
        let warm = try DKLTrainer.train(x: x, y: y, config: c0, initial: a)
        XCTAssertEqual(warm.network!.parameters, a.network!.parameters)
        XCTAssertEqual(warm.rawGP, a.rawGP)
    }

    func testPlainGPWithoutNetwork() throws {
        let (x, y) = DKLModelTests.problem(n: 80, seed: 7)
        var c = config(200)
        c.extractor = .none
        let m = try DKLTrainer.train(x: x, y: y, config: c)
        XCTAssertNil(m.network)
        let ls = m.gpParameters.lengthscales
        XCTAssertEqual(ls.count, 4)
        XCTAssertGreaterThan(min(ls[2], ls[3]), max(ls[0], ls[1]), "irrelevant inputs get longer lengthscales: \(ls)")
    }

    /// A CNN on 8×8 patches whose target is the brightness of their centre: trains, and
    /// an ensemble of two saves and loads with identical predictions.
    func testCNNExtractorAndEnsembleFile() throws {
        var g = Xoshiro(seed: 12)
        let n = 60
        var x = Matrix(rows: n, cols: 64)
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let (cy, cx, a) = (2 + 4 * g.uniform(), 2 + 4 * g.uniform(), g.uniform())
            for r in 0..<8 { for c in 0..<8 { x[i, r * 8 + c] = a * exp(-((Double(r) - cy) * (Double(r) - cy) + (Double(c) - cx) * (Double(c) - cx)) / 4) } }
            y[i] = a * exp(-((3.5 - cy) * (3.5 - cy) + (3.5 - cx) * (3.5 - cx)) / 4)
        }
        var c = config(40)
        c.extractor = .cnn
        c.cnnChannels = [4]
        c.cnnHidden = 8
        c.ensemble = 2
        let e = try DKLEnsemble.train(x: x, y: y, config: c)
        XCTAssertEqual(e.members.count, 2)
        XCTAssertTrue(e.members[0].network is CNN)
        XCTAssertNotEqual(e.members[0].network!.parameters, e.members[1].network!.parameters, "different seeds")
        XCTAssertLessThan(e.members[0].lossCurve.last!, e.members[0].lossCurve.first!)
        let dir = TempDir()
        try e.save(to: dir.file("e.h5"))
        let back = try DKLEnsemble.load(from: dir.file("e.h5"))
        let (a, b) = (try e.predict(x), try back.predict(x))
        XCTAssertEqual(a.mean, b.mean)
        XCTAssertEqual(a.variance, b.variance)
        XCTAssertThrowsError(try DKLModel.load(from: dir.file("e.h5"))) { XCTAssertTrue("\($0)".contains("an ensemble of 2"), "\($0)") }
        var bad = c
        bad.patchChannels = 3
        XCTAssertThrowsError(try DKLTrainer.train(x: x, y: y, config: bad)) { XCTAssertTrue("\($0)".contains("square patches"), "\($0)") }
    }

    func testEnsembleMoments() {
        let c = Ensemble.combine([([1, 0], [0.5, 1]), ([3, 0], [1.5, 1])])
        XCTAssertEqual(c.mean, [2, 0])
        XCTAssertEqual(c.variance, [2, 1])   // (0.5+1 + 1.5+9)/2 − 4 = 2
    }

    func testBadTrainingDataIsAnError() {
        XCTAssertThrowsError(try DKLTrainer.train(x: Matrix(rows: 1, cols: 2), y: [1], config: config()))
        XCTAssertThrowsError(try DKLTrainer.train(x: Matrix(rows: 3, cols: 1, data: [0, .nan, 1]), y: [1, 2, 3], config: config()))
    }
}
