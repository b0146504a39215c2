import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-explore on the bundled sample data: the trace, the maps, kill -9 and continue, the
/// same step as the pipe of tools, an instrument program as the oracle, bad input.
final class DklExploreTests: XCTestCase {
    static let share = Tools.root + "/share/plasmon/"
    let base = ["--oracle", DklExploreTests.share + "spectra.h5:/spectra", "-S", "gap=integral:1.35:2.05", "-w", "9",
                "--init", "10", "--iterations", "40", "--ensemble", "1", "-j", "1", DklExploreTests.share + "image.npy"]

    /// The trace's records as (name → values), NDJSON parsed.
    /// The trace's records: its whole lines after the header (a run killed mid-write may
    /// leave a torn last line, which the tool drops when it continues).
    func trace(_ path: String) throws -> [JSON] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().dropFirst().map { try JSONParser.parse(String($0)) }
    }

    func stripTimes(_ r: JSON) -> String {
        var r = r
        for k in ["seconds_train", "seconds_predict", "seconds_acquire", "seconds_measure", "time"] { r.set(k, .null) }
        return r.text
    }

    func testTraceMapsAndValues() throws {
        let dir = TempDir()
        let r = try Tools.expect(0, "dkl-explore", base + ["--steps", "6", "--count", "2", "--trace", "t.ndjson", "--maps", "maps.h5", "--png", "run"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("22 of 3136 points measured (0.7%)"), r.err)
        let records = try trace(dir.file("t.ndjson"))
        XCTAssertEqual(records.count, 10 + 6 * 2)
        XCTAssertEqual(records.map { $0["step"]!.intValue! }, [Int](repeating: 0, count: 10) + (1...6).flatMap { [$0, $0] })
        let points = records.map { [$0["y"]!.intValue!, $0["x"]!.intValue!] }
        XCTAssertEqual(Set(points).count, points.count, "nothing measured twice")
        XCTAssertTrue(records.prefix(10).allSatisfy { $0["mean"] == .null }, "no prediction before the first model")
        XCTAssertTrue(records.dropFirst(10).allSatisfy { ($0["var"]?.doubleValue ?? -1) > 0 && $0["acquisition"]?.doubleValue != nil })
        // The hyperparameters of each step's model: positive noise and output scale, one
        // positive lengthscale per embedding dimension.
        for rec in records.dropFirst(10) {
            XCTAssertGreaterThan(rec["noise"]?.doubleValue ?? -1, 0)
            XCTAssertGreaterThan(rec["outputscale"]?.doubleValue ?? -1, 0)
            let ls = rec["lengthscale"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            XCTAssertEqual(ls.count, 4)
            XCTAssertTrue(ls.allSatisfy { $0 > 0 && $0.isFinite }, "\(ls)")
        }
        // Each value is the scalarizer on the whole spectrum the trace holds, and on the oracle.
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", DklExploreTests.share + "spectra.h5:/spectra", "-o", "all.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", "t.ndjson", "--energy", "0.5:\(4.0 / 95)", "-o", "again.dkl"], cwd: dir.path)
        let all = try Tools.expect(0, "dkl-cat", ["-J", "all.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        let again = try Tools.expect(0, "dkl-cat", ["-J", "again.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        for (k, rec) in records.enumerated() {
            let (y, x) = (rec["y"]!.intValue!, rec["x"]!.intValue!)
            assertClose(rec["value"]!.doubleValue!, all[y * 64 + x]["gap"]!.doubleValue!, rtol: 1e-12)
            assertClose(again[k]["gap"]!.doubleValue!, rec["value"]!.doubleValue!, rtol: 1e-9)
        }
        // The maps: every candidate predicted, the measured pixels marked with their step.
        let step = try ArrayFile.open(dir.file("maps.h5") + ":/step").readAll()
        XCTAssertEqual(step.filter { $0 >= 0 }.count, 22)
        for rec in records { XCTAssertEqual(step[rec["y"]!.intValue! * 64 + rec["x"]!.intValue!], Double(rec["step"]!.intValue!)) }
        for name in ["mean", "sd", "acquisition"] {
            let png = try dir.read("run-\(name).png")
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], name)
            XCTAssertGreaterThan(png.count, 64 * 64 * 3)
        }
        let sd = try ArrayFile.open(dir.file("maps.h5") + ":/sd").readAll()
        XCTAssertEqual(sd.filter { !$0.isNaN }.count, 3136)
        XCTAssertTrue(sd.filter { !$0.isNaN }.allSatisfy { $0 >= 0 })
    }

    /// kill -9 in the middle of the run, then the same command: the trace equals an
    /// uninterrupted run's, and continuing with more steps extends it.
    /// --counts: each value's variance from its own spectrum's counts, in the trace beside the
    /// value; the same numbers as dkl-scalarize --counts over the trace's spectra.
    func testCountedVarianceInTheTrace() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-explore", base + ["--dose", "100", "--counts", "0.01", "--steps", "3", "--trace", "t.ndjson"], cwd: dir.path)
        let records = try trace(dir.file("t.ndjson"))
        XCTAssertEqual(records.count, 13)
        let again = try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", "--counts", "0.01", "--energy", DklExploreTests.share + "spectra.h5:/energy",
                                                          "-J", "t.ndjson"], cwd: dir.path).out
        let rows = try again.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(rows.count, 13)
        // The energy widths come from the file's axis in one and from its /energy values in
        // the other: the same to rounding.
        for (r, s) in zip(records, rows) {
            assertClose(r["value"]!.doubleValue!, s["gap"]!.doubleValue!, rtol: 1e-12)
            assertClose(r["value_var"]!.doubleValue!, s["gap_var"]!.doubleValue!, rtol: 1e-12)
            XCTAssertGreaterThan(r["value_var"]!.doubleValue!, 0)
        }
        let bad = try Tools.expect(64, "dkl-explore", ["--oracle", DklExploreTests.share + "spectra.h5:/spectra", "-S", "gap=integral:1.35:2.05",
                                                        "--counts", "1:2:3:4", "--trace", "u.ndjson", DklExploreTests.share + "image.npy"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("--counts must be GAIN[:OFFSET[:READ]]"), bad.err)
        XCTAssertFalse(dir.exists("u.ndjson"))
    }

    /// --noise measured: the model learns each measurement's variance (value_var) over a
    /// learnt floor, and dkl-train learns the same from the trace; a structure design's
    /// initial points fall one in each cluster of the patches; what is refused.
    func testMeasuredNoiseAndTheStructureDesign() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-explore", base + ["--dose", "20", "--counts", "0.05", "--noise", "measured", "--init-design", "structure",
                                                   "--steps", "3", "--trace", "t.ndjson"], cwd: dir.path)
        let header = try StreamReader(path: dir.file("t.ndjson")).header.attrs
        XCTAssertEqual(header["noise_model"]?.stringValue, "measured")
        XCTAssertEqual(header["init_design"]?.stringValue, "structure")
        let records = try trace(dir.file("t.ndjson"))
        XCTAssertEqual(records.count, 13)
        // The initial points: one in each of the 10 clusters of the 9×9 patches.
        let grid = try CandidateGrid(image: try ArrayFile.open(DklExploreTests.share + "image.npy"), window: 9, even: .interpolate, normalization: .minmax)
        let usable = grid.index.values.sorted().filter { grid.usable[$0] }
        let km = KMeans(grid.inputs.gather(usable), k: 10)
        let label = Dictionary(uniqueKeysWithValues: zip(usable, km.labels))
        let initial = records.prefix(10).map { label[grid.index[Positions.key($0["y"]!.intValue!, $0["x"]!.intValue!)]!]! }
        XCTAssertEqual(Set(initial).count, 10, "\(initial)")
        // dkl-train on the trace: the model keeps each value's variance.
        try Tools.expect(0, "dkl-patches", ["-w", "9", DklExploreTests.share + "image.npy", "-o", "p.dkl"], cwd: dir.path)
        let summary = try Tools.expect(0, "dkl-train", ["p.dkl", "--targets", "t.ndjson", "--noise", "measured", "--ensemble", "1", "--iterations", "20",
                                                        "-o", "m.h5", "-q"], cwd: dir.path).out
        XCTAssertEqual(try JSONParser.parse(summary)["noise_model"]?.stringValue, "measured")
        let model = try DKLEnsemble.load(from: dir.file("m.h5"))
        XCTAssertEqual(model.members[0].config.noise, .measured)
        var want = [Int64: Double]()
        for r in records { want[Positions.key(r["y"]!.intValue!, r["x"]!.intValue!)] = r["value_var"]!.doubleValue! }
        let stored = model.members[0].trainNoise
        XCTAssertEqual(stored.count, 13)
        for (i, v) in stored.enumerated() { XCTAssertEqual(v, want[Positions.key(model.coordinates[2 * i], model.coordinates[2 * i + 1])]) }
        // Refused: measured noise without the counts, an unknown design, targets with no variances.
        let noCounts = try Tools.expect(64, "dkl-explore", base + ["--noise", "measured", "--trace", "u.ndjson"], cwd: dir.path)
        XCTAssertTrue(noCounts.err.contains("--noise measured needs each measurement's variance: --counts"), noCounts.err)
        XCTAssertFalse(dir.exists("u.ndjson"))
        let unknown = try Tools.expect(64, "dkl-explore", base + ["--init-design", "grid", "--trace", "u.ndjson"], cwd: dir.path)
        XCTAssertTrue(unknown.err.contains("unknown --init-design 'grid' (random or structure)"), unknown.err)
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", DklExploreTests.share + "spectra.h5:/spectra", "-o", "s.dkl"], cwd: dir.path)
        let noVar = try Tools.expect(1, "dkl-train", ["p.dkl", "--targets", "s.dkl", "--noise", "measured", "-o", "n.h5"], cwd: dir.path)
        XCTAssertTrue(noVar.err.contains("s.dkl:header: no field 'gap_var'"), noVar.err)
        XCTAssertFalse(dir.exists("n.h5"))
    }

    /// The run's calibration on stderr: of the points measured after the initial ones, how
    /// many fell within ±2σ of their prediction before they were measured; the same for a
    /// run continued from its trace as for one run through.
    func testTheRunsCalibrationNote() throws {
        let dir = TempDir()
        let whole = try Tools.expect(0, "dkl-explore", base + ["--dose", "5", "--counts", "0.2", "--noise", "measured", "--steps", "6", "--trace", "a.ndjson"],
                                     cwd: dir.path).err
        try Tools.expect(0, "dkl-explore", base + ["--dose", "5", "--counts", "0.2", "--noise", "measured", "--steps", "3", "--trace", "b.ndjson"], cwd: dir.path)
        let continued = try Tools.expect(0, "dkl-explore", base + ["--dose", "5", "--counts", "0.2", "--noise", "measured", "--steps", "6", "--trace", "b.ndjson"],
                                         cwd: dir.path).err
        func note(_ err: String) -> String? { err.split(separator: "\n").first { $0.hasPrefix("dkl-explore: calibration: ") }.map(String.init) }
        let line = try XCTUnwrap(note(whole), whole)
        XCTAssertEqual(note(continued), line)
        let parts = line.dropFirst("dkl-explore: calibration: ".count).split(separator: " ")
        let (covered, count) = (Int(parts[0])!, Int(parts[2])!)
        XCTAssertEqual(count, 6, line)
        XCTAssertTrue((0...6).contains(covered), line)
        XCTAssertTrue(line.hasSuffix("measurements (\(String(format: "%.1f", 100 * Double(covered) / 6))%) within ±2σ of their prediction before they were measured"), line)
    }

    func testKilledRunContinuesAsIfUninterrupted() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-explore", base + ["--steps", "12", "--trace", "whole.ndjson"], cwd: dir.path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.path("dkl-explore"))
        p.arguments = base + ["--steps", "12", "--trace", "cut.ndjson"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        p.standardError = FileHandle.nullDevice
        try p.run()
        var waited = 0
        func lines() -> Int { ((try? String(contentsOfFile: dir.file("cut.ndjson"), encoding: .utf8)) ?? "").split(separator: "\n").count }
        while lines() < 16 && waited < 6000 && p.isRunning { usleep(5_000); waited += 1 }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "the run was killed before it ended")
        let cut = try trace(dir.file("cut.ndjson")).count
        XCTAssertLessThan(cut, 22)
        let r = try Tools.expect(0, "dkl-explore", base + ["--steps", "12", "--resume", "cut.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("continuing: \(cut) points measured"), r.err)
        XCTAssertEqual(try trace(dir.file("cut.ndjson")).map(stripTimes), try trace(dir.file("whole.ndjson")).map(stripTimes))
        // More steps later: the same 22 first records, then 3 more.
        try Tools.expect(0, "dkl-explore", base + ["--steps", "15", "--trace", "cut.ndjson"], cwd: dir.path)
        let longer = try trace(dir.file("cut.ndjson"))
        XCTAssertEqual(longer.count, 25)
        XCTAssertEqual(Array(longer.prefix(22)).map(stripTimes), try trace(dir.file("whole.ndjson")).map(stripTimes))
        // Other options are another experiment: refused.
        let other = try Tools.expect(1, "dkl-explore", base + ["--steps", "15", "-a", "kappa", "--trace", "cut.ndjson"], cwd: dir.path)
        XCTAssertTrue(other.err.contains("the checkpoint was made by a different command or inputs"), other.err)
    }

    /// Batches of 3 (local penalization and kriging believer) cut by kill -9 between their
    /// measurements, over and over, plus kills at seeded random moments: every continued run
    /// measures the rest of the batch it had chosen, and the trace ends equal to an
    /// uninterrupted run's. The instrument program kills dkl-explore on chosen calls, so
    /// the cuts land inside batches (a random kill rarely does: the appends take
    /// milliseconds).
    func testKillsInsideBatchesLeaveTheUninterruptedTrace() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('truth.npy', np.random.default_rng(5).normal(size=(14, 14)))", cwd: dir.path)
        _ = try dir.write("stage.py", """
            import sys, os, io, signal, numpy as np
            y, x = int(sys.argv[-2]), int(sys.argv[-1])
            kills = [int(k) for k in sys.argv[1].split(',') if k]
            with open('calls', 'a+') as f:
                f.write('.')
            if len(open('calls').read()) in kills:
                os.kill(os.getppid(), signal.SIGKILL)
                sys.exit(1)
            b = io.BytesIO(); np.save(b, np.float64(np.load('truth.npy')[y, x])); sys.stdout.buffer.write(b.getvalue())
            """)
        let python = Tools.python ?? "/usr/bin/python3"
        func args(_ kills: String, _ batch: String, _ trace: String) -> [String] {
            ["--measure", python, "--measure-arg", "stage.py", "--measure-arg", kills, "--count", "3", "--batch", batch,
             "--extractor", "none", "-w", "1", "--init", "6", "--steps", "6", "--ensemble", "1", "--iterations", "30", "-j", "1",
             "--trace", trace, "truth.npy"]
        }
        var rng = SystemRandomNumberGeneratorSeeded(seed: 20261202)
        for batch in ["penalize", "fantasize"] {
            try? FileManager.default.removeItem(atPath: dir.file("calls"))
            try Tools.expect(0, "dkl-explore", args("", batch, "\(batch)-whole.ndjson"), cwd: dir.path)
            let whole = try trace(dir.file("\(batch)-whole.ndjson")).map(stripTimes)
            XCTAssertEqual(whole.count, 6 + 6 * 3)
            // Calls 8, 13, 19 and 24 are inside batches (after 1 or 2 of a batch's 3 points; a
            // killed call is made again by the next run, so each kill shifts the later ones).
            try? FileManager.default.removeItem(atPath: dir.file("calls"))
            let kills = "8,13,19,24"
            var runs = 0, cutBatches = 0, lastStatus: Int32 = -1
            while lastStatus != 0 && runs < 40 {
                runs += 1
                let p = Process()
                p.executableURL = URL(fileURLWithPath: Tools.path("dkl-explore"))
                p.arguments = args(kills, batch, "\(batch)-cut.ndjson")
                p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
                let err = Pipe()
                p.standardError = err
                try p.run()
                // Every third run is also killed at a random moment (0 to 1.5 s in).
                if runs % 3 == 0 {
                    let deadline = Date().addingTimeInterval(Double(rng.next() % 1500) / 1000)
                    while p.isRunning && Date() < deadline { usleep(2_000) }
                    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                }
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                if text.contains("points; measuring the rest") { cutBatches += 1 }
                lastStatus = p.terminationReason == .exit ? p.terminationStatus : -1
                XCTAssertTrue(lastStatus == 0 || p.terminationReason == .uncaughtSignal, "\(batch) run \(runs): \(text)")
            }
            XCTAssertEqual(lastStatus, 0, "\(batch): no run ended after \(runs)")
            // Each of the 4 chosen kills cuts a batch unless a random kill before it (inside a
            // call, which then counts) shifted it onto a batch's first point: at least 2 do.
            XCTAssertGreaterThanOrEqual(cutBatches, 2, "\(batch): the continued runs measured the rest of a cut batch")
            let cut = try trace(dir.file("\(batch)-cut.ndjson")).map(stripTimes)
            XCTAssertEqual(cut.count, whole.count, batch)
            if let k = cut.indices.first(where: { $0 < whole.count && cut[$0] != whole[$0] }) { XCTFail("\(batch): record \(k + 1) differs: \(cut[k]) vs \(whole[k])") }
        }
    }

    /// Step 1 in one process equals dkl-patches | dkl-train, dkl-predict | dkl-acquire on the
    /// same initial points.
    func testOneProcessEqualsThePipe() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-explore", base + ["--steps", "1", "--trace", "t.ndjson"], cwd: dir.path)
        let records = try trace(dir.file("t.ndjson"))
        try Tools.expect(0, "dkl-cat", ["--head", "10", "--fields", "y,x,value", "t.ndjson", "-o", "init.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "9", DklExploreTests.share + "image.npy", "-o", "all.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["all.dkl", "--targets", "init.dkl", "--iterations", "40", "--ensemble", "1", "-j", "1", "-o", "m.h5", "-q"], cwd: dir.path)
        try Tools.expect(0, "dkl-predict", ["--model", "m.h5", "all.dkl", "-j", "1", "-o", "p.dkl"], cwd: dir.path)
        let next = try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "init.dkl", "-J"], cwd: dir.path)
        let chosen = try JSONParser.parse(String(next.out.split(separator: "\n")[1]))
        let step1 = records[10]
        XCTAssertEqual(step1["y"], chosen["y"])
        XCTAssertEqual(step1["x"], chosen["x"])
        assertClose(step1["mean"]!.doubleValue!, chosen["mean"]!.doubleValue!, rtol: 1e-9)
        assertClose(step1["var"]!.doubleValue!, chosen["var"]!.doubleValue!, rtol: 1e-9)
        assertClose(step1["acquisition"]!.doubleValue!, chosen["score"]!.doubleValue!, rtol: 1e-9)
        // The trace itself as dkl-acquire's measured points: its 11 points are marked.
        let map = try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "t.ndjson", "--map", "-J"], cwd: dir.path)
        XCTAssertEqual(map.out.split(separator: "\n").filter { $0.hasSuffix("\"measured\":1}") }.count, 11)
    }

    /// A step of three points chosen by fantasies in a two-model ensemble: exactly the points,
    /// scores and predictions of dkl-train then dkl-acquire --batch fantasize.
    func testFantasizedBatchEqualsThePipe() throws {
        let dir = TempDir()
        let args = base.map { $0 == "1" ? "2" : $0 }   // --ensemble 2, -j 2
        XCTAssertEqual(args.filter { $0 == "2" }.count, 2)
        try Tools.expect(0, "dkl-explore", args + ["--steps", "1", "--count", "3", "--batch", "fantasize", "-a", "ucb", "--trace", "t.ndjson"], cwd: dir.path)
        let records = try trace(dir.file("t.ndjson"))
        XCTAssertEqual(records.count, 13)
        try Tools.expect(0, "dkl-cat", ["--head", "10", "--fields", "y,x,value", "t.ndjson", "-o", "init.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "9", DklExploreTests.share + "image.npy", "-o", "all.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["all.dkl", "--targets", "init.dkl", "--iterations", "40", "--ensemble", "2", "-j", "2", "-o", "m.h5", "-q"], cwd: dir.path)
        let next = try Tools.expect(0, "dkl-acquire", ["all.dkl", "--model", "m.h5", "--measured", "init.dkl", "-a", "ucb", "--batch", "fantasize",
                                                       "--count", "3", "-j", "2", "-J"], cwd: dir.path)
        let chosen = try next.out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(chosen.count, 3)
        for (r, c) in zip(records[10...], chosen) {
            XCTAssertEqual(r["step"]?.intValue, 1)
            XCTAssertEqual(r["y"], c["y"]); XCTAssertEqual(r["x"], c["x"])
            XCTAssertEqual(r["acquisition"]!.doubleValue!, c["score"]!.doubleValue!)
            XCTAssertEqual(r["mean"]!.doubleValue!, c["mean"]!.doubleValue!)
            XCTAssertEqual(r["var"]!.doubleValue!, c["var"]!.doubleValue!)
        }
        // The fantasies spread the batch: the later scores fall.
        XCTAssertLessThanOrEqual(chosen[1]["score"]!.doubleValue!, chosen[0]["score"]!.doubleValue!)
    }

    /// An instrument program as the oracle (run without a shell, given Y X): the same
    /// experiment as with the cube; a failing program stops the run with the trace intact.
    func testInstrumentProgram() throws {
        let dir = TempDir()
        _ = try dir.write("instrument.py", """
            import sys, io, numpy as np, h5py
            y, x = int(sys.argv[-2]), int(sys.argv[-1])
            if sys.argv[1] == 'fail' and y * 64 + x > 0 and open('count', 'a+').write('.') and len(open('count').read()) > 12:
                sys.exit('boom')
            s = h5py.File(sys.argv[2], 'r')['/spectra'][y, x].astype(np.float64)
            b = io.BytesIO(); np.save(b, s); sys.stdout.buffer.write(b.getvalue())
            """)
        let python = Tools.python ?? "/usr/bin/python3"
        let measure = ["--measure", python, "--measure-arg", "instrument.py", "--measure-arg", "ok", "--measure-arg", DklExploreTests.share + "spectra.h5",
                       "--energy", "0.5:\(4.0 / 95)"]
        let rest = ["-S", "gap=integral:1.35:2.05", "-w", "9", "--init", "10", "--iterations", "40", "--ensemble", "1", "-j", "1", "--steps", "3", DklExploreTests.share + "image.npy"]
        try Tools.expect(0, "dkl-explore", measure + rest + ["--trace", "m.ndjson"], cwd: dir.path)
        // The same energy axis (the file's attribute may differ from 4/95 in the last bit).
        try Tools.expect(0, "dkl-explore", base + ["--steps", "3", "--energy", "0.5:\(4.0 / 95)", "--trace", "o.ndjson"], cwd: dir.path)
        let m = try trace(dir.file("m.ndjson")), o = try trace(dir.file("o.ndjson"))
        XCTAssertEqual(m.map { [$0["y"]!, $0["x"]!] }, o.map { [$0["y"]!, $0["x"]!] })
        for (a, b) in zip(m, o) { XCTAssertEqual(a["value"], b["value"]) }
        // A program that fails from its 13th call on: the run stops, the trace keeps 12 points.
        var failing = measure
        failing[failing.firstIndex(of: "ok")!] = "fail"
        let r = try Tools.expect(1, "dkl-explore", failing + rest + ["--measure-retries", "1", "--trace", "f.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("failed 2 times; last: exit status 1: boom"), r.err)
        XCTAssertEqual(try trace(dir.file("f.ndjson")).count, 12)
    }

    /// A program that answers the value itself (no -S): a one-field stream or one NPY
    /// number, learnt as the map oracle learns it; a spectrum without -S is refused.
    func testProgramAnsweringTheValue() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('truth.npy', np.random.default_rng(3).normal(size=(12, 12)))", cwd: dir.path)
        _ = try dir.write("sim.py", """
            import sys, io, numpy as np
            y, x = int(sys.argv[-2]), int(sys.argv[-1]); v = float(np.load('truth.npy')[y, x])
            if sys.argv[1] == 'stream':
                print('{"dkl_stream":1,"fields":[{"name":"curl","dtype":"f64","shape":[]}]}'); print('{"curl":%r}' % v)
            elif sys.argv[1] == 'npy':
                b = io.BytesIO(); np.save(b, np.float64(v)); sys.stdout.buffer.write(b.getvalue())
            else:
                b = io.BytesIO(); np.save(b, np.array([v, v])); sys.stdout.buffer.write(b.getvalue())
            """)
        let python = Tools.python ?? "/usr/bin/python3"
        let common = ["--extractor", "none", "-w", "1", "--init", "5", "--steps", "4", "--ensemble", "1", "--iterations", "30", "-j", "1", "truth.npy"]
        var traces: [[JSON]] = []
        for kind in ["stream", "npy"] {
            try Tools.expect(0, "dkl-explore", ["--measure", python, "--measure-arg", "sim.py", "--measure-arg", kind, "--trace", "\(kind).ndjson"] + common, cwd: dir.path)
            traces.append(try trace(dir.file("\(kind).ndjson")))
        }
        try Tools.expect(0, "dkl-explore", ["--oracle", "truth.npy", "--trace", "map.ndjson"] + common, cwd: dir.path)
        let map = try trace(dir.file("map.ndjson"))
        XCTAssertEqual(map.count, 9)
        for t in traces {
            XCTAssertEqual(t.map { [$0["y"]!, $0["x"]!] }, map.map { [$0["y"]!, $0["x"]!] })
            XCTAssertEqual(t.map { $0["value"]! }, map.map { $0["value"]! })
        }
        let r = try Tools.expect(1, "dkl-explore", ["--measure", python, "--measure-arg", "sim.py", "--measure-arg", "pair", "--trace", "p.ndjson"] + common,
                                 cwd: dir.path)
        XCTAssertTrue(r.err.contains("answered 2 values: give the property with -S SPEC"), r.err)
    }

    /// Instrument programs that misbehave as real ones do: 100 kB of warnings on stderr
    /// before each answer (more than a pipe holds) is no obstacle; a program that hangs with
    /// SIGTERM ignored is stopped at --measure-timeout, and its last words are in the error.
    func testChattyAndHungInstrumentPrograms() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('truth.npy', np.random.default_rng(3).normal(size=(12, 12)))", cwd: dir.path)
        _ = try dir.write("chatty.py", """
            import sys, io, signal, time, numpy as np
            y, x = int(sys.argv[-2]), int(sys.argv[-1])
            if sys.argv[1] == 'slow':
                time.sleep(0.5)
            if sys.argv[1] == 'hang':
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                print('stage is stuck', file=sys.stderr, flush=True)
                time.sleep(60)
            sys.stderr.write('UserWarning: the detector is warming up\\n' * 2600)
            b = io.BytesIO(); np.save(b, np.float64(np.load('truth.npy')[y, x])); sys.stdout.buffer.write(b.getvalue())
            """)
        let python = Tools.python ?? "/usr/bin/python3"
        let common = ["--extractor", "none", "-w", "1", "--init", "5", "--steps", "2", "--ensemble", "1", "--iterations", "30", "-j", "1", "truth.npy"]
        let started = Date()
        try Tools.expect(0, "dkl-explore", ["--measure", python, "--measure-arg", "chatty.py", "--measure-arg", "ok", "--measure-timeout", "5",
                                            "--trace", "c.ndjson"] + common, cwd: dir.path)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        try Tools.expect(0, "dkl-explore", ["--oracle", "truth.npy", "--trace", "map.ndjson"] + common, cwd: dir.path)
        let c = try trace(dir.file("c.ndjson")), map = try trace(dir.file("map.ndjson"))
        XCTAssertEqual(c.count, 7)
        XCTAssertEqual(c.map { [$0["y"]!, $0["x"]!, $0["value"]!] }, map.map { [$0["y"]!, $0["x"]!, $0["value"]!] })
        let hungStart = Date()
        let r = try Tools.expect(1, "dkl-explore", ["--measure", python, "--measure-arg", "chatty.py", "--measure-arg", "hang", "--measure-timeout", "1",
                                                    "--measure-retries", "0", "--trace", "h.ndjson"] + common, cwd: dir.path)
        XCTAssertLessThan(Date().timeIntervalSince(hungStart), 20)
        XCTAssertTrue(r.err.contains("no answer within 1.0 s (stopped); its last words: stage is stuck"), r.err)
        // A second run on a trace in use is refused with the holder's pid; the trace is left whole.
        let p = try Tools.startWriting("dkl-explore", ["--measure", python, "--measure-arg", "chatty.py", "--measure-arg", "slow", "--trace", "busy.ndjson"]
                                           + common.map { $0 == "2" ? "60" : $0 },   // --steps 60: busy for a while
                                       cwd: dir.path, file: "busy.ndjson")
        let second = try Tools.expect(1, "dkl-explore", ["--oracle", "truth.npy", "--trace", "busy.ndjson"] + common, cwd: dir.path)
        XCTAssertEqual(second.err, "dkl-explore: busy.ndjson: in use by another run (process \(p.processIdentifier)): wait for it to end, or give another file\n")
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        // Every record is the first run's (step by step, no duplicate point), and it continues.
        let held = try trace(dir.file("busy.ndjson"))
        XCTAssertGreaterThanOrEqual(held.count, 1)
        XCTAssertEqual(Set(held.map { "\($0["y"]!.intValue!),\($0["x"]!.intValue!)" }).count, held.count)
    }

    func testBadInput() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('small.npy', np.ones((10, 10, 96)))", cwd: dir.path)
        let img = DklExploreTests.share + "image.npy"
        let cases: [([String], Int32, String)] = [
            ([img, "-S", "integral:1:2", "--trace", "t.ndjson"], 64, "dkl-explore: error: give the oracle: --oracle CUBE, --instrument PROGRAM or --measure PROGRAM\n"),
            ([img, "--oracle", "small.npy", "-S", "integral:1:2", "--trace", "t.ndjson"], 1, "dkl-explore: small.npy: the oracle's grid 10×10 is smaller than the image's 64×64\n"),
            ([img, "--oracle", DklExploreTests.share + "spectra.h5:/spectra", "-S", "integral:1:2"], 64, "dkl-explore: error: give the trace file with --trace TRACE\n"),
            ([img, "--oracle", DklExploreTests.share + "spectra.h5:/spectra", "--trace", "t.ndjson"], 64, "dkl-explore: error: give the property to learn with -S SPEC\n"),
            ([img, "--oracle", DklExploreTests.share + "spectra.h5:/spectra", "-S", "integral:1:2", "--resume", "t.ndjson"], 1, "dkl-explore: t.ndjson: no such file (--resume continues an existing trace)\n"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-explore", args, cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("t.ndjson"))
        }
    }
}
