import DKL
import Foundation
import TestSupport
import XCTest

final class VaeEncodeTests: XCTestCase {
    /// The trajectory generator's records hold their parameters, and the parameters give
    /// back each curve (recomputed in numpy on the same time axis).
    func testTrajectoryParametersReproduceEachCurve() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "300", "--steps", "900", "--seed", "4", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["t.dkl", "-J", "-o", "t.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, numpy as np
            lines = open('t.ndjson').read().splitlines()
            h = json.loads(lines[0]); recs = [json.loads(l) for l in lines[1:]]
            t = np.linspace(0, 1, 900)
            worst, inside = 0.0, True
            for r in recs:
                f = r['A'] * np.exp(r['alpha'] * t) * np.sin(r['omega'] * t) + r['B']
                worst = max(worst, float(np.max(np.abs(np.float32(f) - np.array(r['field'], np.float32)))))
                inside &= 0 <= r['A'] <= 0.75 and -2.75 <= r['alpha'] <= 2.75 and 2 * np.pi <= r['omega'] <= 8 * np.pi / 3 and -0.5 <= r['B'] <= 0.5
            spread = np.ptp([r['alpha'] for r in recs])
            print(len(recs), h['attrs']['steps'], worst <= 1e-6, inside, spread > 5)
            """, cwd: dir.path)
        XCTAssertEqual(out, "300 900 True True True\n")
    }

    /// Cards: suit, angle and shear in range; an upright heart is mirror-symmetric, an upright
    /// diamond symmetric both ways; rotating a card keeps its ink (up to the edge pixels).
    func testCardsAreDrawnAsStated() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["cards", "-n", "200", "--size", "40x40", "--seed", "2", "-J", "-o", "c.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-synth", ["cards", "-n", "8", "--size", "40x40", "--rotation", "0", "--shear", "0", "--suits", "hearts,diamonds", "-J", "-o", "u.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, numpy as np
            def load(p): return [json.loads(l) for l in open(p).read().splitlines()[1:]]
            c = load('c.ndjson'); u = load('u.ndjson')
            ok = all(0 <= r['suit'] <= 3 and abs(r['angle']) <= 120 and abs(r['shear']) <= 20 for r in c)
            ims = np.array([r['image'] for r in c]); vals = (ims.min() >= 0) and (ims.max() <= 1)
            suits = sorted(set(r['suit'] for r in c))
            sym = []
            for r in u:
                a = np.array(r['image'])
                sym.append(np.abs(a - a[:, ::-1]).max() < 1e-6 and (r['suit'] != 3 or np.abs(a - a[::-1, :]).max() < 1e-6))
            ink = {}
            for r in c:
                if abs(r['shear']) < 5: ink.setdefault(r['suit'], []).append(np.sum(r['image']))
            spread = max(np.std(v) / np.mean(v) for v in ink.values())
            print(ok, vals, suits, all(sym), spread < 0.03)
            """, cwd: dir.path)
        XCTAssertEqual(out, "True True [0, 1, 2, 3] True True\n")
    }

    /// Training lowers the loss; encode → decode (at the latent means) reconstructs curves it
    /// never saw to within 30% of their spread; the encoder's means equal a numpy forward
    /// pass through the parameters stored in the model file.
    func testTrainEncodeDecodeOnTrajectories() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "2000", "--steps", "100", "--seed", "1", "-o", "train.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "200", "--steps", "100", "--seed", "2", "-o", "test.dkl"], cwd: dir.path)
        let fit = try Tools.expect(0, "vae-encode", ["train", "--epochs", "40", "--encoder-hidden", "64,64", "--decoder-hidden", "64,64",
                                                     "--batch", "50", "--lr", "0.003", "-q", "-o", "m.h5", "train.dkl"], cwd: dir.path)
        let summary = try JSONParser.parse(fit.out)
        XCTAssertEqual(summary["records"]?.intValue, 2000)
        try Tools.expect(0, "vae-encode", ["encode", "-m", "m.h5", "test.dkl", "-J", "-o", "enc.ndjson"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["decode", "-m", "m.h5", "--field", "mean", "enc.ndjson", "-J", "-o", "dec.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["test.dkl", "-J", "-o", "test.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, h5py, numpy as np
            def load(p): return [json.loads(l) for l in open(p).read().splitlines()[1:]]
            test, enc, dec = load('test.ndjson'), load('enc.ndjson'), load('dec.ndjson')
            x = np.array([r['field'] for r in test]); xr = np.array([r['field'] for r in dec])
            rel = np.sqrt(np.mean((x - xr) ** 2)) / np.std(x)
            f = h5py.File('m.h5', 'r')
            loss = f['loss/train'][:]
            p = [f['parameters/p%d' % k][...].astype(np.float64) for k in range(len(f['parameters']))]
            h = (x - f.attrs['offset']) / f.attrs['scale']
            for k in range(0, 6, 2):
                h = h @ p[k] + p[k + 1]
                if k < 4: h = np.tanh(h)
            mean = np.array([r['mean'] for r in enc])
            labels = all(abs(r['A'] - t['A']) < 1e-12 and r['id'] == t['id'] for r, t in zip(enc, test))
            print(len(dec), loss[-1] < 0.5 * loss[0], rel < 0.3, np.abs(h[:, :2] - mean).max() < 1e-4, labels)
            """, cwd: dir.path)
        XCTAssertEqual(out, "200 True True True True\n")
    }

    /// Decoding a grid spans the latent box stored in the model, row-major.
    func testDecodeGridSpansTheLatentBox() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "300", "--steps", "30", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train", "--epochs", "3", "--encoder-hidden", "16", "--decoder-hidden", "16", "-q", "-o", "m.h5", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["decode", "-m", "m.h5", "--grid", "3x5", "-J", "-o", "g.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, h5py, numpy as np
            f = h5py.File('m.h5', 'r'); lo, hi = f['latent/low'][:], f['latent/high'][:]
            g = [json.loads(l) for l in open('g.ndjson').read().splitlines()[1:]]
            z = np.array([r['z'] for r in g])
            rows = [r['y'] for r in g]; cols = [r['x'] for r in g]
            print(len(g), rows[:6], cols[:6], np.allclose(z[0], lo), np.allclose(z[-1], hi), np.allclose(z[7], [lo[0] + (hi[0] - lo[0]) / 2, lo[1] + (hi[1] - lo[1]) / 2]),
                  len(g[0]['field']))
            """, cwd: dir.path)
        XCTAssertEqual(out, "15 [0, 0, 0, 0, 0, 1] [0, 1, 2, 3, 4, 0] True True True 30\n")
    }

    /// Training interrupted by SIGINT saves the last whole epoch and exits 130; continuing
    /// with --init gives the model an uninterrupted run gives.
    func testInterruptedTrainingContinuesExactly() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "3000", "--steps", "200", "-o", "t.dkl"], cwd: dir.path)
        let args = ["train", "--epochs", "250", "--patience", "0", "--encoder-hidden", "64", "--decoder-hidden", "64", "--save-every", "2", "-q"]
        try Tools.expect(0, "vae-encode", args + ["-o", "whole.h5", "t.dkl"], cwd: dir.path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Tools.path("vae-encode"))
        p.arguments = args + ["-o", "part.h5", "t.dkl"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        // Interrupt once the first periodic save is there.
        let deadline = Date().addingTimeInterval(120)
        while !dir.exists("part.h5") && p.isRunning && Date() < deadline { usleep(20_000) }
        p.interrupt()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if p.terminationStatus == 0 { throw XCTSkip("training finished before the interrupt") }
        XCTAssertEqual(p.terminationStatus, 130, message)
        XCTAssertTrue(message.contains("continue with --init part.h5"), message)
        try Tools.expect(0, "vae-encode", ["train", "--init", "part.h5", "-q", "-o", "part.h5", "t.dkl"], cwd: dir.path)
        let a = try Tools.expect(0, "vae-encode", ["encode", "-m", "whole.h5", "t.dkl", "-J", "--no-provenance"], cwd: dir.path).out
        let b = try Tools.expect(0, "vae-encode", ["encode", "-m", "part.h5", "t.dkl", "-J", "--no-provenance"], cwd: dir.path).out
        XCTAssertEqual(a.split(separator: "\n").dropFirst(), b.split(separator: "\n").dropFirst())
    }

    func testBadInputsGetOneClearMessage() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            a = np.ones((4, 3)); a[2, 1] = np.nan
            np.save('nan.npy', a)
            """, cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--import", "nan.npy", "--rows", "--field", "field", "-o", "nan.dkl"], cwd: dir.path)
        _ = try dir.write("two.ndjson", """
            {"dkl_stream":1,"fields":[{"name":"a","dtype":"f64","shape":[3]},{"name":"b","dtype":"f64","shape":[3]}]}
            {"a":[1,2,3],"b":[1,2,3]}

            """)
        var r = try Tools.expect(1, "vae-encode", ["train", "-o", "m.h5", "nan.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: nan.dkl:3: field 'field' holds NaN or infinity\n")
        r = try Tools.expect(1, "vae-encode", ["train", "-o", "m.h5", "nan.npy"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: nan.npy: record 3 holds NaN or infinity\n")
        XCTAssertFalse(dir.exists("m.h5"))
        r = try Tools.expect(1, "vae-encode", ["train", "-o", "m.h5", "two.ndjson"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: two.ndjson:header: the stream has several array fields; pick one with --field\n")
        r = try Tools.expect(1, "vae-encode", ["encode", "-m", "none.h5", "two.ndjson"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: none.h5: no such file\n")
        r = try Tools.expect(1, "vae-encode", ["train", "-o", "m.h5", "missing.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: missing.dkl: no such file\n")
        try Tools.expect(0, "vae-encode", ["train", "--field", "a", "--epochs", "1", "-q", "-o", "m.h5", "two.ndjson"], cwd: dir.path)
        _ = try dir.write("wide.ndjson", """
            {"dkl_stream":1,"fields":[{"name":"a","dtype":"f64","shape":[4]}]}
            {"a":[1,2,3,4]}

            """)
        r = try Tools.expect(1, "vae-encode", ["encode", "-m", "m.h5", "wide.ndjson"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: wide.ndjson: records of shape [4], but the model was trained on [3]\n")
        r = try Tools.expect(1, "vae-encode", ["encode", "-m", "nan.npy", "wide.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("vae-encode: nan.npy: "), r.report)
        // Damaged model files: NaN in the weights or the latent box, an epoch counter out of
        // range, a non-integer in a list of widths. One message each, nothing written.
        let damage: [(String, String)] = [
            ("f['/parameters/p0'][0, 0] = np.nan", "model: /parameters/p0 holds nan at element 0 (NaN or infinity)"),
            ("f['/latent/low'][0] = np.inf", "damaged latent bounding box"),
            ("f['/state'].attrs['epoch'] = 10**12", "model: damaged training state (step"),
            ("c = json.loads(f.attrs['config']); c['encoder_hidden'] = [16, 'x']; f.attrs['config'] = json.dumps(c)", "damaged VAE configuration"),
        ]
        for (edit, message) in damage {
            _ = try Tools.python("""
                import h5py, json, shutil, numpy as np
                shutil.copy('m.h5', 'bad.h5')
                with h5py.File('bad.h5', 'r+') as f:
                    \(edit)
                """, cwd: dir.path)
            for args in [["encode", "-m", "bad.h5", "two.ndjson", "--field", "a", "-o", "x.dkl"], ["train", "--init", "bad.h5", "--field", "a", "-o", "y.h5", "two.ndjson"]] {
                let r = try Tools.expect(1, "vae-encode", args, cwd: dir.path)
                XCTAssertTrue(r.err.hasPrefix("vae-encode: bad.h5: ") && r.err.contains(message), r.report)
                XCTAssertFalse(dir.exists("x.dkl") || dir.exists("y.h5"))
            }
        }
        for (args, message) in [(["fit"], "unknown mode 'fit' (train, encode or decode)"), ([String](), "missing mode: train, encode or decode"),
                                (["train", "-o", "m.h5", "--decoder", "conv"], "--decoder must be mlp or rotational"),
                                (["train", "-o", "m.h5", "--decoder", "rotational", "two.ndjson", "--field", "a"], "--decoder rotational needs images (records of shape [H, W])"),
                                (["decode", "-m", "m.h5", "--grid", "0x3"], "--grid: item 1 of '0x3' is 0, outside 1...100000 (AxB)"),
                                (["train", "-o", "m.h5", "--validation", "1"], "--validation must be in [0, 1)"),
                                (["train", "-o", "m.h5", "--rotation-consistency", "1"], "--rotation-consistency needs --decoder rotational"),
                                (["train", "-o", "m.h5", "--init", "m.h5", "--lr", "0.1"], "--init continues the model's training as it was set up: --lr cannot change (only --epochs and --patience)")] {
            let r = try Tools.expect(64, "vae-encode", args, stdin: Data(), cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix("vae-encode: error: \(message)\n"), r.report)
        }
    }
}

/// The lecture's BO in a VAE's latent space, composed from the tools at a small size:
/// trajectories → VAE → a decoded latent grid → ferrosim's curl at every grid point (the
/// ground truth) → GP-BO over the latent coordinates (dkl-explore with the truth map as the
/// oracle) → dkl-replay's summary. Every number is checked against the files in numpy.
final class LatentBOTests: XCTestCase {
    func testLatentSpaceBOComposedFromTheTools() throws {
        let dir = TempDir()
        func run(_ tool: String, _ args: [String]) throws { try Tools.expect(0, tool, args, cwd: dir.path) }
        try run("dkl-synth", ["trajectories", "-n", "400", "--steps", "60", "--seed", "3", "-o", "traj.dkl"])
        try run("vae-encode", ["train", "--epochs", "5", "--encoder-hidden", "32", "--decoder-hidden", "32", "-q", "-o", "vae.h5", "traj.dkl"])
        try run("vae-encode", ["decode", "-m", "vae.h5", "--grid", "12x12", "-o", "grid.dkl"])
        try run("ferrosim", ["--histories", "grid.dkl", "-n", "6", "--equilibrate", "5", "-q", "-o", "truth.dkl"])
        try run("dkl-cat", ["--export", "truth.npy", "--field", "sum_abs_curl", "truth.dkl"])
        try run("dkl-cat", ["--export", "latent.npy", "--field", "z", "grid.dkl"])
        try run("dkl-explore", ["--oracle", "truth.npy", "--extractor", "none", "-w", "1", "--init", "20", "--steps", "25", "-a", "kappa",
                                "--ensemble", "1", "--iterations", "30", "--trace", "bo.ndjson", "-q", "latent.npy"])
        try run("dkl-replay", ["--oracle", "truth.npy", "--trace", "bo.ndjson", "--extractor", "none", "--ensemble", "1", "--iterations", "30",
                               "--every", "15", "-J", "-o", "replay.ndjson", "-q", "latent.npy"])
        try run("dkl-cat", ["grid.dkl", "-J", "-o", "grid.ndjson"])
        try run("dkl-cat", ["truth.dkl", "-J", "-o", "truth.ndjson"])
        let out = try Tools.python("""
            import json, numpy as np
            def load(p):
                lines = open(p).read().splitlines()
                return json.loads(lines[0]), [json.loads(l) for l in lines[1:]]
            _, grid = load('grid.ndjson'); _, sims = load('truth.ndjson'); th, trace = load('bo.ndjson'); rh, replay = load('replay.ndjson')
            truth, latent = np.load('truth.npy'), np.load('latent.npy')
            same_grid = all(s['y'] == g['y'] and s['x'] == g['x'] and s['id'] == g['id'] for s, g in zip(sims, grid))
            maps_ok = all(truth[g['y'], g['x']] == s['sum_abs_curl'] and np.allclose(latent[g['y'], g['x']], g['z']) for s, g in zip(sims, grid))
            values_ok = all(r['value'] == truth[r['y'], r['x']] for r in trace)
            distinct = len({(r['y'], r['x']) for r in trace}) == len(trace) == 45
            order = np.sort(truth.ravel())[::-1]
            best = max(r['value'] for r in trace)
            rank = 1 + int(np.sum(order > best))
            last = replay[-1]
            top = order[int(np.ceil(truth.size / 100)) - 1]
            first_top = next(i + 1 for i, r in enumerate(trace) if r['value'] >= top)
            print(same_grid, maps_ok, values_ok, distinct, last['points'] == 45, last['best'] == best, last['best_rank'] == rank,
                  rh['attrs']['first_top_points'] == first_top, len(trace[-1]['lengthscale']))
            print(th['attrs']['scalarizer'] is None and th['attrs']['target'] == 'value', rh['attrs']['scalarizer'] is None)
            """, cwd: dir.path)
        XCTAssertEqual(out, "True True True True True True True True 2\nTrue True\n")
        let r = try Tools.expect(64, "dkl-explore", ["--oracle", "truth.npy", "-S", "integral:0:1", "-w", "1", "--trace", "x.ndjson", "latent.npy"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("dkl-explore: error: the oracle is a map of the property: give no -S or --target\n"), r.report)
    }
}

/// Arrays as input: curves from NPY (N×D) and images from HDF5 (N×H×W, with the cnn encoder)
/// give the same model as the same records in a stream.
final class VaeEncodeArrayInputTests: XCTestCase {
    func testArraysTrainLikeStreams() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "200", "--steps", "20", "--seed", "5", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "t.npy", "--field", "field", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-synth", ["cards", "-n", "60", "--size", "8x8", "--seed", "5", "-o", "c.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "c.h5:/cards/images", "--field", "image", "c.dkl"], cwd: dir.path)
        let small = ["--epochs", "3", "--encoder-hidden", "8", "--decoder-hidden", "8", "-q"]
        try Tools.expect(0, "vae-encode", ["train"] + small + ["-o", "a.h5", "t.npy"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train"] + small + ["-o", "b.h5", "t.dkl"], cwd: dir.path)
        let cnn = ["--encoder", "cnn", "--encoder-channels", "3,4", "--likelihood", "bernoulli"]
        try Tools.expect(0, "vae-encode", ["train"] + small + cnn + ["-o", "c1.h5", "c.h5:/cards/images"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train"] + small + cnn + ["-o", "c2.h5", "c.dkl"], cwd: dir.path)
        func encoded(_ model: String, _ input: String) throws -> [String] {
            let out = try Tools.expect(0, "vae-encode", ["encode", "-m", model, input, "-J"], cwd: dir.path).out
            // The means and log-variances only (the stream's records also carry its labels).
            return try out.split(separator: "\n").dropFirst().map { line in
                let j = try JSONParser.parse(String(line))
                return (j["mean"]?.text ?? "") + (j["logvar"]?.text ?? "")
            }
        }
        XCTAssertEqual(try encoded("a.h5", "t.npy"), try encoded("b.h5", "t.dkl"))
        XCTAssertEqual(try encoded("c1.h5", "c.h5:/cards/images"), try encoded("c2.h5", "c.dkl"))
        XCTAssertEqual(try encoded("c1.h5", "c.h5:/cards/images").count, 60)
        let r = try Tools.expect(64, "vae-encode", ["train", "--encoder", "cnn", "-o", "x.h5", "t.npy"], cwd: dir.path)
        XCTAssertTrue(r.err.hasPrefix("vae-encode: error: --encoder cnn needs images (records of shape [H, W])\n"), r.report)
    }
}

/// encode and decode work a chunk at a time: 3,000 records (three chunks) from an array
/// and from a stream on stdin give the same encodings in order, the last chunk's records
/// equal a numpy forward pass, and a NaN deep in the input is named by its record.
final class VaeEncodeChunkTests: XCTestCase {
    func testEncodeAndDecodeInChunks() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["trajectories", "-n", "3000", "--steps", "20", "--seed", "8", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "t.npy", "--field", "field", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train", "--epochs", "2", "--encoder-hidden", "8", "--decoder-hidden", "8", "-q", "-o", "m.h5", "t.npy"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["encode", "-m", "m.h5", "t.npy", "-J", "-o", "a.ndjson"], cwd: dir.path)
        let piped = try Tools.expect(0, "vae-encode", ["encode", "-m", "m.h5", "-J"], stdin: try Data(contentsOf: URL(fileURLWithPath: dir.path + "/t.dkl")), cwd: dir.path)
        _ = try dir.write("b.ndjson", piped.out)
        try Tools.expect(0, "vae-encode", ["decode", "-m", "m.h5", "--field", "mean", "a.ndjson", "-J", "-o", "d.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, h5py, numpy as np
            def load(p): return [json.loads(l) for l in open(p).read().splitlines()[1:]]
            a, b, d = load('a.ndjson'), load('b.ndjson'), load('d.ndjson')
            x = np.load('t.npy').astype(np.float64)
            f = h5py.File('m.h5', 'r')
            p = [f['parameters/p%d' % k][...].astype(np.float64) for k in range(len(f['parameters']))]
            h = (x - f.attrs['offset']) / f.attrs['scale']
            for k in (0, 2):   # 20 → 8 → 2 + 2
                h = h @ p[k] + p[k + 1]
                if k < 2: h = np.tanh(h)
            z = np.array([r['mean'] for r in a])
            g = z
            for k in (4, 6):   # 2 → 8 → 20
                g = g @ p[k] + p[k + 1]
                if k < 6: g = np.tanh(g)
            g = g * f.attrs['scale'] + f.attrs['offset']
            same = all(r['mean'] == s['mean'] and r['logvar'] == s['logvar'] for r, s in zip(a, b))
            ids = [r['id'] for r in a] == list(range(3000)) and [r['x'] for r in d] == list(range(3000))
            dec = np.abs(np.array([r['data'] for r in d]) - g).max() / np.abs(g).max()
            print(len(a), len(b), len(d), same, ids, np.abs(h[:, :2] - z).max() < 1e-4, dec < 1e-5)
            x[2499, 3] = np.nan
            np.save('bad.npy', x)
            """, cwd: dir.path)
        XCTAssertEqual(out, "3000 3000 3000 True True True True\n")
        // A pipe that hands the stream over in two parts (as a loaded machine's does): the
        // same chunks, the same bits.
        let slow = try Tools.run("/bin/sh", ["-c", "(head -c 40000 t.dkl; sleep 0.3; tail -c +40001 t.dkl) | '\(Tools.path("vae-encode"))' encode -m m.h5 -J"], cwd: dir.path)
        XCTAssertEqual(slow.status, 0, slow.report)
        XCTAssertEqual(slow.out.split(separator: "\n").dropFirst(), try String(contentsOfFile: dir.file("b.ndjson"), encoding: .utf8).split(separator: "\n").dropFirst())
        let r = try Tools.expect(1, "vae-encode", ["encode", "-m", "m.h5", "bad.npy", "-o", "bad.dkl"], cwd: dir.path)
        XCTAssertEqual(r.err, "vae-encode: bad.npy: record 2500 holds NaN or infinity\n")
        XCTAssertFalse(dir.exists("bad.dkl"))
    }
}

