import Foundation
import TestSupport
import XCTest

/// Runs every EXAMPLES block of every man page, in order, in one temporary directory per
/// page (with share/ linked in and the built tools first on PATH). Lines starting with
/// `$ ` are commands (a `<<'EOF'` here-document continues to its EOF line); the lines
/// after a command, if any, are its exact expected output.
final class ManExamplesTests: XCTestCase {
    struct Example { var command: String; var expected: [String] }

    static func examples(_ page: String) -> [Example] {
        var out: [Example] = []
        var inExamples = false, inBlock = false
        var heredoc = false
        for raw in page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix(".SH") { inExamples = raw.contains("EXAMPLES"); continue }
            guard inExamples else { continue }
            if raw.hasPrefix(".EX") { inBlock = true; continue }
            if raw.hasPrefix(".EE") { inBlock = false; continue }
            guard inBlock else { continue }
            let line = unroff(raw)
            if heredoc {
                out[out.count - 1].command += "\n" + line
                if line == "EOF" { heredoc = false }
            } else if line.hasPrefix("$ ") {
                out.append(Example(command: String(line.dropFirst(2)), expected: []))
                heredoc = line.contains("<<'EOF'")
            } else if !out.isEmpty {
                out[out.count - 1].expected.append(line)
            }
        }
        return out
    }

    /// Undoes the roff escapes used in example blocks.
    static func unroff(_ s: String) -> String {
        s.replacingOccurrences(of: "\\e", with: "\\").replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\&", with: "")
    }

    func runPage(_ name: String) throws {
        let page = try String(contentsOfFile: Tools.root + "/man/" + name, encoding: .utf8)
        let examples = ManExamplesTests.examples(page)
        XCTAssertFalse(examples.isEmpty, "\(name) has no examples")
        let dir = TempDir()
        try FileManager.default.createSymbolicLink(atPath: dir.file("share"), withDestinationPath: Tools.root + "/share")
        // The source tree's test fixtures (real instrument files), as from the repository's root.
        try FileManager.default.createDirectory(atPath: dir.file("Tests"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.file("Tests/Fixtures"), withDestinationPath: Tools.root + "/Tests/Fixtures")
        let path = Tools.binDir + ":" + (Tools.python.map { ($0 as NSString).deletingLastPathComponent + ":" } ?? "")
            + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        for ex in examples {
            let r = try Tools.run("/bin/sh", ["-c", ex.command], cwd: dir.path, env: ["PATH": path])
            XCTAssertEqual(r.status, 0, "\(name): \(r.report)")
            if !ex.expected.isEmpty {
                XCTAssertEqual(r.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
                               ex.expected + [""], "\(name): \(ex.command)")
            }
        }
    }

    func testDklStream5() throws { try runPage("man5/dkl-stream.5") }
    func testDklFormats5() throws { try runPage("man5/dkl-formats.5") }
    func testDklInstrument7() throws { try runPage("man7/dkl-instrument.7") }
    func testDklTwin1() throws { try runPage("man1/dkl-twin.1") }
    func testDklFit1() throws { try runPage("man1/dkl-fit.1") }
    func testDklAcquire1() throws { try runPage("man1/dkl-acquire.1") }
    func testDklCat1() throws { try runPage("man1/dkl-cat.1") }
    func testDklExplore1() throws { try runPage("man1/dkl-explore.1") }
    func testDklPatches1() throws { try runPage("man1/dkl-patches.1") }
    func testDklPlot1() throws { try runPage("man1/dkl-plot.1") }
    func testDklPredict1() throws { try runPage("man1/dkl-predict.1") }
    func testDklReplay1() throws { try runPage("man1/dkl-replay.1") }
    func testVaeEncode1() throws { try runPage("man1/vae-encode.1") }
    func testDklScalarize1() throws { try runPage("man1/dkl-scalarize.1") }
    func testDklSynth1() throws { try runPage("man1/dkl-synth.1") }
    func testDklTrain1() throws { try runPage("man1/dkl-train.1") }
    func testFerrosim1() throws { try runPage("man1/ferrosim.1") }

    /// Every tool in Package.swift has a man page with EXIT STATUS and EXAMPLES, tested above.
    func testEveryToolHasAManPageWithExitStatusAndExamples() throws {
        let manifest = try String(contentsOfFile: Tools.root + "/Package.swift", encoding: .utf8)
        let list = manifest.components(separatedBy: "let tools = [")[1].components(separatedBy: "]")[0]
        let tools = list.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"\n")) }
        XCTAssertGreaterThanOrEqual(tools.count, 2)
        for t in tools {
            let page = try String(contentsOfFile: Tools.root + "/man/man1/\(t).1", encoding: .utf8)
            XCTAssertTrue(page.contains(".SH EXIT STATUS"), t)
            XCTAssertTrue(page.contains(".SH EXAMPLES"), t)
            let test = "test" + t.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "1"
            XCTAssertTrue(ManExamplesTests.allTestNames.contains(test), "no \(test) runs the examples of \(t)(1)")
        }
    }

    /// Every tool's page has all the sections, and documents every option its --help lists.
    func testManPagesAreComplete() throws {
        let manifest = try String(contentsOfFile: Tools.root + "/Package.swift", encoding: .utf8)
        let list = manifest.components(separatedBy: "let tools = [")[1].components(separatedBy: "]")[0]
        for t in list.split(separator: ",").map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"\n")) }) {
            let page = try String(contentsOfFile: Tools.root + "/man/man1/\(t).1", encoding: .utf8)
            for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"] {
                XCTAssertTrue(page.contains("\n.SH \(section)\n"), "\(t)(1) has no \(section)")
            }
            let help = try Tools.expect(0, t, ["--help"]).out
            let options = Set(help.split(separator: "\n").flatMap { line in
                line.split(separator: " ").filter { $0.hasPrefix("--") && $0.count > 2 }
                    .map { "--" + String($0.dropFirst(2).prefix { $0.isLetter || $0.isNumber || $0 == "-" }) }
            })
            XCTAssertGreaterThan(options.count, 5, t)
            for o in options {
                XCTAssertTrue(page.contains(o.replacingOccurrences(of: "-", with: "\\-")), "\(t)(1) does not document \(o)")
            }
        }
    }

    /// Every page passes mandoc's lint at every level (style included).
    func testManPagesLintClean() throws {
        let pages = try FileManager.default.subpathsOfDirectory(atPath: Tools.root + "/man").filter { $0.hasSuffix(".1") || $0.hasSuffix(".5") || $0.hasSuffix(".7") }
        XCTAssertGreaterThan(pages.count, 12)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mandoc") else { return XCTFail("no mandoc (apt-get install mandoc)") }
        for page in pages {
            let r = try Tools.run("/usr/bin/mandoc", ["-T", "lint", Tools.root + "/man/" + page])
            XCTAssertEqual(r.status, 0, r.report)
            XCTAssertEqual(r.out + r.err, "", page)
        }
    }

    static let allTestNames = ["testDklAcquire1", "testDklCat1", "testDklExplore1", "testDklFit1", "testDklPatches1", "testDklPlot1", "testDklPredict1", "testDklReplay1", "testDklScalarize1", "testDklSynth1", "testDklTrain1", "testDklTwin1", "testFerrosim1", "testVaeEncode1"]
}
