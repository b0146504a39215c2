import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-patches | dkl-train, then dkl-predict, on the bundled sample data: the same numbers
/// as the library, better than the prior on points it did not see, the same model from
/// every form of targets, shards, ^C, and bad input.
final class DklTrainPredictTests: XCTestCase {
    static let share = Tools.root + "/share/plasmon/"

    /// Targets (the gap-mode band integral of every spectrum), all patches, and a sparse grid
    /// of patches (step 4) to train on.
    func prepare(_ dir: TempDir) throws {
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", DklTrainPredictTests.share + "spectra.h5:/spectra", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "9", DklTrainPredictTests.share + "image.npy", "-o", "all.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "9", "--stride", "4", DklTrainPredictTests.share + "image.npy", "-o", "grid.dkl"], cwd: dir.path)
    }

    func columns(_ path: String) throws -> [String: [Double]] {
        let r = try StreamReader(path: path)
        var out = [String: [Double]]()
        while let rec = try r.next() {
            let v = RecordView(rec, r.schema)
            for (i, f) in r.schema.fields.enumerated() where f.count == 1 { out[f.name, default: []].append(v.double(i)) }
        }
        return out
    }

    func testPipeTrainPredictMatchesTheLibraryAndBeatsThePrior() throws {
        let dir = TempDir()
        try prepare(dir)
        let train = try Tools.run("/bin/sh", ["-c", "\(Tools.path("dkl-patches")) -w 9 --stride 4 \(DklTrainPredictTests.share)image.npy | \(Tools.path("dkl-train")) --targets t.dkl -o m.h5 --ensemble 2 --iterations 200 -q"], cwd: dir.path)
        XCTAssertEqual(train.status, 0, train.report)
        let summary = try JSONParser.parse(train.out.trimmingCharacters(in: .newlines))
        XCTAssertEqual(summary["points"]?.intValue, 196)
        XCTAssertEqual(summary["members"]?.arrayValue?.count, 2)
        try Tools.expect(0, "dkl-predict", ["--model", "m.h5", "all.dkl", "-o", "p.dkl", "-q"], cwd: dir.path)
        let p = try columns(dir.file("p.dkl")), t = try columns(dir.file("t.dkl"))
        XCTAssertEqual(p["mean"]!.count, 56 * 56)

        // The same numbers from the library: load the file, predict the same patches.
        let model = try DKLEnsemble.load(from: dir.file("m.h5"))
        XCTAssertEqual(model.coordinates.count, 2 * 196)
        XCTAssertEqual(model.inputs["window"]?.intValue, 9)
        let r = try StreamReader(path: dir.file("all.dkl"))
        var x: [Double] = []
        while let rec = try r.next() { x += RecordView(rec, r.schema).doubles(2) }
        let lib = try model.predict(Matrix(rows: 56 * 56, cols: 81, data: x))
        assertClose(p["mean"]!, lib.mean, rtol: 1e-12, atol: 1e-14)
        assertClose(p["var"]!, lib.variance, rtol: 1e-10, atol: 1e-14)
        // float32's variance product (the default) against float64's; the header says which ran.
        XCTAssertEqual(try StreamReader(path: dir.file("p.dkl")).header.attrs["variance_precision"], .array([.string("single"), .string("single")]))
        try Tools.expect(0, "dkl-predict", ["--model", "m.h5", "all.dkl", "--precision", "double", "-o", "p64.dkl", "-q"], cwd: dir.path)
        let p64 = try columns(dir.file("p64.dkl"))
        XCTAssertEqual(try StreamReader(path: dir.file("p64.dkl")).header.attrs["variance_precision"], .array([.string("double"), .string("double")]))
        assertClose(p["mean"]!, p64["mean"]!, rtol: 1e-12, atol: 1e-14)
        assertClose(p["var"]!, p64["var"]!, rtol: VariancePrecision.tolerance, atol: 0)
        XCTAssertNotEqual(p["var"]!, p64["var"]!)
        let bad = try Tools.expect(64, "dkl-predict", ["--model", "m.h5", "all.dkl", "--precision", "half", "-o", "bad.dkl"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("--precision must be single or double, not 'half'"), bad.err)
        XCTAssertFalse(dir.exists("bad.dkl"))

        // Held-out points (not on the training grid): far better than the prior, and calibrated.
        var truth = [Int64: Double]()
        for k in 0..<t["y"]!.count { truth[Positions.key(Int(t["y"]![k]), Int(t["x"]![k]))] = t["gap"]![k] }
        let trained = Set(stride(from: 0, to: model.coordinates.count, by: 2).map { Positions.key(model.coordinates[$0], model.coordinates[$0 + 1]) })
        var se = 0.0, inside = 0, n = 0
        var values: [Double] = []
        let noise = try StreamReader(path: dir.file("p.dkl")).header.attrs["noise_var"]!.doubleValue!
        for k in 0..<p["y"]!.count {
            let key = Positions.key(Int(p["y"]![k]), Int(p["x"]![k]))
            guard !trained.contains(key), let y = truth[key] else { continue }
            let e = p["mean"]![k] - y
            se += e * e; n += 1; values.append(y)
            if abs(e) <= 2 * (p["var"]![k] + noise).squareRoot() { inside += 1 }
        }
        let mean = values.reduce(0, +) / Double(n)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
        XCTAssertGreaterThan(n, 2800)
        XCTAssertLessThan((se / Double(n)).squareRoot(), 0.75 * sd, "held-out RMSE against the targets' spread (the prior's)")
        XCTAssertGreaterThan(Double(inside) / Double(n), 0.85, "±2σ coverage")
        XCTAssertLessThan(Double(inside) / Double(n), 0.995, "±2σ coverage")

        // Shards of a job array, by chunks of 500: merged, exactly the records of one run
        // with the same chunks (and of one run with the default chunk, to rounding).
        try Tools.expect(0, "dkl-predict", ["--model", "m.h5", "all.dkl", "--chunk", "500", "-J", "-o", "one.ndjson", "-q"], cwd: dir.path)
        for k in 1...3 {
            try Tools.expect(0, "dkl-predict", ["--model", "m.h5", "all.dkl", "--chunk", "500", "--shard", "\(k)/3", "-o", "s\(k).dkl", "-q"], cwd: dir.path)
            let s = try columns(dir.file("s\(k).dkl"))
            // Chunks k-1, k+2, … of the input's order: patches [500c, 500c + 500).
            let want = (0..<p["y"]!.count).filter { ($0 / 500) % 3 == k - 1 }
            XCTAssertEqual(s["y"]!.count, want.count)
            XCTAssertEqual(s["x"]!, want.map { p["x"]![$0] })
        }
        let merged = try Tools.expect(0, "dkl-cat", ["--merge", "y,x", "s2.dkl", "s3.dkl", "s1.dkl", "-J"], cwd: dir.path)
        let one = String(decoding: try dir.read("one.ndjson"), as: UTF8.self)
        XCTAssertEqual(merged.out.split(separator: "\n").dropFirst(), one.split(separator: "\n").dropFirst())
        XCTAssertFalse(merged.out.split(separator: "\n")[0].contains("\"shard\""), "the merged header has no shard attribute")
        let m = try columns(dir.file("one.ndjson"))
        assertClose(m["mean"]!, p["mean"]!, rtol: 1e-12, atol: 1e-15)
    }

    /// Targets as a stream, as an array with NaN where not measured, and as spectra with a
    /// scalarizer: the same training set, so the same model.
    func testEveryFormOfTargetsGivesTheSameModel() throws {
        let dir = TempDir()
        try prepare(dir)
        try Tools.expect(0, "dkl-cat", ["--export", "t.npy", "--field", "gap", "t.dkl"], cwd: dir.path)
        let common = ["grid.dkl", "--ensemble", "1", "--iterations", "30", "-j", "1", "-q"]
        try Tools.expect(0, "dkl-train", common + ["--targets", "t.dkl", "-o", "a.h5"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", common + ["--targets", "t.npy", "-o", "b.h5"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", common + ["--spectra", DklTrainPredictTests.share + "spectra.h5:/spectra", "-S", "integral:1.35:2.05", "-o", "c.h5"], cwd: dir.path)
        let models = try ["a.h5", "b.h5", "c.h5"].map { try DKLEnsemble.load(from: dir.file($0)) }
        for m in models.dropFirst() {
            XCTAssertEqual(m.members[0].trainTargets, models[0].members[0].trainTargets)
            XCTAssertEqual(m.members[0].network!.parameters, models[0].members[0].network!.parameters)
        }
    }

    /// ^C stops training and saves a complete model (exit 130), which --init continues.
    func testInterruptSavesTheModelAndInitContinues() throws {
        let dir = TempDir()
        try prepare(dir)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.path("dkl-train"))
        p.arguments = ["grid.dkl", "--targets", "t.dkl", "-o", "m.h5", "--iterations", "1000000", "--validation", "0", "--ensemble", "1", "--progress"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        usleep(1_500_000)
        p.interrupt()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 130, message)
        XCTAssertTrue(message.contains("interrupted: the model reached so far is in m.h5; continue with --init m.h5"), message)
        let summary = try JSONParser.parse(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .newlines))
        XCTAssertEqual(summary["interrupted"]?.boolValue, true)
        let first = try DKLEnsemble.load(from: dir.file("m.h5"))
        let done = first.members[0].lossCurve.count
        XCTAssertGreaterThan(done, 0)
        XCTAssertLessThan(done, 1_000_000)
        // --init starts where it stopped: its first loss is the last one's (same weights).
        try Tools.expect(0, "dkl-train", ["grid.dkl", "--targets", "t.dkl", "-o", "m2.h5", "--iterations", "5", "--validation", "0", "--ensemble", "1", "--init", "m.h5", "-q"], cwd: dir.path)
        let second = try DKLEnsemble.load(from: dir.file("m2.h5"))
        assertClose(second.members[0].lossCurve[0], first.members[0].lossCurve[done - 1], rtol: 0.05, atol: 0.05)
    }

    /// A Gamma prior on the noise moves the fitted noise toward the prior's mode (MAP).
    func testNoisePriorMovesTheNoise() throws {
        let dir = TempDir()
        try prepare(dir)
        let common = ["grid.dkl", "--targets", "t.dkl", "--ensemble", "1", "--iterations", "150", "--validation", "0", "-j", "1", "-q"]
        let free = try Tools.expect(0, "dkl-train", common + ["-o", "a.h5"], cwd: dir.path)
        let held = try Tools.expect(0, "dkl-train", common + ["--prior-noise", "2000,4000", "-o", "b.h5"], cwd: dir.path)
        func noise(_ r: RunResult) throws -> Double {
            try JSONParser.parse(r.out.trimmingCharacters(in: .newlines))["members"]!.arrayValue![0]["noise"]!.doubleValue!
        }
        // The prior's mode is (2000 − 1)/4000 ≈ 0.5 in standardized units, above the free fit's
        // noise: the MAP fit lies between the two.
        let (a, b) = (try noise(free), try noise(held))
        XCTAssertLessThan(a, 0.2, "free fit")
        XCTAssertGreaterThan(b, a * 1.2, "with the prior (free \(a))")
        XCTAssertLessThan(b, 0.49, "with the prior")
        let bad = try Tools.expect(64, "dkl-train", common + ["--prior-noise", "1", "-o", "c.h5"], cwd: dir.path)
        XCTAssertTrue(bad.err.hasPrefix("dkl-train: error: --prior-noise takes 2 numbers separated by ',' (SHAPE,RATE), not '1'"), bad.err)
    }

    func testBadInput() throws {
        let dir = TempDir()
        try prepare(dir)
        try Tools.expect(0, "dkl-patches", ["-w", "5", DklTrainPredictTests.share + "image.npy", "--coords", "grid.dkl", "-o", "small.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["grid.dkl", "--targets", "t.dkl", "-o", "m.h5", "--iterations", "5", "--ensemble", "1", "-q"], cwd: dir.path)
        let cases: [(String, [String], Int32, String)] = [
            ("dkl-train", ["grid.dkl", "-o", "x.h5"], 64, "dkl-train: error: give the targets: --targets FILE, or --spectra CUBE with -S SPEC\n"),
            ("dkl-train", ["grid.dkl", "--targets", "t.dkl"], 64, "dkl-train: error: give the model file with -o MODEL\n"),
            ("dkl-train", ["missing.dkl", "--targets", "t.dkl", "-o", "x.h5"], 1, "dkl-train: missing.dkl: no such file\n"),
            ("dkl-train", ["grid.dkl", "--targets", "grid.dkl", "-o", "x.h5"], 64, "dkl-train: error: grid.dkl has no target field: name one with --target\n"),
            ("dkl-train", ["grid.dkl", "--targets", "t.dkl", "--kernel", "cubic", "-o", "x.h5"], 64, "dkl-train: error: --kernel must be rbf, matern12, matern32 or matern52\n"),
            ("dkl-predict", ["grid.dkl", "-o", "x.dkl"], 64, "dkl-predict: error: give the model file with --model MODEL\n"),
            ("dkl-predict", ["small.dkl", "--model", "m.h5", "-o", "x.dkl"], 1, "dkl-predict: small.dkl:header: the patches have 25 values but the model was trained on 81\n"),
            ("dkl-predict", ["grid.dkl", "--model", "t.dkl", "-o", "x.dkl"], 1, "dkl-predict: t.dkl: not an HDF5 file\n"),
        ]
        for (tool, args, status, message) in cases {
            let r = try Tools.expect(status, tool, args, cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(tool) \(args): \(r.err)")
            XCTAssertFalse(dir.exists("x.h5") || dir.exists("x.dkl"), "\(args) left an output")
        }
        // Targets at none of the patches' positions.
        _ = try Tools.python("import numpy as np; a = np.full((64, 64), np.nan); a[1, 1] = 2; np.save('one.npy', a)", cwd: dir.path)
        let none = try Tools.expect(1, "dkl-train", ["grid.dkl", "--targets", "one.npy", "-o", "x.h5"], cwd: dir.path)
        XCTAssertEqual(none.err, "dkl-train: grid.dkl: only 0 of the 196 patches have a target (of 1 targets): at least 2 are needed\n")
        // Damaged model files: a list with a non-integer, a count that is not an integer,
        // coordinates that are not pixels. Each is one message, not a shorter list or a trap.
        let edits = [("hidden", "[64, 'x']"), ("hidden", "[64.5]"), ("iterations", "1e300"), ("embedding", "0"), ("hidden", "[0]"),
                     ("learning_rate", "-1")]
        for (key, value) in edits {
            _ = try Tools.python("""
                import h5py, json, shutil
                shutil.copy('m.h5', 'bad.h5')
                with h5py.File('bad.h5', 'r+') as f:
                    g = f['/members/0']
                    c = json.loads(g.attrs['config'])
                    c['\(key)'] = \(value)
                    g.attrs['config'] = json.dumps(c)
                """, cwd: dir.path)
            let r = try Tools.expect(1, "dkl-predict", ["grid.dkl", "--model", "bad.h5", "-o", "x.dkl"], cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix("dkl-predict: bad.h5: ") && r.err.contains("model configuration"), r.report)
            XCTAssertFalse(dir.exists("x.dkl"))
        }
        _ = try Tools.python("""
            import h5py, shutil
            shutil.copy('m.h5', 'bad.h5')
            with h5py.File('bad.h5', 'r+') as f:
                c = f['/train/coordinates'][...]
                c[0, 0] = 0.5
                del f['/train/coordinates']
                f['/train/coordinates'] = c
            """, cwd: dir.path)
        let r = try Tools.expect(1, "dkl-acquire", ["--measured", "bad.h5", "--best", "1", "-o", "x.dkl"], stdin: Data(), cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-acquire: bad.h5: damaged /train/coordinates (not pixel indices)\n", r.report)
        // NaN or infinity anywhere a prediction is made from, or a zero sd: exit 1 naming the
        // dataset, not NaN predictions with exit 0.
        let numbers: [(String, String, String)] = [
            ("/members/0/scaling/target", "[np.nan, 1, 1]", "model: /members/0/scaling/target holds nan at element 0 (NaN or infinity)"),
            ("/train/targets", "np.where(np.arange(len(v)) == 3, np.inf, v)", "model: /train/targets holds inf at element 3 (NaN or infinity)"),
            ("/members/0/scaling/target", "[0, 0, 1]", "model: damaged target scaling of member 0 (mean, sd, variance scale: [0.0, 0.0, 1.0])"),
        ]
        for (dataset, value, message) in numbers {
            _ = try Tools.python("""
                import h5py, shutil, numpy as np
                shutil.copy('m.h5', 'bad.h5')
                with h5py.File('bad.h5', 'r+') as f:
                    v = f['\(dataset)'][...]
                    v = np.asarray(\(value), dtype=v.dtype)
                    del f['\(dataset)']
                    f['\(dataset)'] = v
                """, cwd: dir.path)
            let p = try Tools.expect(1, "dkl-predict", ["grid.dkl", "--model", "bad.h5", "-o", "x.dkl"], cwd: dir.path)
            XCTAssertEqual(p.err, "dkl-predict: bad.h5: \(message)\n", p.report)
            XCTAssertFalse(dir.exists("x.dkl"))
        }
    }
}
