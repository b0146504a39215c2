import DKL
import Foundation
import TestSupport
import XCTest

/// The ferrosim executable on the original's golden inputs, and its conventions.
final class FerroSimToolTests: XCTestCase {
    let golden = Tools.root + "/Tests/Fixtures/ferrosim-golden/"

    func record(_ r: RunResult) throws -> JSON {
        let lines = r.out.split(separator: "\n")
        return try JSONParser.parse(String(lines[1]))
    }

    func testGoldenCaseG1ThroughTheTool() throws {
        let g = golden + "g1_tetra_det_n8_T200/"
        let r = try Tools.expect(0, "ferrosim", ["-n", "8", "--init", g + "initial_p.npy", "--field-file", g + "applied_field_Ec.npy", "-J"])
        let rec = try record(r)
        let summary = try JSONParser.parse(String(contentsOfFile: g + "case.json", encoding: .utf8))["summary"]!
        assertClose(rec["sum_abs_curl"]!.doubleValue!, summary["sum_abs_curl"]!.doubleValue!, rtol: 1e-9)
        assertClose([rec["px"]!.doubleValue!, rec["py"]!.doubleValue!], summary["mean_p_final"]!.arrayValue!.map { $0.doubleValue! }, rtol: 1e-9, atol: 1e-12)
        assertClose(rec["curl_over_p"]!.doubleValue!, summary["curl_over_pmag"]!.doubleValue!, rtol: 1e-9)
        XCTAssertEqual(rec["diverged"]!.intValue, 0)
    }

    /// The stochastic golden case through the tool, replaying the original's site choices.
    func testGoldenCaseG2ReplayedThroughTheTool() throws {
        let g = golden + "g2_tetra_stoch_defects_n10_T300/"
        let r = try Tools.expect(0, "ferrosim", ["-n", "10", "--k", "1.5", "--dep-alpha", "0.2", "--init", g + "initial_p.npy",
                                                 "--defects-file", g + "defects_Ec.npy", "--field-file", g + "applied_field_Ec.npy",
                                                 "--sites-file", g + "stochastic_selected_sites.npy", "-J"])
        let summary = try JSONParser.parse(String(contentsOfFile: g + "case.json", encoding: .utf8))["summary"]!
        assertClose(try record(r)["sum_abs_curl"]!.doubleValue!, summary["sum_abs_curl"]!.doubleValue!, rtol: 1e-9)
    }

    func testG3WithDefectsFileAndMaps() throws {
        let g = golden + "g3_square_pr_gamma05_n12_T250/"
        let dir = TempDir()
        let r = try Tools.expect(0, "ferrosim", ["-n", "12", "--mode", "squareelectric", "--gamma", "0.5", "--k", "0.8", "--dep-alpha", "0.35",
                                                 "--init", "remanent", "--defects-file", g + "defects_Ec.npy", "--field-file", g + "applied_field_Ec.npy",
                                                 "--maps", "maps.h5", "-J"], cwd: dir.path)
        let summary = try JSONParser.parse(String(contentsOfFile: g + "case.json", encoding: .utf8))["summary"]!
        assertClose(try record(r)["sum_abs_curl"]!.doubleValue!, summary["sum_abs_curl"]!.doubleValue!, rtol: 1e-9)
        let curl = try ArrayFile.open(dir.file("maps.h5") + ":/curl")
        XCTAssertEqual(curl.shape, [1, 12, 12])
        assertClose(try curl.readAll(), try ArrayFile.open(g + "curl_final.npy").readAll(), rtol: 0, atol: 1e-9)
    }

