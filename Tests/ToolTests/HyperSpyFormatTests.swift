import DKL
import Foundation
import TestSupport
import XCTest

/// HyperSpy's own files (Tests/Fixtures/hspy, written by HyperSpy from the real SrTiO3
/// files): each signal by its title, every value as HyperSpy loads it back, the axes'
/// calibrations (uniform and uneven) in the attributes and the tools.
final class HyperSpyFormatTests: XCTestCase {
    static let dir = Tools.root + "/Tests/Fixtures/hspy/"

    func testEveryValueAndTheAxes() throws {
        let si = try ArrayFile.open(HyperSpyFormatTests.dir + "si_eels.hspy")
        XCTAssertEqual(si.shape, [8, 6, 1024])
        XCTAssertEqual(try si.readAll(), try ArrayFile.open(HyperSpyFormatTests.dir + "si_eels.npy").readAll())
        // The same values as the first 8 rows of the DM file HyperSpy read, through the toolkit's DM reader.
        let dm = try ArrayFile.open(Tools.root + "/Tests/Fixtures/dm/SI-EELS_Spectrum_Image.dm3")
        XCTAssertEqual(try si.readAll(), try dm.readBlock(start: [0, 0, 0], count: [8, 6, 1024]))
        let axis = try EnergyAxis.resolve(option: nil, source: si, channels: 1024)
        XCTAssertEqual(axis.values, (0..<1024).map { 350 + 0.5 * Double($0) })
        XCTAssertEqual(axis.unit, "eV")
        XCTAssertEqual(si.attributes["axes"]?.arrayValue?.map { $0["name"]!.stringValue! }, ["y", "x", "Energy loss"])
        let haadf = try ArrayFile.open(HyperSpyFormatTests.dir + "haadf.hspy:06-HAADF")
        XCTAssertEqual(try haadf.readAll(), try ArrayFile.open(HyperSpyFormatTests.dir + "haadf.npy").readAll())
        XCTAssertNil(haadf.attributes["energy_start"], "an image has no spectral axis")
        // An uneven axis (HyperSpy's DataAxis): its values, as the energy axis.
        let uneven = try ArrayFile.open(HyperSpyFormatTests.dir + "uneven.hspy:0")
        XCTAssertEqual(try uneven.readAll(), try ArrayFile.open(HyperSpyFormatTests.dir + "uneven.npy").readAll())
        let e = try EnergyAxis.resolve(option: nil, source: uneven, channels: 8)
        XCTAssertEqual(e.values, [0.1, 0.2, 0.4, 0.7, 1.1, 1.6, 2.2, 2.9])
    }

    func testTheToolsReadHyperSpyFiles() throws {
        let dir = TempDir()
        let si = HyperSpyFormatTests.dir + "si_eels.hspy"
        let table = try Tools.expect(0, "dkl-cat", ["--list", si], cwd: dir.path).out.split(separator: "\n")
        XCTAssertEqual(table.count, 2, "the signal alone, not its metadata")
        XCTAssertEqual(table[1].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "),
                       "\(si):06-EELS Spectrum Image 06-EELS Spectrum Image HyperSpy spectrum image 8×6×1024 Energy loss 350+0.5·i eV")
        // The Ti edge from the .hspy equals the same from the DM file's first 8 rows.
        try Tools.expect(0, "dkl-scalarize", ["-S", "ti=edge:420:450:455:475", si, "-J", "-o", "a.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-scalarize", ["-S", "ti=edge:420:450:455:475", Tools.root + "/Tests/Fixtures/dm/SI-EELS_Spectrum_Image.dm3", "-J", "-o", "b.ndjson"], cwd: dir.path)
        let a = try dir.read("a.ndjson").split(separator: 0x0A).dropFirst()
        let b = try dir.read("b.ndjson").split(separator: 0x0A).dropFirst()
        XCTAssertEqual(Array(a), Array(b.prefix(8 * 6)))
        let r = try Tools.expect(1, "dkl-cat", ["--import", si + ":HAADF"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: \(si): no HyperSpy signal 'HAADF' (06-EELS Spectrum Image)\n")
    }
}
