import DKL
import Foundation
import TestSupport
import XCTest

/// Seeded fuzzing of every kind of file the tools read: a valid file of each kind is
/// damaged (cut, bytes flipped, integers and numbers replaced by hostile ones, blocks
/// dropped or repeated) and given to the tool that reads it. Each run must end in exit 0
/// (the damage left a file the tool accepts) or exit 1 with a message that names the tool
/// and the file (after any notes), leave no output file and no temporary behind, and end within its time
/// limit: never a crash, a trap, a hang or another status.
///
/// `make test` tries `DKL_FUZZ_CASES` (default 60) damaged files of each kind; `make fuzz`
/// tries 520 of each (5,200 in all). `DKL_FUZZ_SEED` changes the damage.
final class FuzzTests: XCTestCase {
    /// One kind of file: a valid seed, the command(s) that read a damaged copy, and whether
    /// every cut must be refused (false where a cut can leave a shorter valid file).
    struct Kind {
        let name: String
        let ext: String
        let seed: Data
        let text: Bool
        let cutsRefused: Bool
        /// The commands that read `file`, tried in turn; each writes `out` if anything.
        let commands: [(tool: String, args: (_ file: String, _ out: String) -> [String])]
    }

    static let cases = Int(ProcessInfo.processInfo.environment["DKL_FUZZ_CASES"] ?? "") ?? 60
    static let seed = UInt64(ProcessInfo.processInfo.environment["DKL_FUZZ_SEED"] ?? "") ?? 20261202
    /// Far above any sound run's time on a loaded 2-core machine: past it, a run hangs.
    static let timeLimit: TimeInterval = 60

    func testDamagedFilesOfEveryKind() throws {
        let dir = TempDir()
        let kinds = try makeKinds(dir)
        XCTAssertEqual(kinds.count, 15)
        var totals = (cases: 0, rejected: 0, accepted: 0, crashes: 0, hangs: 0)
        // DKL_FUZZ_KINDS=a,b tries only those kinds (their cases are the same as in a whole run).
        let only = ProcessInfo.processInfo.environment["DKL_FUZZ_KINDS"].map { Set($0.split(separator: ",").map(String.init)) }
        for (n, kind) in kinds.enumerated() where only?.contains(kind.name) ?? true {
            let t = try fuzz(kind, count: FuzzTests.cases, seed: FuzzTests.seed &+ UInt64(n), dir: dir)
            print("fuzz \(kind.name): \(t.cases) cases, \(t.rejected) rejected, \(t.accepted) accepted, \(t.crashes) crashes, \(t.hangs) hangs")
            totals = (totals.cases + t.cases, totals.rejected + t.rejected, totals.accepted + t.accepted, totals.crashes + t.crashes, totals.hangs + t.hangs)
        }
        print("fuzz: \(totals.cases) cases, \(totals.rejected) rejected, \(totals.accepted) accepted, \(totals.crashes) crashes, \(totals.hangs) hangs")
        XCTAssertEqual(totals.crashes, 0)
        XCTAssertEqual(totals.hangs, 0)
        XCTAssertEqual(totals.cases, (only?.count ?? kinds.count) * FuzzTests.cases)
        XCTAssertEqual(dir.listing().filter { $0.contains(".tmp-") }, [], "no temporary files left")
    }

