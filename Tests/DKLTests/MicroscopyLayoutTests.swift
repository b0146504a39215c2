import DKL
import TestSupport
import XCTest

/// Files written by the field's own writers (Tests/Fixtures/make_microscopy_h5.py): the
/// main array is found without a dataset path, and by its path.
final class MicroscopyLayoutTests: XCTestCase {
    let expected: [Double] = (0..<60).map { (i: Int) -> Double in
        let (y, x, e) = (i / 20, i / 5 % 4, i % 5)
        return Double(100 * y + 10 * x + e) + 0.5
    }

    func check(_ spec: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try ArrayFile.open(fixtures + "/h5/" + spec)
        XCTAssertEqual(a.shape, [3, 4, 5], spec, file: file, line: line)
        assertClose(try a.readAll(), expected, rtol: 0, spec, file: file, line: line)
        assertClose(try a.read(at: [2, 1]), Array(expected[45..<50]), rtol: 0, spec, file: file, line: line)
    }

    func testEMD1() throws {
        try check("emd1.emd")
        try check("emd1.emd:/data/spectrum_image/data")
        try check("emd1.emd:/data/spectrum_image")   // the EMD group names its array
    }

    func testEmdfile() throws {
        try check("emdfile.h5")
        try check("emdfile.h5:/experiment/spectrum_image/data")
    }

    func testNSID() throws {
        try check("nsid.h5")
        let a = try ArrayFile.open(fixtures + "/h5/nsid.h5")
        XCTAssertEqual(a.attributes["data_type"], "SPECTRAL_IMAGE")
        XCTAssertEqual(a.attributes["main_data_name"], "spectrum_image")
    }

    func testUSIDIsReshapedFromPositionsBySpectra() throws {
        try check("usid.h5")
        let raw = try ArrayFile.open(fixtures + "/h5/usid.h5:/Measurement_000/Channel_000/Raw_Data")
        XCTAssertEqual(raw.shape, [12, 5])
        XCTAssertEqual(raw.attributes["quantity"], "intensity")
    }
}
