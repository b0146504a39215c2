import DKL
import Foundation
import TestSupport
import XCTest

/// The scanning-probe side of the field, read in-house: a real Nanonis STS grid (.3ds) and
/// point spectrum (.dat), a real Asylum Igor binary wave (.ibw), and pycroscopy's NSID and
/// USID files with several channels (Tests/Fixtures/spm, Tests/Fixtures/usid). Every value
/// equals what the field's readers return (SciFiReaders, pyUSID: SHA-256 of the float64
/// bytes in reference.json), the calibrations reach the attributes and the tools, and damage
/// is one message.
final class SPMFormatTests: XCTestCase {
    static let spm = Tools.root + "/Tests/Fixtures/spm/"
    static let usid = Tools.root + "/Tests/Fixtures/usid/"
    static let grid = spm + "STS_grid_lockin.3ds"

    func reference(_ dir: String, _ name: String) throws -> JSON {
        try JSONParser.parse(try String(contentsOfFile: dir + "reference.json", encoding: .utf8))[name]!
    }

    /// The SHA-256 of values as float64 little-endian bytes (Python's hashlib).
    func sha256(_ values: [Double], in dir: TempDir) throws -> String {
        _ = try dir.write("values.bin", values.withUnsafeBytes { Data($0) })
        return try Tools.python("import hashlib; print(hashlib.sha256(open('values.bin', 'rb').read()).hexdigest())", cwd: dir.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `values` of `shape` equal to the export `name` of `dir`'s reference.json, after
    /// swapping the first two dimensions when `transposed` (the export runs (x, y)).
    func assertEqualsExport(_ a: ArraySource, _ dir: String, _ name: String, transposed: Bool = false, in tmp: TempDir,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let ref = try reference(dir, name)
        var values = try a.readAll()
        var shape = a.shape
        if transposed {
            let (h, w) = (shape[0], shape[1]), inner = shape.dropFirst(2).reduce(1, *)
            values = (0..<(w * h * inner)).map { i in
                let (x, rest) = (i / (h * inner), i % (h * inner))
                let (y, k) = (rest / inner, rest % inner)
                return values[(y * w + x) * inner + k]
            }
            shape.swapAt(0, 1)
        }
        XCTAssertEqual(shape, ref["shape"]!.arrayValue!.map { $0.intValue! }, name, file: file, line: line)
        XCTAssertEqual(try sha256(values, in: tmp), ref["sha256_float64_le"]!.stringValue!, "\(name): every value as the field's reader gives it", file: file, line: line)
    }

    func testNanonisGridEveryValueAndItsSweep() throws {
        let tmp = TempDir()
        for channel in ["Current", "LockinX", "LockinY", "Bias_m"] {
            let a = try ArrayFile.open(SPMFormatTests.grid + ":" + channel)
            XCTAssertEqual(a.shape, [30, 30, 200])
            try assertEqualsExport(a, SPMFormatTests.spm, "STS_grid_lockin.3ds:" + channel, in: tmp)
            XCTAssertEqual(a.attributes["energy_unit"], "V")
        }
        try assertEqualsExport(try ArrayFile.open(SPMFormatTests.grid + ":Z"), SPMFormatTests.spm, "STS_grid_lockin.3ds:Z", in: tmp)
        // Every per-point parameter, stacked [line, point, parameter] as the reference parse.
        let names = ["Sweep Start", "Sweep End", "X", "Y", "Z", "Z offset", "Settling time", "Integration time", "Z-Ctrl hold", "Final Z"]
        let planes = try names.map { try ArrayFile.open(SPMFormatTests.grid + ":" + $0).readAll() }
        let stacked = (0..<(900 * 10)).map { planes[$0 % 10][$0 / 10] }
        let ref = try reference(SPMFormatTests.spm, "STS_grid_lockin.3ds:parameters")
        XCTAssertEqual(try sha256(stacked, in: tmp), ref["sha256_float64_le"]!.stringValue!)
        // The sweep is the energy axis: -0.22 … 0.22 V in 200 points (the export is float32).
        let lockin = try ArrayFile.open(SPMFormatTests.grid + ":LockinX")
        let axis = try EnergyAxis.resolve(option: nil, source: lockin, channels: 200)
        let bias = try reference(SPMFormatTests.spm, "STS_grid_lockin.3ds bias V")["values"]!.arrayValue!.map { $0.doubleValue! }
        XCTAssertEqual(axis.unit, "V")
        for (a, b) in zip(axis.values, bias) { XCTAssertEqual(a, b, accuracy: 3e-8) }
        // The grid: 5 nm over 30 points, the header kept.
        XCTAssertEqual(lockin.attributes["pixel_size"]!.doubleValue!, 5e-9 / 30, accuracy: 1e-20)
        XCTAssertEqual(lockin.attributes["header"]?["Date"], "04.06.2016 20:13:23")
        // A channel by its full name, with its unit, or by index; a parameter after the channels.
        XCTAssertEqual(try ArrayFile.open(SPMFormatTests.grid + ":LockinX (V)").readAll(), try lockin.readAll())
        XCTAssertEqual(try ArrayFile.open(SPMFormatTests.grid + ":1").readAll(), try lockin.readAll())
        XCTAssertEqual(try ArrayFile.open(SPMFormatTests.grid + ":8").readAll(), planes[4])
        // One spectrum read alone is the same as in the whole cube.
        let whole = try lockin.readAll()
        XCTAssertEqual(try lockin.read(at: [17, 4]), Array(whole[(17 * 30 + 4) * 200..<(17 * 30 + 5) * 200]))
    }

    func testNanonisPointSpectrum() throws {
        let tmp = TempDir()
        let dat = SPMFormatTests.spm + "Bias-Spectroscopy041.dat"
        let current = try ArrayFile.open(dat + ":Current")
        try assertEqualsExport(current, SPMFormatTests.spm, "Bias-Spectroscopy041.dat:Current", in: tmp)
        let axis = try EnergyAxis.resolve(option: nil, source: current, channels: 256)
        XCTAssertEqual(try sha256(axis.values, in: tmp), try reference(SPMFormatTests.spm, "Bias-Spectroscopy041.dat bias V")["sha256_float64_le"]!.stringValue!)
        XCTAssertEqual(axis.unit, "V")
        XCTAssertEqual(current.attributes["header"]?["Date"], "07.07.2020 15:01:50")
        XCTAssertEqual(try ArrayFile.open(dat + ":Current [bwd]").shape, [256])
        let list = try ArrayFile.list(dat)
        XCTAssertEqual(list.count, 24)
        XCTAssertEqual(list.first?.name, "Current")
    }

    func testIgorWaveChannelsAndCalibrations() throws {
        let tmp = TempDir()
        let ibw = SPMFormatTests.spm + "scan_0001.ibw"
        let names = ["HeightRetrace", "Amplitude1Retrace", "Amplitude2Retrace", "Phase1Retrace", "Phase2Retrace", "FrequencyRetrace"]
        XCTAssertEqual(try ArrayFile.list(ibw).map(\.name), names)
        for name in names {
            let a = try ArrayFile.open(ibw + ":" + name)
            XCTAssertEqual(a.shape, [256, 256])
            try assertEqualsExport(a, SPMFormatTests.spm, "scan_0001.ibw:" + name, transposed: true, in: tmp)
        }
        let height = try ArrayFile.open(ibw + ":0")
        XCTAssertEqual(height.attributes["title"], "HeightRetrace")
        XCTAssertEqual(height.attributes["pixel_size"]!.doubleValue!, 5e-6 / 255, accuracy: 1e-18)
        XCTAssertEqual(height.attributes["pixel_unit"], "m")
        XCTAssertEqual(height.attributes["units"], "m")
        // The note's settings, numbers as numbers (its Windows-1252 '°C' read as Latin-1).
        let tags = height.attributes["tags"]!
        XCTAssertEqual(tags["ScanSize"]?.doubleValue, 5e-6)
        XCTAssertEqual(tags["ImagingMode"], "PFM Mode")
        XCTAssertEqual(tags["EndHeadTemp"], "32.125 °C")
        let r = try Tools.expect(1, "dkl-cat", ["--import", ibw], cwd: tmp.path)
        XCTAssertEqual(r.err, "dkl-cat: \(ibw): the wave holds 6 channels; name one as FILE:NAME (0: HeightRetrace, 1: Amplitude1Retrace, 2: Amplitude2Retrace, 3: Phase1Retrace, 4: Phase2Retrace, 5: FrequencyRetrace)\n")
    }

    func testNSIDAndUSIDChannelsByQuantity() throws {
        let tmp = TempDir()
        // NSID: four channels of a PFM scan, each with its x and y scales.
        let pto = SPMFormatTests.spm + "PTO_Funakubo0001.h5"
        for name in ["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace"] {
            try assertEqualsExport(try ArrayFile.open(pto + ":" + name), SPMFormatTests.spm, "PTO_Funakubo0001.h5:" + name, in: tmp)
        }
        // The other two NSID PFM scans: eight and four channels.
        for (file, names) in [("PZT_final0001", ["HeightRetrace", "AmplitudeRetrace", "NapAmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace",
                                                 "NapPhaseRetrace", "UserIn0Retrace", "NapUserIn0Retrace"]),
                              ("PMN28Pt0000", ["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace"])] {
            XCTAssertEqual(try ArrayFile.list(SPMFormatTests.spm + file + ".h5").map(\.name), names)
            for name in names {
                try assertEqualsExport(try ArrayFile.open(SPMFormatTests.spm + file + ".h5:" + name), SPMFormatTests.spm, "\(file).h5:" + name, in: tmp)
            }
        }
        let height = try ArrayFile.open(pto + ":HeightRetrace")
        XCTAssertEqual(height.attributes["pixel_size"]!.doubleValue!, 1e-6 / 255, accuracy: 1e-18)
        XCTAssertEqual(height.attributes["pixel_unit"], "m")
        let r = try Tools.expect(1, "dkl-cat", ["--import", pto], cwd: tmp.path)
        XCTAssertEqual(r.err, "dkl-cat: \(pto): the file holds 4 channels; name one as FILE:QUANTITY (HeightRetrace, AmplitudeRetrace, DeflectionRetrace, PhaseRetrace)\n")
        let missing = try Tools.expect(1, "dkl-cat", ["--import", pto + ":Topography"], cwd: tmp.path)
        XCTAssertTrue(missing.err.contains("no channel or dataset 'Topography' (channels: HeightRetrace, "), missing.report)
        // NSID loops on an uneven voltage axis (0 → 8.5 → −8.5 → 0 V): kept as values, no energy axis.
        let beps = try ArrayFile.open(SPMFormatTests.spm + "BEPS_PTO_50x50.h5")
        try assertEqualsExport(beps, SPMFormatTests.spm, "BEPS_PTO_50x50.h5:Piezoresponse", in: tmp)
        let voltage = try reference(SPMFormatTests.spm, "BEPS_PTO_50x50.h5 voltage V")["values"]!.arrayValue!.map { $0.doubleValue! }
        XCTAssertEqual(beps.attributes["axes"]?.arrayValue?.last?["values"]?.arrayValue?.map { $0.doubleValue! }, voltage)
        XCTAssertNil(beps.attributes["energy_start"])
        XCTAssertNil(beps.attributes["energy_values"])
        // USID: four channels sharing one Position_Indices one group up, one spectroscopic value.
        let pfm = SPMFormatTests.usid + "SingFreqPFM_0003.h5"
        for name in ["HeightRetrace", "AmplitudeRetrace", "DeflectionRetrace", "PhaseRetrace"] {
            let a = try ArrayFile.open(pfm + ":" + name)
            XCTAssertEqual(a.shape, [128, 128])
            try assertEqualsExport(a, SPMFormatTests.usid, "SingFreqPFM_0003.h5:" + name, transposed: true, in: tmp)
        }
        XCTAssertEqual(try ArrayFile.open(pfm + ":HeightRetrace").attributes["pixel_unit"], "m")
        // USID: one force curve (a single position), its Z axis from Spectroscopic_Values.
        let curve = try ArrayFile.open(SPMFormatTests.usid + "AFM_Force_Curve.h5")
        try assertEqualsExport(curve, SPMFormatTests.usid, "AFM_Force_Curve.h5:Deflection", in: tmp)
        // NSID: an EELS spectrum with its energy-loss scale.
        let eels = try ArrayFile.open(SPMFormatTests.usid + "EELS_STO_pyTEMlib.hf5")
        try assertEqualsExport(eels, SPMFormatTests.usid, "EELS_STO_pyTEMlib.hf5:intensity", in: tmp)
        let e = try EnergyAxis.resolve(option: nil, source: eels, channels: 2048)
        let ref = try reference(SPMFormatTests.usid, "EELS_STO_pyTEMlib.hf5 energy eV")
        XCTAssertEqual(e.values.reduce(0, +), ref["sum"]!.doubleValue!, accuracy: 1e-6)
        XCTAssertEqual(e.unit, "eV")
    }

    /// The tools read these files directly: listings, dI/dV maps with the bias in V from the
    /// file (equal to numpy on the raw big-endian bytes), patches of the topography and of an
    /// AFM height channel.
    func testTheToolsReadSPMFiles() throws {
        let tmp = TempDir()
        let grid = SPMFormatTests.grid
        let table = try Tools.expect(0, "dkl-cat", ["--list", grid], cwd: tmp.path).out.split(separator: "\n")
        XCTAssertEqual(table.count, 1 + 4 + 10)
        XCTAssertEqual(table[2].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "),
                       "\(grid):LockinX LockinX spectrum image 30×30×200 y 0+1.667e-10·i m, x 0+1.667e-10·i m, Bias -0.22+0.002211·i V")
        let json = try Tools.expect(0, "dkl-cat", ["--list", "-J", grid, SPMFormatTests.spm + "scan_0001.ibw", SPMFormatTests.usid + "SingFreqPFM_0003.h5"], cwd: tmp.path).out
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(json.count, 14 + 6 + 4)
        for l in json { XCTAssertEqual(try ArrayFile.open(l["spec"]!.stringValue!).shape, l["shape"]!.arrayValue!.map { $0.intValue! }) }
        // dI/dV near zero bias, and the lock-in's 10 V rail flagged.
        try Tools.expect(0, "dkl-scalarize", ["-S", "didv=mean:-0.02:0.02", "--saturation", "10", grid + ":LockinX", "-J", "-o", "didv.ndjson"], cwd: tmp.path)
        let out = try Tools.python("""
            import json, numpy as np
            raw = open('\(grid)', 'rb').read(); h = raw.index(b':HEADER_END:') + 14
            a = np.frombuffer(raw[h:], '>f4').reshape(30, 30, 810).astype('f8')
            v = np.linspace(-0.22, 0.22, 200); band = np.abs(v) <= 0.02 + 1e-9
            want = a[..., 210:410][..., band].mean(axis=-1)
            rail = (np.abs(a[..., 210:410]) >= 10).any(axis=-1)
            recs = [json.loads(l) for l in open('didv.ndjson').read().splitlines()[1:]]
            got = np.array([r['didv'] for r in recs]).reshape(30, 30)
            flags = np.array([r['flags'] for r in recs]).reshape(30, 30)
            print(np.abs(got - want).max() / np.abs(want).max(), int(((flags & 4) != 0).sum()), int(rail.sum()), int(band.sum()))
            """, cwd: tmp.path).split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        XCTAssertLessThan(out[0], 1e-12, "each dI/dV as numpy computes it from the raw bytes")
        XCTAssertEqual(out[1], out[2], "every point at the lock-in's rail flagged, no other")
        XCTAssertGreaterThan(out[1], 0)
        XCTAssertEqual(out[3], 18, "the band ±0.02 V holds 18 of the 200 bias points")
        try Tools.expect(0, "dkl-patches", ["-w", "5", grid + ":Z", "-o", "z.dkl"], cwd: tmp.path)
        XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["--count", "z.dkl"], cwd: tmp.path).out, "\(26 * 26)\n")
        try Tools.expect(0, "dkl-patches", ["-w", "32", "--stride", "32", SPMFormatTests.spm + "scan_0001.ibw:HeightRetrace", "-o", "h.dkl"], cwd: tmp.path)
        XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["--count", "h.dkl"], cwd: tmp.path).out, "\(7 * 7)\n")
        let header = try StreamReader(path: tmp.file("h.dkl")).header
        XCTAssertEqual(header.attrs["pixel_unit"], "m")
        XCTAssertEqual(header.attrs["pixel_size"]!.doubleValue!, 5e-6 / 255, accuracy: 1e-18)
    }

    /// Damaged files: one message naming the file and what is wrong, exit 1, no output.
    func testDamageIsOneMessage() throws {
        let tmp = TempDir()
        let grid = try Data(contentsOf: URL(fileURLWithPath: SPMFormatTests.grid))
        // A grid cut short: how many whole points it holds.
        _ = try tmp.write("cut.3ds", grid.prefix(grid.count / 3))
        var r = try Tools.expect(1, "dkl-cat", ["--import", "cut.3ds:LockinX", "-o", "o.dkl"], cwd: tmp.path)
        XCTAssertEqual(r.err, "dkl-cat: cut.3ds: truncated: the grid of 30 × 30 points needs 2916000 bytes of data, the file holds 971680 (299 whole points: an interrupted grid?)\n")
        XCTAssertFalse(tmp.exists("o.dkl"))
        // A header that lost its end, a channel that is not there.
        _ = try tmp.write("nohead.3ds", Data("Grid dim=\"30 x 30\"\r\nPoints=200\r\n".utf8))
        r = try Tools.expect(1, "dkl-cat", ["--list", "nohead.3ds"], cwd: tmp.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-cat: nohead.3ds: not a Nanonis grid file: no ':HEADER_END:'"), r.report)
        r = try Tools.expect(1, "dkl-cat", ["--import", SPMFormatTests.grid + ":dIdV"], cwd: tmp.path)
        XCTAssertTrue(r.err.contains("no signal 'dIdV' (0: Current, 1: LockinX, 2: LockinY, 3: Bias_m, 4: Sweep Start"), r.report)
        // An Igor wave with one flipped header byte fails its checksum; one cut inside its data.
        var ibw = try Data(contentsOf: URL(fileURLWithPath: SPMFormatTests.spm + "scan_0001.ibw"))
        _ = try tmp.write("cut.ibw", ibw.prefix(100_000))
        r = try Tools.expect(1, "dkl-cat", ["--list", "cut.ibw"], cwd: tmp.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-cat: cut.ibw: truncated or damaged: the wave's 393216 float32 values need 1572864 bytes"), r.report)
        ibw[64 + 70] ^= 0x01
        _ = try tmp.write("flipped.ibw", ibw)
        r = try Tools.expect(1, "dkl-cat", ["--list", "flipped.ibw"], cwd: tmp.path)
        XCTAssertEqual(r.err, "dkl-cat: flipped.ibw: damaged: the Igor wave headers' checksum does not add up\n")
        // A point spectrum with a word where a number belongs names the line and the column.
        var text = try String(contentsOfFile: SPMFormatTests.spm + "Bias-Spectroscopy041.dat", encoding: .utf8)
        text = text.replacingOccurrences(of: "-1.98431E+0\t", with: "oops\t")
        _ = try tmp.write("bad.dat", text)
        r = try Tools.expect(1, "dkl-cat", ["--import", "bad.dat:Current"], cwd: tmp.path)
        XCTAssertEqual(r.err, "dkl-cat: bad.dat: line 19, column 'Bias calc (V)': 'oops' is not a number\n")
    }
}
