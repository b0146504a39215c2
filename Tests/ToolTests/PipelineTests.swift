import DKL
import Foundation
import TestSupport
import XCTest

/// The pipelines under pipelines/, run by make with the test build into a scratch folder.
final class PipelineTests: XCTestCase {
    static func make(_ pipeline: String, _ vars: [String]) throws -> RunResult {
        try Tools.run("/usr/bin/make", ["--no-print-directory", "-C", Tools.root + "/pipelines/" + pipeline, "BIN=" + Tools.binDir] + vars)
    }

    /// Pipeline 5 (`make demo`): its table against the replays' records and the truth map,
    /// the points to the top 1% recomputed from the trace, and its figures.
    func testMicroscopyPipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("microscopy", ["OUT=" + dir.path])
        XCTAssertEqual(r.status, 0, r.report)
        XCTAssertTrue(r.out.contains("active: top 1% reached after "), r.report)
        XCTAssertTrue(r.out.contains("random (5 seeds): top 1% reached after a median of "), r.report)
        let rows = try String(contentsOfFile: dir.file("summary.tsv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows[0], ["path", "points", "fraction", "rmse", "nlpd", "coverage", "best", "best_rank", "points_to_top1pct", "fraction_to_top1pct"])
        XCTAssertEqual(rows.dropFirst().map { $0[0] }, ["active", "random-1", "random-2", "random-3", "random-4", "random-5", "all"])
        // 5% of the 3,136 candidates; the random paths as long; the all-data model on 1,200.
        XCTAssertEqual(rows.dropFirst().map { Int($0[1])! }, [156, 156, 156, 156, 156, 156, 1200])
        let out = try Tools.python("""
            import json, math, h5py, numpy as np, sys
            d = sys.argv[1]
            rows = [l.split('\\t') for l in open(d + '/summary.tsv').read().splitlines()[1:]]
            f = h5py.File(d + '/maps-active.h5', 'r'); truth = f['truth'][()]
            vals = np.sort(truth[np.isfinite(truth)])[::-1]; n = len(vals); top = vals[math.ceil(n / 100) - 1]
            trace = [json.loads(l) for l in open(d + '/active.ndjson').read().splitlines()[1:]]
            first = next(i + 1 for i, r in enumerate(trace) if truth[r['y'], r['x']] >= top)
            act = rows[0]
            assert int(act[8]) == first and abs(float(act[9]) - first / n) < 1e-4, (act, first)
            best = max(truth[r['y'], r['x']] for r in trace)
            assert abs(float(act[6]) - best) < 1e-12 and int(act[7]) == 1 + (vals > best).sum(), act
            for row in rows:
                recs = [json.loads(l) for l in open(d + '/replay-' + row[0] + '.ndjson').read().splitlines()[1:]]
                last = recs[-1]
                assert int(row[1]) == last['points'] and abs(float(row[3]) - last['rmse']) < 1e-5 and int(row[7]) == last['best_rank'], row
            # The acquisition maps: NaN at the points measured so far, finite at the others.
            acq, pts = f['acquisition'][()], f['points'][()].astype(int)
            for c, k in enumerate(pts):
                for r in trace[:k]: assert np.isnan(acq[c, r['y'], r['x']])
                assert np.isfinite(acq[c]).sum() == n - k
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for name in ["truth", "active-mean", "active-sd", "active-acquisition", "paths-mean"] {
            let image = try PNGReader.read(dir.file(name + ".png"))
            XCTAssertGreaterThan(image.width, 500, name)
            XCTAssertGreaterThan(Set(image.pixels).count, 50, "\(name): a map has many colours")
        }
        // The curves: one per path, each in its own colour.
        for name in ["rmse", "best"] {
            let colours = Set(try PNGReader.read(dir.file(name + ".png")).pixels)
            for c in Colormap.categories.prefix(6) { XCTAssertTrue(colours.contains([c.r, c.g, c.b]), name) }
        }
        // Nothing left to do on a second run.
        let again = try PipelineTests.make("microscopy", ["OUT=" + dir.path, "-q"])
        XCTAssertEqual(again.status, 0, again.report)
    }

    /// Pipeline 1: every BO measurement is the grid search's record at that point, bit for
    /// bit (measure.sh runs the sweep's own point); the table against the replays.
    func testFerroParamsPipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("ferro-params", ["OUT=" + dir.path, "STEPS=30", "RANDOM_SEEDS=1 2"])
        XCTAssertEqual(r.status, 0, r.report)
        let out = try Tools.python("""
            import json, numpy as np, sys
            d = sys.argv[1]
            truth = np.load(d + '/truth.npy'); params = np.load(d + '/params.npy')
            assert truth.shape == (40, 40) and params.shape == (40, 40, 2)
            assert np.allclose(params[:, 0, 0], np.linspace(0.1, 2, 40), rtol=0, atol=1e-15)
            assert np.allclose(params[0, :, 1], np.linspace(0, 3, 40), rtol=0, atol=1e-15)
            rows = {l.split('\t')[0]: l.split('\t')[1:] for l in open(d + '/summary.tsv').read().splitlines()[1:]}
            for kind in ('ei', 'kappa'):
                trace = [json.loads(l) for l in open(d + '/bo-%s.ndjson' % kind).read().splitlines()[1:]]
                assert len(trace) == 40, len(trace)
                for t in trace: assert t['value'] == truth[t['y'], t['x']], (t['y'], t['x'], t['value'])
                assert len({(t['y'], t['x']) for t in trace}) == 40, 'no point simulated twice'
                best = max(t['value'] for t in trace); rank = 1 + int((truth > best).sum())
                row = rows['BO, ' + kind]
                assert int(row[0]) == 40 and float(row[1]) == best and int(row[2]) == rank, (row, best, rank)
            g = rows['grid search']
            assert int(g[0]) == 1600 and float(g[1]) == truth.max(), g
            assert set(rows) == {'grid search', 'BO, ei', 'BO, kappa', 'random points, seed 1', 'random points, seed 2'}, rows
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for name in ["response", "bo-ei-mean", "best"] {
            XCTAssertGreaterThan(try PNGReader.read(dir.file(name + ".png")).width, 500, name)
        }
    }

    /// Pipeline 2, small: the BO traces against the simulated surface, the table against
    /// the traces, the figures.
    func testLatentBOPipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("latent-bo", ["OUT=" + dir.path, "TRAJ=1200", "GRID=24x24", "EPOCHS=10", "INIT=20", "STEPS=25", "RANDOM_SEEDS=1"])
        XCTAssertEqual(r.status, 0, r.report)
        let out = try Tools.python("""
            import json, numpy as np, sys
            d = sys.argv[1]
            curl = np.load(d + '/curl.npy'); assert curl.shape == (24, 24)
            rows = {l.split('\t')[0]: l.split('\t')[1:] for l in open(d + '/summary.tsv').read().splitlines()[1:]}
            assert set(rows) == {'kappa', 'ei', 'random-1'}, rows
            for a in ('kappa', 'ei'):
                t = [json.loads(l) for l in open(d + '/bo-%s.ndjson' % a).read().splitlines()[1:]]
                assert len(t) == 45
                for p in t: assert p['value'] == curl[p['y'], p['x']]
                v = [p['value'] for p in t]; best = max(v)
                row = rows[a]
                assert int(row[0]) == 45 and abs(float(row[1]) - best) < 1e-6 and abs(float(row[2]) - curl.max()) < 1e-6, row
                assert int(row[4]) == 1 + int((curl > best).sum()) and int(row[5]) == v.index(best) + 1, row
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for name in ["vae-loss", "surface", "reconstruction", "best"] { XCTAssertGreaterThan(try PNGReader.read(dir.file(name + ".png")).width, 500, name) }
    }

    /// Pipelines 4 and 6, small, on a small latent-bo: static and active DKL on the decoded
    /// histories, VAE-BO on their latent grid, and the closing table against the traces.
    func testFerroDKLAndComparePipelines() throws {
        let dir = TempDir()
        let lb = try PipelineTests.make("latent-bo", ["OUT=" + dir.file("lb"), "TRAJ=1000", "GRID=16x16", "EPOCHS=8",
                                                      dir.file("lb") + "/curl.dkl", dir.file("lb") + "/latent.npy", dir.file("lb") + "/extent"])
        XCTAssertEqual(lb.status, 0, lb.report)
        let small = ["INIT=15", "STEPS=10", "LATENT=" + dir.file("lb")]
        let r = try PipelineTests.make("compare", small + ["OUT=" + dir.file("cmp"), "DKL=" + dir.file("dkl")])
        XCTAssertEqual(r.status, 0, r.report)
        let out = try Tools.python("""
            import json, numpy as np, sys
            d = sys.argv[1]
            def trace(f): return [json.loads(l) for l in open(f).read().splitlines()[1:]]
            rows = [l.split('\t') for l in open(d + '/cmp/comparison.tsv').read().splitlines()[1:]]
            assert [(r[0], r[1]) for r in rows] == [(p, m) for p in ('sum_abs_curl', 'p_abs') for m in ('vae-bo', 'static-dkl', 'active-dkl')], rows
            dkl = {(l.split('\t')[0], l.split('\t')[1]): l.split('\t')[2:] for l in open(d + '/dkl/summary.tsv').read().splitlines()[1:]}
            for p in ('sum_abs_curl', 'p_abs'):
                truth = np.load(d + '/dkl/truth-%s.npy' % p); assert truth.shape == (16, 16)
                for f in ('/cmp/vae-bo-%s.ndjson', '/dkl/active-%s.ndjson', '/dkl/static-%s.ndjson'):
                    t = trace(d + f % p); assert len(t) == 25, (f, len(t))
                    for q in t: assert q['value'] == truth[q['y'], q['x']]
                assert all(q['step'] == 0 for q in trace(d + '/dkl/static-%s.ndjson' % p))
                for r in rows:
                    if r[0] != p: continue
                    assert int(r[2]) == 25, r
                    if r[1] != 'vae-bo':
                        s = dkl[(p, r[1].split('-')[0])]
                        assert abs(float(r[3]) - float(s[1])) <= 1e-5 * float(s[1]) and r[4] == s[5], (r, s)
                    t = trace(d + ('/cmp/vae-bo-%s.ndjson' if r[1] == 'vae-bo' else '/dkl/%s-%%s.ndjson' % r[1].split('-')[0]) % p)
                    best = max(q['value'] for q in t)
                    assert int(r[4]) == 1 + int((truth > best).sum()), r
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for f in ["dkl/sum_abs_curl-maps.png", "dkl/p_abs-embedding-active.png", "dkl/p_abs-embedding-static.png", "dkl/sum_abs_curl-best.png",
                  "cmp/p_abs-best.png"] {
            XCTAssertGreaterThan(try PNGReader.read(dir.file(f)).width, 500, f)
        }
    }

    /// Pipeline 3, small: the hearts oracle against the suits, the static models' table
    /// against their joined predictions, the BO traces against the truth, the figures.
    func testCardsPipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("cards", ["OUT=" + dir.path, "GRID=16x16", "SIZE=20x20", "EPOCHS=5", "REPOCHS=5", "TRAIN=60", "INIT=20", "STEPS=15"])
        XCTAssertEqual(r.status, 0, r.report)
        for f in ["cards", "joined-static-suit", "joined-static-angle", "joined-static-shear"] {
            try Tools.expect(0, "dkl-cat", ["-J", "--no-provenance", "-o", dir.file(f + ".ndjson"), dir.file(f + ".dkl")])
        }
        let out = try Tools.python("""
            import json, math, numpy as np, sys
            d = sys.argv[1]
            def stream(f): return [json.loads(l) for l in open(f).read().splitlines()[1:]]
            cards = {(c['y'], c['x']): c for c in stream(d + '/cards.ndjson')}
            assert len(cards) == 256
            hearts = np.load(d + '/truth-hearts.npy'); suit = np.load(d + '/truth-suit.npy')
            assert hearts.shape == (16, 16) and ((suit == 2) == (hearts == 1)).all() and set(np.unique(hearts)) <= {0.0, 1.0}
            rows = {(l.split('\t')[0], l.split('\t')[1]): l.split('\t')[2:] for l in open(d + '/summary.tsv').read().splitlines()[1:]}
            for t in ('suit', 'angle', 'shear'):
                j = stream(d + '/joined-static-%s.ndjson' % t); assert len(j) == 256
                for r in j: assert abs(r['truth'] - cards[(r['y'], r['x'])][t]) <= 1e-4 * max(1, abs(r['truth'])) and r['suit'] == cards[(r['y'], r['x'])]['suit']
                rmse = math.sqrt(sum((r['mean'] - r['truth']) ** 2 for r in j) / 256)
                row = rows[('static DKL', t)]
                assert int(row[0]) == 60 and abs(float(row[1]) - rmse) <= 1e-4 * rmse, (row, rmse)
                if t == 'suit':
                    acc = sum(round(r['mean']) == r['truth'] for r in j) / 256
                    assert abs(float(row[2]) - acc) < 1e-4, (row, acc)
            for m, name in (('active', 'DKL-BO'), ('random', 'random')):
                t = stream(d + '/%s-hearts.ndjson' % m); assert len(t) == 35
                for p in t: assert p['value'] == hearts[p['y'], p['x']]
                assert int(rows[(name, 'hearts')][5]) == sum(p['value'] for p in t)
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for name in ["vae-loss", "vae-by-suit", "rvae-by-angle", "rvae-angle", "static-suit-predicted", "static-shear-embedding", "active-hearts-embedding",
                     "active-hearts-found", "active-best"] {
            XCTAssertGreaterThan(try PNGReader.read(dir.file(name + ".png")).width, 500, name)
        }
    }

    /// The 4D-STEM pipeline: through the twin at two doses, its table against the replays and
    /// the clean truth, every pattern of the active experiments in their logs (whole
    /// electrons at the dose, re-scalarized to the values learnt), and its figures.
    func testMicroscopy4DSTEMPipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("microscopy-4dstem", ["OUT=" + dir.path, "RANDOM_SEEDS=1 2"])
        XCTAssertEqual(r.status, 0, r.report)
        XCTAssertTrue(r.out.contains("dose 200 e-/pattern, active: top 1% reached after "), r.report)
        let rows = try String(contentsOfFile: dir.file("summary.tsv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows.dropFirst().map { $0[0] + " " + $0[1] }, ["200 active", "200 random-1", "200 random-2", "20000 active", "20000 random-1", "20000 random-2", "clean all"])
        // 5% of the 40×40 candidates of 9×9 windows on the 48×48 scan.
        XCTAssertEqual(rows.dropFirst().map { Int($0[2])! }, [80, 80, 80, 80, 80, 80, 1200])
        let out = try Tools.python("""
            import json, math, h5py, numpy as np, sys
            d = sys.argv[1]
            rows = [l.split('\\t') for l in open(d + '/summary.tsv').read().splitlines()[1:]]
            truth = h5py.File(d + '/data/truth.h5', 'r')['com_magnitude'][()]
            t = h5py.File(d + '/maps-all.h5', 'r')['truth'][()]
            assert np.allclose(t[4:44, 4:44], truth[4:44, 4:44], atol=1e-9)
            vals = np.sort(truth[4:44, 4:44].ravel())[::-1]; top = vals[math.ceil(len(vals) / 100) - 1]
            for row in rows[:-1]:
                if row[1] != 'active': continue
                trace = [json.loads(l) for l in open(d + '/dose-' + row[0] + '/active.ndjson').read().splitlines()[1:]]
                first = next(i + 1 for i, r in enumerate(trace) if truth[r['y'], r['x']] >= top)
                assert int(row[9]) == first, (row, first)
                best = max(truth[r['y'], r['x']] for r in trace)
                assert abs(float(row[7]) - best) < 1e-4 and int(row[8]) == 1 + (vals > best).sum(), (row, best)
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for dose in [200.0, 20000] {
            let d = "dose-\(Int(dose))"
            let log = try Tools.expect(0, "dkl-cat", ["-J", "-f", "spectrum", dir.file(d + "/active.patterns.dkl")]).out.split(separator: "\n").dropFirst()
            XCTAssertEqual(log.count, 80)
            for line in log.prefix(5) {
                let counts = try JSONParser.parse(String(line))["spectrum"]!.arrayValue!.flatMap { $0.arrayValue! }.map { $0.doubleValue! * dose }
                for c in counts { XCTAssertEqual(c, c.rounded(), accuracy: 1e-6 * max(1, dose / 100)) }
            }
            // Re-scalarized from the log: the values learnt.
            try Tools.expect(0, "dkl-scalarize", ["-S", "com", "--centre", "15.5,15.5", "-o", dir.file(d + "/again.dkl"), dir.file(d + "/active.patterns.dkl")])
            let again = try Tools.expect(0, "dkl-cat", ["-T", "-f", "com", dir.file(d + "/again.dkl")]).out
            let learnt = try Tools.expect(0, "dkl-cat", ["-T", "-f", "value", dir.file(d + "/active.ndjson")]).out
            XCTAssertEqual(again.split(separator: "\n").dropFirst(), learnt.split(separator: "\n").dropFirst())
        }
        for name in ["truth", "active-mean-dose-200", "active-mean-dose-20000", "paths-mean", "best", "rmse"] {
            XCTAssertGreaterThan(try PNGReader.read(dir.file(name + ".png")).width, 500, name)
        }
        let again = try PipelineTests.make("microscopy-4dstem", ["OUT=" + dir.path, "RANDOM_SEEDS=1 2", "-q"])
        XCTAssertEqual(again.status, 0, "nothing left to do: \(again.report)")
    }

    /// The structured-GP pipeline: its table against the maps, the truth and the draws
    /// (recomputed with numpy), the physics' map error under half the GP's, the transition
    /// point the simulator was given inside the structured GP's 95% interval, the Landau
    /// mean preferred by PSIS-LOO, and its figures.
    func testStructuredGPPipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("structured-gp", ["OUT=" + dir.path])
        XCTAssertEqual(r.status, 0, r.report)
        let rows = try String(contentsOfFile: dir.file("summary.tsv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows[0], ["run", "points_to_top1pct", "map_rmse", "a0_mean", "a0_sd", "a0_q2.5", "a0_q97.5", "rhat_max", "elpd_loo"])
        XCTAssertEqual(rows.dropFirst().map { $0[0] }, ["gp", "landau", "wrong", "bayes"])
        let out = try Tools.python("""
            import json, h5py, numpy as np, sys
            d = sys.argv[1]
            rows = {l.split('\\t')[0]: l.split('\\t') for l in open(d + '/summary.tsv').read().splitlines()[1:]}
            t = np.load(d + '/truth.npy')
            for run in ('gp', 'landau', 'wrong'):
                m = h5py.File(d + '/' + run + '-maps.h5', 'r')['mean'][()]
                assert abs(float(rows[run][2]) - np.sqrt(np.mean((m - t) ** 2))) < 1e-3, (run, rows[run])
            assert float(rows['landau'][2]) < float(rows['gp'][2]) / 2, rows
            assert float(rows['landau'][5]) < 0 < float(rows['landau'][6]), rows['landau']
            assert float(rows['landau'][8]) > float(rows['wrong'][8]), (rows['landau'], rows['wrong'])
            for run in ('landau', 'wrong', 'bayes'): assert float(rows[run][7]) < 1.05, rows[run]
            s = json.load(open(d + '/fit-landau.json'))
            a0 = [p for p in s['parameters'] if p['name'] == 'a0'][0]
            assert abs(a0['mean'] - float(rows['landau'][3])) < 1e-3 and abs(a0['sd'] - float(rows['landau'][4])) < 1e-3, (a0, rows['landau'])
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        for name in ["maps", "band-landau", "band-wrong", "posterior-a0", "posterior-landau", "posterior-bayes", "landau-sd"] {
            XCTAssertGreaterThan(try PNGReader.read(dir.file(name + ".png")).width, 500, name)
        }
        let again = try PipelineTests.make("structured-gp", ["OUT=" + dir.path, "-q"])
        XCTAssertEqual(again.status, 0, "nothing left to do: \(again.report)")
    }

    /// Beam time on dkl-twin: each row's points and seconds to the top 1% recomputed from its
    /// trace and the truth map, the summary's medians from the rows, EI per second spending
    /// less beam time a point than EI, and the figure.
    func testBeamTimePipeline() throws {
        let dir = TempDir()
        let r = try PipelineTests.make("beam-time", ["OUT=" + dir.path, "SEEDS=1 2", "STEPS=10", "INIT=6", "METHODS=blind aware"])
        XCTAssertEqual(r.status, 0, r.report)
        // The truth: the scalarizer over the whole spectrum image, at the patches' centres.
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", Tools.root + "/share/plasmon/spectra.h5:/spectra", "-J", "-o", dir.file("truth.ndjson")])
        let out = try Tools.python("""
            import json, sys
            d = sys.argv[1]
            def records(path):
                return [json.loads(l) for l in open(path).read().splitlines()[1:]]
            truth = {}
            for l in open(d + '/truth.ndjson').read().splitlines()[1:]:
                rec = json.loads(l); truth[(rec['y'], rec['x'])] = rec['gap']
            rows = [l.split('\t') for l in open(d + '/beam-time.tsv').read().splitlines()]
            assert rows[0] == ['method', 'seed', 'points_to_top1pct', 'seconds_to_top1pct', 'seconds_total', 'points_total'], rows[0]
            assert sorted((r[0], r[1]) for r in rows[1:]) == [('aware', '1'), ('aware', '2'), ('blind', '1'), ('blind', '2')], rows
            # The candidates: 9x9 patches of the 64x64 image, centres 4..59.
            values = sorted((v for (y, x), v in truth.items() if 4 <= y <= 59 and 4 <= x <= 59), reverse=True)
            top = values[max(1, int(0.01 * len(values))) - 1]
            per = {}
            for m, seed, pts, sec, total, n in rows[1:]:
                trace = [t for t in records('%s/%s-%s.ndjson' % (d, m, seed)) if t['step'] >= 0]
                assert int(n) == len(trace) == 16, (m, seed, n, len(trace))
                assert abs(float(total) - trace[-1]['beam_clock']) < 0.06, (total, trace[-1])
                first = next((k + 1 for k, t in enumerate(trace) if truth[(t['y'], t['x'])] >= top), None)
                if first is None:
                    assert pts == 'nan' and sec == 'nan', (m, seed, pts)
                else:
                    assert int(pts) == first, (m, seed, pts, first)
                    assert abs(float(sec) - trace[first - 1]['beam_clock']) < 0.06, (sec, trace[first - 1])
                per.setdefault(m, []).append(float(total) / int(n))
            summary = {l.split('\t')[0]: l.split('\t') for l in open(d + '/summary.tsv').read().splitlines()[1:]}
            for m in ('blind', 'aware'):
                assert abs(float(summary[m][5]) - sum(per[m]) / 2) < 0.006, (summary[m], per[m])
            assert float(summary['aware'][5]) < float(summary['blind'][5]), summary
            # The initial points' beam time: the clock after each run's last point of step 0.
            init = {l.split('\t')[0]: l.split('\t') for l in open(d + '/initial-seconds.tsv').read().splitlines()[1:]}
            for m in ('blind', 'aware'):
                c = sorted([t for t in records('%s/%s-%s.ndjson' % (d, m, s)) if t['step'] == 0][-1]['beam_clock'] for s in (1, 2))
                assert init[m][1] == '2', init[m]
                for got, want in zip(init[m][2:5], (c[0], (c[0] + c[1]) / 2, c[1])):
                    assert abs(float(got) - want) < 0.06, (m, init[m], c)
            # The median curves: at each time, the median over seeds of the best value so far.
            curves = records(d + '/best-vs-seconds.ndjson')
            assert [c['seconds'] for c in curves[:3]] == [5, 10, 15] and curves[-1]['seconds'] == 400
            for m in ('blind', 'aware'):
                runs = [[t for t in records('%s/%s-%s.ndjson' % (d, m, s)) if t['step'] >= 0] for s in (1, 2)]
                for c in curves[::7]:
                    bests = [max([t['value'] for t in run if t['beam_clock'] <= c['seconds']], default=None) for run in runs]
                    if None in bests:
                        assert c[m] is None or bests.count(None) < 2, (m, c)
                        continue
                    assert abs(c[m] - sum(bests) / 2) < 1e-8, (m, c, bests)
            print('ok')
            """, args: [dir.path])
        XCTAssertEqual(out, "ok\n")
        XCTAssertGreaterThan(try PNGReader.read(dir.file("best-vs-seconds.png")).width, 500)
        let again = try PipelineTests.make("beam-time", ["OUT=" + dir.path, "SEEDS=1 2", "STEPS=10", "INIT=6", "METHODS=blind aware", "-q"])
        XCTAssertEqual(again.status, 0, "nothing left to do: \(again.report)")
        // Calibration: one seed, a short path; the summary's medians are that run's values.
        let cal = try PipelineTests.make("beam-time", ["OUT=" + dir.path, "SEEDS=1 2", "STEPS=10", "INIT=6", "METHODS=blind aware", "CAL_SEEDS=1",
                                                       "CAL_POINTS=150", "calibration"])
        XCTAssertEqual(cal.status, 0, cal.report)
        let rows = try String(contentsOfFile: dir.file("calibration.tsv"), encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows.map { $0[0] + "@" + $0[2] }, ["homoscedastic@100", "homoscedastic@150", "measured@100", "measured@150", "learnt@100", "learnt@150"])
        let summary = try String(contentsOfFile: dir.file("calibration-summary.tsv"), encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(summary.count, 6)
        for (row, s) in zip(rows, summary) {
            XCTAssertEqual([s[0], s[1], s[2]], [row[0], row[2], "1"])
            for c in 3...6 { XCTAssertEqual(Double(s[c])!, Double(row[c])!, accuracy: c == 3 ? 5e-5 : 5e-4, "\(row) \(s)") }
            for k in 4...6 { XCTAssertTrue((0.5...1).contains(Double(row[k])!), "\(row)") }
        }
    }
}
