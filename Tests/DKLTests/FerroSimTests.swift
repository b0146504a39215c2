import DKL
import Foundation
import TestSupport
import XCTest

/// FerroSim reproduced against the original's golden cases (Tests/Fixtures/ferrosim-golden), and
/// physical checks of the model.
final class FerroSimGoldenTests: XCTestCase {
    static let golden = Tools.root + "/Tests/Fixtures/ferrosim-golden/"

    func load(_ name: String) throws -> (FerroModel, Polarization, [(Double, Double)], [Double], FerroSimulator.Update, JSON) {
        let dir = FerroSimGoldenTests.golden + name + "/"
        let json = try JSONParser.parse(String(contentsOfFile: dir + "case.json", encoding: .utf8))
        let meta = json["meta"]!
        let n = meta["n"]!.intValue!
        var model = FerroModel(n: n, mode: FerroModel.Mode(rawValue: meta["mode"]!.stringValue!)!, gamma: meta["gamma"]!.doubleValue!,
                               k: meta["k"]!.doubleValue!, depAlpha: meta["dep_alpha"]!.doubleValue!)
        let defects = try ArrayFile.open(dir + "defects_Ec.npy").readAll()
        model.defects = (0..<(n * n)).map { (defects[2 * $0], defects[2 * $0 + 1]) }
        let p0 = try ArrayFile.open(dir + "initial_p.npy").readAll()
        let initial = Polarization(x: (0..<(n * n)).map { p0[2 * $0] }, y: (0..<(n * n)).map { p0[2 * $0 + 1] })
        let f = try ArrayFile.open(dir + "applied_field_Ec.npy").readAll()
        let field = (0..<(f.count / 2)).map { (f[2 * $0], f[2 * $0 + 1]) }
        let times = try ArrayFile.open(dir + "time_vec.npy").readAll()
        var update = FerroSimulator.Update.deterministic
        if meta["stochastic"]!.boolValue! {
            let sel = try ArrayFile.open(dir + "stochastic_selected_sites.npy")
            let v = try sel.readAll().map { Int($0) }
            update = .replay((0..<sel.shape[0]).map { Array(v[($0 * sel.shape[1])..<(($0 + 1) * sel.shape[1])]) })
        }
        return (model, initial, field, times, update, json["summary"]!)
    }

    /// A (2, n, n) reference array as (x, y) site arrays.
    func field(_ name: String, _ file: String) throws -> ([Double], [Double]) {
        let v = try ArrayFile.open(FerroSimGoldenTests.golden + name + "/" + file).readAll()
        return (Array(v[0..<(v.count / 2)]), Array(v[(v.count / 2)...]))
    }

    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (model, initial, fieldHistory, times, update, summary) = try load(name)
        let r = FerroSimulator(model: model).run(initial: initial, field: fieldHistory, times: times, update: update)
        XCTAssertFalse(r.diverged, file: file, line: line)
        assertClose(model.coerciveField, summary["Ec"]!.doubleValue!, rtol: 1e-15, "\(name) Ec", file: file, line: line)
        let pmat = try field(name, "pmat_final.npy"), pnew = try field(name, "pnew_final.npy"), d = try field(name, "dpdt_final.npy")
        assertClose(r.a.x + r.a.y, pmat.0 + pmat.1, rtol: 0, atol: 1e-9, "\(name) pmat_final", file: file, line: line)
        assertClose(r.pn.x + r.pn.y, pnew.0 + pnew.1, rtol: 0, atol: 1e-9, "\(name) pnew_final", file: file, line: line)
        assertClose(r.d.x + r.d.y, d.0 + d.1, rtol: 0, atol: 1e-9, "\(name) dpdt_final", file: file, line: line)
        let tp = try field(name, "polarization_total.npy"), td = try field(name, "dpolarization_total.npy")
        assertClose(r.totalP.map(\.0) + r.totalP.map(\.1), tp.0 + tp.1, rtol: 0, atol: 1e-8, "\(name) polarization_total", file: file, line: line)
        assertClose(r.totalD.map(\.0) + r.totalD.map(\.1), td.0 + td.1, rtol: 0, atol: 1e-8, "\(name) dpolarization_total", file: file, line: line)
        let curl = r.a.curl(n: model.n)
        assertClose(curl, try ArrayFile.open(FerroSimGoldenTests.golden + name + "/curl_final.npy").readAll(), rtol: 0, atol: 1e-9, "\(name) curl", file: file, line: line)
        assertClose(curl.map(abs).reduce(0, +), summary["sum_abs_curl"]!.doubleValue!, rtol: 1e-9, "\(name) sum |curl|", file: file, line: line)
        let m = r.a.mean
        let ref = summary["mean_p_final"]!.arrayValue!.map { $0.doubleValue! }
        assertClose([m.0, m.1], ref, rtol: 1e-9, atol: 1e-12, "\(name) mean P", file: file, line: line)
    }

    func testG1TetragonalDeterministic() throws { try check("g1_tetra_det_n8_T200") }
    func testG2StochasticWithDefectsReplayed() throws { try check("g2_tetra_stoch_defects_n10_T300") }
    func testG3SquareelectricGammaHalfRemanent() throws {
        try check("g3_square_pr_gamma05_n12_T250")
        let (model, initial, _, _, _, _) = try load("g3_square_pr_gamma05_n12_T250")
        XCTAssertTrue(model.remanentState == (0, -1))
        XCTAssertEqual(initial, Polarization(sites: 144, value: model.remanentState), "the original's integer-truncated remanent state")
    }
}

