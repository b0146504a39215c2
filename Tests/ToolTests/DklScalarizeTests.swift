import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-scalarize against the shared benchmark's scalar maps, numpy, known peaks and bad input.
final class DklScalarizeTests: XCTestCase {
    /// Every field of a stream file, by name, in record order.
    func columns(_ path: String) throws -> [String: [Double]] {
        let r = try StreamReader(path: path)
        var out = [String: [Double]]()
        while let rec = try r.next() {
            let v = RecordView(rec, r.schema)
            for (i, f) in r.schema.fields.enumerated() { out[f.name, default: []].append(v.double(i)) }
        }
        return out
    }

    /// The benchmark's target is a ratio of band integrals of its noisy spectra: the same
    /// numbers from its files (float32 maps; a 16×16 crop, Tests/Fixtures/bench).
    func testRatioAndIntegralMatchTheSharedBenchmark() throws {
        let data = Tools.root + "/Tests/Fixtures/bench/"
        let dir = TempDir()
        try Tools.expect(0, "dkl-scalarize", [data + "spectra_crop.npy", "--energy", data + "energy.npy",
                                              "-S", "r=ratio:1.35:2.05:2.30:3.10", "-S", "i=integral:1.35:2.05", "-o", "s.dkl"], cwd: dir.path)
        let c = try columns(dir.file("s.dkl"))
        XCTAssertEqual(c["y"]!.count, 16 * 16)
        XCTAssertEqual(Array(c["x"]!.prefix(3)), [0, 1, 2])
        assertClose(c["r"]!, try ArrayFile.open(data + "truth_ratio_crop.npy").readAll(), rtol: 2e-6)
        assertClose(c["i"]!, try ArrayFile.open(data + "truth_integral_crop.npy").readAll(), rtol: 2e-6)
        XCTAssertEqual(c["flags"]!.max(), 0)
    }

