import DKL
import Foundation
import TestSupport
import XCTest

/// The persistent instrument session (dkl-explore --instrument, dkl-instrument(7)) and the
/// digital twin (dkl-twin): the same experiment as from the file, through failures, crashes
/// and a kill -9 of the experiment itself, every measurement in the trace exactly once.
final class InstrumentTests: XCTestCase {
    func makeCube(_ dir: TempDir) throws {
        _ = try Tools.python("""
            import numpy as np
            rng = np.random.default_rng(5)
            np.save('cube.npy', rng.uniform(0, 1, (6, 7, 9, 11)))
            np.save('image.npy', rng.uniform(0, 1, (6, 7)).astype('f4'))
            """, cwd: dir.path)
    }

    let common = ["-S", "adf:2:4", "--centre", "4,5.5", "--extractor", "none", "-w", "1", "--init", "5", "--steps", "10",
                  "--ensemble", "1", "-n", "20", "--seed", "3"]

    /// (step, y, x, value) of every record of a trace (step, y, x of a patterns' log).
    func path(_ dir: TempDir, _ trace: String) throws -> [String] {
        try Tools.expect(0, "dkl-cat", ["-f", trace.hasSuffix(".dkl") ? "step,y,x" : "step,y,x,value", "-T", trace], cwd: dir.path).out.split(separator: "\n").map(String.init)
    }

    /// Records of a stream as JSON objects.
    func records(_ dir: TempDir, _ file: String, _ fields: String) throws -> [JSON] {
        try Tools.expect(0, "dkl-cat", ["-J", "-f", fields, file], cwd: dir.path).out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
    }