final class FerroSimPhysicsTests: XCTestCase {
    func randomState(_ n: Int, seed: UInt64, scale: Double = 0.3) -> Polarization {
        var g = Xoshiro(seed: seed)
        return Polarization(x: (0..<(n * n)).map { _ in scale * g.normal() }, y: (0..<(n * n)).map { _ in scale * g.normal() })
    }

    /// p → −p with E → −E (and defects → −defects) gives −P: the model is odd.
    func testOddSymmetry() {
        var model = FerroModel(n: 6, mode: .tetragonal, k: 1.2, depAlpha: 0.3)
        model.defects[7] = (1, -0.5)
        let times = (0..<150).map { Double($0) / 149 }
        let field = times.map { (0.3 * sin(6 * $0), 0.8 * cos(5 * $0)) }
        let p0 = randomState(6, seed: 1)
        let a = FerroSimulator(model: model).run(initial: p0, field: field, times: times)
        var flipped = model
        flipped.defects = model.defects.map { (-$0.0, -$0.1) }
        let b = FerroSimulator(model: flipped).run(initial: Polarization(x: p0.x.map { -$0 }, y: p0.y.map { -$0 }),
                                                   field: field.map { (-$0.0, -$0.1) }, times: times)
        assertClose(b.a.x + b.a.y, (a.a.x + a.a.y).map { -$0 }, rtol: 0, atol: 1e-14)
    }

    /// The curl of a constructed vortex: P tangent to circles around the lattice's centre.
    func testCurlOfAVortex() {
        let n = 8
        var p = Polarization(sites: n * n, value: (0, 0))
        for i in 0..<n { for j in 0..<n {
            let (u, v) = (Double(i) - 3.5, Double(j) - 3.5)
            p.x[i * n + j] = v; p.y[i * n + j] = -u    // px along axis 0 ∝ j-offset, py ∝ −i-offset
        } }
        let c = p.curl(n: n)
        // Away from the periodic seam the curl is ½((−(i+1)+3.5 + (i−1)−3.5) − ((j+1) − (j−1))) = ½(−2 − 2) = −2.
        for i in 1..<(n - 1) { for j in 1..<(n - 1) { XCTAssertEqual(c[i * n + j], -2, accuracy: 1e-15) } }
    }

