import DKL
import Foundation
import TestSupport
import XCTest

/// Gatan DigitalMicrograph files (Tests/Fixtures/dm: a real SrTiO3 EELS acquisition) read
/// in-house: every value equal to what the field's reader (HyperSpy/RosettaSciIO) returns,
/// the calibrations in the stream's attributes, the energy axis used without --energy,
/// images chosen by index or name, damage refused with one message.
final class DMFormatTests: XCTestCase {
    static let dir = Tools.root + "/Tests/Fixtures/dm/"

    /// The reference of an export, from reference.json.
    func reference(_ name: String) throws -> (shape: [Int], sha256: String, sum: Double) {
        let j = try JSONParser.parse(try String(contentsOfFile: DMFormatTests.dir + "reference.json", encoding: .utf8))[name]!
        return (j["shape"]!.arrayValue!.map { $0.intValue! }, j["sha256_float64_le"]!.stringValue!, j["sum"]!.doubleValue!)
    }

    /// The SHA-256 of an array's values as float64 little-endian bytes (Python's hashlib).
    func sha256(_ values: [Double], in dir: TempDir) throws -> String {
        let bytes = values.withUnsafeBytes { Data($0) }
        _ = try dir.write("values.bin", bytes)
        return try Tools.python("import hashlib; print(hashlib.sha256(open('values.bin', 'rb').read()).hexdigest())", cwd: dir.path)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testEveryValueAsTheFieldsReaderGivesIt() throws {
        let dir = TempDir()
        for (file, name) in [("SI-EELS_Spectrum_Image.dm3", "si_eels"), ("SI-HAADF.dm3", "si_haadf"), ("SI-Survey_Image.dm3", "survey")] {
            let image = try ArrayFile.open(DMFormatTests.dir + file)
            let ref = try reference(name)
            XCTAssertEqual(image.shape, ref.shape, file)
            let values = try image.readAll()
            XCTAssertEqual(values.reduce(0, +), ref.sum, accuracy: abs(ref.sum) * 1e-12, file)
            XCTAssertEqual(try sha256(values, in: dir), ref.sha256, "\(file): every value as HyperSpy reads it")
        }
        // The energy axis: 350 + 0.5·i eV, as the reference axis.
        let si = try ArrayFile.open(DMFormatTests.dir + "SI-EELS_Spectrum_Image.dm3")
        let axis = try EnergyAxis.resolve(option: nil, source: si, channels: 1024)
        XCTAssertEqual(try sha256(axis.values, in: dir), try reference("si_energy_eV").sha256)
        // One spectrum of the cube, read alone, is the same as in the whole.
        let whole = try si.readAll()
        XCTAssertEqual(try si.read(at: [17, 4]), Array(whole[(17 * 6 + 4) * 1024..<(17 * 6 + 5) * 1024]))
        // The point spectrum, DM3 and DM4 (64-bit tag sizes), against the exported values and axis.
        let point = try ArrayFile.open(DMFormatTests.dir + "eels_sto_point.npy").readAll()
        let energy = try ArrayFile.open(DMFormatTests.dir + "eels_sto_point_energy_eV.npy").readAll()
        for ext in ["dm3", "dm4"] {
            let s = try ArrayFile.open(DMFormatTests.dir + "EELS_STO." + ext)
            XCTAssertEqual(s.shape, [2048])
            XCTAssertEqual(try s.readAll(), point, ext)
            XCTAssertEqual(s.attributes["format"]?.stringValue, "DigitalMicrograph DM" + ext.dropFirst(2))
            XCTAssertEqual(try EnergyAxis.resolve(option: nil, source: s, channels: 2048).values, energy, ext)
        }
    }

    /// The tools read DM files directly: dkl-cat --import keeps the calibrations and tags,
    /// dkl-scalarize takes the energy axis from the file, dkl-patches cuts the HAADF.
    func testTheToolsReadDMFiles() throws {
        let dir = TempDir()
        let si = DMFormatTests.dir + "SI-EELS_Spectrum_Image.dm3"
        try Tools.expect(0, "dkl-cat", ["--import", si, "-o", "si.dkl"], cwd: dir.path)
        let header = try StreamReader(path: dir.file("si.dkl")).header
        XCTAssertEqual(header.attrs["grid"], JSON([49, 6]))
        let attrs = header.attrs["source_attrs"]!
        XCTAssertEqual(attrs["title"]?.stringValue, "06-EELS Spectrum Image")
        XCTAssertEqual(attrs["energy_start"]?.doubleValue, 350)
        XCTAssertEqual(attrs["energy_step"]?.doubleValue, 0.5)
        XCTAssertEqual(attrs["energy_unit"]?.stringValue, "eV")
        XCTAssertEqual(attrs["axes"]?.arrayValue?.last?["units"]?.stringValue, "eV")
        XCTAssertEqual(attrs["tags"]?["Microscope Info"]?["Voltage"]?.doubleValue, 200_000)
        // The Ti L2,3 band (455–475 eV) without --energy equals the same with the axis given.
        let band = ["-S", "ti=integral:455:475"]
        try Tools.expect(0, "dkl-scalarize", band + [si, "-J", "-o", "a.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-scalarize", band + ["--energy", "350:0.5", "si.dkl", "-J", "-o", "b.ndjson"], cwd: dir.path)
        XCTAssertEqual(try dir.read("a.ndjson").split(separator: 0x0A).dropFirst(), try dir.read("b.ndjson").split(separator: 0x0A).dropFirst())
        XCTAssertEqual(try dir.read("a.ndjson").split(separator: 0x0A).count, 1 + 49 * 6)
        try Tools.expect(0, "dkl-patches", ["-w", "32", "--stride", "32", DMFormatTests.dir + "SI-HAADF.dm3", "-o", "p.dkl"], cwd: dir.path)
        XCTAssertEqual(try Tools.expect(0, "dkl-cat", ["--count", "p.dkl"], cwd: dir.path).out, "\(48 * 5)\n")
    }

    /// A folder with the real spectrum image exported by the tools as si.npy (y, x, E), for
    /// numpy to compute from, and the DM file's path.
    func exportedSpectrumImage() throws -> (TempDir, String) {
        let dir = TempDir()
        let si = DMFormatTests.dir + "SI-EELS_Spectrum_Image.dm3"
        try Tools.expect(0, "dkl-cat", ["--import", si, "-o", "si.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "si.npy", "--field", "spectrum", "si.dkl"], cwd: dir.path)
        return (dir, si)
    }

    /// The EELS edge scalarizer on the real SrTiO3 spectrum image: each value equal to numpy's
    /// (np.polyfit of log counts on log energy over 420–450 eV, the counts above the power law
    /// summed over 455–475 eV times the 0.5 eV step), and the Ti L2,3 map anticorrelated with
    /// the simultaneous HAADF as the fixture's notes say (Pearson r about −0.41).
    func testEdgeScalarizerOnTheRealSpectrumImage() throws {
        let (dir, si) = try exportedSpectrumImage()
        try Tools.expect(0, "dkl-scalarize", ["-S", "ti=edge:420:450:455:475", si, "-J", "-o", "ti.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, numpy as np
            s = np.load('si.npy').astype('f8'); e = 350 + 0.5 * np.arange(1024)
            pre = (e >= 420) & (e <= 450); band = (e >= 455) & (e <= 475)
            want = np.empty(s.shape[:2])
            for y in range(s.shape[0]):
                for x in range(s.shape[1]):
                    b, a = np.polyfit(np.log(e[pre]), np.log(s[y, x, pre]), 1)
                    want[y, x] = ((s[y, x, band] - np.exp(a + b * np.log(e[band]))) * 0.5).sum()
            got = np.array([json.loads(l)['ti'] for l in open('ti.ndjson').read().splitlines()[1:]]).reshape(want.shape)
            haadf = np.load('\(DMFormatTests.dir)si_haadf_binned.npy').astype('f8')
            print(np.abs(got - want).max() / np.abs(want).max(), np.corrcoef(got.ravel(), haadf.ravel())[0, 1], (got > 0).mean())
            """, cwd: dir.path).split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        XCTAssertLessThan(out[0], 1e-9, "each value as numpy computes it")
        XCTAssertEqual(out[1], -0.41, accuracy: 0.08, "the Ti L2,3 map against the HAADF")
        XCTAssertGreaterThan(out[2], 0.99, "a Ti edge above the background at (nearly) every pixel of these noisy 0.2 s spectra")
        // A pre-edge count at or below zero is no fit: NaN and flags 2, not a number.
        _ = try Tools.python("import numpy as np; s = np.ones((1, 2, 40)); s[0, 1, 3] = 0; np.save('z.npy', s)", cwd: dir.path)
        let z = try Tools.expect(0, "dkl-scalarize", ["-S", "edge:400:410:420:430", "--energy", "400:1", "z.npy", "-J"], cwd: dir.path).out
        XCTAssertEqual(z.split(separator: "\n").dropFirst().map(String.init),
                       [#"{"y":0,"x":0,"edge_400_410_420_430":0,"flags":0}"#, #"{"y":0,"x":1,"edge_400_410_420_430":null,"flags":2}"#])
        let bad = try Tools.expect(64, "dkl-scalarize", ["-S", "edge:455:470:450:475", si, "-J"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("the pre-edge window must lie below the edge"), bad.report)
    }

    /// The ratio of two edges (Ti L2,3 over O K), each over its own power-law background,
    /// as numpy's polyfit gives it at every pixel of the real spectrum image.
    func testEdgeRatioOnTheRealSpectrumImage() throws {
        let (dir, si) = try exportedSpectrumImage()
        try Tools.expect(0, "dkl-scalarize", ["-S", "tio=edgeratio:420:450:455:475:500:525:530:560", si, "-J", "-o", "r.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, numpy as np
            s = np.load('si.npy').astype('f8'); e = 350 + 0.5 * np.arange(1024)
            def edge(spec, pre, band):
                p = (e >= pre[0]) & (e <= pre[1]); w = (e >= band[0]) & (e <= band[1])
                b, a = np.polyfit(np.log(e[p]), np.log(spec[p]), 1)
                return ((spec[w] - np.exp(a + b * np.log(e[w]))) * 0.5).sum()
            want = np.array([[edge(s[y, x], (420, 450), (455, 475)) / edge(s[y, x], (500, 525), (530, 560))
                              for x in range(s.shape[1])] for y in range(s.shape[0])])
            got = np.array([json.loads(l)['tio'] for l in open('r.ndjson').read().splitlines()[1:]]).reshape(want.shape)
            print(np.abs(got - want).max() / np.abs(want).max(), np.median(want))
            """, cwd: dir.path).split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        XCTAssertLessThan(out[0], 1e-9, "each ratio as numpy computes it")
        XCTAssertGreaterThan(out[1], 0, "Ti and O edges both above their backgrounds")
        let bad = try Tools.expect(64, "dkl-scalarize", ["-S", "edgeratio:420:450:455:475:530:560:500:525", si, "-J"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("each pre-edge window must lie below its edge"), bad.report)
        let short = try Tools.expect(64, "dkl-scalarize", ["-S", "edgeratio:420:450:455:475", si, "-J"], cwd: dir.path)
        XCTAssertTrue(short.err.contains("edgeratio takes 8 values"), short.report)
    }

    /// dkl-cat --list: each array with the name that opens it, as a table and as NDJSON.
    func testList() throws {
        let dir = TempDir()
        let si = DMFormatTests.dir + "SI-EELS_Spectrum_Image.dm3"
        let table = try Tools.expect(0, "dkl-cat", ["--list", si], cwd: dir.path).out.split(separator: "\n")
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(table[1].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "),
                       "\(si):0 06-EELS Spectrum Image spectrum image 49×6×1024 E 350+0.5·i eV")
        let lines = try Tools.expect(0, "dkl-cat", ["--list", "-J", si, Tools.root + "/share/plasmon/spectra.h5"], cwd: dir.path).out
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines[0]["axes"]?.arrayValue?.map { $0["units"]!.stringValue! }, ["", "", "eV"])
        // Each listed name opens its array.
        for l in lines { XCTAssertEqual(try ArrayFile.open(l["spec"]!.stringValue!).shape, l["shape"]!.arrayValue!.map { $0.intValue! }) }
        let r = try Tools.expect(1, "dkl-cat", ["--list", "missing.dm3"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: missing.dm3: no such file\n")
    }

    func testImagesByIndexOrNameAndDamage() throws {
        let dir = TempDir()
        let f = DMFormatTests.dir + "SI-HAADF.dm3"
        let byIndex = try ArrayFile.open(f + ":0"), byName = try ArrayFile.open(f + ":06-HAADF")
        XCTAssertEqual(byIndex.shape, [1568, 192])
        XCTAssertEqual(try byIndex.read(at: [100]), try byName.read(at: [100]))
        let binned = try ArrayFile.open(DMFormatTests.dir + "si_haadf_binned.npy").readAll()
        let full = try byIndex.readAll()
        for (k, v) in binned.enumerated() {
            let (y, x) = (k / 6, k % 6)
            var s = 0.0
            for dy in 0..<32 { for dx in 0..<32 { s += full[(y * 32 + dy) * 192 + x * 32 + dx] } }
            XCTAssertEqual(Float(s / 1024), Float(v), accuracy: 1e-3, "binned HAADF at \(y), \(x)")
        }
        var r = try Tools.expect(1, "dkl-cat", ["--import", f + ":3", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: \(f): no image 3: 0: '06-HAADF' 1568×192\n")
        r = try Tools.expect(1, "dkl-cat", ["--import", f + ":BF", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-cat: \(f): no image named 'BF': 0: '06-HAADF' 1568×192\n")
        // A cut file and a file whose data array claims more than is stored: one message each.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: f))
        _ = try dir.write("cut.dm3", bytes.prefix(20_000))
        r = try Tools.expect(1, "dkl-cat", ["--import", "cut.dm3", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-cat: cut.dm3: truncated or damaged: "), r.report)
        XCTAssertFalse(dir.exists("x.dkl"))
    }

    /// The layouts the real files lack, in files the toolkit's own writer made
    /// (Tests/Fixtures/make_dm.py; HyperSpy reads the little-endian ones the same): a
    /// big-endian spectrum image, a DM4 stack, big-endian 4-D data, two images of other
    /// types, a complex image (its modulus) and an RGB image (three channels).
    func testGeneratedLayouts() throws {
        let g = DMFormatTests.dir + "generated/"
        func values(_ npy: String) throws -> [Double] { try ArrayFile.open(g + npy).readAll() }
        let si = try ArrayFile.open(g + "si_big_endian.dm3")
        XCTAssertEqual(si.shape, [3, 4, 50])
        XCTAssertEqual(try si.readAll(), try values("si_big_endian.npy"))
        XCTAssertEqual(try si.readAllFloats().map(Double.init), try values("si_big_endian.npy"))
        let axis = try EnergyAxis.resolve(option: nil, source: si, channels: 50)
        XCTAssertEqual(axis.values.first, 50)
        XCTAssertEqual(axis.values.last, 50 + 49 * 0.25)
        XCTAssertEqual(si.attributes["pixel_size"], 0.5)
        XCTAssertEqual(si.attributes["pixel_unit"], "nm")
        let stack = try ArrayFile.open(g + "stack.dm4")
        XCTAssertEqual(stack.shape, [5, 6, 7])
        XCTAssertEqual(try stack.readAll(), try values("stack.npy"))
        let all = try values("stack.npy")
        let block = (2..<4).flatMap { f in (1..<4).flatMap { y in (3..<5).map { x in all[(f * 6 + y) * 7 + x] } } }
        XCTAssertEqual(try stack.readBlock(start: [2, 1, 3], count: [2, 3, 2]), block)
        let cube = try ArrayFile.open(g + "4d_big_endian.dm4")
        XCTAssertEqual(cube.shape, [3, 2, 5, 4])
        XCTAssertEqual(try cube.readAll(), try values("4d_big_endian.npy"))
        XCTAssertEqual(try ArrayFile.open(g + "two_images.dm3:0").readAll(), try values("two_images_0.npy"))
        XCTAssertEqual(try ArrayFile.open(g + "two_images.dm3:float64 image").readAll(), try values("two_images_1.npy"))
        let complex = try ArrayFile.open(g + "complex.dm3")
        XCTAssertEqual(complex.attributes["complex"], "modulus")
        assertClose(try complex.readAll(), try values("complex_modulus.npy"), rtol: 1e-15)
        let rgb = try ArrayFile.open(g + "rgb.dm3")
        XCTAssertEqual(rgb.shape, [3, 5, 3])
        let rgba = try values("rgb.npy")
        XCTAssertEqual(try rgb.readAll(), (0..<45).map { rgba[($0 / 3) * 4 + $0 % 3] })
        // The tools: dkl-patches takes the colours as three channels; --list says what each is.
        let dir = TempDir()
        try Tools.expect(0, "dkl-patches", ["-w", "2", "--normalize", "none", g + "rgb.dm3", "-o", "p.ndjson"], cwd: dir.path)
        let header = try StreamReader(path: dir.file("p.ndjson")).header
        XCTAssertEqual(header.schema["patch"]?.shape, [3, 2, 2])
        let list = try Tools.expect(0, "dkl-cat", ["--list", "-J", g + "rgb.dm3", g + "complex.dm3", g + "stack.dm4"], cwd: dir.path).out
            .split(separator: "\n").map { try JSONParser.parse(String($0))["kind"]!.stringValue! }
        XCTAssertEqual(list, ["RGB image", "image", "stack"])
        // A packed-complex FFT is refused with a message (DataType 27 in place of 3).
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: g + "complex.dm3")))
        let mark = Array("DataType".utf8)
        // The image's DataType is the last (the thumbnail's comes first).
        let at = (0..<(bytes.count - mark.count)).last { Array(bytes[$0..<($0 + mark.count)]) == mark }! + mark.count
        // "%%%%", one type code (4 bytes), the type code 3 (int32), then the value (little-endian).
        let value = at + 4 + 4 + 4
        XCTAssertEqual(bytes[value], 3)
        bytes[value] = 27
        _ = try dir.write("packed.dm3", Data(bytes))
        let r = try Tools.expect(1, "dkl-cat", ["--import", "packed.dm3", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("packed complex values"), r.report)
    }

    /// Files larger than the mapping budget are read differently: planes copied a run at a
    /// time, the mapping's pages given back as reading goes on (bench/formats.sh measures
    /// speed and memory on 2 GiB). With DKL_MAP_BUDGET=4096 these paths run on the small real
    /// files: every value the same as through the mapping.
    func testLargeFileReadingGivesTheSameValues() throws {
        let dir = TempDir()
        let inputs = [DMFormatTests.dir + "SI-EELS_Spectrum_Image.dm3", DMFormatTests.dir + "generated/si_big_endian.dm3",
                      DMFormatTests.dir + "generated/stack.dm4", DMFormatTests.dir + "generated/4d_big_endian.dm4",
                      DMFormatTests.dir + "generated/complex.dm3", Tools.root + "/Tests/Fixtures/spm/STS_grid_lockin.3ds:LockinX",
                      Tools.root + "/Tests/Fixtures/spm/STS_grid_lockin.3ds:Z", Tools.root + "/Tests/Fixtures/spm/scan_0001.ibw:Phase1Retrace",
                      Tools.root + "/Tests/Fixtures/npy/f8_be_f.npy"]
        for (k, input) in inputs.enumerated() {
            for (tag, env) in [("mapped", [String: String]()), ("copied", ["DKL_MAP_BUDGET": "4096"])] {
                let r = try Tools.run("dkl-cat", ["--import", input, "--no-provenance", "-o", "\(k)-\(tag).dkl"], cwd: dir.path, env: env)
                XCTAssertEqual(r.status, 0, r.report)
            }
            XCTAssertEqual(try dir.read("\(k)-mapped.dkl"), try dir.read("\(k)-copied.dkl"), input)
        }
        // A spectrum image's blocks of rows and single spectra, as the scalarizer reads them.
        let si = DMFormatTests.dir + "SI-EELS_Spectrum_Image.dm3"
        for (tag, env) in [("mapped", [String: String]()), ("copied", ["DKL_MAP_BUDGET": "4096"])] {
            let r = try Tools.run("dkl-scalarize", ["-S", "ti=edge:420:450:455:475", "-S", "max:350:860", si, "--no-provenance", "-o", "s-\(tag).dkl"], cwd: dir.path, env: env)
            XCTAssertEqual(r.status, 0, r.report)
        }
        XCTAssertEqual(try dir.read("s-mapped.dkl"), try dir.read("s-copied.dkl"))
    }
}