    /// The generated 4D-STEM set: its centres of mass are the patterns' (numpy, from the
    /// file), dkl-scalarize agrees, and its detector is calibrated in mrad.
    func testThe4DSTEMGeneratorsCentresOfMass() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["4dstem", "--size", "20x22", "-k", "16", "--spacing", "5", "--heavy", "0.2", "--seed", "4", "set"], cwd: dir.path)
        let out = try Tools.python("""
            import h5py, numpy as np
            f = h5py.File('set/cube.h5', 'r'); d = f['/4dstem/data'][...].astype('f8')
            assert d.shape == (20, 22, 16, 16), d.shape
            assert np.allclose(d.sum(axis=(2, 3)), 1, atol=1e-5)
            k = np.arange(16) - 7.5
            s = d.sum(axis=(2, 3)); cy = (d.sum(axis=3) * k).sum(axis=2) / s; cx = (d.sum(axis=2) * k).sum(axis=2) / s
            t = h5py.File('set/truth.h5', 'r')
            assert np.abs(t['com_y'][...] - cy).max() < 1e-9 and np.abs(t['com_x'][...] - cx).max() < 1e-9
            assert np.abs(t['com_magnitude'][...] - np.hypot(cy, cx)).max() < 1e-9
            assert f['/4dstem/dim3'].attrs['units'] in (b'mrad', 'mrad')
            assert abs(f['/4dstem/dim3'][1] - f['/4dstem/dim3'][0] - 20 / 3.2) < 1e-12
            np.save('com.npy', np.hypot(cy, cx))
            # the heavy columns deflect most: the top of the map is where HAADF is brightest
            img = np.load('set/image.npy'); m = np.hypot(cy, cx)
            print(np.corrcoef(img.ravel(), m.ravel())[0, 1], m.max(), np.median(m))
            """, cwd: dir.path)
        let stats = out.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(stats.count, 3, out)
        XCTAssertGreaterThan(stats[1], 1.5, "a heavy column deflects the disc by more than 1.5 px: \(out)")
        let com = try Tools.expect(0, "dkl-scalarize", ["-S", "com", "--centre", "7.5,7.5", "-J", "set/cube.h5"], cwd: dir.path).out
        let numpy = try ArrayFile.open(dir.file("com.npy")).readAll()
        let values = try com.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0))["com"]!.doubleValue! }
        XCTAssertEqual(values.count, numpy.count)
        for (a, b) in zip(values, numpy) { XCTAssertEqual(a, b, accuracy: 1e-9) }
        // mrad radii from the file's calibration: a 20 mrad bright field is the disc of 3.2 px.
        let a = try Tools.expect(0, "dkl-scalarize", ["-S", "bf:20mrad", "--centre", "7.5,7.5", "-J", "set/cube.h5"], cwd: dir.path).out
        let b = try Tools.expect(0, "dkl-scalarize", ["-S", "bf:3.2", "--centre", "7.5,7.5", "-J", "set/cube.h5"], cwd: dir.path).out
        let bf = { (text: String, name: String) in try text.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0))[name]!.doubleValue! } }
        XCTAssertEqual(try bf(a, "bf_20mrad"), try bf(b, "bf_3p2"))
        XCTAssertEqual(try bf(a, "bf_20mrad").count, 20 * 22)
    }

    /// A 4D-STEM experiment from the file and through the twin: the same points in the same
    /// order, every pattern in the log beside the trace (float32, re-scalarized to the bit),
    /// the twin's detector centred on its calibrated optical axis.
    func testA4DSTEMExperimentKeepsItsPatterns() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["4dstem", "--size", "20x22", "-k", "16", "--spacing", "5", "--seed", "4", "set"], cwd: dir.path)
        let run = ["-S", "com", "-w", "5", "--init", "6", "--steps", "8", "--extractor", "none", "--ensemble", "1", "-n", "20", "set/image.npy"]
        try Tools.expect(0, "dkl-explore", ["--oracle", "set/cube.h5", "--centre", "7.5,7.5", "--trace", "file.ndjson"] + run, cwd: dir.path)
        try Tools.expect(0, "dkl-explore", ["--instrument", Tools.path("dkl-twin"), "--instrument-arg", "set/cube.h5", "--trace", "twin.ndjson"] + run, cwd: dir.path)
        XCTAssertEqual(try path(dir, "twin.ndjson"), try path(dir, "file.ndjson"))
        XCTAssertEqual(try path(dir, "twin.ndjson").count, 1 + 14)
        let trace = try records(dir, "twin.ndjson", "y,x,value,measured_y,measured_x,meta")
        let log = try records(dir, "twin.patterns.dkl", "y,x,spectrum")
        XCTAssertEqual(log.count, 14)
        let cube = try ArrayFile.open(dir.file("set/cube.h5"))
        for (t, l) in zip(trace, log) {
            let (y, x) = (t["y"]!.intValue!, t["x"]!.intValue!)
            XCTAssertEqual(l["y"]?.intValue, y); XCTAssertEqual(l["x"]?.intValue, x)
            XCTAssertEqual(t["measured_y"]?.doubleValue, Double(y)); XCTAssertEqual(t["measured_x"]?.doubleValue, Double(x))
            let pattern = l["spectrum"]!.arrayValue!.flatMap { $0.arrayValue! }.map { Float($0.doubleValue!) }
            XCTAssertEqual(pattern, try cube.read(at: [y, x]).map { Float($0) })
            let meta = try JSONParser.parse(t["meta"]!.stringValue!)
            XCTAssertEqual(meta["dwell"]?.doubleValue, 1)
            XCTAssertNotNil(meta["time"]?.doubleValue)
        }
        // Re-scalarized from the log: the values learnt, to the bit.
        let again = try records(dir, try { _ = try Tools.expect(0, "dkl-scalarize", ["-S", "com", "--centre", "7.5,7.5", "-o", "again.dkl", "twin.patterns.dkl"], cwd: dir.path); return "again.dkl" }(), "com")
        XCTAssertEqual(again.map { $0["com"]!.doubleValue! }, trace.map { $0["value"]!.doubleValue! })
        // A log that is not this trace's, or holds fewer patterns than the trace: refused,
        // naming it; a log cut inside a record (a kill) is repaired by the next run.
        let log0 = try Data(contentsOf: URL(fileURLWithPath: dir.file("file.patterns.dkl")))
        let extend = ["--oracle", "set/cube.h5", "--centre", "7.5,7.5", "--trace", "file.ndjson"] + run.map { $0 == "8" ? "9" : $0 }
        try Data(log0.prefix(log0.count - 16 - (12 + 16 * 16 * 4))).write(to: URL(fileURLWithPath: dir.file("file.patterns.dkl")))
        let short = try Tools.expect(1, "dkl-explore", extend, cwd: dir.path)
        XCTAssertTrue(short.err.contains("file.patterns.dkl: holds 13 measurements; the trace has 14"), short.report)
        try Data("not a log".utf8).write(to: URL(fileURLWithPath: dir.file("file.patterns.dkl")))
        let other = try Tools.expect(1, "dkl-explore", extend, cwd: dir.path)
        XCTAssertTrue(other.err.contains("file.patterns.dkl:header: not a binary stream"), other.report)
        try Data(log0.prefix(log0.count - 16) + Data(repeating: 7, count: 100)).write(to: URL(fileURLWithPath: dir.file("file.patterns.dkl")))
        try Tools.expect(0, "dkl-explore", extend, cwd: dir.path)
        XCTAssertEqual(try path(dir, "file.ndjson").count, 1 + 15)
        XCTAssertEqual(try path(dir, "file.patterns.dkl").count, 1 + 15)
        // In the trace instead, when asked.
        try Tools.expect(0, "dkl-explore", ["--oracle", "set/cube.h5", "--centre", "7.5,7.5", "--measurements", "inline", "--trace", "inline.ndjson"] + run, cwd: dir.path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("inline.patterns.dkl")))
        XCTAssertEqual(try records(dir, "inline.ndjson", "spectrum").count, 14)
    }

    /// Shot noise: the file at a dose and the twin at the same dose measure the same counts;
    /// a pattern at dose D holds whole electrons (value·D) summing to about D.
    func testShotNoiseAtADose() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["4dstem", "--size", "20x22", "-k", "16", "--spacing", "5", "--seed", "4", "set"], cwd: dir.path)
        let run = ["-S", "com", "--centre", "7.5,7.5", "-w", "5", "--init", "6", "--steps", "6", "--extractor", "none", "--ensemble", "1", "-n", "20",
                   "--seed", "11", "set/image.npy"]
        try Tools.expect(0, "dkl-explore", ["--oracle", "set/cube.h5", "--dose", "400", "--trace", "file.ndjson"] + run, cwd: dir.path)
        try Tools.expect(0, "dkl-explore", ["--instrument", Tools.path("dkl-twin")] + ["--dose", "400", "--seed", "11", "set/cube.h5"].flatMap { ["--instrument-arg", $0] }
                                            + ["--trace", "twin.ndjson"] + run, cwd: dir.path)
        XCTAssertEqual(try path(dir, "twin.ndjson"), try path(dir, "file.ndjson"))
        try Tools.expect(0, "dkl-explore", ["--oracle", "set/cube.h5", "--trace", "clean.ndjson"] + run, cwd: dir.path)
        XCTAssertNotEqual(try path(dir, "clean.ndjson").prefix(6), try path(dir, "file.ndjson").prefix(6), "noise changes the values")
        for r in try records(dir, "file.patterns.dkl", "spectrum") {
            let counts = r["spectrum"]!.arrayValue!.flatMap { $0.arrayValue! }.map { $0.doubleValue! * 400 }
            for c in counts { XCTAssertEqual(c, c.rounded(), accuracy: 1e-3) }
            XCTAssertEqual(counts.reduce(0, +), 400, accuracy: 5 * 20)
        }
        // dkl-replay at the dose learns from the same noisy values along the path.
        let replayed = ["--oracle", "set/cube.h5", "--trace", "file.ndjson", "--every", "4", "-J", "--centre", "7.5,7.5", "--extractor", "none",
                        "--ensemble", "1", "-n", "20", "--seed", "11", "set/image.npy"]
        let replay = try Tools.expect(0, "dkl-replay", replayed + ["--dose", "400"], cwd: dir.path)
        let clean = try Tools.expect(0, "dkl-replay", replayed, cwd: dir.path)
        XCTAssertNotEqual(replay.out.split(separator: "\n").last, clean.out.split(separator: "\n").last)
        XCTAssertTrue(replay.out.contains("\"dose\":400"), replay.report)
    }

    /// A drifting scan: the twin reports where it measured; the trace keeps it, the model
    /// learns each value with the patch where it was measured, and a replay follows it.
    func testADriftingScanIsLearntWhereItMeasured() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["4dstem", "--size", "20x22", "-k", "16", "--spacing", "5", "--seed", "4", "set"], cwd: dir.path)
        let run = ["-S", "com", "--centre", "7.5,7.5", "-w", "5", "--init", "6", "--steps", "6", "--extractor", "none", "--ensemble", "1", "-n", "20", "set/image.npy"]
        try Tools.expect(0, "dkl-explore", ["--instrument", Tools.path("dkl-twin"), "--instrument-arg", "--drift", "--instrument-arg", "0.25,-0.5",
                                            "--instrument-arg", "set/cube.h5", "--trace", "drift.ndjson"] + run, cwd: dir.path)
        let trace = try records(dir, "drift.ndjson", "y,x,value,measured_y,measured_x")
        XCTAssertEqual(trace.count, 12)
        let truth = try ArrayFile.open(dir.file("set/truth.h5:/com_magnitude")).readAll()
        for (n, t) in trace.enumerated() {
            let (y, x) = (Double(t["y"]!.intValue!), Double(t["x"]!.intValue!))
            XCTAssertEqual(t["measured_y"]!.doubleValue!, y + 0.25 * Double(n), accuracy: 1e-12)
            XCTAssertEqual(t["measured_x"]!.doubleValue!, x - 0.5 * Double(n), accuracy: 1e-12)
            // The value is the pattern's where the probe was (the nearest pixel, in the scan).
            let (py, px) = (min(max(Int((y + 0.25 * Double(n)).rounded()), 0), 19), min(max(Int((x - 0.5 * Double(n)).rounded()), 0), 21))
            XCTAssertEqual(t["value"]!.doubleValue!, truth[py * 22 + px], accuracy: 1e-5)
        }
        // The replay takes the path where it was measured: its first record's best is the
        // best of the values learnt there.
        let replay = try Tools.expect(0, "dkl-replay", ["--oracle", "set/cube.h5", "--trace", "drift.ndjson", "--start", "12", "-J", "--centre", "7.5,7.5",
                                                        "--extractor", "none", "--ensemble", "1", "-n", "20", "set/image.npy"], cwd: dir.path)
        // (the candidates of 5-pixel windows are the pixels 2…17 × 2…19: a point measured
        // outside is learnt with the nearest patch, the truth there)
        let best = try JSONParser.parse(String(replay.out.split(separator: "\n")[1]))["best"]!.doubleValue!
        let reached = trace.map { t in
            truth[min(max(Int(t["measured_y"]!.doubleValue!.rounded()), 2), 17) * 22 + min(max(Int(t["measured_x"]!.doubleValue!.rounded()), 2), 19)]
        }
        XCTAssertEqual(best, reached.max()!, accuracy: 1e-9)
    }

    func testTheTwinMeasuresAsTheFileDoes() throws {
        let dir = TempDir()
        try makeCube(dir)
        try Tools.expect(0, "dkl-explore", ["--oracle", "cube.npy", "--trace", "file.ndjson", "image.npy"] + common, cwd: dir.path)
        let twin = Tools.path("dkl-twin")
        try Tools.expect(0, "dkl-explore", ["--instrument", twin, "--instrument-arg", "cube.npy", "--trace", "twin.ndjson", "image.npy"] + common, cwd: dir.path)
        XCTAssertEqual(try path(dir, "twin.ndjson"), try path(dir, "file.ndjson"))
        XCTAssertEqual(try path(dir, "file.ndjson").count, 1 + 15)
        // Binary payloads give the same numbers.
        try Tools.expect(0, "dkl-explore", ["--instrument", twin, "--instrument-arg", "--binary", "--instrument-arg", "cube.npy",
                                            "--trace", "binary.ndjson", "image.npy"] + common, cwd: dir.path)
        XCTAssertEqual(try path(dir, "binary.ndjson"), try path(dir, "file.ndjson"))
        // Injected failures (a tenth of the answers) and a crash at every 7th measurement of
        // a session: retried, restarted, the same experiment.
        let faults = try Tools.expect(0, "dkl-explore", ["--instrument", twin] + ["--fail-rate", "0.1", "--crash-at", "7", "--seed", "9", "cube.npy"].flatMap { ["--instrument-arg", $0] }
                                                        + ["--trace", "faults.ndjson", "image.npy"] + common, cwd: dir.path)
        XCTAssertEqual(try path(dir, "faults.ndjson"), try path(dir, "file.ndjson"))
        XCTAssertTrue(faults.err.contains("dkl-explore: the instrument was started 3 times"), faults.report)
    }

    func testAKilledExperimentResumesWithANewSession() throws {
        let dir = TempDir()
        try makeCube(dir)
        try Tools.expect(0, "dkl-explore", ["--oracle", "cube.npy", "--trace", "file.ndjson", "image.npy"] + common, cwd: dir.path)
        let twin = Tools.path("dkl-twin")
        // Each measurement takes 50 ms, a tenth fail, a session crashes at its 7th: the
        // experiment is killed in the middle.
        let args = ["--instrument", twin] + ["--latency", "0.05", "--fail-rate", "0.1", "--crash-at", "7", "cube.npy"].flatMap { ["--instrument-arg", $0] }
                    + ["--trace", "killed.ndjson", "image.npy"] + common
        let p = try Tools.startWriting("dkl-explore", args, cwd: dir.path, file: "killed.ndjson")
        var lines = 0
        for _ in 0..<500 where lines < 8 {
            usleep(20_000)
            lines = ((try? String(contentsOfFile: dir.file("killed.ndjson"), encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertLessThan(try path(dir, "killed.ndjson").count, 16, "killed before the end")
        try Tools.expect(0, "dkl-explore", args, cwd: dir.path)
        XCTAssertEqual(try path(dir, "killed.ndjson"), try path(dir, "file.ndjson"))
        // The patterns' log beside the trace holds each measurement once, in the trace's order.
        XCTAssertEqual(try path(dir, "killed.patterns.dkl").map { $0.split(separator: "\t").prefix(3) },
                       try path(dir, "killed.ndjson").map { $0.split(separator: "\t").prefix(3) })
    }

    /// What the twin answers, line by line; an instrument that hangs or dies is stopped
    /// with a message that says so and carries its last words.
    func testTheProtocolAndAFailingInstrument() throws {
        let dir = TempDir()
        try makeCube(dir)
        let session = "{\"op\":\"hello\",\"protocol\":1}\n{\"op\":\"measure\",\"y\":1,\"x\":2}\n{\"op\":\"measure\",\"y\":99,\"x\":0}\n{\"op\":\"image\"}\n{\"op\":\"nap\"}\n{\"op\":\"bye\"}\n"
        let r = try Tools.expect(0, "dkl-twin", ["cube.npy"], stdin: Data(session.utf8), cwd: dir.path)
        let lines = try r.out.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines[0]["shape"], JSON([9, 11]))
        XCTAssertEqual(lines[1]["values"]?.arrayValue?.count, 99)
        XCTAssertEqual(lines[1]["values"]?.arrayValue?.map { $0.doubleValue! }, try ArrayFile.open(dir.file("cube.npy")).read(at: [1, 2]))
        XCTAssertEqual(lines[2]["ok"], .bool(false))
        XCTAssertEqual(lines[3]["error"], "no image (dkl-twin --image)")
        XCTAssertEqual(lines[4]["error"], "unknown op (hello, measure, image, bye)")
        // An instrument that answers hello, then says something on stderr and hangs.
        let hang = try dir.write("hang.sh", "#!/bin/sh\nread line\necho '{\"ok\":true,\"protocol\":1}'\necho 'stage motor stalled' >&2\nsleep 30\n")
        chmod(hang, 0o755)
        let start = Date()
        let f = try Tools.expect(1, "dkl-explore", ["--instrument", hang, "--measure-timeout", "0.5", "--measure-retries", "0", "--trace", "h.ndjson", "image.npy"] + common,
                                 cwd: dir.path)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "a hung instrument is stopped, not waited for")
        XCTAssertTrue(f.err.contains("failed after 2 sessions"), f.report)
        XCTAssertTrue(f.err.contains("no answer within 0.5 s"), f.report)
        XCTAssertTrue(f.err.contains("its last words: stage motor stalled"), f.report)
    }

    /// A Python with Pyro5: DKL_PYRO_PYTHON, or the virtual environment `make test` makes
    /// (.build/pyro-venv: Debian's Python with its numpy, and Pyro5 from PyPI).
    static var pyroPython: String? {
        let candidates = [ProcessInfo.processInfo.environment["DKL_PYRO_PYTHON"], Tools.root + "/.build/pyro-venv/bin/python"].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The adapter of share/instruments to a Pyro5 remote microscope (the interface of the
    /// field's digital-twin servers: go_to, get_spectrum, get_overview_image), against a
    /// small server of that interface on 127.0.0.1: the same experiment as from the file.
    func testThePyro5AdapterDrivesARemoteMicroscope() throws {
        guard let python = InstrumentTests.pyroPython else {
            return XCTFail("no Python with Pyro5: run 'make test' (it makes .build/pyro-venv), or set DKL_PYRO_PYTHON")
        }
        let dir = TempDir()
        try makeCube(dir)
        try Tools.expect(0, "dkl-explore", ["--oracle", "cube.npy", "--trace", "file.ndjson", "image.npy"] + common, cwd: dir.path)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = [Tools.root + "/Tests/Fixtures/instruments/pyro5_microscope_server.py", "cube.npy", "image.npy", "uri.txt"]
        server.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        for _ in 0..<1000 where !dir.exists("uri.txt") { usleep(20_000) }
        let uri = try String(contentsOfFile: dir.file("uri.txt"), encoding: .utf8)
        XCTAssertTrue(uri.hasPrefix("PYRO:microscope@127.0.0.1:"), uri)
        try Tools.expect(0, "dkl-explore", ["--instrument", python, "--instrument-arg", Tools.root + "/share/instruments/pyro5_microscope.py",
                                            "--instrument-arg", uri, "--trace", "pyro.ndjson", "image.npy"] + common, cwd: dir.path)
        XCTAssertEqual(try path(dir, "pyro.ndjson"), try path(dir, "file.ndjson"))
        // The remote object's own error (a position outside its scan) reaches the message.
        _ = try Tools.python("import numpy as np; np.save('wide.npy', np.zeros((8, 9), 'f4')); np.save('far.npy', np.array([[7, 8]]))", cwd: dir.path)
        let r = try Tools.expect(1, "dkl-explore", ["--instrument", python, "--instrument-arg", Tools.root + "/share/instruments/pyro5_microscope.py",
                                                    "--instrument-arg", uri, "--init-coords", "far.npy", "--trace", "far.ndjson", "wide.npy"] + common, cwd: dir.path)
        XCTAssertTrue(r.err.contains("ValueError: position (8, 7) outside the scan"), r.report)
    }
}
