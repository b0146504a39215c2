import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-replay on the bundled sample data: every field of its records recomputed in Python
/// from its maps, the trace and dkl-scalarize's values; another property along the same
/// path; random and all-data paths; bad input.
final class DklReplayTests: XCTestCase {
    static let share = Tools.root + "/share/plasmon/"
    let oracle = DklReplayTests.share + "spectra.h5:/spectra"
    let image = DklReplayTests.share + "image.npy"
    let model = ["--ensemble", "1", "--iterations", "40", "-j", "1"]

    func records(_ text: String) throws -> [JSON] { try text.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) } }

    func testRecordsMatchThePathAndTheMaps() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-explore", ["--oracle", oracle, "-S", "gap=integral:1.35:2.05", "-w", "9", "--init", "10", "--steps", "10",
                                            "--trace", "t.ndjson", image] + model, cwd: dir.path)
        let r = try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--every", "5", "--maps", "m.h5", "-o", "r.ndjson", image] + model,
                                 cwd: dir.path)
        XCTAssertTrue(r.err.contains("active path of 20 points"), r.err)
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", "-S", "hi=integral:2.3:3.1", oracle, "-J", "-o", "s.ndjson"], cwd: dir.path)
        let replay = try records(try String(contentsOfFile: dir.file("r.ndjson"), encoding: .utf8))
        XCTAssertEqual(replay.map { $0["points"]!.intValue! }, [10, 15, 20])
        // Python: the truth from dkl-scalarize at the candidates (the pixels the maps cover),
        // the path from the trace, and every field of every record.
        let py = try Tools.python("""
            import json, math, h5py, numpy as np
            s = [json.loads(l) for l in open('s.ndjson').read().splitlines()[1:]]
            f = h5py.File('m.h5', 'r'); mean, sd, pts, truth_map = f['mean'][()], f['sd'][()], f['points'][()], f['truth'][()]
            cand = np.isfinite(mean[0])
            truth = np.full(mean[0].shape, np.nan)
            for r in s:
                if cand[r['y'], r['x']]: truth[r['y'], r['x']] = r['gap']
            assert np.allclose(truth[cand], truth_map[cand], rtol=1e-12), 'truth map'
            path = [(r['y'], r['x']) for r in (json.loads(l) for l in open('t.ndjson').read().splitlines()[1:])]
            recs = [json.loads(l) for l in open('r.ndjson').read().splitlines()[1:]]
            vals = np.sort(truth[cand])[::-1]; n = len(vals); top = math.ceil(n / 100)
            first = next((i + 1 for i, p in enumerate(path) if truth[p] >= vals[top - 1]), None)
            assert json.loads(open('r.ndjson').readline())['attrs']['first_top_points'] == first, 'first top'
            for c, r in enumerate(recs):
                k = r['points']; assert pts[c] == k
                best = max(truth[p] for p in path[:k]); rank = 1 + int((vals > best).sum())
                e = mean[c][cand] - truth[cand]; v = sd[c][cand] ** 2 + r['noise']
                checks = {'best': best, 'best_rank': rank, 'top_found': int(rank <= top), 'fraction': k / n,
                          'rmse': math.sqrt((e ** 2).mean()), 'nlpd': (0.5 * np.log(2 * np.pi * v) + e ** 2 / (2 * v)).mean(),
                          'coverage': (np.abs(e) <= 2 * np.sqrt(v)).mean()}
                for key, want in checks.items():
                    assert abs(r[key] - want) <= 1e-9 * max(1, abs(want)), (c, key, r[key], want)
                # The truth's deciles the path has reached (edges: the sorted values at i·n/10).
                asc = np.sort(truth[cand]); edges = [asc[min(n - 1, i * n // 10)] for i in range(1, 10)]
                reached = {sum(1 for e in edges if e <= truth[p]) for p in path[:k]}
                assert r['range_coverage'] == len(reached) / 10, (c, r['range_coverage'], reached)
                # The embedding's 16 clusters: at least one reached, at most one a point.
                assert 1 / 16 <= r['space_coverage'] <= min(k, 16) / 16, (c, r['space_coverage'])
            # The acquisition maps: EI (the trace's, ξ = 0.01) of each record's model over the best
            # so far, NaN where the path has measured; -a kappa gives mean + 10 sd.
            from math import erf
            acq = f['acquisition'][()]
            assert f['acquisition'].attrs['function'] in ('ei', b'ei')
            for c, k in enumerate(pts.astype(int)):
                best = max(truth[p] for p in path[:k])
                mu, sdv = mean[c], sd[c]
                z = (mu - best - 0.01) / sdv
                Phi = 0.5 * (1 + np.vectorize(erf)(z / math.sqrt(2))); phi = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
                ei = (mu - best - 0.01) * Phi + sdv * phi
                taken = np.zeros_like(cand); 
                for p in path[:k]: taken[p] = True
                assert np.isnan(acq[c][taken]).all(), 'measured points are no candidates'
                free = cand & ~taken
                assert np.allclose(acq[c][free], ei[free], rtol=1e-6, atol=1e-12), (c, np.abs(acq[c][free] - ei[free]).max())
            # Another property along the same path: its best over the path so far.
            hi = {(r['y'], r['x']): r['hi'] for r in s}
            print(json.dumps([max(hi[p] for p in path[:k]) for k in (10, 15, 20)]))
            """, cwd: dir.path)
        let wantHi = try JSONParser.parse(py.trimmingCharacters(in: .whitespacesAndNewlines)).arrayValue!.map { $0.doubleValue! }
        let other = try records(try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--every", "5", "-S", "hi=integral:2.3:3.1",
                                                                    "-J", image] + model, cwd: dir.path).out)
        assertClose(other.map { $0["best"]!.doubleValue! }, wantHi, rtol: 1e-12)

        // A random path as long as the trace: the same for the same seed, another for another.
        let r1 = try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--path", "random", "-J", image] + model, cwd: dir.path).out
        let r2 = try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--path", "random", "-J", image] + model, cwd: dir.path).out
        let r3 = try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--path", "random", "--seed", "5", "-J", image] + model, cwd: dir.path).out
        let (a, b, c) = (try records(r1), try records(r2), try records(r3))
        XCTAssertEqual(a.map { $0["points"]!.intValue! }, [10, 20])
        XCTAssertEqual(a.map { $0["rmse"]! }, b.map { $0["rmse"]! })
        XCTAssertNotEqual(a.map { $0["best"]! }, c.map { $0["best"]! })
        // All points (a seeded subset here): one record.
        let all = try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--path", "all", "--all-max", "300", "-S", "gap=integral:1.35:2.05", "-w", "9",
                                                     "-J", image] + model, cwd: dir.path)
        XCTAssertTrue(all.err.contains("all: 300 of 3136 candidates, drawn at random"), all.err)
        XCTAssertEqual(try records(all.out).map { $0["points"]!.intValue! }, [300])
    }

    /// Measurements at a dose with their counts' variances: the coverage of the unmeasured
    /// candidates' measurements, all and by noise, recomputed in Python from the maps (the
    /// prediction, the measurements and their variances) for the homoscedastic and the
    /// measured noise model.
    func testCoverageOfMeasurementsByNoise() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-explore", ["--oracle", oracle, "-S", "gap=integral:1.35:2.05", "-w", "9", "--init", "10", "--steps", "5",
                                            "--trace", "t.ndjson", image] + model, cwd: dir.path)
        for noise in ["homoscedastic", "measured"] {
            try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--path", "random", "--points", "60", "--start", "30", "--every", "30",
                                               "--dose", "5", "--counts", "0.2", "--noise", noise, "--maps", "\(noise).h5", "-o", "\(noise).ndjson", image] + model,
                             cwd: dir.path)
            let out = try Tools.python("""
                import json, h5py, numpy as np
                noise = '\(noise)'
                recs = [json.loads(l) for l in open(noise + '.ndjson').read().splitlines()[1:]]
                assert json.loads(open(noise + '.ndjson').readline())['attrs']['noise_model'] == noise
                f = h5py.File(noise + '.h5', 'r')
                mean, sd, order, obs, own = f['mean'][()], f['sd'][()], f['order'][()], f['observed'][()], f['observed_var'][()]
                cand = np.isfinite(mean[0])
                assert np.isfinite(obs[cand]).all() and (own[cand] >= 0).all()
                # The variance follows the counts: an integral's is the gain times the channel
                # width times the integral (channels of 4/95 eV), 0 where none was counted.
                some = cand & (obs != 0)
                ratio = own[some] / obs[some] / (0.2 * 4 / 95)
                assert 0.9 < ratio.min() and ratio.max() < 1.1 and (own[cand & (obs == 0)] == 0).all(), (ratio.min(), ratio.max())
                for c, r in enumerate(recs):
                    held = cand & ((order < 0) | (order > r['points']))
                    v = sd[c] ** 2 + r['noise'] + (own if noise == 'measured' else 0)
                    hit = np.abs(obs - mean[c]) <= 2 * np.sqrt(v)
                    idx = [tuple(i) for i in np.argwhere(held)]
                    idx.sort(key=lambda i: (own[i], i))
                    half = len(idx) // 2
                    low = np.mean([hit[i] for i in idx[:half]]); high = np.mean([hit[i] for i in idx[half:]])
                    for key, want in (('coverage_measured', hit[held].mean()), ('coverage_low_noise', low), ('coverage_high_noise', high)):
                        assert abs(r[key] - want) < 1e-12, (c, key, r[key], want)
                    assert 0.5 < r['coverage_measured'] <= 1
                print('ok')
                """, cwd: dir.path)
            XCTAssertEqual(out, "ok\n", noise)
        }
        // Without counts: the coverage of the measurements, not by noise; without a dose, none.
        let plain = try records(try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "--dose", "5", "-J", image] + model, cwd: dir.path).out)
        XCTAssertTrue(plain.allSatisfy { $0["coverage_measured"]!.doubleValue!.isFinite && $0["coverage_low_noise"] == .null })
        let clean = try records(try Tools.expect(0, "dkl-replay", ["--oracle", oracle, "--trace", "t.ndjson", "-J", image] + model, cwd: dir.path).out)
        XCTAssertTrue(clean.allSatisfy { $0["coverage_measured"] == .null })
    }

    func testBadInput() throws {
        let dir = TempDir()
        try "{\"dkl_stream\":1,\"fields\":[{\"name\":\"y\",\"dtype\":\"i32\",\"shape\":[]}]}\n{\"y\":1}\n".write(toFile: dir.file("notrace.ndjson"), atomically: true, encoding: .utf8)
        let cases: [([String], Int32, String)] = [
            ([image], 64, "dkl-replay: error: give the pre-acquired data with --oracle CUBE\n"),
            (["--oracle", oracle, image], 64, "dkl-replay: error: --path active needs the experiment's --trace TRACE\n"),
            (["--oracle", oracle, "--path", "best", image], 64, "dkl-replay: error: unknown --path 'best' (active, random or all)\n"),
            (["--oracle", oracle, "--trace", "missing.ndjson", image], 1, "dkl-replay: missing.ndjson: no such file\n"),
            (["--oracle", oracle, "--trace", "notrace.ndjson", image], 1, "dkl-replay: notrace.ndjson:header: not an experiment trace: it needs fields step, y and x (from dkl-explore)\n"),
            (["--oracle", oracle, "--path", "all", image], 64, "dkl-replay: error: give the property with -S SPEC\n"),
            (["--oracle", oracle, "--path", "all", "-S", "gap=integral:1.35:2.05", "--counts", "0.1", image], 64,
             "dkl-replay: error: --counts goes with --dose (measurements with counting noise)\n"),
            (["--oracle", oracle, "--path", "all", "-S", "gap=integral:1.35:2.05", "--dose", "10", "--noise", "measured", image], 64,
             "dkl-replay: error: --noise measured needs --dose and --counts: each measurement's variance\n"),
            (["--oracle", oracle, "--path", "all", "-S", "gap=integral:1.35:2.05", "--noise", "heavy", image], 64,
             "dkl-replay: error: --noise must be homoscedastic, measured or learnt, not 'heavy'\n"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-replay", args + ["-o", "out.dkl"], cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("out.dkl"))
        }
    }
}
