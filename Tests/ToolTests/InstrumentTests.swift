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

    /// (step, y, x, value) of every record of a trace.
    func path(_ dir: TempDir, _ trace: String) throws -> [String] {
        try Tools.expect(0, "dkl-cat", ["-f", "step,y,x,value", "-T", trace], cwd: dir.path).out.split(separator: "\n").map(String.init)
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
        // Each measurement takes 50 ms: the experiment is killed in the middle.
        let args = ["--instrument", twin, "--instrument-arg", "--latency", "--instrument-arg", "0.05", "--instrument-arg", "cube.npy",
                    "--trace", "killed.ndjson", "image.npy"] + common
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
