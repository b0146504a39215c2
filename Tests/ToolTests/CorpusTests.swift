import Foundation
import TestSupport
import XCTest

/// The bad-input corpus (Tests/Corpus, made by make_corpus.py): each file's exit status
/// and exact message are pinned in expected.tsv.
final class CorpusTests: XCTestCase {
    let corpus = Tools.root + "/Tests/Corpus"

    struct Case { let args: [String]; let status: Int32; let message: String }

    var cases: [Case] {
        get throws {
            try String(contentsOfFile: corpus + "/expected.tsv", encoding: .utf8).split(separator: "\n").map { line in
                let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                return Case(args: cols[0].split(separator: " ").map(String.init), status: Int32(cols[1])!, message: cols.count > 2 ? cols[2] : "")
            }
        }
    }

    func testEveryCorpusFileHasItsPinnedStatusAndMessage() throws {
        if ProcessInfo.processInfo.environment["DKL_UPDATE_GOLDEN"] != nil {
            let r = try Tools.run("/bin/sh", [corpus + "/make_expected.sh", Tools.binDir])
            XCTFail("rewrote Tests/Corpus/expected.tsv (status \(r.status)): review the diff, then run again without DKL_UPDATE_GOLDEN")
            return
        }
        let all = try cases
        XCTAssertGreaterThanOrEqual(all.count, 28)
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { !$0.hasSuffix(".py") && !$0.hasSuffix(".tsv") && !$0.hasSuffix(".sh") }
        XCTAssertEqual(Set(files), Set(all.map { $0.args[1].components(separatedBy: ":")[0] }), "every corpus file is pinned")
        XCTAssertEqual(try mismatches(all), [])
    }

    /// The pin comparison: one line per case whose run differs from its pin (a signal, the
    /// exit status, the message, or output on failure).
    func mismatches(_ cases: [Case]) throws -> [String] {
        var out: [String] = []
        for c in cases {
            let r = try Tools.run("dkl-cat", c.args, cwd: corpus)
            let name = c.args.joined(separator: " ")
            if r.signaled { out.append("\(name): killed by a signal") }
            if r.status != c.status { out.append("\(name): status \(r.status), pinned \(c.status)") }
            if r.err != (c.message.isEmpty ? "" : c.message + "\n") { out.append("\(name): message \(r.err.debugDescription), pinned \(c.message.debugDescription)") }
            if c.status != 0 && !r.out.isEmpty { out.append("\(name): output on failure") }
        }
        return out
    }

    /// `--check` rejects every corpus file but the valid ones, whatever the file is.
    func testCheckRejectsEveryDefect() throws {
        for c in try cases {
            let file = c.args[1].components(separatedBy: ":")[0]
            let r = try Tools.run("dkl-cat", ["--check", file], cwd: corpus)
            XCTAssertEqual(r.status, file.hasPrefix("valid") ? 0 : 1, r.report)
            XCTAssertEqual(r.err.split(separator: "\n").count, file.hasPrefix("valid") ? 0 : 1, r.report)
        }
    }

    /// The harness can fail: the real pin comparison with one message and one status
    /// altered reports exactly those two cases, and nothing else.
    func testNegativeControl() throws {
        var altered = try cases
        let (m, st) = (altered.firstIndex { $0.status != 0 }!, altered.lastIndex { $0.status != 0 }!)
        XCTAssertNotEqual(m, st)
        altered[m] = Case(args: altered[m].args, status: altered[m].status, message: altered[m].message + " (altered)")
        altered[st] = Case(args: altered[st].args, status: altered[st].status == 1 ? 2 : 1, message: altered[st].message)
        let same = altered.indices.first { $0 != m && $0 != st }!
        let found = try mismatches([altered[m], altered[st], altered[same]])
        XCTAssertEqual(found.count, 2, found.joined(separator: "\n"))
        XCTAssertTrue(found[0].contains("pinned \"" ) && found[0].hasPrefix(altered[m].args.joined(separator: " ")), found[0])
        XCTAssertTrue(found[1].contains("status") && found[1].hasPrefix(altered[st].args.joined(separator: " ")), found[1])
    }
}

/// A SplitMix64 generator, seeded, for the fuzz test's choices.
struct SystemRandomNumberGeneratorSeeded: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