    /// The deterministic sweep of the coupled modes runs four sites at a time; a replay that
    /// lists every site takes the site-by-site loop: the two agree to the last bit, on
    /// lattices whose rows end in one, two or three sites past the last group of four, with
    /// defects, site-dependent k and depolarization.
    func testTheVectorSweepIsTheSiteBySiteOne() {
        for (n, mode) in [(5, FerroModel.Mode.tetragonal), (6, .rhombohedral), (7, .tetragonal), (8, .tetragonal)] {
            var model = FerroModel(n: n, mode: mode, k: 1.1, depAlpha: 0.3)
            model.defects[n + 2] = (0.7, -0.4)
            model.k[1] = 1.9
            let p0 = randomState(n, seed: UInt64(n), scale: 0.5)
            let times = (0..<300).map { Double($0) / 299 }
            let field = times.map { (0.2 * sin(9 * $0), 0.6 * cos(7 * $0)) }
            let sim = FerroSimulator(model: model)
            let fast = sim.run(initial: p0, field: field, times: times)
            let slow = sim.run(initial: p0, field: field, times: times, update: .replay([[Int]](repeating: Array(0..<(n * n)), count: 298)))
            XCTAssertEqual(fast.a.x, slow.a.x, "n = \(n)")
            XCTAssertEqual(fast.a.y, slow.a.y, "n = \(n)")
            XCTAssertEqual(fast.d.x, slow.d.x, "n = \(n)")
            XCTAssertEqual(fast.totalP.map(\.0), slow.totalP.map(\.0), "n = \(n)")
            XCTAssertEqual(fast.totalD.map(\.1), slow.totalD.map(\.1), "n = \(n)")
            XCTAssertFalse(fast.diverged)
        }
    }

    /// Too few time steps make explicit Euler diverge: it is reported, not returned as NaN.
    func testDivergenceIsDetected() {
        let model = FerroModel(n: 6, mode: .tetragonal)
        let p0 = randomState(6, seed: 2, scale: 1)
        let times = (0..<20).map { Double($0) / 19 }
        let r = FerroSimulator(model: model).run(initial: p0, field: times.map { _ in (0, 0) }, times: times)
        XCTAssertTrue(r.diverged)
        let fine = (0..<2000).map { Double($0) / 1999 }
        XCTAssertFalse(FerroSimulator(model: model).run(initial: p0, field: fine.map { _ in (0, 0) }, times: fine).diverged)
    }
}

/// The clean model: a gradient flow of its free energy.
final class CleanFerroTests: XCTestCase {
    func model(_ mode: FerroModel.Mode) -> FerroModel {
        var m = FerroModel(n: 5, mode: mode, k: 1.3, depAlpha: 0.4)
        m.defects[6] = (0.5, -1)
        m.k[3] = 2
        return m
    }

    func state(seed: UInt64) -> Polarization {
        var g = Xoshiro(seed: seed)
        return Polarization(x: (0..<25).map { _ in 0.4 * g.normal() }, y: (0..<25).map { _ in 0.4 * g.normal() })
    }

    /// ∂F/∂p against central differences of F, for every mode.
    func testGradientIsTheFreeEnergysDerivative() {
        for mode in FerroModel.Mode.allCases {
            let c = CleanFerro(model: model(mode))
            let p = state(seed: 1), e = (0.3, -0.7)
            let g = c.gradient(p, field: e)
            for s in [0, 6, 12, 24] {
                for axis in 0..<2 where !(mode == .uniaxial && axis == 0) {
                    var plus = p, minus = p
                    if axis == 0 { plus.x[s] += 1e-6; minus.x[s] -= 1e-6 } else { plus.y[s] += 1e-6; minus.y[s] -= 1e-6 }
                    let numeric = (c.freeEnergy(plus, field: e) - c.freeEnergy(minus, field: e)) / 2e-6
                    XCTAssertEqual(axis == 0 ? g.x[s] : g.y[s], numeric, accuracy: 1e-6 * max(1, abs(numeric)), "\(mode) site \(s) axis \(axis)")
                }
            }
        }
    }