/// The lecture's cards: the rotation-invariant VAE's first latent (with the default
/// consistency term) follows each card's angle, to within 10° for at least 90% of each suit,
/// up to the glyph's own symmetry (a half-turn for diamonds, none for the others), and its
/// content latents are free of the angle; a plain VAE's latent mixes angle and suit.
final class CardsRVAETests: XCTestCase {
    func testRotationalVAESeparatesAngleFromContent() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-synth", ["cards", "-n", "2000", "--size", "24x24", "--shear", "0", "-o", "cards.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train", "--decoder", "rotational", "--likelihood", "bernoulli", "--rotation-prior", "1",
                                           "--decoder-hidden", "64,64", "--epochs", "150", "--patience", "0", "-q", "-o", "rvae.h5", "cards.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["train", "--likelihood", "bernoulli", "--epochs", "150", "--patience", "0", "-q", "-o", "vae.h5", "cards.dkl"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["encode", "-m", "rvae.h5", "cards.dkl", "-J", "-o", "r.ndjson"], cwd: dir.path)
        try Tools.expect(0, "vae-encode", ["encode", "-m", "vae.h5", "cards.dkl", "-J", "-o", "v.ndjson"], cwd: dir.path)
        let out = try Tools.python("""
            import json, numpy as np
            def load(p): return [json.loads(l) for l in open(p).read().splitlines()[1:]]
            def circ(a, b):  # circular correlation of two angles
                a0, b0 = np.angle(np.exp(1j * a).mean()), np.angle(np.exp(1j * b).mean())
                return np.sum(np.sin(a - a0) * np.sin(b - b0)) / np.sqrt(np.sum(np.sin(a - a0) ** 2) * np.sum(np.sin(b - b0) ** 2))
            def r2(z, f):  # share of f explained by a quadratic in z
                X = np.column_stack([np.ones(len(z)), z, z ** 2])
                beta, *_ = np.linalg.lstsq(X, f, rcond=None)
                return 1 - np.var(f - X @ beta) / np.var(f)
            r, v = load('r.ndjson'), load('v.ndjson')
            th = np.radians([x['angle'] for x in r]); suit = np.array([x['suit'] for x in r])
            mr, mv = np.array([x['mean'] for x in r]), np.array([x['mean'] for x in v])
            # The angle up to each glyph's own symmetry: none for clubs, spades and hearts
            # (they are only mirror-symmetric), a half-turn for diamonds.
            order = (1, 1, 1, 2)
            best = [abs(circ(order[s] * th[suit == s], order[s] * mr[suit == s, 0])) for s in range(4)]
            plain = [max(abs(circ(k * th[suit == s], k * mv[suit == s, j])) for k in (1, 2, 3) for j in range(2)) for s in range(4)]
            content = max(r2(mr[:, 3:], f(2 * th)) for f in (np.cos, np.sin))
            mixed = max(r2(mv, f(2 * th)) for f in (np.cos, np.sin))
            # Precision: angle − true angle within 10° of a constant (modulo the symmetry).
            def wrap(a): return np.angle(np.exp(1j * a))
            within = []
            for s, k in enumerate(order):
                d = wrap(mr[suit == s, 0] - th[suit == s])
                c = np.angle(np.exp(1j * k * d).mean()) / k
                within.append(np.mean(np.abs(wrap(k * (d - c)) / k) < np.radians(10)))
            print([round(b, 2) for b in best], [round(p, 2) for p in plain], round(content, 3), round(mixed, 3), [round(w, 3) for w in within])
            print(min(best) >= 0.9, min(within) >= 0.9, sum(p < 0.9 for p in plain) >= 3, content < 0.1, mixed > 0.2)
            """, cwd: dir.path)
        XCTAssertEqual(out.split(separator: "\n").last, "True True True True True", out)
    }
}