    /// Hostile values for every option that takes one, of every tool (read from its
    /// --help): NaN, infinities, ±1e308, -1, 0, 2^31, 2^63, a 20-digit number, a subnormal,
    /// "", a word, a comma, "1:2:3", "0x10". Each run ends in exit 0, 1 or 64 with the tool's
    /// name on its message, within the time limit. `make test` tries a seeded sample of
    /// 150 of the 4,122 pairs, `make fuzz` 1,500 (DKL_FUZZ_OPTIONS=all tries them all).
    func testHostileOptionValues() throws {
        let dir = TempDir()
        let share = Tools.root + "/share/plasmon/"
        _ = try Tools.python("import numpy as np; np.save('img.npy', np.random.default_rng(1).normal(size=(12, 12)).astype('f4'))", cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "3", "img.npy", "-o", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "img.npy", "--field", "v", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["-t", "t.dkl", "-n", "5", "--ensemble", "1", "--hidden", "8", "-e", "2", "-o", "m.h5", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-predict", ["-m", "m.h5", "p.dkl", "-o", "pred.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "30", "--steps", "10", "-o", "traj.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-explore", ["--oracle", "img.npy", "--extractor", "none", "-w", "1", "--init", "4", "--steps", "1", "--iterations", "5",
                                            "--ensemble", "1", "--trace", "base.ndjson", "img.npy"], cwd: dir.path)
        let bases: [(String, [String])] = [
            ("dkl-patches", ["-w", "5", "img.npy", "-o", "out.dkl"]),
            ("dkl-scalarize", ["-S", "gap=integral:1.35:2.05", share + "spectra.h5:/spectra", "-o", "out.dkl"]),
            ("dkl-train", ["-t", "t.dkl", "-n", "3", "--ensemble", "1", "--hidden", "8", "-e", "2", "-o", "out.h5", "p.dkl"]),
            ("dkl-predict", ["-m", "m.h5", "p.dkl", "-o", "out.dkl"]),
            ("dkl-acquire", ["--measured", "m.h5", "pred.dkl", "-o", "out.dkl"]),
            ("ferrosim", ["-n", "6", "-T", "20", "-o", "out.dkl"]),
            ("vae-encode", ["train", "--epochs", "1", "--encoder-hidden", "8", "--decoder-hidden", "8", "-o", "out.h5", "traj.dkl"]),
            ("dkl-explore", ["--oracle", "img.npy", "--extractor", "none", "-w", "1", "--init", "4", "--steps", "1", "--iterations", "5", "--ensemble", "1",
                             "--trace", "tr.ndjson", "img.npy"]),
            ("dkl-replay", ["--oracle", "img.npy", "--trace", "base.ndjson", "--extractor", "none", "-w", "1", "--iterations", "5", "--ensemble", "1", "img.npy"]),
            ("dkl-synth", ["trajectories", "-n", "10", "--steps", "10", "-o", "out.dkl"]),
            ("dkl-cat", ["p.dkl", "-o", "out.dkl"]),
            ("dkl-plot", ["map", "-o", "out.png", "img.npy"]),
            ("dkl-twin", ["img.npy"]),   // no requests: it serves nothing and ends
            ("dkl-fit", ["--inputs", "y,x", "--target", "v", "--kernel", "none", "--mean", "a + b*y", "--param", "a=normal:0,1", "--param", "b=normal:0,1",
                         "-o", "out.h5", "t.dkl"]),
        ]
        let values = ["nan", "inf", "-inf", "-1", "0", "1e308", "-1e308", "99999999999999999999", "", "1e-320", "2147483648",
                      "9223372036854775807", "x", "1:2:3", "0:0", "nan:nan", ",", "0x10"]
        var pairs: [(tool: String, args: [String])] = []
        for (tool, base) in bases {
            try Tools.expect(0, tool, base, cwd: dir.path)   // each base command runs as it is
            let help = try Tools.expect(0, tool, ["--help"], cwd: dir.path).out
            let options = Set(help.split(separator: "\n").compactMap { line -> String? in
                guard let r = line.range(of: #"--[a-z][a-z0-9-]* [A-Z]"#, options: .regularExpression) else { return nil }
                return String(line[r].dropFirst(2).split(separator: " ")[0])
            }).sorted()
            XCTAssertGreaterThan(options.count, 2, tool)
            for o in options { for v in values { pairs.append((tool, base + ["--" + o, v])) } }
        }
        XCTAssertGreaterThan(pairs.count, 3000)
        var rng = SystemRandomNumberGeneratorSeeded(seed: FuzzTests.seed)
        // DKL_FUZZ_OPTIONS: "all", or how many pairs to draw (default 150).
        let setting = ProcessInfo.processInfo.environment["DKL_FUZZ_OPTIONS"] ?? "150"
        if setting != "all" {
            pairs = (0..<(Int(setting) ?? 150)).map { _ in pairs[Int(rng.next() % UInt64(pairs.count))] }
        }
        let results = UnsafeMutableBufferPointer<RunResult?>.allocate(capacity: pairs.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let shared = results
        let all = pairs, cwd = dir.path
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for i in stride(from: lane, to: all.count, by: 2) { shared[i] = try? Tools.run(all[i].tool, all[i].args, cwd: cwd, timeout: FuzzTests.timeLimit) }
        }
        var tally = [Int32: Int](), problems: [String] = []
        for (i, pair) in pairs.enumerated() {
            let label = "\(pair.tool) \(pair.args.suffix(2).map { "'\($0)'" }.joined(separator: " "))"
            guard let r = results[i] else { problems.append("\(label): did not run"); continue }
            if r.timedOut { problems.append("\(label): no end within \(FuzzTests.timeLimit) s"); continue }
            if r.signaled { problems.append("\(label): killed by signal \(r.status)"); continue }
            tally[r.status, default: 0] += 1
            if ![0, 1, 64].contains(r.status) { problems.append("\(label): exit status \(r.status)") }
            let lines = r.err.split(separator: "\n")
            if r.status == 64 && !(lines.first ?? "").hasPrefix("\(pair.tool): error: ") { problems.append("\(label): usage error without the tool's name: \(r.err.prefix(300))") }
            if r.status == 1 && !(lines.last ?? "").hasPrefix("\(pair.tool): ") { problems.append("\(label): error without the tool's name: \(r.err.prefix(300))") }
        }
        print("fuzz options: \(pairs.count) cases, \(tally[64] ?? 0) usage errors, \(tally[1] ?? 0) errors, \(tally[0] ?? 0) accepted, "
              + "\(problems.filter { $0.contains("signal") }.count) crashes, \(problems.filter { $0.contains("no end") }.count) hangs")
        for p in problems.prefix(20) { XCTFail(p) }
    }

    /// The harness can fail: a tool that crashes (a run killed by SIGSEGV), a hang and a
    /// message without the file's name are each counted or reported.
    func testTheHarnessSeesCrashesHangsAndNamelessMessages() throws {
        let dir = TempDir()
        _ = try dir.write("x.bin", Data([1, 2, 3, 4]))
        let crash = Kind(name: "crash", ext: "bin", seed: Data([1, 2, 3, 4]), text: false, cutsRefused: false,
                         commands: [("/bin/sh", { _, _ in ["-c", "kill -SEGV $$"] })])
        XCTAssertEqual(try fuzz(crash, count: 3, seed: 1, dir: dir, record: false).crashes, 3)
        let hang = Kind(name: "hang", ext: "bin", seed: Data([1, 2, 3, 4]), text: false, cutsRefused: false,
                        commands: [("/bin/sleep", { _, _ in ["30"] })])
        XCTAssertEqual(try fuzz(hang, count: 1, seed: 1, dir: dir, limit: 0.5, record: false).hangs, 1)
        let nameless = Kind(name: "nameless", ext: "bin", seed: Data([1, 2, 3, 4]), text: false, cutsRefused: false,
                            commands: [("/bin/sh", { _, _ in ["-c", "echo 'sh: damaged' >&2; exit 1"] })])
        let t = try fuzz(nameless, count: 2, seed: 1, dir: dir, record: false)
        XCTAssertEqual(t.problems.count, 2, "\(t.problems)")
        XCTAssertTrue(t.problems.allSatisfy { $0.contains("does not name the file") }, "\(t.problems)")
    }

    // MARK: - The harness

    struct Tally {
        var cases = 0, rejected = 0, accepted = 0, crashes = 0, hangs = 0
        var problems: [String] = []
    }

    /// Damages `kind.seed` `count` times and runs each copy, two at a time.
    func fuzz(_ kind: Kind, count: Int, seed: UInt64, dir: TempDir, limit: TimeInterval = FuzzTests.timeLimit,
              record: Bool = true) throws -> Tally {
        var rng = SystemRandomNumberGeneratorSeeded(seed: seed)
        struct Job { let file: String; let out: String; let tool: String; let args: [String]; let cut: Bool; let what: String }
        var jobs: [Job] = []
        for k in 0..<count {
            let (data, what) = Damage.apply(to: kind.seed, text: kind.text, rng: &rng)
            let file = "\(kind.name)-\(k).\(kind.ext)"
            _ = try dir.write(file, data)
            let command = kind.commands[k % kind.commands.count]
            let out = "\(kind.name)-\(k).out"
            jobs.append(Job(file: file, out: out, tool: command.tool, args: command.args(file, out), cut: what.hasPrefix("cut"), what: what))
        }
        let results = UnsafeMutableBufferPointer<RunResult?>.allocate(capacity: jobs.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let shared = results
        let commands = jobs.map { ($0.tool, $0.args) }, cwd = dir.path
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for i in stride(from: lane, to: commands.count, by: 2) {
                shared[i] = try? Tools.run(commands[i].0, commands[i].1, cwd: cwd, timeout: limit)
            }
        }
        var t = Tally()
        for (i, job) in jobs.enumerated() {
            t.cases += 1
            let label = "\(kind.name) \(job.file) (\(job.what))"
            guard let r = results[i] else { t.problems.append("\(label): did not run"); continue }
            // A file that shows a problem is kept for the next look, with its command, in .build/fuzz-failures.
            let before = t.problems.count
            defer {
                if t.problems.count > before {
                    let kept = Tools.root + "/.build/fuzz-failures"
                    try? FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
                    try? FileManager.default.removeItem(atPath: kept + "/" + job.file)
                    try? FileManager.default.copyItem(atPath: dir.file(job.file), toPath: kept + "/" + job.file)
                    try? ([job.tool] + job.args).joined(separator: " ").write(toFile: kept + "/" + job.file + ".command", atomically: true, encoding: .utf8)
                }
            }
            if r.timedOut { t.hangs += 1; t.problems.append("\(label): no end within \(limit) s (kept in .build/fuzz-failures)"); continue }
            if r.signaled {
                t.crashes += 1
                t.problems.append("\(label): killed by signal \(r.status) (kept in .build/fuzz-failures): \(r.err.suffix(600))")
                continue
            }
            if r.status == 0 {
                t.accepted += 1
                if job.cut && kind.cutsRefused { t.problems.append("\(label): a cut file was accepted") }
                continue
            }
            t.rejected += 1
            let tool = (job.tool as NSString).lastPathComponent
            let lines = r.err.split(separator: "\n")
            if r.status != 1 { t.problems.append("\(label): exit status \(r.status): \(r.err)") }
            // Notes may come first (each a line naming the tool); the error is the last line.
            if lines.isEmpty || !lines.allSatisfy({ $0.hasPrefix("\(tool): ") }) { t.problems.append("\(label): not lines naming the tool: \(r.err.prefix(600))") }
            if !(lines.last ?? "").contains(job.file) { t.problems.append("\(label): the message does not name the file: \(r.err.prefix(300))") }
            if dir.exists(job.out) { t.problems.append("\(label): an output file was left by a failed run") }
        }
        if record {
            for p in t.problems.prefix(20) { XCTFail(p) }
            if t.problems.count > 20 { XCTFail("\(kind.name): \(t.problems.count - 20) more problems") }
        }
        return t
    }

    // MARK: - The kinds

    func makeKinds(_ dir: TempDir) throws -> [Kind] {
        let root = Tools.root
        func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
        // Inputs the commands need beside the damaged file.
        _ = try Tools.python("""
            import h5py, numpy as np
            rng = np.random.default_rng(7)
            np.save('img.npy', rng.normal(size=(12, 12)).astype('f4'))
            np.save('truth.npy', rng.normal(size=(10, 10)))
            with h5py.File('image.h5', 'w') as f:
                d = f.create_dataset('image', data=rng.normal(size=(16, 16)).astype('f4'), chunks=(8, 8), compression='gzip')
                d.attrs['units'] = 'nm'; d.attrs['scale'] = 0.25; d.attrs['names'] = ['a', 'bb']
                f.create_dataset('flat', data=np.arange(20.))
                f.attrs['title'] = 'a survey image'
            with h5py.File('usid.h5', 'w') as f:
                g = f.create_group('Measurement_000/Channel_000')
                d = g.create_dataset('Raw_Data', data=rng.normal(size=(6, 4)))
                d.attrs['quantity'] = 'Current'; d.attrs['units'] = 'nA'
                g['Position_Indices'] = np.array([[y, x] for y in range(2) for x in range(3)], dtype='u4')
                g['Position_Values'] = np.array([[y, x] for y in range(2) for x in range(3)], dtype='f8')
                g['Spectroscopic_Indices'] = np.arange(4, dtype='u4').reshape(1, 4)
                g['Spectroscopic_Values'] = np.linspace(-1, 1, 4).reshape(1, 4)
            """, cwd: dir.path)
        // Small seeds cut from the real scanning-probe files, so that damage lands in their
        // headers: a Nanonis grid of 3 × 2 points, an Igor wave of 8 × 8 × 6 channels (its note,
        // units and labels kept).
        _ = try Tools.python("""
            import struct, numpy as np
            raw = open('\(root)/Tests/Fixtures/spm/STS_grid_lockin.3ds', 'rb').read()
            h = raw.index(b':HEADER_END:') + 14
            head = raw[:h].replace(b'Grid dim="30 x 30"', b'Grid dim="3 x 2"')
            open('grid.3ds', 'wb').write(head + raw[h:h + 6 * 810 * 4])
            raw = open('\(root)/Tests/Fixtures/spm/scan_0001.ibw', 'rb').read()
            bh = list(struct.unpack('<hhiiii4i4iiii', raw[:64])); wh = bytearray(raw[64:384])
            data = np.frombuffer(raw[384:384 + 256 * 256 * 6 * 4], '<f4').reshape(6, 256, 256)
            small = np.ascontiguousarray(data[:, :8, :8]); rest = raw[64 + bh[2]:64 + bh[2] + sum(bh[3:17])]   # without Asylum's trailer
            wh[12:16] = struct.pack('<i', small.size); wh[68:84] = struct.pack('<4i', 8, 8, 6, 0)
            bh[2] = 320 + small.nbytes; bh[1] = 0
            words = np.frombuffer(struct.pack('<hhiiii4i4iiii', *bh) + bytes(wh), '<i2').astype(np.int64).sum()
            bh[1] = int((-words + 32768) % 65536 - 32768)
            open('scan.ibw', 'wb').write(struct.pack('<hhiiii4i4iiii', *bh) + bytes(wh) + small.tobytes() + rest)
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "scan.ibw:HeightRetrace", "-o", "scan.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "grid.3ds:LockinX", "-o", "grid.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "3", "img.npy", "-o", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "img.npy", "--field", "v", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["-t", "t.dkl", "-n", "10", "--ensemble", "2", "--hidden", "8", "-e", "2", "-o", "model.h5", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-predict", ["-m", "model.h5", "p.dkl", "-o", "pred.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "60", "--steps", "20", "-o", "traj.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train", "--epochs", "2", "--encoder-hidden", "8", "--decoder-hidden", "8", "-q", "-o", "vae.h5", "traj.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["encode", "-m", "vae.h5", "traj.dkl", "-o", "z.dkl"], cwd: dir.path)
        // A ferrosim checkpoint of 12 of the 40 histories (what a killed run leaves): the
        // -J output's header with the command's signature, and its first 12 records.
        let ferro = ["-n", "6", "-T", "40", "--sweep", "k=0.5:1.5:40", "-j", "1"]
        let full = try Tools.expect(0, "ferrosim", ferro + ["-J"], cwd: dir.path).out.split(separator: "\n").map(String.init)
        var header = try JSONParser.parse(full[0])
        var attrs = header["attrs"] ?? .object([])
        attrs.set("checkpoint_signature", .string(["-n", "6", "-T", "40", "--sweep", "k=0.5:1.5:40"].joined(separator: "\u{1F}")))
        header.set("attrs", attrs)
        let checkpoint = ([header.text] + full[1...12]).joined(separator: "\n") + "\n"
        // A trace of 4 initial points and 2 steps, continued to 3 steps by the fuzzed command.
        let explore = ["--oracle", "truth.npy", "--extractor", "none", "-w", "1", "--init", "4", "--ensemble", "1", "--iterations", "15", "-j", "1"]
        try Tools.expect(0, "dkl-explore", explore + ["--steps", "2", "--trace", "trace.ndjson", "truth.npy"], cwd: dir.path)
        return [
            Kind(name: "stream", ext: "dkl", seed: try read(root + "/Tests/Corpus/valid.dkl"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, _ in ["--check", f] })]),
            Kind(name: "ndjson", ext: "ndjson", seed: try read(root + "/Tests/Corpus/valid.ndjson"), text: true, cutsRefused: false,
                 commands: [("dkl-cat", { f, _ in ["--check", f] })]),
            Kind(name: "npy", ext: "npy", seed: try read(root + "/Tests/Fixtures/npy/f8_be_f.npy"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, o in ["--import", f, "-o", o] }), ("dkl-patches", { f, o in ["-w", "3", f, "-o", o] })]),
            Kind(name: "hdf5", ext: "h5", seed: try dir.read("image.h5"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, o in ["--import", f + ":/image", "-o", o] }), ("dkl-plot", { f, o in ["map", "-o", o, f + ":/image"] })]),
            Kind(name: "dm", ext: "dm4", seed: try read(root + "/Tests/Fixtures/dm/EELS_STO.dm4"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, o in ["--import", f, "-o", o] }), ("dkl-scalarize", { f, o in ["-S", "integral:400:500", f, "-o", o] })]),
            Kind(name: "velox", ext: "emd", seed: try read(root + "/Tests/Fixtures/velox/fei_emd_si.emd"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, _ in ["--list", f] }), ("dkl-scalarize", { f, o in ["-S", "integral:0:10", f + ":EDS", "-o", o] })]),
            Kind(name: "nanonis-grid", ext: "3ds", seed: try dir.read("grid.3ds"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, _ in ["--list", f] }), ("dkl-scalarize", { f, o in ["-S", "mean:-0.1:0.1", f + ":LockinX", "-o", o] }),
                            ("dkl-cat", { f, o in ["--import", f + ":Z", "-o", o] })]),
            Kind(name: "nanonis-spectrum", ext: "dat", seed: try read(root + "/Tests/Fixtures/spm/Bias-Spectroscopy041.dat"), text: true, cutsRefused: false,
                 commands: [("dkl-cat", { f, _ in ["--list", f] }), ("dkl-cat", { f, o in ["--import", f + ":Current", "-o", o] })]),
            Kind(name: "igor", ext: "ibw", seed: try dir.read("scan.ibw"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, _ in ["--list", f] }), ("dkl-patches", { f, o in ["-w", "3", f + ":HeightRetrace", "-o", o] })]),
            Kind(name: "hyperspy", ext: "hspy", seed: try read(root + "/Tests/Fixtures/hspy/uneven.hspy"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, _ in ["--list", f] }), ("dkl-cat", { f, o in ["--import", f, "-o", o] })]),
            Kind(name: "usid", ext: "h5", seed: try dir.read("usid.h5"), text: false, cutsRefused: true,
                 commands: [("dkl-cat", { f, o in ["--import", f, "-o", o] })]),
            Kind(name: "dkl-model", ext: "h5", seed: try dir.read("model.h5"), text: false, cutsRefused: true,
                 commands: [("dkl-predict", { f, o in ["-m", f, "p.dkl", "-o", o] }),
                            ("dkl-train", { f, o in ["--init", f, "-t", "t.dkl", "-n", "3", "--ensemble", "2", "--hidden", "8", "-e", "2", "-o", o, "p.dkl"] }),
                            ("dkl-acquire", { f, o in ["--measured", f, "pred.dkl", "-o", o] })]),
            Kind(name: "vae-model", ext: "h5", seed: try dir.read("vae.h5"), text: false, cutsRefused: true,
                 commands: [("vae-encode", { f, o in ["encode", "-m", f, "traj.dkl", "-o", o] }),
                            ("vae-encode", { f, o in ["decode", "-m", f, "--field", "mean", "z.dkl", "-o", o] }),
                            ("vae-encode", { f, o in ["decode", "-m", f, "--grid", "3x4", "-o", o] })]),
            Kind(name: "ferrosim-checkpoint", ext: "ndjson", seed: Data(checkpoint.utf8), text: true, cutsRefused: false,
                 commands: [("ferrosim", { f, o in ferro + ["--checkpoint", f, "-o", o] })]),
            Kind(name: "trace", ext: "ndjson", seed: try dir.read("trace.ndjson"), text: true, cutsRefused: false,
                 commands: [("dkl-explore", { f, _ in explore + ["--steps", "3", "--resume", f, "truth.npy"] })]),
        ]
    }
}

/// The damage done to a file: a cut, flipped bytes, a hostile integer written over a few
/// bytes, a number token replaced (text), a block dropped or repeated.
enum Damage {
    /// Little-endian patterns that break size and offset arithmetic.
    static let integers: [UInt64] = [0, 1, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 40, 1 << 62, 0x7FFF_FFFF_FFFF_FFFF,
                                     0xFFFF_FFFF_FFFF_FFFF, 0x7FF8_0000_0000_0000 /* NaN */, 0x7FF0_0000_0000_0000 /* inf */]
    /// Numbers (and non-numbers) that break a text format's readers.
    static let tokens = ["0", "-1", "1e308", "-1e308", "1e-320", "NaN", "null", "9223372036854775808", "-9223372036854775809",
                         "2.5", "1e30", "4294967296", "\"x\"", "[]", "{}", "true", "-0", "65536"]

    static func apply(to seed: Data, text: Bool, rng: inout SystemRandomNumberGeneratorSeeded) -> (Data, String) {
        var d = [UInt8](seed)
        func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }
        /// Positions in the first 4 KiB (headers, superblocks, object headers) seven times in ten.
        func position() -> Int { below(rng.next() % 10 < 7 ? min(d.count, 4096) : d.count) }
        switch rng.next() % 10 {
        case 0, 1:
            let n = below(d.count)
            return (Data(d.prefix(n)), "cut at \(n)")
        case 2, 3, 4:
            var at: [Int] = []
            for _ in 0..<(1 + below(4)) {
                let i = position()
                d[i] ^= UInt8(1 + below(255))
                at.append(i)
            }
            return (Data(d), "bytes flipped at \(at)")
        case 5, 6:
            if text, let (range, token) = numberToken(d, &rng) {
                let new = tokens[below(tokens.count)]
                d.replaceSubrange(range, with: Array(new.utf8))
                return (Data(d), "number \(token) at \(range.lowerBound) replaced by \(new)")
            }
            let v = integers[below(integers.count)], width = [1, 2, 4, 8][below(4)], i = position()
            for b in 0..<width where i + b < d.count { d[i + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(b))) }
            return (Data(d), "\(width)-byte integer \(String(v, radix: 16)) written at \(i)")
        default:
            let i = position(), n = 1 + below(64)
            let block = Array(d[i..<min(d.count, i + n)])
            if rng.next() % 2 == 0 {
                d.removeSubrange(i..<min(d.count, i + n))
                return (Data(d), "\(block.count) bytes dropped at \(i)")
            }
            d.insert(contentsOf: block, at: i)
            return (Data(d), "\(block.count) bytes repeated at \(i)")
        }
    }

    /// A random number token of a JSON text (after ':', ',' or '[').
    static func numberToken(_ d: [UInt8], _ rng: inout SystemRandomNumberGeneratorSeeded) -> (Range<Int>, String)? {
        var starts: [Int] = []
        for i in 1..<max(d.count, 1) where [0x3A, 0x2C, 0x5B].contains(d[i - 1]) && (d[i] == 0x2D || (0x30...0x39).contains(d[i])) {
            starts.append(i)
        }
        guard !starts.isEmpty else { return nil }
        let s = starts[Int(rng.next() % UInt64(starts.count))]
        var e = s + 1
        while e < d.count, "0123456789.eE+-".utf8.contains(d[e]) { e += 1 }
        return (s..<e, String(decoding: d[s..<e], as: UTF8.self))
    }
}