    /// Under zero field and a small enough step, F never increases (deterministic and stochastic).
    func testFreeEnergyNeverIncreasesUnderZeroField() {
        for mode in [FerroModel.Mode.tetragonal, .squareelectric] {
            let c = CleanFerro(model: model(mode))
            let times = (0..<3000).map { Double($0) / 2999 }
            let zero = times.map { _ in (0.0, 0.0) }
            for seed: UInt64? in [nil, 7] {
                let r = c.run(initial: state(seed: 2), field: zero, times: times, stochastic: seed)
                XCTAssertFalse(r.diverged)
                let rises = zip(r.energy.dropFirst(), r.energy).filter { $0 > $1 + 1e-12 * abs($1) }.count
                XCTAssertEqual(rises, 0, "\(mode), stochastic \(String(describing: seed))")
                XCTAssertLessThan(r.energy.last!, r.energy.first!)
            }
        }
    }
}

/// A FerroRun in the library: records set by name from the simulator's summaries, and a run
/// continued from a checkpoint holding part of the histories gives the uninterrupted bytes.
final class FerroRunTests: XCTestCase {
    func testRecordsByNameAndAContinuedRun() throws {
        let dir = TempDir()
        let model = FerroModel(n: 6, mode: .tetragonal, gamma: 1, k: 1, depAlpha: 0)
        var g = Xoshiro(seed: 3)
        let initial = Polarization.random(sites: 36, scale: 0.3, using: &g)
        let t = FieldHistory.linspace(120, duration: 1)
        let field: FieldPairs = t.map { (0.0, 1.5 * sin(2 * .pi * $0)) }
        var run = FerroRun(model: model, initial: initial, histories: [])
        run.sweep(try ParameterSweep.parse(["k=0.5:1.5:3", "gamma=0.5:1:2"]), field: field)
        run.batchSize = 2
        XCTAssertEqual(run.histories.map(\.0), Array(0..<6))
        let schema = try run.schema()
        XCTAssertEqual(schema.fields.map(\.name), ["id", "y", "x", "k", "gamma", "px", "py", "p_abs", "sum_abs_curl", "curl_over_p", "diverged"])
        func records(_ checkpoint: Checkpoint?) throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            _ = try run.run(checkpoint: checkpoint, arrays: try FerroOutput(maps: nil, series: nil, count: 6, n: 6), progress: nil) { out.append($0) }
            return out
        }
        let whole = try records(nil)
        XCTAssertEqual(whole.count, 6)
        // Each record against the simulator run here, field by field.
        let sweep = run.sweep
        for (i, rec) in whole.enumerated() {
            let m = sweep.model(i, from: model)
            let r = FerroSimulator(model: m).run(initial: initial, field: field, times: t, update: .deterministic, keepHistory: false)
            let s = FerroSummary(r, n: 6)
            rec.withUnsafeBytes { b in
                let v = RecordView(b, schema)
                XCTAssertEqual(v.int(schema.index(of: "id")!), i)
                XCTAssertEqual(v.int(schema.index(of: "y")!), i / 2)
                XCTAssertEqual(v.int(schema.index(of: "x")!), i % 2)
                XCTAssertEqual(v.double(schema.index(of: "k")!), sweep.point(i)[0])
                XCTAssertEqual(v.double(schema.index(of: "px")!), s.meanP.0)
                XCTAssertEqual(v.double(schema.index(of: "sum_abs_curl")!), s.sumAbsCurl)
                XCTAssertEqual(v.double(schema.index(of: "curl_over_p")!), s.curlOverP)
            }
        }
        // A checkpoint holding the first three records: the rest are run, the bytes are the same.
        let header = StreamHeader(schema: schema, attrs: run.attributes)
        let first = try Checkpoint(path: dir.path + "/c.ndjson", header: header, signature: "s")
        try first.append(Array(whole.prefix(3)))
        let resumed = try Checkpoint(path: dir.path + "/c.ndjson", header: header, signature: "s")
        XCTAssertEqual(resumed.records.count, 3)
        XCTAssertEqual(try records(resumed), whole)
        XCTAssertEqual(try Checkpoint(path: dir.path + "/c.ndjson", header: header, signature: "s").records.count, 6)
    }
}
