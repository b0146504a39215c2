import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-patches against patches cut by numpy, on the shared benchmark's numbers, and on bad input.
final class DklPatchesTests: XCTestCase {
    /// All records of a stream file: (y, x) and the patch values.
    func records(_ path: String) throws -> (coords: [[Int]], patches: [[Float]], header: StreamHeader) {
        let r = try StreamReader(path: path)
        let (iy, ix, ip) = (r.schema.index(of: "y")!, r.schema.index(of: "x")!, r.schema.index(of: "patch")!)
        var coords: [[Int]] = [], patches: [[Float]] = []
        while let rec = try r.next() {
            let v = RecordView(rec, r.schema)
            coords.append([v.int(iy), v.int(ix)])
            patches.append(v.floats(ip))
        }
        return (coords, patches, r.header)
    }

    /// numpy's cuts: odd, even centred by interpolation, even shifted, reflected borders,
    /// per-patch normalization, a NaN pixel, and two stacked channels.
    func testPatchesMatchNumpy() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            rng = np.random.default_rng(4)
            img = rng.normal(size=(20, 17)).astype(np.float32); img[5, 6] = np.nan
            other = rng.uniform(2, 3, size=(20, 17)).astype(np.float32)
            np.save('img.npy', img); np.save('other.npy', other)
            def mm(a):
                a = a.astype(np.float64); f = a[np.isfinite(a)]
                return (a - f.min()) / (f.max() - f.min())
            x, o = mm(img), mm(other)
            def save(name, items):
                items = [(y, c, p) for (y, c, p) in items if np.isfinite(p).all()]
                np.save(name + '_yx.npy', np.array([[y, c] for y, c, _ in items], dtype=np.float64))
                np.save(name + '_p.npy', np.array([p.ravel() for _, _, p in items], dtype=np.float64))
            H, W = x.shape
            save('odd', [(y, c, x[y-2:y+3, c-2:c+3]) for y in range(2, H-2) for c in range(2, W-2)])
            save('shift', [(y, c, x[y-2:y+2, c-2:c+2]) for y in range(2, H-1) for c in range(2, W-1)])
            def interp(a, y, c):
                b = a[y-2:y+3, c-2:c+3]
                return (b[:-1, :-1] + b[1:, :-1] + b[:-1, 1:] + b[1:, 1:]) / 4
            save('interp', [(y, c, interp(x, y, c)) for y in range(2, H-2) for c in range(2, W-2)])
            pad = np.pad(x, 2, mode='reflect')
            save('reflect', [(y, c, pad[y:y+5, c:c+5]) for y in range(0, H, 3) for c in range(0, W, 3)])
            def pz(p): return (p - p.mean()) / p.std()
            raw = img.astype(np.float64)
            save('pz', [(y, c, pz(raw[y-1:y+2, c-1:c+2])) for y in range(1, H-1) for c in range(1, W-1)])
            save('two', [(y, c, np.stack([x[y-1:y+2, c-1:c+2], o[y-1:y+2, c-1:c+2]])) for y in range(1, H-1) for c in range(1, W-1)])
            """, cwd: dir.path)
        let cases: [(String, [String])] = [
            ("odd", ["-w", "5", "img.npy"]),
            ("shift", ["-w", "4", "--even", "shift", "img.npy"]),
            ("interp", ["-w", "4", "img.npy"]),
            ("reflect", ["-w", "5", "--border", "reflect", "--stride", "3", "img.npy"]),
            ("pz", ["-w", "3", "--normalize", "patch-zscore", "img.npy"]),
            ("two", ["-w", "3", "img.npy", "other.npy"]),
        ]
        for (name, args) in cases {
            let r = try Tools.expect(0, "dkl-patches", args + ["-o", name + ".dkl"], cwd: dir.path)
            let got = try records(dir.file(name + ".dkl"))
            let yx = try ArrayFile.open(dir.file(name + "_yx.npy")), p = try ArrayFile.open(dir.file(name + "_p.npy"))
            XCTAssertEqual(got.coords.count, yx.shape[0], name)
            XCTAssertEqual(got.coords.flatMap { $0 }, try yx.readAll().map { Int($0) }, name)
            assertClose(got.patches.flatMap { $0 }, try p.readAll(), rtol: 1e-5, atol: 1e-6, name)
            if name == "odd" { XCTAssertTrue(r.err.contains("left out 25 of 208 patches that touch NaN"), r.err) }
        }
        // Two channels: the patch is C×W×W and the header names both inputs.
        let two = try records(dir.file("two.dkl"))
        XCTAssertEqual(two.header.schema["patch"]!.shape, [2, 3, 3])
        XCTAssertEqual(two.header.attrs["channels"]!.arrayValue!.count, 2)
    }

    /// The shared benchmark's candidates (16×16, top-left (i, j), centre pixel (i+8, j+8),
    /// global min-max): the numbers its README gives for the input matrix.
    func testSharedBenchmarkCandidates() throws {
        let image = Tools.root + "/Tests/Fixtures/bench/image.npy"
        let dir = TempDir()
        try Tools.expect(0, "dkl-patches", ["-w", "16", "--even", "shift", image, "-o", "c.dkl"], cwd: dir.path)
        let got = try records(dir.file("c.dkl"))
        XCTAssertEqual(got.coords.count, 12769)
        XCTAssertEqual(got.coords[0], [8, 8])
        XCTAssertEqual(got.coords[12768], [120, 120])
        assertClose(got.patches[0][0..<3].map(Double.init), [0.15940351, 0.17609116, 0.11246368], rtol: 0, atol: 5e-8)
        assertClose(Double(got.patches[12768][255]), 0.12116622, rtol: 0, atol: 5e-8)
        let sum = got.patches.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) } }
        assertClose(sum, 949209.230392976, rtol: 1e-6)
    }

    /// Bands of a spectrum image as channels: their means against numpy on the sample data,
    /// and centres from a list, as an array or a stream.
    func testSpectrumBandsAndCoordinates() throws {
        let dir = TempDir()
        let spectra = Tools.root + "/share/plasmon/spectra.h5"
        _ = try Tools.python("""
            import numpy as np, h5py, sys
            f = h5py.File(sys.argv[1], 'r'); s = f['/spectra'][...].astype(np.float64); e = f['/energy'][...]
            sel = (e >= 1.35) & (e <= 2.05)
            band = s[:, :, sel].mean(axis=2)
            b = (band - band.min()) / (band.max() - band.min())
            pts = np.array([[3, 4], [10, 20], [63, 1]], dtype=np.int32)
            np.save('pts.npy', pts)
            np.save('expected.npy', np.array([b[y-1:y+2, x-1:x+2].ravel() for y, x in [(3, 4), (10, 20)]]))
            """, args: [spectra], cwd: dir.path)
        // (63, 1) is on the grid but its 3×3 window leaves it.
        let bad = try Tools.expect(1, "dkl-patches", ["-w", "3", "--spectra", spectra + ":/spectra", "--band", "1.35:2.05", "--coords", "pts.npy"], cwd: dir.path)
        XCTAssertEqual(bad.err, "dkl-patches: pts.npy:3: the 3×3 window of (63, 1) leaves the 64×64 image (use --border reflect)\n")
        _ = try Tools.python("import numpy as np; np.save('pts.npy', np.load('pts.npy')[:2])", cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "3", "--spectra", spectra + ":/spectra", "--band", "1.35:2.05", "--coords", "pts.npy", "-o", "b.dkl"], cwd: dir.path)
        let got = try records(dir.file("b.dkl"))
        XCTAssertEqual(got.coords, [[3, 4], [10, 20]])
        assertClose(got.patches.flatMap { $0 }, try ArrayFile.open(dir.file("expected.npy")).readAll(), rtol: 1e-5, atol: 1e-6)
        // The same centres from a stream with fields y and x.
        try Tools.expect(0, "dkl-cat", ["--fields", "y,x", "b.dkl", "-o", "pts.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "3", "--spectra", spectra + ":/spectra", "--band", "1.35:2.05", "--coords", "pts.dkl", "-o", "c.dkl"], cwd: dir.path)
        XCTAssertEqual(try dir.read("b.dkl").count, try dir.read("c.dkl").count)
        XCTAssertEqual(try records(dir.file("c.dkl")).patches, got.patches)
    }

    /// An H×W×C array is C channels: with -w 1 the vector at each pixel, each channel
    /// scaled to [0, 1] over the grid (numpy); with -w 3 the same patches as C images.
    func testChannelsOfAnArray() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            a = np.random.default_rng(1).normal(size=(5, 6, 7)).astype(np.float32)
            np.save('a.npy', a)
            for k in range(7): np.save('c%d.npy' % k, a[:, :, k])
            lo, hi = a.min(axis=(0, 1)), a.max(axis=(0, 1))
            np.save('expected.npy', ((a - lo) / (hi - lo)).reshape(30, 7))
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "1", "a.npy", "-o", "v.dkl"], cwd: dir.path)
        let v = try records(dir.file("v.dkl"))
        XCTAssertEqual(v.coords.count, 30)
        XCTAssertEqual(v.coords[7], [1, 1])
        assertClose(v.patches.flatMap { $0 }, try ArrayFile.open(dir.file("expected.npy")).readAll(), rtol: 1e-6, atol: 1e-7)
        try Tools.expect(0, "dkl-patches", ["-w", "3", "a.npy", "-o", "a.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "3", "-o", "c.dkl"] + (0..<7).map { "c\($0).npy" }, cwd: dir.path)
        XCTAssertEqual(try records(dir.file("a.dkl")).patches, try records(dir.file("c.dkl")).patches)
    }

    func testBadInput() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('v.npy', np.zeros(5)); np.save('im.npy', np.ones((6, 6))); np.save('im2.npy', np.ones((6, 7)))", cwd: dir.path)
        let cases: [([String], Int32, String)] = [
            (["missing.npy"], 1, "dkl-patches: missing.npy: no such file\n"),
            (["v.npy"], 1, "dkl-patches: v.npy: expected a structural image H×W, or H×W×C with channels (rank 2, 3 or 4), found shape [5]\n"),
            (["-w", "7", "im.npy"], 1, "dkl-patches: im.npy: a 7×7 window does not fit in a 6×6 image\n"),
            (["im.npy", "im2.npy"], 1, "dkl-patches: im2.npy: the grid 6×7 differs from the first input's 6×6\n"),
            (["--band", "1:2", "im.npy"], 64, "dkl-patches: error: --band needs --spectra\n"),
            (["--border", "wrap", "im.npy"], 64, "dkl-patches: error: --border must be skip or reflect\n"),
            (["--spectra", "im.npy", "--band", "1:2"], 1, "dkl-patches: im.npy: expected a spectrum image H×W×E (rank 3), found shape [6, 6]\n"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-patches", args + ["-o", "out.dkl"], cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("out.dkl"), "\(args) left an output")
        }
    }
}