    /// Many histories through a stream: input order kept, same numbers with 1 or 2 threads and
    /// across shards, the same as one history at a time.
    func testHistoriesStreamThreadsAndShards() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            t = np.linspace(0, 1, 300); rng = np.random.default_rng(1)
            a, al, om, b = rng.uniform(0, .75, 7), rng.uniform(-2.75, 2.75, 7), rng.uniform(6.28, 8.4, 7), rng.uniform(-.5, .5, 7)
            np.save('h.npy', a[:, None] * np.exp(al[:, None] * t) * np.sin(om[:, None] * t) + b[:, None])
            np.save('h3.npy', (a[3] * np.exp(al[3] * t) * np.sin(om[3] * t) + b[3]))
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "h.npy", "--rows", "--field", "field", "--dtype", "f64", "-o", "h.dkl"], cwd: dir.path)
        let common = ["-n", "10", "--seed", "4", "--equilibrate", "20", "--no-provenance", "-J"]
        let one = try Tools.expect(0, "ferrosim", ["--histories", "h.dkl", "-j", "1"] + common, cwd: dir.path)
        let two = try Tools.expect(0, "ferrosim", ["--histories", "h.dkl", "-j", "2"] + common, cwd: dir.path)
        XCTAssertEqual(one.out, two.out)
        let rows = one.out.split(separator: "\n").dropFirst().map { try! JSONParser.parse(String($0)) }
        XCTAssertEqual(rows.map { $0["id"]!.intValue! }, Array(0..<7))
        let shard = try Tools.expect(0, "ferrosim", ["--histories", "h.dkl", "--shard", "2/3"] + common, cwd: dir.path)
        let shardRows = shard.out.split(separator: "\n").dropFirst().map { try! JSONParser.parse(String($0)) }
        XCTAssertEqual(shardRows.map { $0["id"]!.intValue! }, [1, 4])
        XCTAssertEqual(shardRows[0], rows[1])
        let single = try Tools.expect(0, "ferrosim", ["--field-file", "h3.npy"] + common, cwd: dir.path)
        var r3 = rows[3]
        r3.set("id", 0)
        XCTAssertEqual(try record(single), r3)
    }

    /// --series ends where the record does; --model clean runs the gradient flow; per-site k
    /// from a file equals the uniform option.
    func testSeriesCleanModelAndPerSiteFiles() throws {
        let dir = TempDir()
        let common = ["-n", "8", "-T", "200", "-E", "0.5,1,6.9,0.1", "-J", "--no-provenance"]
        let rec = try record(try Tools.expect(0, "ferrosim", common + ["--series", "s.h5"], cwd: dir.path))
        let curl = try ArrayFile.open(dir.file("s.h5") + ":/sum_abs_curl").readAll()
        XCTAssertEqual(curl.count, 200)
        XCTAssertEqual(curl.last!, rec["sum_abs_curl"]!.doubleValue!)
        let clean = try record(try Tools.expect(0, "ferrosim", common + ["--model", "clean"], cwd: dir.path))
        XCTAssertNotEqual(clean["sum_abs_curl"], rec["sum_abs_curl"])
        XCTAssertEqual(clean["diverged"]!.intValue, 0)
        try NPYFile.write(dir.file("k.npy"), shape: [8, 8], values: .double([Double](repeating: 1.7, count: 64)))
        let fromFile = try Tools.expect(0, "ferrosim", common + ["--k-file", "k.npy"], cwd: dir.path)
        let fromOption = try Tools.expect(0, "ferrosim", common + ["--k", "1.7"], cwd: dir.path)
        XCTAssertEqual(try record(fromFile), try record(fromOption))
        try Tools.expect(64, "ferrosim", common + ["--model", "clean", "--series", "x.h5"], cwd: dir.path)
        XCTAssertFalse(dir.exists("x.h5"))
    }

    /// ^C during a sweep with --checkpoint: exit 130, no output file, the finished histories
    /// logged; the same command resumes and gives the records of an uninterrupted run.
    func testInterruptedSweepResumes() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            t = np.linspace(0, 1, 200); a = np.linspace(0, .75, 800)
            np.save('h.npy', a[:, None] * np.sin(8 * t)[None, :])
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "h.npy", "--rows", "--field", "field", "--dtype", "f64", "-o", "h.dkl"], cwd: dir.path)
        let args = ["--histories", "h.dkl", "-n", "8", "--checkpoint", "ck.ndjson", "-j", "1", "-o", "out.dkl"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.path("ferrosim"))
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let err = Pipe()
        p.standardError = err
        try p.run()
        var waited = 0
        func logged() -> Int { ((try? String(contentsOfFile: dir.file("ck.ndjson"), encoding: .utf8)) ?? "").split(separator: "\n").count }
        while logged() < 2 && waited < 3000 { usleep(10_000); waited += 1 }
        p.interrupt()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 130, message)
        XCTAssertTrue(message.contains("of 800 histories are in ck.ndjson; run the same command to resume"), message)
        XCTAssertFalse(dir.exists("out.dkl"))
        let resumed = try Tools.expect(0, "ferrosim", args, cwd: dir.path)
        XCTAssertTrue(resumed.err.contains("resuming:"), resumed.err)
        XCTAssertFalse(dir.exists("ck.ndjson"), "the checkpoint is removed once the output is complete")
        try Tools.expect(0, "ferrosim", ["--histories", "h.dkl", "-n", "8", "-o", "ref.dkl"], cwd: dir.path)
        let a = try Tools.expect(0, "dkl-cat", ["-J", "out.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst()
        let b = try Tools.expect(0, "dkl-cat", ["-J", "ref.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst()
        XCTAssertEqual(Array(a), Array(b))
        // A checkpoint made by other inputs is refused.
        let header = try Tools.expect(0, "dkl-cat", ["--header", "ref.dkl"], cwd: dir.path).out
        var h = try JSONParser.parse(header.trimmingCharacters(in: .newlines))
        var attrs = h["attrs"]!
        attrs.set("checkpoint_signature", "other inputs")
        h.set("attrs", attrs)
        _ = try dir.write("other.ndjson", h.text + "\n")
        let refused = try Tools.expect(1, "ferrosim", ["--histories", "h.dkl", "-n", "8", "--checkpoint", "other.ndjson", "-o", "y.dkl"], cwd: dir.path)
        XCTAssertTrue(refused.err.contains("other.ndjson:header: the checkpoint was made by a different command or inputs"), refused.err)
    }

    /// One run at a time on a checkpoint: a second run names the process holding it and
    /// exits 1, leaving the first run's log alone. A log cut inside its header (a kill while
    /// it was written) is started afresh; a file that is no checkpoint is left untouched.
    func testCheckpointLockAndACutHeader() throws {
        let dir = TempDir()
        let args = ["-n", "16", "-T", "300", "--sweep", "k=0.5:1.5:3000", "--checkpoint", "ck.ndjson", "-j", "1", "-o", "out.dkl"]
        // The header is written once the lock is held.
        let p = try Tools.startWriting("ferrosim", args, cwd: dir.path, file: "ck.ndjson")
        let second = try Tools.expect(1, "ferrosim", args, cwd: dir.path)
        XCTAssertEqual(second.err, "ferrosim: ck.ndjson: in use by another run (process \(p.processIdentifier)): wait for it to end, or give another file\n")
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        // The first run's log is intact: the same command continues it.
        let lines = try String(contentsOfFile: dir.file("ck.ndjson"), encoding: .utf8).split(separator: "\n").count
        XCTAssertGreaterThanOrEqual(lines, 1)
        let small = ["-n", "6", "-T", "50", "--sweep", "k=0.5:1.5:4", "-J", "--no-provenance"]
        try Tools.expect(0, "ferrosim", small + ["-o", "ref.dkl"], cwd: dir.path)
        for cut in [#"{"dkl_stream":1,"fie"#, "", #"{"dkl"#] {
            _ = try dir.write("cut.ndjson", cut)
            try Tools.expect(0, "ferrosim", small + ["--checkpoint", "cut.ndjson", "-o", "a.dkl"], cwd: dir.path)
            XCTAssertEqual(try String(contentsOfFile: dir.file("a.dkl"), encoding: .utf8), try String(contentsOfFile: dir.file("ref.dkl"), encoding: .utf8))
            XCTAssertFalse(dir.exists("cut.ndjson"), "the finished run removes its checkpoint")
        }
        _ = try dir.write("notes.txt", "my notes, no newline")
        let foreign = try Tools.expect(1, "ferrosim", small + ["--checkpoint", "notes.txt", "-o", "b.dkl"], cwd: dir.path)
        XCTAssertEqual(foreign.err, "ferrosim: notes.txt:header: not a checkpoint of this command (no header line); remove it or give another file\n")
        XCTAssertEqual(try String(contentsOfFile: dir.file("notes.txt"), encoding: .utf8), "my notes, no newline")
        XCTAssertFalse(dir.exists("b.dkl"))
    }

    /// With r = 1.5 the eight surrounding sites are neighbours (the sum still divided by 4):
    /// against the original FerroSim's numbers (Tests/Fixtures/ferrosim/README.md).
    func testNeighbourRadiusMatchesTheOriginal() throws {
        let f = Tools.root + "/Tests/Fixtures/ferrosim/"
        for (r, curl, px, py) in [("1.1", 6.900760490407594, -0.011681530179669261, 0.032146218860659916),
                                  ("1.5", 7.156886193713582, -0.011555708589825308, 0.04141162859804311)] {
            let rec = try record(try Tools.expect(0, "ferrosim", ["-n", "8", "--r", r, "--dep-alpha", "0.1", "--init", f + "init.npy",
                                                                 "--field-file", f + "field.npy", "-J"]))
            assertClose(rec["sum_abs_curl"]!.doubleValue!, curl, rtol: 1e-9, "r = \(r)")
            assertClose([rec["px"]!.doubleValue!, rec["py"]!.doubleValue!], [px, py], rtol: 1e-9, "r = \(r)")
        }
    }

    /// A sweep over the Landau α1 and the coupling: every point is the one-history run with
    /// those parameters, bit for bit; shards merged by id are the whole sweep.
    func testParameterSweep() throws {
        let dir = TempDir()
        let common = ["-E", "0.6,1,12,0", "-T", "200", "-n", "8", "-J", "--no-provenance"]
        let sweep = ["--sweep", "a1=-2:-1:3", "--sweep", "k=0.5:1.5:2"]
        let whole = try Tools.expect(0, "ferrosim", sweep + common + ["-o", "all.ndjson"], cwd: dir.path)
        XCTAssertEqual(whole.status, 0)
        let rows = try String(decoding: dir.read("all.ndjson"), as: UTF8.self).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(rows[0]["attrs"]?["grid"], JSON([3, 2]))
        XCTAssertEqual(rows.count, 7)
        for (i, rec) in rows.dropFirst().enumerated() {
            let (a1, k) = ([-2.0, -1.5, -1.0][i / 2], [0.5, 1.5][i % 2])
            XCTAssertEqual(rec["id"]!.intValue, i)
            XCTAssertEqual([rec["y"]!.intValue!, rec["x"]!.intValue!], [i / 2, i % 2])
            XCTAssertEqual([rec["a1"]!.doubleValue!, rec["k"]!.doubleValue!], [a1, k])
            let one = try record(try Tools.expect(0, "ferrosim", ["--landau", "\(a1),12.2,40", "--k", "\(k)"] + common))
            for f in ["px", "py", "p_abs", "sum_abs_curl", "curl_over_p", "diverged"] { XCTAssertEqual(rec[f], one[f], "point \(i): \(f)") }
        }
        // Histories are shared among all the threads asked for: the same bytes on 1, 2 and 16.
        let stochastic = ["--stochastic", "--sweep", "a1=-2:-1:30", "--sweep", "k=0.5:1.5:20", "-E", "0.6,1,12,0", "-T", "100", "-n", "8", "--no-provenance"]
        for j in ["1", "2", "16"] { try Tools.expect(0, "ferrosim", stochastic + ["-j", j, "-o", "j\(j).dkl", "--maps", "j\(j).h5"], cwd: dir.path) }
        for j in ["2", "16"] {
            XCTAssertEqual(try dir.read("j\(j).dkl"), try dir.read("j1.dkl"), "-j \(j)")
            XCTAssertEqual(try dir.read("j\(j).h5"), try dir.read("j1.h5"), "-j \(j) maps")
        }
        for s in 1...4 { try Tools.expect(0, "ferrosim", sweep + common + ["--shard", "\(s)/4", "-o", "s\(s).dkl"], cwd: dir.path) }
        let merged = try Tools.expect(0, "dkl-cat", ["--merge", "id", "s3.dkl", "s1.dkl", "s4.dkl", "s2.dkl", "-J"], cwd: dir.path)
        XCTAssertEqual(merged.out.split(separator: "\n").dropFirst(), String(decoding: try dir.read("all.ndjson"), as: UTF8.self).split(separator: "\n").dropFirst())
        // One sweep: no grid position.
        let line = try Tools.expect(0, "ferrosim", ["--sweep", "gamma=0.5:1:2"] + common)
        XCTAssertNil(try record(line)["y"])
        for (args, message) in [(["--sweep", "q=0:1:3"], "NAME one of k, dep-alpha, gamma, a1, a2, a3"),
                                (["--sweep", "k=0:1"], "the range is LO:HI:N"),
                                (["--sweep", "k=0:1:2", "--sweep", "k=1:2:2"], "'k' is swept twice"),
                                (["--sweep", "k=0:1:2", "--histories", "h.dkl"], "give no --histories"),
                                (["--sweep", "k=0:1:2", "--k-file", "k.npy"], "give no --k-file")] {
            let r = try Tools.expect(64, "ferrosim", args, cwd: dir.path)
            XCTAssertTrue(r.err.contains(message), r.err)
        }
    }

    /// A sweep's --maps and --series are written a batch at a time and every history's
    /// outcome is freed: twice the histories, the same peak memory (measured by the
    /// kernel's maximum resident set of the child process), and the same arrays as the
    /// records say.
    func testSweepMemoryDoesNotGrowWithTheHistories() throws {
        let dir = TempDir()
        var peaks: [Double] = []
        for rows in [40, 80] {
            let out = try Tools.python("""
                import resource, subprocess, sys
                p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                assert p.returncode == 0, p.stderr
                print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                """, args: [Tools.path("ferrosim"), "--sweep", "a1=-2:-1:\(rows)", "--sweep", "k=0.5:1.5:25", "-n", "16", "-T", "400",
                            "-E", "0.6,1,12,0", "--series", "s\(rows).h5", "--maps", "m\(rows).h5", "-o", "r\(rows).dkl", "-j", "2"], cwd: dir.path)
            peaks.append(Double(out.trimmingCharacters(in: .whitespacesAndNewlines))!)
        }
        // 1,000 more histories hold 1,000 × (3·400 + 3·256) doubles ≈ 16 MB if kept.
        XCTAssertLessThan(peaks[1] - peaks[0], 6_000, "peak KiB \(peaks)")
        _ = try Tools.python("""
            import h5py, json, subprocess, sys, numpy as np
            recs = [json.loads(l) for l in subprocess.run([sys.argv[1], '-J', 'r80.dkl'], capture_output=True, text=True).stdout.splitlines()[1:]]
            s, m = h5py.File('s80.h5', 'r'), h5py.File('m80.h5', 'r')
            assert s['/mean_px'].shape == (2000, 400) and m['/px'].shape == (2000, 16, 16)
            assert list(s['/id'][...]) == list(range(2000)) == list(m['/id'][...])
            for r in recs:
                i = r['id']
                assert np.isclose(s['/sum_abs_curl'][i, -1], r['sum_abs_curl'], rtol=1e-12), i
                assert np.isclose(np.abs(m['/curl'][i]).sum(), r['sum_abs_curl'], rtol=1e-12), i
                assert np.isclose(m['/px'][i].mean(), r['px'], rtol=1e-12, atol=1e-15), i
            """, args: [Tools.path("dkl-cat")], cwd: dir.path)
    }

    func testDivergenceIsFlaggedAndBadInputIsNamed() throws {
        let r = try Tools.expect(0, "ferrosim", ["-n", "6", "-T", "15", "--init-scale", "1", "-J", "--no-provenance"])
        XCTAssertEqual(try record(r)["diverged"]!.intValue, 1)
        XCTAssertTrue(r.err.contains("1 of 1 histories diverged"), r.err)
        let bad = try Tools.expect(64, "ferrosim", ["--mode", "cubic"])
        XCTAssertTrue(bad.err.hasPrefix("ferrosim: error: --mode must be"), bad.err)
        let shape = try Tools.expect(1, "ferrosim", ["-n", "5", "--init", golden + "g1_tetra_det_n8_T200/initial_p.npy"])
        XCTAssertTrue(shape.err.contains("initial_p.npy: an initial state must have shape [5, 5, 2], not [8, 8, 2]"), shape.err)
        try Tools.expect(64, "ferrosim", ["--shard", "4/3"])
        // A neighbour radius beyond the lattice is refused before any work (it trapped at 1e30
        // and looped at 999999999); the largest allowed one runs.
        for r in ["1e30", "999999999", "9", "0.5"] {
            let e = try Tools.expect(64, "ferrosim", ["-n", "8", "-T", "10", "--r", r])
            XCTAssertTrue(e.err.hasPrefix("ferrosim: error: --r must be from 1 (the nearest neighbours) to 8 (the lattice side, at most 64)\n"), e.err)
        }
        try Tools.expect(0, "ferrosim", ["-n", "8", "-T", "10", "--r", "8", "-J", "--no-provenance"])
        // The library does not trap on a radius it is given directly either.
        var m = FerroModel(n: 4, mode: .tetragonal, gamma: 1, k: 1, depAlpha: 0)
        for r in [1e30, .nan, .infinity, 4.0] {
            m.neighbourRadius = r
            XCTAssertLessThanOrEqual(m.neighbourOffsets.count, 80, "r = \(r)")
        }
    }
}
