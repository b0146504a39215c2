import DKL
import Foundation
import TestSupport
import XCTest

let fixtures = Tools.root + "/Tests/Fixtures"

/// The fixture formula (see Tests/Fixtures/make_npy_h5.py), computed here independently.
func fixtureValue(_ code: String, _ i: Int, _ j: Int, _ k: Int) -> Double {
    let base = Double(100 * i + 10 * j + k)
    switch code.first! {
    case "b": return (i + j + k) % 2 == 0 ? 1 : 0
    case "u": return base
    case "i": return base - 60
    default: return base - 60 + 0.25
    }
}

final class NPYTests: XCTestCase {
    func testEveryDtypeByteOrderAndMemoryOrder() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures + "/npy").filter { $0.contains("_c.npy") || $0.contains("_f.npy") }
        XCTAssertEqual(names.count, 38)
        for name in names {
            let code = String(name.prefix(2))
            let a = try ArrayFile.open(fixtures + "/npy/" + name)
            XCTAssertEqual(a.shape, [2, 3, 4], name)
            var expected: [Double] = []
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(fixtureValue(code, i, j, k)) } } }
            assertClose(try a.readAll(), expected, rtol: 0, atol: 0, name)
            assertClose(try a.read(at: [1, 2]), (0..<4).map { fixtureValue(code, 1, 2, $0) }, rtol: 0, atol: 0, name)
            assertClose(try a.readBlock(start: [0, 1, 1], count: [2, 2, 2]),
                        [fixtureValue(code, 0, 1, 1), fixtureValue(code, 0, 1, 2), fixtureValue(code, 0, 2, 1), fixtureValue(code, 0, 2, 2),
                         fixtureValue(code, 1, 1, 1), fixtureValue(code, 1, 1, 2), fixtureValue(code, 1, 2, 1), fixtureValue(code, 1, 2, 2)],
                        rtol: 0, atol: 0, name)
        }
    }

    func testVersions2And3ScalarsAndVectors() throws {
        for v in ["f4_v2.npy", "f4_v3.npy"] {
            let a = try NPYFile(path: fixtures + "/npy/" + v)
            XCTAssertEqual(a.header.version, v.contains("v2") ? 2 : 3)
            XCTAssertEqual(try a.readAll()[23], fixtureValue("f4", 1, 2, 3))
        }
        XCTAssertEqual(try NPYFile(path: fixtures + "/npy/scalar_f8.npy").readAll(), [2.5])
        XCTAssertEqual(try NPYFile(path: fixtures + "/npy/vector_f4.npy").readAllFloats(), (0..<7).map { Float($0) * 0.5 })
    }

    func testUnsupportedDtypesAreNamed() {
        for (name, message) in [("complex.npy", "unsupported NPY dtype '<c8'"), ("structured.npy", "structured")] {
            XCTAssertThrowsError(try NPYFile(path: fixtures + "/npy/" + name)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }

    func testWrittenFilesReadInNumpy() throws {
        let dir = TempDir()
        let values = (0..<24).map { Float($0) * 0.5 - 3 }
        try NPYFile.write(dir.file("a.npy"), shape: [2, 3, 4], values: .float(values))
        try NPYFile.write(dir.file("b.npy"), shape: [5], values: .int32([1, -2, 3, -4, 5]))
        let out = try Tools.python("""
            import numpy as np
            a = np.load('a.npy'); b = np.load('b.npy')
            assert a.dtype == np.float32 and a.shape == (2, 3, 4) and b.dtype == np.int32
            assert np.array_equal(a.ravel(), np.arange(24, dtype=np.float32) * 0.5 - 3)
            print(b.tolist())
            """, cwd: dir.path)
        XCTAssertEqual(out, "[1, -2, 3, -4, 5]\n")
        XCTAssertEqual(dir.listing(), ["a.npy", "b.npy"], "no temporary files left")
    }

    func testTruncatedNPYIsAnError() throws {
        let dir = TempDir()
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/npy/f8_le_c.npy"))
        for cut in [0, 5, 9, 60, 127, data.count - 1] {
            let p = try dir.write("t\(cut).npy", data.prefix(cut))
            XCTAssertThrowsError(try NPYFile(path: p), "cut \(cut)")
        }
    }
}

final class HDF5Tests: XCTestCase {
    func testPlainH5pyFile() throws {
        let f = fixtures + "/h5/plain.h5"
        let a = try ArrayFile.open(f + ":/data")
        XCTAssertEqual(a.shape, [2, 3, 4])
        assertClose(try a.read(at: [1, 0]), (0..<4).map { fixtureValue("f4", 1, 0, $0) }, rtol: 0)
        XCTAssertEqual(a.attributes["units"], "counts")
        XCTAssertEqual(a.attributes["scale"], 0.5)
        XCTAssertEqual(a.attributes["axis"], [1.0, 2.0, 3.0])
        XCTAssertEqual(a.attributes["label"], "fixed")
        let ints = try ArrayFile.open(f + ":group/sub/ints")
        XCTAssertEqual(try ints.readAll(), [-2, -1, 0, 1, 2])
        let big = try ArrayFile.open(f + ":/big")
        let cornerBase = 63 * 512 + 31 * 16
        let corner: [Double] = (0..<16).map { (k: Int) -> Double in Double(cornerBase + k) * 0.5 }
        XCTAssertEqual(try big.read(at: [63, 31]), corner)
        let first = Float(10 * 512 + 2 * 16 + 3) * 0.5
        XCTAssertEqual(try big.readBlockFloats(start: [10, 2, 3], count: [1, 1, 2]), [first, first + 0.5])
    }

    func testDatasetSelectionAndErrors() throws {
        XCTAssertEqual(try ArrayFile.open(fixtures + "/h5/single.h5").shape, [3, 4], "the only dataset")
        XCTAssertThrowsError(try ArrayFile.open(fixtures + "/h5/plain.h5")) { XCTAssertTrue("\($0)".contains("has 4 datasets; name one"), "\($0)") }
        XCTAssertThrowsError(try ArrayFile.open(fixtures + "/h5/plain.h5:/nope")) {
            XCTAssertTrue("\($0)".contains("dataset '/nope' not found (datasets: /big, /data, /group/sub/ints, /text"), "\($0)")
        }
        XCTAssertThrowsError(try ArrayFile.open(fixtures + "/h5/plain.h5:/text")) { XCTAssertTrue("\($0)".contains("not numeric"), "\($0)") }
        XCTAssertThrowsError(try ArrayFile.open(fixtures + "/npy/f4_le_c.npy:/x")) { XCTAssertTrue("\($0)".contains("holds one array"), "\($0)") }
    }

    func testWrittenFilesReadInH5py() throws {
        let dir = TempDir()
        let w = try HDF5Writer(path: dir.file("o.h5"))
        let big = (0..<(40 * 40 * 64)).map { Float($0 % 1000) * 0.25 }
        try w.write("/cube/spectra", shape: [40, 40, 64], values: .float(big))
        try w.write("/energy", shape: [3], values: .double([0.5, 1, 1.5]))
        try w.setAttribute("/cube/spectra", "units", "eV")
        try w.setAttribute("/cube/spectra", "window", [1.35, 2.05])
        try w.setAttribute("/", "names", ["a", "bé"])
        try w.commit()
        let out = try Tools.python("""
            import h5py, numpy as np
            f = h5py.File('o.h5', 'r'); d = f['cube/spectra']
            assert d.dtype == np.float32 and d.shape == (40, 40, 64) and d.compression == 'gzip' and d.chunks[2] == 64
            assert np.array_equal(d[...].ravel(), (np.arange(40 * 40 * 64) % 1000).astype(np.float32) * 0.25)
            a = d.attrs['units']; a = a.decode() if isinstance(a, bytes) else a
            print(a, list(d.attrs['window']), [s.decode() if isinstance(s, bytes) else s for s in f.attrs['names']], f['energy'][2])
            """, cwd: dir.path)
        XCTAssertEqual(out, "eV [1.35, 2.05] ['a', 'bé'] 1.5\n")
        // And back through the reader.
        let back = try ArrayFile.open(dir.file("o.h5") + ":/cube/spectra")
        XCTAssertEqual(try back.readFloats(at: [39, 39]), Array(big.suffix(64)))
        XCTAssertEqual(back.attributes["window"], [1.35, 2.05])
    }
}

/// One diffraction pattern of a 4 GiB 4D-STEM cube is read without reading the cube: the
/// file is sparse (only its header and one pattern are written), and reading the pattern
/// must neither take long nor grow the process by more than a few MiB.
final class LargeArrayTests: XCTestCase {
    func testOnePatternOfAHugeCube() throws {
        let dir = TempDir()
        let path = dir.file("cube.npy")
        let (ny, nx, ky, kx) = (256, 256, 128, 128)   // 256·256·128·128·4 bytes = 4 GiB
        let header = NPYHeader(kind: .float, itemSize: 4, shape: [ny, nx, ky, kx]).encoded()
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        XCTAssertGreaterThan(fd, 0)
        _ = header.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let total = header.count + ny * nx * ky * kx * 4
        XCTAssertEqual(ftruncate(fd, off_t(total)), 0)
        let (y, x) = (200, 37)
        let pattern = (0..<(ky * kx)).map { Float($0 % 97) - 3.5 }
        let offset = header.count + ((y * nx + x) * ky * kx) * 4
        _ = pattern.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        close(fd)

        let before = LargeArrayTests.residentMiB()
        let cube = try ArrayFile.open(path)
        XCTAssertEqual(cube.shape, [ny, nx, ky, kx])
        XCTAssertEqual(try cube.readFloats(at: [y, x]), pattern)
        XCTAssertEqual(try cube.readFloats(at: [y, x + 1]).max(), 0, "the next pattern is a hole of zeros")
        XCTAssertLessThan(LargeArrayTests.residentMiB() - before, 16, "resident memory grew by more than 16 MiB")
    }

    static func residentMiB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = Double(s.split(separator: " ")[1]) ?? 0
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }
}
