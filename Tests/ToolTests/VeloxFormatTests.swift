import DKL
import Foundation
import TestSupport
import XCTest

/// Thermo Fisher Velox EMD files (Tests/Fixtures/velox: a real Talos HAADF + EDS spectrum
/// image) read in-house: signals by detector, every value as the field's reader
/// (HyperSpy/RosettaSciIO, and h5py for the raw frames) gives it, the EDS stream decoded
/// into its dense cube, the keV axis used by the scalarizers, damage refused.
final class VeloxFormatTests: XCTestCase {
    static let dir = Tools.root + "/Tests/Fixtures/velox/"
    static let si = dir + "fei_emd_si.emd"

    func reference(_ name: String) throws -> (shape: [Int], sha256: String, sum: Double) {
        let j = try JSONParser.parse(try String(contentsOfFile: VeloxFormatTests.dir + "reference.json", encoding: .utf8))[name]!
        return (j["shape"]!.arrayValue!.map { $0.intValue! }, j["sha256_float64_le"]!.stringValue!, j["sum"]!.doubleValue!)
    }

    func sha256(_ values: [Double], in dir: TempDir) throws -> String {
        _ = try dir.write("values.bin", values.withUnsafeBytes { Data($0) })
        return try Tools.python("import hashlib; print(hashlib.sha256(open('values.bin', 'rb').read()).hexdigest())", cwd: dir.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func check(_ values: [Double], shape: [Int], against name: String, in dir: TempDir) throws {
        let ref = try reference(name)
        XCTAssertEqual(shape, ref.shape, name)
        XCTAssertEqual(values.reduce(0, +), ref.sum, accuracy: abs(ref.sum) * 1e-12, name)
        XCTAssertEqual(try sha256(values, in: dir), ref.sha256, "\(name): every value")
    }

    func testEveryValueAsTheFieldsReaderGivesIt() throws {
        let dir = TempDir()
        let eds = try ArrayFile.open(VeloxFormatTests.si + ":EDS")
        try check(try eds.readAll(), shape: eds.shape, against: "fei_emd_si:EDS", in: dir)
        XCTAssertEqual(eds.attributes["frames"]?.intValue, 5)
        XCTAssertEqual(eds.attributes["counts"]?.intValue, 6564)
        // Blocks of rows and columns decoded alone equal the same part of the whole.
        let whole = try eds.readAll()
        let block = try eds.readBlock(start: [5, 3, 100], count: [4, 7, 900])
        for y in 0..<4 { for x in 0..<7 { for e in 0..<900 {
            XCTAssertEqual(block[(y * 7 + x) * 900 + e], whole[((5 + y) * 16 + 3 + x) * 4096 + 100 + e])
        } } }
        XCTAssertEqual(try eds.read(at: [15, 15]), Array(whole[(15 * 16 + 15) * 4096..<(16 * 16) * 4096]))
        // The energy axis, -1 + 0.01·i keV, as HyperSpy gives it.
        let axis = try EnergyAxis.resolve(option: nil, source: eds, channels: 4096)
        XCTAssertEqual(axis.unit, "keV")
        let ref = try reference("fei_emd_si:EDS energy keV")
        XCTAssertEqual(axis.values.reduce(0, +), ref.sum, accuracy: 1e-9)
        XCTAssertEqual(try sha256(axis.values, in: dir), ref.sha256)
        // The HAADF: its frames as h5py reads them, frame 0 as HyperSpy gives it, their mean.
        let frames = try ArrayFile.open(VeloxFormatTests.si + ":HAADF-frames")
        try check(try frames.readAll(), shape: frames.shape, against: "fei_emd_si:HAADF-frames (h5py)", in: dir)
        try check(try frames.read(at: [0]), shape: Array(frames.shape.dropFirst()), against: "fei_emd_si:HAADF-frames[0]", in: dir)
        let mean = try ArrayFile.open(VeloxFormatTests.si + ":HAADF")
        try check(try mean.readAll(), shape: mean.shape, against: "fei_emd_si:HAADF (h5py, mean of frames)", in: dir)
        XCTAssertEqual(mean.attributes["pixel_unit"]?.stringValue, "nm")
        XCTAssertEqual(mean.attributes["pixel_size"]?.doubleValue ?? 0, 5.3024148379916015, accuracy: 1e-12)
        XCTAssertEqual(mean.attributes["tags"]?["Optics"]?["AccelerationVoltage"]?.stringValue, "200000")
        // The single-signal file opens without a name.
        let image = try ArrayFile.open(VeloxFormatTests.dir + "fei_emd_image.emd")
        try check(try image.readAll(), shape: image.shape, against: "fei_emd_image:HAADF", in: dir)
        // By index, by detector name, by HDF5 path (the raw dataset).
        XCTAssertEqual(try ArrayFile.open(VeloxFormatTests.si + ":2").shape, [16, 16, 4096])
        XCTAssertEqual(try ArrayFile.open(VeloxFormatTests.si + ":SuperXG2").shape, [16, 16, 4096])
        XCTAssertEqual(try ArrayFile.open(VeloxFormatTests.si + ":/Data/Image/9f4e9989c30045d490f40dcf5ca5cd9d/Data").shape, [16, 16, 5])
    }

    /// The tools on the file: the listing, a keV band integral without --energy, the HAADF
    /// cut into patches, and one message for a name the file lacks.
    func testTheToolsReadVeloxFiles() throws {
        let dir = TempDir()
        let si = VeloxFormatTests.si
        let table = try Tools.expect(0, "dkl-cat", ["--list", si], cwd: dir.path).out.split(separator: "\n")
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        XCTAssertEqual(table, [
            "signal name kind shape calibration",
            "\(si):HAADF HAADF image 16×16 y -10.6+5.302·i nm, x -47.72+5.302·i nm",
            "\(si):HAADF-frames HAADF stack 5×16×16 y -10.6+5.302·i nm, x -47.72+5.302·i nm",
            "\(si):EDS SuperXG2 spectrum image 16×16×4096 y -10.6+5.302·i nm, x -47.72+5.302·i nm, E -1+0.01·i keV",
        ])
        // Counts of 0.1–40 keV per pixel, times the 0.01 keV channel width, against the cube.
        try Tools.expect(0, "dkl-scalarize", ["-S", "all=integral:0.1:40", si + ":EDS", "-o", "all.dkl"], cwd: dir.path)
        let rows = try Tools.expect(0, "dkl-cat", ["-J", "all.dkl"], cwd: dir.path).out.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(rows.count, 257)
        XCTAssertEqual(rows[0]["attrs"]?["energy_unit"]?.stringValue, "keV")
        let cube = try ArrayFile.open(si + ":EDS").readAll()
        for r in rows.dropFirst() {
            let (y, x) = (r["y"]!.intValue!, r["x"]!.intValue!)
            let n = (110..<4096).reduce(0.0) { $0 + cube[(y * 16 + x) * 4096 + $1] }
            XCTAssertEqual(r["all"]!.doubleValue!, n * 0.01, accuracy: 1e-9, "pixel \(y), \(x)")
        }
        try Tools.expect(0, "dkl-patches", ["-w", "4", si + ":HAADF", "-o", "p.dkl"], cwd: dir.path)
        var r = try Tools.expect(1, "dkl-scalarize", ["-S", "integral:50:60", si + ":EDS"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-scalarize: \(si):EDS: no channel lies in 50–60 keV (the spectra cover -1–39.95 keV)\n")
        r = try Tools.expect(1, "dkl-cat", ["--import", si + ":BF", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: \(si): no signal named 'BF' (0: HAADF, 1: HAADF-frames, 2: EDS)\n")
        r = try Tools.expect(1, "dkl-cat", ["--import", si, "-o", "x.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: \(si): the file holds 2 signals; name one as FILE:NAME (0: HAADF, 1: HAADF-frames, 2: EDS)\n")
        XCTAssertFalse(dir.exists("x.dkl"))
    }

    /// A stream value that is neither a channel nor the separator, and metadata that is not
    /// JSON: one message naming the file and the group (files made with h5py from the fixture).
    func testDamagedStreamsAndMetadata() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import h5py, shutil
            for name in ['channel', 'metadata']:
                shutil.copy('\(VeloxFormatTests.si)', name + '.emd')
            f = h5py.File('channel.emd', 'r+')
            f['Data/SpectrumStream/ca60be96f3d5453cb0cebe70ec2649ea/Data'][100, 0] = 5000
            f.close()
            f = h5py.File('metadata.emd', 'r+')
            f['Data/SpectrumStream/ca60be96f3d5453cb0cebe70ec2649ea/Metadata'][0, 0] = ord('#')
            f.close()
            # An image of another raster (8 x 8) than the stream's (16 x 16): not decoded on it.
            shutil.copy('\(VeloxFormatTests.si)', 'raster.emd')
            f = h5py.File('raster.emd', 'r+')
            g = f['Data/Image/9f4e9989c30045d490f40dcf5ca5cd9d']
            small = g['Data'][:8, :8, :]
            del g['Data']
            g['Data'] = small
            f.close()
            """, cwd: dir.path)
        var r = try Tools.expect(1, "dkl-cat", ["--import", "channel.emd:EDS", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: channel.emd: Velox spectrum stream /Data/SpectrumStream/ca60be96f3d5453cb0cebe70ec2649ea: value 5000.0 at entry 100 is neither a channel below 4096 nor the pixel separator 65535 (damaged stream)\n")
        r = try Tools.expect(1, "dkl-cat", ["--list", "metadata.emd"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-cat: metadata.emd: Velox metadata /Data/SpectrumStream/ca60be96f3d5453cb0cebe70ec2649ea/Metadata is not JSON ("), r.report)
        r = try Tools.expect(1, "dkl-cat", ["--import", "raster.emd:EDS", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: raster.emd: Velox spectrum stream /Data/SpectrumStream/ca60be96f3d5453cb0cebe70ec2649ea holds 1274 pixels, more than the 5 frames of 8 × 8 of the image acquired with it\n")
        XCTAssertFalse(dir.exists("x.dkl"))
    }
}
