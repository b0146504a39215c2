import Foundation
import TestSupport
import XCTest

/// A shape an array file declares is checked before anything is read or allocated: no
/// overflow, at most 1 TiB, and no more than the file holds (all of it when contiguous, a
/// thousandfold when compressed). These ran for ever (2^62 or 2^40 rows of fill values) or
/// trapped before; each is now one message and exit 1, through every tool that reads arrays.
final class DeclaredShapeTests: XCTestCase {
    func testHostileShapesAreRefusedBeforeReading() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import h5py, numpy as np, struct
            with h5py.File('s.h5', 'w') as f:
                f.create_dataset('huge', shape=(2**62, 1), dtype='f8', chunks=(1024, 1), maxshape=(None, 1))
                f.create_dataset('tera', shape=(2**40,), dtype='f8', chunks=(1024,))
                f.create_dataset('unwritten', shape=(300, 300), dtype='f8')
                f.create_dataset('ok', data=np.arange(12.).reshape(3, 4))
                f.create_dataset('zeros', data=np.zeros((1500, 1500)), chunks=(100, 100), compression='gzip')
            # An NPY header declaring (2**40, 2**40) with no data behind it.
            h = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
            h += ' ' * (118 - len(h)) + '\\n'
            open('huge.npy', 'wb').write(b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(h)) + h.encode())
            """, cwd: dir.path)
        let refused: [(String, String)] = [
            ("s.h5:/huge", "dkl-cat: s.h5:/huge: declared shape [4611686018427387904, 1] needs more than 2^63 bytes; at most 1099511627776 (1 TiB) are read"),
            ("s.h5:/tera", "dkl-cat: s.h5:/tera: declared shape [1099511627776] needs 8796093022208 bytes; at most 1099511627776 (1 TiB) are read"),
            ("s.h5:/unwritten", "dkl-cat: s.h5:/unwritten: declared shape [300, 300] needs 720000 bytes but the file holds 0 of them"),
        ]
        for (spec, message) in refused {
            let started = Date()
            let r = try Tools.expect(1, "dkl-cat", ["--import", spec, "-o", "x.dkl"], cwd: dir.path)
            XCTAssertEqual(r.err, message + "\n", r.report)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10)
            XCTAssertFalse(dir.exists("x.dkl"))
        }
        let npy = try Tools.expect(1, "dkl-cat", ["--import", "huge.npy", "-o", "x.dkl"], cwd: dir.path)
        XCTAssertTrue(npy.err.hasPrefix("dkl-cat: huge.npy: ") && npy.err.split(separator: "\n").count == 1, npy.report)
        // The same refusal from the other readers of arrays.
        for (tool, args) in [("dkl-patches", ["-w", "3", "s.h5:/tera"]), ("dkl-plot", ["map", "-o", "m.png", "s.h5:/huge"]),
                             ("dkl-scalarize", ["-S", "integral:0:1", "s.h5:/tera"]), ("ferrosim", ["--field-file", "s.h5:/tera"])] {
            let r = try Tools.expect(1, tool, args, cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix("\(tool): s.h5:/"), r.report)
        }
        // Sound datasets, compressed or not, still read.
        try Tools.expect(0, "dkl-cat", ["--import", "s.h5:/ok", "-o", "ok.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "s.h5:/zeros", "-o", "z.dkl"], cwd: dir.path)
    }
}

/// Empty images and USID index tables that do not count grid points: these trapped (a nil
/// grid in dkl-patches, a division by a zero-size dimension, Int of a huge index).
final class EmptyAndIndexTableTests: XCTestCase {
    func testEmptyImagesAndBadUSIDIndicesAreMessages() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import h5py, numpy as np
            np.save('hw0.npy', np.zeros((8, 8, 0), dtype='f4'))
            np.save('e0.npy', np.zeros((0, 8), dtype='f4'))
            def usid(name, pos):
                with h5py.File(name, 'w') as f:
                    g = f.create_group('Measurement_000/Channel_000')
                    d = g.create_dataset('Raw_Data', data=np.arange(4.).reshape(4, 1))
                    d.attrs['quantity'] = 'Current'
                    g['Position_Indices'] = np.array(pos, dtype='f8')
                    g['Position_Values'] = np.zeros((4, 2))
                    g['Spectroscopic_Indices'] = np.zeros((1, 1), dtype='u4')
                    g['Spectroscopic_Values'] = np.zeros((1, 1))
            usid('good.h5', [[0, 0], [0, 1], [1, 0], [1, 1]])
            usid('negative.h5', [[0, 0], [0, -1], [1, 0], [1, 1]])
            usid('huge.h5', [[0, 0], [0, 1e300], [1, 0], [1, 1]])
            usid('nan.h5', [[0, 0], [0, float('nan')], [1, 0], [1, 1]])
            """, cwd: dir.path)
        let r = try Tools.expect(1, "dkl-patches", ["-w", "3", "hw0.npy", "-o", "p.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "dkl-patches: hw0.npy: expected a structural image H×W, or H×W×C with channels, found the empty shape 8×8×0\n", r.report)
        XCTAssertFalse(dir.exists("p.dkl"))
        let plot = try Tools.expect(1, "dkl-plot", ["map", "-o", "m.png", "e0.npy"], cwd: dir.path)
        XCTAssertTrue(plot.err.hasPrefix("dkl-plot: e0.npy: expected a map H×W or frames K×H×W, found the empty shape 0×8"), plot.report)
        // A sound table imports as a 2×2×1 array; each damaged one is one message.
        let good = try Tools.expect(0, "dkl-cat", ["--import", "good.h5", "--tsv"], cwd: dir.path)
        XCTAssertEqual(good.out.split(separator: "\n").count, 3, good.report)
        for (name, value) in [("negative", "-1.0"), ("huge", "1e+300"), ("nan", "nan")] {
            let bad = try Tools.expect(1, "dkl-cat", ["--import", "\(name).h5", "-o", "x.dkl"], cwd: dir.path)
            XCTAssertEqual(bad.err, "dkl-cat: \(name).h5: USID Position_Indices holds \(value) at entry 3, not an index below 4\n", bad.report)
        }
    }
}
