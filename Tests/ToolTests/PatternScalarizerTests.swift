import DKL
import Foundation
import TestSupport
import XCTest

/// 4D-STEM scalarizers wherever a spectrum scalarizer works (dkl-scalarize, dkl-train
/// --spectra, dkl-explore --oracle, dkl-replay): the centre of mass and its parts, virtual
/// bright-field and annular dark-field detectors, a four-quadrant DPC detector, radii in
/// pixels or calibrated mrad; each value against numpy.
final class PatternScalarizerTests: XCTestCase {
    /// A cube H×W×ky×kx = 4×5×9×11 of random counts, an image on the same grid, and numpy's
    /// value of each scalarizer about the centre (4, 5.5).
    func makeCube(_ dir: TempDir) throws {
        _ = try Tools.python("""
            import json, numpy as np, h5py
            rng = np.random.default_rng(5)
            cube = rng.uniform(0, 1, (4, 5, 9, 11)); np.save('cube.npy', cube)
            np.save('image.npy', rng.uniform(0, 1, (4, 5)).astype('f4'))
            ky, kx = np.mgrid[0:9, 0:11]; cy, cx = 4.0, 5.5
            r = np.hypot(ky - cy, kx - cx)
            want = {}
            for y in range(4):
                for x in range(5):
                    p = cube[y, x]; t = p.sum()
                    X = (p * (kx - cx)).sum() / t; Y = (p * (ky - cy)).sum() / t
                    ring = (r >= 1) & (r <= 4)
                    want[f'{y},{x}'] = {
                        'com': float(np.hypot(X, Y)), 'com_x': float(X), 'com_y': float(Y), 'com_angle': float(np.degrees(np.arctan2(Y, X))),
                        'bf_3': float(p[r <= 3].sum()), 'adf_2_4': float(p[(r >= 2) & (r <= 4)].sum()),
                        'dpc_x': float((p[kx > cx].sum() - p[kx < cx].sum()) / t), 'dpc_y': float((p[ky > cy].sum() - p[ky < cy].sum()) / t),
                        'ring_x': float((p[ring & (kx > cx)].sum() - p[ring & (kx < cx)].sum()) / p[ring].sum()),
                        'ring_y': float((p[ring & (ky > cy)].sum() - p[ring & (ky < cy)].sum()) / p[ring].sum())}
            json.dump(want, open('want.json', 'w'))
            # The same cube with its detector calibrated: 0.5 mrad per pixel (NSID dimension scales).
            with h5py.File('calibrated.h5', 'w') as f:
                d = f.create_dataset('cube', data=cube)
                d.attrs['main_data_name'] = 'cube'; d.attrs['quantity'] = 'counts'; d.attrs['data_type'] = 'IMAGE_4D'
                d.attrs['DIMENSION_LABELS'] = ['y', 'x', 'ky', 'kx']
                for name, n, u, s in [('y', 4, 'nm', 1.0), ('x', 5, 'nm', 1.0), ('ky', 9, 'mrad', 0.5), ('kx', 11, 'mrad', 0.5)]:
                    v = f.create_dataset(name, data=np.arange(n) * s); v.attrs['units'] = u
            """, cwd: dir.path)
    }

    func records(_ text: String) throws -> [[String: Double]] {
        try text.split(separator: "\n").dropFirst().map { line in
            guard case let .object(m) = try JSONParser.parse(String(line)) else { return [:] }
            return Dictionary(uniqueKeysWithValues: m.map { ($0.0, $0.1.doubleValue ?? .nan) })
        }
    }

    func testEveryPatternScalarizerAgainstNumpy() throws {
        let dir = TempDir()
        try makeCube(dir)
        let want = try JSONParser.parse(try String(contentsOfFile: dir.file("want.json"), encoding: .utf8))
        let specs = ["com", "com_x", "com_y", "com_angle", "bf:3", "adf:2:4", "dpc", "ring=dpc:1:4"]
        let out = try Tools.expect(0, "dkl-scalarize", specs.flatMap { ["-S", $0] } + ["--centre", "4,5.5", "cube.npy", "-J"], cwd: dir.path).out
        let got = try records(out)
        XCTAssertEqual(got.count, 20)
        for r in got {
            let w = want["\(Int(r["y"]!)),\(Int(r["x"]!))"]!
            for field in ["com", "com_x", "com_y", "com_angle", "bf_3", "adf_2_4", "dpc_x", "dpc_y", "ring_x", "ring_y"] {
                XCTAssertEqual(r[field]!, w[field]!.doubleValue!, accuracy: 1e-12 * max(1, abs(w[field]!.doubleValue!)), field)
            }
            XCTAssertEqual(r["flags"], 0)
        }
        // --com is the four parts of -S com, about the mean pattern's centre (the same bits).
        let com = try records(try Tools.expect(0, "dkl-scalarize", ["--com", "cube.npy", "-J"], cwd: dir.path).out)
        let parts = try records(try Tools.expect(0, "dkl-scalarize", ["-S", "com_x", "-S", "com_y", "-S", "com_magnitude", "-S", "com_angle", "cube.npy", "-J"], cwd: dir.path).out)
        XCTAssertEqual(com, parts)
        // Radii in mrad on a calibrated detector: 1.5 mrad is 3 pixels of 0.5 mrad.
        let mrad = try records(try Tools.expect(0, "dkl-scalarize", ["-S", "bf=bf:1.5mrad", "--centre", "4,5.5", "calibrated.h5", "-J"], cwd: dir.path).out)
        XCTAssertEqual(mrad.map { $0["bf"]! }, got.map { $0["bf_3"]! })
    }