    /// Band statistics against numpy, fitted peaks against the parameters that made them,
    /// a NaN spectrum and a spectrum without a peak flagged; and the same through a stream.
    func testScalarizersAgainstNumpyAndKnownPeaks() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np, h5py
            rng = np.random.default_rng(7)
            E = np.linspace(0.5, 4.5, 161)
            H, W = 3, 4
            s = np.zeros((H, W, E.size)); truth = []
            for y in range(H):
                for x in range(W):
                    c, h, w = rng.uniform(1.8, 3.2), rng.uniform(0.5, 2), rng.uniform(0.25, 0.6)
                    lor = (y + x) % 2 == 1
                    u = (E - c) / w
                    peak = h / (1 + 4 * u * u) if lor else h * np.exp(-4 * np.log(2) * u * u)
                    s[y, x] = peak + 0.3 - 0.05 * E + rng.normal(0, 1e-4, E.size)
                    truth.append([c, h, w, lor])
            s[2, 3] = 0.2                      # no peak: the fit is refused
            s[0, 1, 40] = np.nan               # NaN inside every band below
            with h5py.File('s.h5', 'w') as f:
                d = f.create_dataset('spectra', data=s.astype(np.float64))
                d.attrs['energy_start_eV'] = 0.5; d.attrs['energy_step_eV'] = E[1] - E[0]
            np.save('truth.npy', np.array(truth))
            band = (E >= 1.0) & (E <= 4.0); idx = np.flatnonzero(band)
            exp = {'mean': [], 'max': [], 'prom': [], 'integral': []}
            for y in range(H):
                for x in range(W):
                    v = s[y, x, band]
                    t = int(np.argmax(v))
                    exp['mean'].append(v.mean()); exp['max'].append(v.max())
                    exp['prom'].append(v[t] - max(v[:t + 1].min(), v[t:].min()))
                    exp['integral'].append((E[1] - E[0]) * v.sum())
            for k, v in exp.items(): np.save(k + '.npy', np.array(v))
            """, cwd: dir.path)
        let specs = ["mean:1:4", "max:1:4", "prom=prominence:1:4", "i=integral:1:4", "p=peak:1:4", "g=fit:gauss:1:4", "l=fit:lorentz:1:4"]
        let r = try Tools.expect(0, "dkl-scalarize", ["s.h5"] + specs.flatMap { ["-S", $0] } + ["-o", "a.dkl"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("2 of 12 records are flagged"), r.err)
        let c = try columns(dir.file("a.dkl"))
        XCTAssertEqual(Array(c.keys).sorted(), ["flags", "g_area", "g_centre", "g_fwhm", "g_height", "g_r2", "i", "l_area", "l_centre", "l_fwhm",
                                                 "l_height", "l_r2", "max_1_4", "mean_1_4", "p", "prom", "x", "y"])
        let ok = (0..<12).filter { $0 != 1 && $0 != 11 }
        func pick(_ v: [Double]) -> [Double] { ok.map { v[$0] } }
        assertClose(pick(c["mean_1_4"]!), pick(try ArrayFile.open(dir.file("mean.npy")).readAll()), rtol: 1e-12)
        assertClose(pick(c["max_1_4"]!), pick(try ArrayFile.open(dir.file("max.npy")).readAll()), rtol: 1e-12)
        assertClose(pick(c["prom"]!), pick(try ArrayFile.open(dir.file("prom.npy")).readAll()), rtol: 1e-12)
        assertClose(pick(c["i"]!), pick(try ArrayFile.open(dir.file("integral.npy")).readAll()), rtol: 1e-12)
        let truth = try ArrayFile.open(dir.file("truth.npy")).readAll()
        for k in ok {
            let (centre, height, fwhm, lorentz) = (truth[4 * k], truth[4 * k + 1], truth[4 * k + 2], truth[4 * k + 3] == 1)
            let f = lorentz ? "l" : "g"
            assertClose(c[f + "_centre"]![k], centre, rtol: 0, atol: 1e-3, "record \(k)")
            assertClose(c[f + "_height"]![k], height, rtol: 2e-3, "record \(k)")
            assertClose(c[f + "_fwhm"]![k], fwhm, rtol: 2e-3, "record \(k)")
            XCTAssertGreaterThan(c[f + "_r2"]![k], 0.9999)
            // The peak's energy to a fraction of a channel (0.025 eV) on a tilted background.
            assertClose(c["p"]![k], centre, rtol: 0, atol: 0.01, "record \(k)")
        }
        XCTAssertEqual(c["flags"]![1], 1)
        XCTAssertTrue(c["mean_1_4"]![1].isNaN)
        XCTAssertEqual(c["flags"]![11], 2)
        XCTAssertTrue(c["g_centre"]![11].isNaN)
        XCTAssertFalse(c["mean_1_4"]![11].isNaN)
        // A stream of the same spectra (energy axis from the imported attributes), through stdin.
        let stream = try Tools.expect(0, "dkl-cat", ["--import", "s.h5:/spectra", "--field", "spectrum", "--dtype", "f64"], cwd: dir.path)
        try Tools.expect(0, "dkl-scalarize", ["-"] + specs.flatMap { ["-S", $0] } + ["-o", "b.dkl", "-q"], stdin: stream.stdout, cwd: dir.path)
        let b = try columns(dir.file("b.dkl"))
        for (k, v) in c { XCTAssertEqual(v.map { $0.isNaN ? -999 : $0 }, b[k]!.map { $0.isNaN ? -999 : $0 }, k) }
    }

    /// 4D-STEM: the centre of mass of each pattern against numpy, about a given centre and
    /// about the mean pattern's, within a disc.
    func testCentreOfMass() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            rng = np.random.default_rng(3)
            cube = rng.uniform(0, 1, (3, 4, 9, 11)); np.save('cube.npy', cube)
            ky, kx = np.mgrid[0:9, 0:11]
            def com(p, cy, cx, m):
                t = (p * m).sum(); y = (p * m * (ky - cy)).sum() / t; x = (p * m * (kx - cx)).sum() / t
                return [x, y, np.hypot(x, y), np.degrees(np.arctan2(y, x))]
            ones = np.ones((9, 11))
            mean = cube.mean(axis=(0, 1)); cy = (mean * ky).sum() / mean.sum(); cx = (mean * kx).sum() / mean.sum()
            np.save('given.npy', np.array([com(cube[y, x], 4.0, 5.5, ones) for y in range(3) for x in range(4)]))
            disc = ((ky - cy) ** 2 + (kx - cx) ** 2 <= 3.5 ** 2).astype(float)
            np.save('auto.npy', np.array([com(cube[y, x], cy, cx, disc) for y in range(3) for x in range(4)]))
            """, cwd: dir.path)
        for (args, expected) in [(["--centre", "4,5.5"], "given.npy"), (["--radius", "3.5"], "auto.npy")] {
            try Tools.expect(0, "dkl-scalarize", ["--com", "cube.npy", "-o", "c.dkl"] + args, cwd: dir.path)
            let c = try columns(dir.file("c.dkl"))
            let got = (0..<12).flatMap { k in ["com_x", "com_y", "com_magnitude", "com_angle"].map { c[$0]![k] } }
            assertClose(got, try ArrayFile.open(dir.file(expected)).readAll(), rtol: 1e-10, atol: 1e-12, expected)
        }
    }

    /// --counts dark:E0:E1: the counting noise estimated from a spectrum image whose first
    /// channels are dark (drawn in numpy with gain 0.5, dark level 20, read noise 2); the
    /// estimate in the header and the note, and the variances the same as --counts given it.
    func testCountsEstimatedFromTheDarkRegion() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            r = np.random.default_rng(4)
            e = np.arange(60) * 0.1
            amp = r.uniform(0.5, 2, size=(30, 30, 1))
            lam = amp * np.where(e < 0.8, 0, 200 * np.exp(-(e - 0.8) / 2) + 300 * np.exp(-(e - 3.5) ** 2 / 0.5))
            np.save('cube.npy', 0.5 * r.poisson(lam) + 20 + 2 * r.normal(size=lam.shape))
            """, cwd: dir.path)
        let r = try Tools.expect(0, "dkl-scalarize", ["-S", "integral:3:4", "--energy", "0:0.1", "--counts", "dark:0:0.75", "cube.npy", "-J", "-o", "est.ndjson"],
                                 cwd: dir.path)
        XCTAssertTrue(r.err.contains("dkl-scalarize: the counts estimated from the dark region 0.0…0.75: gain "), r.err)
        let counts = try StreamReader(path: dir.file("est.ndjson")).header.attrs["counts"]!.stringValue!
        let v = counts.split(separator: ":").map { Double($0)! }
        XCTAssertEqual(v[0] / 0.5, 1, accuracy: 0.05, counts)
        XCTAssertEqual(v[1], 20, accuracy: 0.1, counts)
        XCTAssertEqual(v[2] / 2, 1, accuracy: 0.05, counts)
        try Tools.expect(0, "dkl-scalarize", ["-S", "integral:3:4", "--energy", "0:0.1", "--counts", counts, "cube.npy", "-J", "-o", "given.ndjson"], cwd: dir.path)
        let (a, b) = (try String(contentsOfFile: dir.file("est.ndjson"), encoding: .utf8), try String(contentsOfFile: dir.file("given.ndjson"), encoding: .utf8))
        XCTAssertEqual(a.split(separator: "\n").dropFirst(), b.split(separator: "\n").dropFirst())
        // A stream of spectra cannot be read twice; a region with no channel is refused.
        let bad = try Tools.expect(64, "dkl-scalarize", ["-S", "integral:3:4", "--energy", "0:0.1", "--counts", "dark:7:8", "cube.npy", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("holds 0 channel(s)"), bad.err)
        XCTAssertFalse(dir.exists("x.dkl"))
    }

    func testBadInput() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('s.npy', np.ones((2, 3, 50))); np.save('im.npy', np.ones((4, 4)))", cwd: dir.path)
        let cases: [([String], Int32, String)] = [
            (["s.npy"], 64, "dkl-scalarize: error: give at least one -S SPEC (or --com for a 4D-STEM cube)\n"),
            (["s.npy", "-S", "area:1:2"], 64, "dkl-scalarize: error: unknown scalarizer 'area' (integral, mean, max, ratio, peak, prominence, fit, edge, edgeratio; for diffraction patterns com, com_x, com_y, com_angle, bf, adf, dpc)\n"),
            (["s.npy", "-S", "integral:2:1"], 64, "dkl-scalarize: error: a band must be LO:HI in the energy axis's unit with LO ≤ HI, not '2:1'\n"),
            (["s.npy", "-S", "integral:1:2"], 1, "dkl-scalarize: s.npy: no energy axis: give --energy START:STEP or --energy FILE\n"),
            (["s.npy", "-S", "integral:9:10", "--energy", "1:0.1"], 1, "dkl-scalarize: s.npy: no channel lies in 9–10 eV (the spectra cover 1–5.9 eV)\n"),
            (["im.npy", "-S", "integral:1:2"], 1, "dkl-scalarize: im.npy: expected a spectrum image H×W×E (rank 3), found shape [4, 4]\n"),
            (["s.npy", "--com"], 1, "dkl-scalarize: s.npy: expected a 4D-STEM cube H×W×ky×kx (rank 4), found shape [2, 3, 50]\n"),
            (["missing.h5", "-S", "integral:1:2"], 1, "dkl-scalarize: missing.h5: no such file\n"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-scalarize", args + ["-o", "out.dkl"], cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("out.dkl"), "\(args) left an output")
        }
    }

    /// --saturation: spectra of 16-bit counts where a channel reached 65535 (or a lock-in
    /// signal at its -10 V rail) are flagged 4 with their fields kept, and dkl-train
    /// --spectra leaves them out of its targets.
    func testSaturatedSpectraAreFlagged() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np, h5py
            rng = np.random.default_rng(3)
            s = rng.integers(100, 1000, size=(6, 6, 40)).astype('u2')
            s[1, 2, 7] = 65535; s[4, 0, 39] = 65535; s[5, 5, 0] = 65534
            with h5py.File('s.h5', 'w') as f:
                d = f.create_dataset('spectra', data=s)
                d.attrs['energy_start'] = 0.0; d.attrs['energy_step'] = 0.1; d.attrs['energy_unit'] = 'keV'
            np.save('integral.npy', 0.1 * s[:, :, 10:31].astype(np.float64).sum(axis=2))
            v = rng.normal(0, 1, size=(3, 3, 20)); v[2, 1, 5] = -10.0
            np.save('lockin.npy', v)
            np.save('img.npy', rng.normal(size=(6, 6)).astype('f4'))
            """, cwd: dir.path)
        var r = try Tools.expect(0, "dkl-scalarize", ["-S", "c=integral:1:3", "--saturation", "65535", "s.h5", "-o", "a.dkl"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("2 of 36 records are flagged (NaN in the spectrum, a failed fit, or a saturated detector)"), r.err)
        let c = try columns(dir.file("a.dkl"))
        XCTAssertEqual(c["flags"]!.indices.filter { c["flags"]![$0] != 0 }, [1 * 6 + 2, 4 * 6 + 0])
        XCTAssertEqual(Set(c["flags"]!), [0, 4])
        // The fields are kept (in keV: the 21 channels of 0.1 keV from 1 to 3 keV), saturated or not.
        assertClose(c["c"]!, try ArrayFile.open(dir.file("integral.npy")).readAll(), rtol: 1e-12)
        let header = try StreamReader(path: dir.file("a.dkl")).header
        XCTAssertEqual(header.attrs["saturation"]?.doubleValue, 65535)
        XCTAssertEqual(header.attrs["energy_unit"]?.stringValue, "keV")
        // Without the option nothing is flagged; a lock-in at its rail is flagged by magnitude.
        try Tools.expect(0, "dkl-scalarize", ["-S", "c=integral:1:3", "s.h5", "-o", "b.dkl"], cwd: dir.path)
        XCTAssertEqual(Set(try columns(dir.file("b.dkl"))["flags"]!), [0])
        try Tools.expect(0, "dkl-scalarize", ["-S", "mean:0:1", "--energy", "0:0.05", "--saturation", "10", "lockin.npy", "-o", "l.dkl"], cwd: dir.path)
        let lockin = try columns(dir.file("l.dkl"))["flags"]!
        XCTAssertEqual(lockin.indices.filter { lockin[$0] == 4 }, [2 * 3 + 1])
        // dkl-train trains on the 34 clean spectra.
        try Tools.expect(0, "dkl-patches", ["-w", "3", "--border", "reflect", "img.npy", "-o", "p.dkl"], cwd: dir.path)
        r = try Tools.expect(0, "dkl-train", ["--spectra", "s.h5", "-S", "integral:1:3", "--saturation", "65535", "-n", "5", "--ensemble", "1",
                                               "--hidden", "4", "-e", "2", "-o", "m.h5", "p.dkl"], cwd: dir.path)
        XCTAssertEqual(try JSONParser.parse(r.out.trimmingCharacters(in: .whitespacesAndNewlines))["points"]?.intValue, 34, r.report)
        for bad in ["0", "-3", "nan", "inf", "x"] {
            let e = try Tools.expect(64, "dkl-scalarize", ["-S", "c=integral:1:3", "--saturation", bad, "s.h5", "-o", "z.dkl"], cwd: dir.path)
            XCTAssertTrue(e.err.hasPrefix("dkl-scalarize: error: --saturation needs a positive finite level"), e.err)
        }
        XCTAssertFalse(dir.exists("z.dkl"))
    }

    /// An energy axis that runs downwards (channels stored from high to low energy) or is
    /// not evenly spaced gives the values of the same spectra stored upwards; an axis that
    /// turns back is refused with the channel named.
    func testDownwardAndUnevenAxes() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            rng = np.random.default_rng(11)
            E = np.sort(rng.uniform(400, 500, 120)); E = np.round(E, 6)
            s = 1e4 * (E / 400) ** -3 * np.ones((2, 3, 1)) + np.where(E > 455, 300.0, 0) + rng.normal(0, 5, (2, 3, E.size))
            s += 200 * np.exp(-0.5 * ((E - 470) / 3) ** 2)
            np.save('up.npy', s); np.save('up_E.npy', E)
            np.save('down.npy', s[:, :, ::-1].copy()); np.save('down_E.npy', E[::-1].copy())
            bad = E.copy(); bad[50] = bad[48]
            np.save('bad_E.npy', bad)
            """, cwd: dir.path)
        let specs = ["integral:420:450", "mean:455:490", "max:460:480", "p=peak:460:480", "g=fit:gauss:460:480", "edge:410:450:455:490", "ratio:455:490:410:450"]
        let args = specs.flatMap { ["-S", $0] }
        try Tools.expect(0, "dkl-scalarize", args + ["--energy", "up_E.npy", "up.npy", "-o", "up.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-scalarize", args + ["--energy", "down_E.npy", "down.npy", "-o", "down.dkl"], cwd: dir.path)
        let (up, down) = (try columns(dir.file("up.dkl")), try columns(dir.file("down.dkl")))
        XCTAssertEqual(Set(up.keys), Set(down.keys))
        for k in up.keys.sorted() where k != "y" && k != "x" {
            assertClose(down[k]!, up[k]!, rtol: 1e-9, "\(k)")
        }
        XCTAssertEqual(Set(up["flags"]!), [0])
        let r = try Tools.expect(1, "dkl-scalarize", ["-S", "integral:420:450", "--energy", "bad_E.npy", "up.npy", "-o", "bad.dkl"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-scalarize: up.npy: the energy axis is not monotonic: channel 50 is at "), r.err)
        XCTAssertFalse(dir.exists("bad.dkl"))
    }
}
