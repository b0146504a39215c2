import DKL
import Foundation
import TestSupport
import XCTest

/// What the tools do when their stderr is closed or broken, and when ^C arrives while an
/// instrument program is measuring.
final class SignalsAndStderrTests: XCTestCase {
    /// Runs each case with stderr closed, and with stderr a pipe whose reader has gone: the
    /// documented exit status, never a signal (a trap). Prints "status signal" per case.
    func testClosedAndBrokenStderr() throws {
        let dir = TempDir()
        let cases: [([String], Int32)] = [
            (["dkl-cat", "--no-such-option"], 64),        // a usage message
            (["dkl-cat", "missing.dkl"], 1),              // a data error
            (["dkl-synth", "--progress", "--seed", "1", "out"], 0),   // progress lines and notes
        ]
        for (args, expected) in cases {
            for how in ["closed", "broken"] {
                let out = try Tools.python("""
                    import os, subprocess, sys
                    how, argv = sys.argv[1], sys.argv[2:]
                    if how == 'closed':
                        p = subprocess.run(argv, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(2))
                    else:
                        r, w = os.pipe(); os.close(r)
                        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=w); os.close(w)
                    print(p.returncode)
                    """, args: [how, Tools.path(args[0])] + args.dropFirst(), cwd: dir.path)
                XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "\(expected)", "\(args) with stderr \(how)")
            }
        }
    }

    /// ^C while an instrument program measures: the program is stopped at once (not waited
    /// for), the run exits 130 with the trace holding every measurement before it, and the
    /// same command continues it. A second ^C while the first is being handled exits at
    /// once too.
    func testInterruptDuringAMeasurement() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('truth.npy', np.random.default_rng(3).normal(size=(12, 12)))", cwd: dir.path)
        _ = try dir.write("slow.py", """
            import sys, io, os, time, numpy as np
            y, x = int(sys.argv[-2]), int(sys.argv[-1])
            n = len(open('calls').read()) if os.path.exists('calls') else 0
            open('calls', 'a').write('.')
            if n == 6 and not os.path.exists('released'):
                open('started', 'w').write(str(os.getpid()))
                time.sleep(60)
            b = io.BytesIO(); np.save(b, np.float64(np.load('truth.npy')[y, x])); sys.stdout.buffer.write(b.getvalue())
            """)
        let python = Tools.python ?? "/usr/bin/python3"
        let common = ["--extractor", "none", "-w", "1", "--init", "5", "--steps", "3", "--ensemble", "1", "--iterations", "30", "-j", "1"]
        let args = ["--measure", python, "--measure-arg", "slow.py"] + common + ["--trace", "t.ndjson", "truth.npy"]
        for signals in [1, 2] {
            try? FileManager.default.removeItem(atPath: dir.file("t.ndjson"))
            try? FileManager.default.removeItem(atPath: dir.file("calls"))
            try? FileManager.default.removeItem(atPath: dir.file("started"))
            try? FileManager.default.removeItem(atPath: dir.file("released"))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Tools.path("dkl-explore"))
            p.arguments = args
            p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: dir.file("started")) && Date() < deadline && p.isRunning { usleep(20_000) }
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("started")), "the seventh measurement started")
            usleep(100_000)
            let sent = Date()
            for _ in 0..<signals { kill(p.processIdentifier, SIGINT); usleep(20_000) }
            p.waitUntilExit()
            XCTAssertLessThan(Date().timeIntervalSince(sent), 10, "\(signals) ^C: not waited for the program")
            XCTAssertEqual(p.terminationStatus, 130, "\(signals) ^C")
            XCTAssertEqual(p.terminationReason, .exit)
            // The program was stopped with the run.
            let pid = Int32(try String(contentsOfFile: dir.file("started"), encoding: .utf8))!
            usleep(300_000)
            XCTAssertEqual(kill(pid, 0), -1, "the instrument program is not left running")
            let lines = try String(contentsOfFile: dir.file("t.ndjson"), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, 1 + 6, "header and the six measurements before the ^C")
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
            XCTAssertEqual(left, [], "no temporary files")
            // The same command continues and ends as an uninterrupted run.
            _ = FileManager.default.createFile(atPath: dir.file("released"), contents: nil)
            try Tools.expect(0, "dkl-explore", args, cwd: dir.path)
            try Tools.expect(0, "dkl-explore", ["--oracle", "truth.npy"] + common + ["--trace", "o.ndjson", "truth.npy"], cwd: dir.path)
            let a = try String(contentsOfFile: dir.file("t.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst()
            let b = try String(contentsOfFile: dir.file("o.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst()
            func points(_ l: ArraySlice<Substring>) throws -> [[JSON]] {
                try l.map { try JSONParser.parse(String($0)) }.map { [$0["y"]!, $0["x"]!, $0["value"]!] }
            }
            XCTAssertEqual(try points(a), try points(b), "\(signals) ^C")
            try? FileManager.default.removeItem(atPath: dir.file("o.ndjson"))
        }
    }
}
