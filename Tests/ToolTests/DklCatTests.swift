import DKL
import Foundation
import TestSupport
import XCTest

final class DklCatTests: XCTestCase {
    func testHelpAndVersion() throws {
        let h = try Tools.expect(0, "dkl-cat", ["--help"])
        XCTAssertTrue(h.out.hasPrefix("usage: dkl-cat [options] [STREAM...]\n"), h.out)
        XCTAssertTrue(h.err.isEmpty)
        XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["--version"]).out, "dkl-cat \(DKLVersion.string)\n")
    }

    func testUsageErrorsExit64WithTheUsageLine() throws {
        for args in [["--bogus"], ["--head"], ["--head", "x"], ["--export", "a.npy"], ["-J", "-B", "-"]] {
            let r = try Tools.expect(64, "dkl-cat", args, stdin: Data())
            let lines = r.err.split(separator: "\n")
            XCTAssertTrue(lines.first?.hasPrefix("dkl-cat: error: ") ?? false, r.report)
            XCTAssertEqual(lines.last, "See 'dkl-cat --help'.", r.report)
            XCTAssertTrue(r.err.contains("usage: dkl-cat"), r.report)
        }
    }

    func testMissingFileNamesTheFile() throws {
        let r = try Tools.expect(1, "dkl-cat", ["nope.dkl"])
        XCTAssertEqual(r.err, "dkl-cat: nope.dkl: No such file or directory\n")
    }

    /// Import → stream → export round trip against numpy, in both encodings.
    /// --sort puts a shuffled stream back in order (by two keys, stably), so that it can be
    /// joined; a key that is not a numeric field is a usage error.
    func testSortOrdersByTheKeys() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import json, numpy as np
            rng = np.random.default_rng(4)
            recs = [{"y": int(y), "x": int(x), "v": float(rng.normal())} for y in range(5) for x in range(4)]
            order = rng.permutation(len(recs))
            with open('s.ndjson', 'w') as f:
                f.write(json.dumps({"dkl_stream": 1, "fields": [{"name": n, "dtype": t, "shape": []} for n, t in (("y", "i32"), ("x", "i32"), ("v", "f64"))], "attrs": {}}) + "\\n")
                for k in order: f.write(json.dumps(recs[k]) + "\\n")
            with open('want.tsv', 'w') as f:
                f.write("y\\tx\\n" + "".join(f"{r['y']}\\t{r['x']}\\n" for r in sorted(recs, key=lambda r: (r['x'], r['y']))))
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--sort", "x,y", "s.ndjson", "-o", "sorted.dkl"], cwd: dir.path)
        let got = try Tools.expect(0, "dkl-cat", ["-T", "-f", "y,x", "sorted.dkl"], cwd: dir.path).out
        XCTAssertEqual(got, try String(contentsOfFile: dir.file("want.tsv"), encoding: .utf8))
        XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["-n", "sorted.dkl"], cwd: dir.path).out, "20\n")
        let bad = try Tools.expect(64, "dkl-cat", ["--sort", "z", "s.ndjson"], cwd: dir.path)
        XCTAssertTrue(bad.err.hasPrefix("dkl-cat: error: no numeric scalar field 'z' to sort s.ndjson by"), bad.report)
        try Tools.expect(64, "dkl-cat", ["--sort", "y", "--head", "2", "s.ndjson"], cwd: dir.path)
    }

    func testImportExportRoundTripAgainstNumpy() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            a = (np.arange(5 * 7 * 9, dtype=np.float64).reshape(5, 7, 9) / 7 - 20).astype('>f8')
            np.save('cube.npy', a)
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "cube.npy", "--dtype", "f64", "-o", "s.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["s.ndjson", "-o", "s.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "back.h5:/g/cube", "--field", "spectrum", "s.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "back.npy", "--field", "spectrum", "s.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import numpy as np, h5py
            a = np.load('cube.npy'); b = np.load('back.npy'); c = h5py.File('back.h5')['g/cube'][...]
            print(b.dtype, c.dtype, b.shape, np.array_equal(a, b), np.array_equal(a, c))
            """, cwd: dir.path)
        XCTAssertEqual(out, "float64 float64 (5, 7, 9) True True\n")
    }

    func testSparseExportFillsNaNAndHonoursTheGrid() throws {
        let dir = TempDir()
        let s = """
            {"dkl_stream":1,"fields":[{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]},{"name":"v","dtype":"f64","shape":[]}],"attrs":{"grid":[3,2]}}
            {"y":2,"x":1,"v":5.5}
            {"y":0,"x":0,"v":-1}

            """
        _ = try dir.write("s.ndjson", s)
        try Tools.expect(0, "dkl-cat", ["--export", "v.npy", "--field", "v", "s.ndjson"], cwd: dir.path)
        let out = try Tools.python("import numpy as np; print(np.load('v.npy').tolist())", cwd: dir.path)
        XCTAssertEqual(out, "[[-1.0, nan], [nan, nan], [nan, 5.5]]\n")
        _ = try dir.write("dup.ndjson", s + #"{"y":2,"x":1,"v":0}"# + "\n")
        let r = try Tools.expect(1, "dkl-cat", ["--export", "d.npy", "--field", "v", "dup.ndjson"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: dup.ndjson:3: a second record at (2, 1)\n")
        XCTAssertFalse(dir.exists("d.npy"))
    }

    func testHeadTailFieldsAndConcatenation() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-cat", ["--import", Tools.root + "/share/plasmon/image.npy", "-o", "img.dkl"], cwd: dir.path)
        let t = try Tools.expect(0, "dkl-cat", ["-J", "--tail", "2", "--fields", "x,y", "img.dkl"], cwd: dir.path)
        XCTAssertEqual(Array(t.out.split(separator: "\n").dropFirst()), [#"{"x":62,"y":63}"#, #"{"x":63,"y":63}"#])
        let c = try Tools.expect(0, "dkl-cat", ["img.dkl", "-", "img.dkl"], stdin: try dir.read("img.dkl"), cwd: dir.path)
        let r = try Tools.expect(0, "dkl-cat", ["--count"], stdin: c.stdout)
        XCTAssertEqual(r.out, "12288\n")
        // Schemas must agree.
        try Tools.expect(0, "dkl-cat", ["--fields", "y,value", "img.dkl", "-o", "other.dkl"], cwd: dir.path)
        let bad = try Tools.expect(1, "dkl-cat", ["img.dkl", "other.dkl"], cwd: dir.path)
        XCTAssertTrue(bad.err.hasPrefix("dkl-cat: other.dkl:header: its fields (y i32, value f32) differ from those of img.dkl"), bad.err)
    }

    /// --tsv: column names first (array elements as NAME[i]), numbers as in NDJSON, NaN and
    /// infinities spelled out, text without tabs; with --fields, --tail and -o (atomic).
    func testTableOutput() throws {
        let dir = TempDir()
        let s = #"{"dkl_stream":1,"fields":[{"name":"id","dtype":"i64","shape":[]},{"name":"z","dtype":"f64","shape":[2]},"# +
            #"{"name":"v","dtype":"f32","shape":[]},{"name":"label","dtype":"string","shape":[],"width":8}]}"# + "\n" +
            #"{"id":1,"z":[0.5,-2],"v":0.1,"label":"a\tb"}"# + "\n" + #"{"id":2,"z":[null,1e999],"v":3,"label":"c"}"# + "\n"
        _ = try dir.write("s.ndjson", s)
        let t = try Tools.expect(0, "dkl-cat", ["--tsv", "s.ndjson"], cwd: dir.path)
        XCTAssertEqual(t.out, "id\tz[0]\tz[1]\tv\tlabel\n1\t0.5\t-2\t0.1\ta b\n2\tnan\tinf\t3\tc\n")
        try Tools.expect(0, "dkl-cat", ["-T", "--tail", "1", "--fields", "v,id", "-o", "t.tsv", "s.ndjson"], cwd: dir.path)
        XCTAssertEqual(String(decoding: try dir.read("t.tsv"), as: UTF8.self), "v\tid\n3\t2\n")
        let r = try Tools.expect(64, "dkl-cat", ["--tsv", "-J", "s.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-cat: error: --tsv writes a table: give no --ndjson or --binary\n"), r.err)
    }

    /// --merge: a k-way merge by (y, x); ties keep the inputs' order; out of order names
    /// the record; the shard attribute goes.
    func testMergeSortedInputs() throws {
        let dir = TempDir()
        let head = #"{"dkl_stream":1,"fields":[{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]},{"name":"v","dtype":"f64","shape":[]}]"#
        _ = try dir.write("a.ndjson", head + #","attrs":{"shard":"1/2","grid":[3,3]}}"# + "\n" + [(0, 0, 1), (1, 2, 2), (2, 1, 3)].map { #"{"y":\#($0.0),"x":\#($0.1),"v":\#($0.2)}"# }.joined(separator: "\n") + "\n")
        _ = try dir.write("b.ndjson", head + "}\n" + [(0, 1, 4), (1, 2, 5), (2, 2, 6)].map { #"{"y":\#($0.0),"x":\#($0.1),"v":\#($0.2)}"# }.joined(separator: "\n") + "\n")
        _ = try dir.write("c.ndjson", head + "}\n")
        let r = try Tools.expect(0, "dkl-cat", ["--merge", "y,x", "-J", "a.ndjson", "c.ndjson", "b.ndjson"], cwd: dir.path)
        let lines = r.out.split(separator: "\n")
        XCTAssertTrue(lines[0].contains(#""attrs":{"grid":[3,3]}"#), String(lines[0]))
        XCTAssertEqual(lines.dropFirst().map { try! JSONParser.parse(String($0))["v"]!.intValue! }, [1, 4, 2, 5, 3, 6])
        let swapped = try Tools.expect(0, "dkl-cat", ["--merge", "y,x", "-J", "b.ndjson", "a.ndjson"], cwd: dir.path)
        XCTAssertEqual(swapped.out.split(separator: "\n").dropFirst().map { try! JSONParser.parse(String($0))["v"]!.intValue! }, [1, 4, 5, 2, 3, 6])
        let bad = try Tools.expect(1, "dkl-cat", ["--merge", "x", "b.ndjson", "a.ndjson"], cwd: dir.path)
        XCTAssertEqual(bad.err, "dkl-cat: a.ndjson:3: out of order: merging needs every input sorted by x\n")
        try Tools.expect(1, "dkl-cat", ["--merge", "z", "a.ndjson"], cwd: dir.path)
        try Tools.expect(64, "dkl-cat", ["--merge", "y", "--head", "2", "a.ndjson"], cwd: dir.path)
    }

    /// --join: each record of the first with the second's fields of the same key; the
    /// unmatched left out (and counted); duplicate keys, shared names and disorder refused.
    func testJoinOnKeys() throws {
        let dir = TempDir()
        let yx = #"{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]}"#
        _ = try dir.write("a.ndjson", #"{"dkl_stream":1,"fields":["# + yx + #",{"name":"mean","dtype":"f64","shape":[]}],"attrs":{"model":"m.h5"}}"# + "\n" +
            [(0, 0, 1.5), (0, 2, 2.5), (1, 1, 3.5)].map { #"{"y":\#($0.0),"x":\#($0.1),"mean":\#($0.2)}"# }.joined(separator: "\n") + "\n")
        _ = try dir.write("b.ndjson", #"{"dkl_stream":1,"fields":["# + yx + #",{"name":"truth","dtype":"f32","shape":[2]}]}"# + "\n" +
            [(0, 0), (0, 1), (0, 2), (1, 0)].map { #"{"y":\#($0.0),"x":\#($0.1),"truth":[\#($0.0),\#($0.1)]}"# }.joined(separator: "\n") + "\n")
        let r = try Tools.expect(0, "dkl-cat", ["--join", "y,x", "a.ndjson", "b.ndjson", "-J"], cwd: dir.path)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].contains(#""attrs":{"model":"m.h5"}"#), lines[0])
        XCTAssertEqual(Array(lines.dropFirst()), [#"{"y":0,"x":0,"mean":1.5,"truth":[0,0]}"#, #"{"y":0,"x":2,"mean":2.5,"truth":[0,2]}"#])
        XCTAssertEqual(r.err, "dkl-cat: 1 records of a.ndjson have no partner in b.ndjson and were left out\n")
        _ = try dir.write("dup.ndjson", #"{"dkl_stream":1,"fields":["# + yx + #",{"name":"v","dtype":"f64","shape":[]}]}"# + "\n" + #"{"y":0,"x":0,"v":1}"# + "\n" + #"{"y":0,"x":0,"v":2}"# + "\n")
        let dup = try Tools.expect(1, "dkl-cat", ["--join", "y,x", "a.ndjson", "dup.ndjson"], cwd: dir.path)
        XCTAssertEqual(dup.err, "dkl-cat: dup.ndjson:2: a second record with the same key: joining needs unique keys in the second stream\n")
        let clash = try Tools.expect(1, "dkl-cat", ["--join", "y", "a.ndjson", "b.ndjson"], cwd: dir.path)
        XCTAssertEqual(clash.err, "dkl-cat: b.ndjson:header: both streams have a field 'x': keep one side's with --fields first\n")
        let fields = try Tools.expect(64, "dkl-cat", ["--join", "x", "b.ndjson", "dup.ndjson", "--fields", "y"], cwd: dir.path)
        XCTAssertTrue(fields.err.contains("give no --fields"), fields.err)
        // Sorted by (y, x) is not sorted by x.
        _ = try dir.write("c.ndjson", #"{"dkl_stream":1,"fields":[{"name":"x","dtype":"i32","shape":[]},{"name":"w","dtype":"f64","shape":[]}]}"# + "\n" + #"{"x":0,"w":1}"# + "\n")
        let order = try Tools.expect(1, "dkl-cat", ["--join", "x", "b.ndjson", "c.ndjson"], cwd: dir.path)
        XCTAssertEqual(order.err, "dkl-cat: b.ndjson:4: out of order: joining needs both streams sorted by the keys\n")
        try Tools.expect(64, "dkl-cat", ["--join", "y,x", "a.ndjson"], cwd: dir.path)
    }

    func testProvenanceIsAppendedOrSkipped() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-cat", ["--import", Tools.root + "/share/plasmon/image.npy", "-o", "a.dkl"], cwd: dir.path)
        let h = try Tools.expect(0, "dkl-cat", ["--header"], stdin: try Tools.expect(0, "dkl-cat", ["a.dkl", "--head", "3"], cwd: dir.path).stdout)
        let json = try JSONParser.parse(h.out.trimmingCharacters(in: .whitespacesAndNewlines))
        let prov = json["provenance"]!.arrayValue!
        XCTAssertEqual(prov.count, 2)
        XCTAssertEqual(prov[1]["argv"], ["a.dkl", "--head", "3"])
        XCTAssertEqual(prov[1]["tool"], "dkl-cat")
        let quiet = try Tools.expect(0, "dkl-cat", ["a.dkl", "--no-provenance", "--header"], cwd: dir.path)
        XCTAssertEqual(try JSONParser.parse(quiet.out.trimmingCharacters(in: .newlines))["provenance"]?.arrayValue?.count, 1)
    }

    /// A reader that goes away is not an error, and a closed stdout is.
    func testBrokenPipeExitsZeroQuietly() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-cat", ["--import", Tools.root + "/share/plasmon/spectra.h5:/spectra", "-o", "s.dkl"], cwd: dir.path)
        let r = try Tools.run("/bin/sh", ["-c", "'\(Tools.path("dkl-cat"))' -J s.dkl s.dkl s.dkl | head -c 100 >/dev/null; echo ${PIPESTATUS:-}"], cwd: dir.path)
        XCTAssertEqual(r.status, 0, r.report)
        let st = try Tools.run("/bin/bash", ["-c", "'\(Tools.path("dkl-cat"))' -J s.dkl s.dkl s.dkl | head -c 100 >/dev/null; echo ${PIPESTATUS[0]}"], cwd: dir.path)
        XCTAssertEqual(st.out, "0\n", st.report)
        XCTAssertEqual(st.err, "", st.report)
        let full = try Tools.run("/bin/bash", ["-c", "'\(Tools.path("dkl-cat"))' s.dkl > /dev/full"], cwd: dir.path)
        XCTAssertEqual(full.status, 1, full.report)
        XCTAssertTrue(full.err.hasPrefix("dkl-cat: <stdout>: write failed: No space left on device"), full.report)
    }

    /// A failing run leaves no output file and no temporary file.
    func testNoPartialOutputOnFailure() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-cat", ["--import", Tools.root + "/share/plasmon/image.npy", "-o", "a.dkl"], cwd: dir.path)
        let data = try dir.read("a.dkl")
        _ = try dir.write("cut.dkl", data.prefix(data.count - 100))
        try Tools.expect(1, "dkl-cat", ["a.dkl", "cut.dkl", "-o", "out.dkl"], cwd: dir.path)
        try Tools.expect(1, "dkl-cat", ["--export", "out.npy", "--field", "value", "cut.dkl"], cwd: dir.path)
        try Tools.expect(1, "dkl-cat", ["--export", "out.h5", "--field", "value", "cut.dkl"], cwd: dir.path)
        XCTAssertEqual(dir.listing(), ["a.dkl", "cut.dkl"])
    }

    /// ^C during a long write removes the temporary file and exits 130.
    func testInterruptLeavesNoPartialFile() throws {
        let dir = TempDir()
        let fifo = dir.file("in.fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.path("dkl-cat"))
        p.arguments = ["in.fifo", "-o", "out.dkl"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        p.standardError = FileHandle.nullDevice
        try p.run()
        let writer = FileHandle(forWritingAtPath: fifo)!
        let header = try Data(contentsOf: URL(fileURLWithPath: Tools.root + "/Tests/Corpus/valid.dkl")).prefix(400)
        try writer.write(contentsOf: header)
        var waited = 0
        while dir.listing().filter({ $0.hasPrefix(".out.dkl.tmp") }).isEmpty && waited < 200 { usleep(10_000); waited += 1 }
        XCTAssertFalse(dir.listing().filter { $0.hasPrefix(".out.dkl.tmp") }.isEmpty, "the temporary file exists while writing")
        p.interrupt()
        p.waitUntilExit()
        try? writer.close()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertEqual(dir.listing(), ["in.fifo"])
    }
}