    /// The same scalarizer in training, in an active experiment and in a replay; the
    /// experiment's values are the scalarizer's at the points it measured.
    func testTrainingExploringAndReplaying() throws {
        let dir = TempDir()
        try makeCube(dir)
        let want = try JSONParser.parse(try String(contentsOfFile: dir.file("want.json"), encoding: .utf8))
        try Tools.expect(0, "dkl-patches", ["-w", "1", "image.npy", "-o", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["--spectra", "cube.npy", "-S", "adf:2:4", "--centre", "4,5.5", "--extractor", "none", "--ensemble", "1",
                                          "-n", "20", "-o", "m.h5", "p.dkl"], cwd: dir.path)
        XCTAssertTrue(dir.exists("m.h5"))
        try Tools.expect(0, "dkl-explore", ["--oracle", "cube.npy", "-S", "adf:2:4", "--centre", "4,5.5", "--extractor", "none", "-w", "1",
                                            "--init", "5", "--steps", "3", "--ensemble", "1", "-n", "20", "--measurements", "inline", "--trace", "t.ndjson", "image.npy"],
                         cwd: dir.path)
        let trace = try records(try String(contentsOfFile: dir.file("t.ndjson"), encoding: .utf8))
        XCTAssertEqual(trace.count, 8)
        let header = try StreamReader(path: dir.file("t.ndjson")).header
        XCTAssertEqual(header.schema["spectrum"]?.shape, [9, 11], "the trace keeps the measured patterns (inline, as asked: float64)")
        for r in trace {
            XCTAssertEqual(r["value"]!, want["\(Int(r["y"]!)),\(Int(r["x"]!))"]!["adf_2_4"]!.doubleValue!, accuracy: 1e-12)
        }
        // The finished experiment re-scalarized with another detector, from its trace's patterns.
        let again = try records(try Tools.expect(0, "dkl-scalarize", ["-S", "bf:3", "--centre", "4,5.5", "t.ndjson", "-J"], cwd: dir.path).out)
        XCTAssertEqual(again.count, 8)
        for r in again { XCTAssertEqual(r["bf_3"]!, want["\(Int(r["y"]!)),\(Int(r["x"]!))"]!["bf_3"]!.doubleValue!, accuracy: 1e-12) }
        try Tools.expect(0, "dkl-replay", ["--oracle", "cube.npy", "--trace", "t.ndjson", "--centre", "4,5.5", "--every", "4", "--ensemble", "1", "-n", "20",
                                           "image.npy", "-o", "r.dkl"], cwd: dir.path)
        XCTAssertTrue(dir.exists("r.dkl"))
    }

    func testMistakesAreOneMessage() throws {
        let dir = TempDir()
        try makeCube(dir)
        _ = try Tools.python("import numpy as np; np.save('si.npy', np.ones((2, 3, 20)))", cwd: dir.path)
        let cases: [([String], Int32, String)] = [
            (["-S", "com", "si.npy"], 1, "dkl-scalarize: si.npy: expected a 4D-STEM cube H×W×ky×kx (rank 4), found shape [2, 3, 20]"),
            (["-S", "com", "-S", "mean:1:2", "cube.npy"], 64, "dkl-scalarize: error: diffraction-pattern scalarizers (com, bf, adf, dpc) and spectrum ones do not mix"),
            (["-S", "mean:1:2", "--centre", "4,5", "si.npy"], 64, "dkl-scalarize: error: --centre, --mask and --radius go with diffraction-pattern scalarizers (com, bf, adf, dpc)"),
            (["-S", "bf:2mrad", "cube.npy"], 64, "dkl-scalarize: error: 'bf_2mrad': the patterns have no calibration in mrad: give radii in detector pixels"),
            (["-S", "adf:4:2", "cube.npy"], 64, "dkl-scalarize: error: 'adf:4:2': the inner radius must be below the outer, in the same unit"),
            (["-S", "bf:0.1", "--centre", "4.5,5.5", "cube.npy"], 64, "dkl-scalarize: error: bf_0p1: no detector pixel lies in its region (centre 4.5, 5.5 on a 9×11 detector)"),
            (["-S", "bf:x", "cube.npy"], 64, "dkl-scalarize: error: 'bf:x': a radius is a number of detector pixels or of mrad ('40mrad'), not 'x'"),
            (["-S", "com", "--bin", "2", "cube.npy"], 64, "dkl-scalarize: error: --bin goes with spectra, not diffraction patterns"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-scalarize", args + ["-o", "out.dkl"], cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("out.dkl"))
        }
        // A stream of patterns has no cube to take the mean pattern's centre from.
        try Tools.expect(0, "dkl-cat", ["--import", "cube.npy", "--dtype", "f64", "-o", "cube.dkl"], cwd: dir.path)
        let r = try Tools.expect(64, "dkl-scalarize", ["-S", "com", "cube.dkl", "-o", "out.dkl"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-scalarize: error: diffraction patterns from cube.dkl need the reference centre: --centre KY,KX"), r.report)
        let ok = try Tools.expect(0, "dkl-scalarize", ["-S", "com", "--centre", "4,5.5", "cube.dkl", "-J"], cwd: dir.path).out
        let direct = try Tools.expect(0, "dkl-scalarize", ["-S", "com", "--centre", "4,5.5", "cube.npy", "-J"], cwd: dir.path).out
        XCTAssertEqual(ok.split(separator: "\n").dropFirst(), direct.split(separator: "\n").dropFirst())
    }
}
