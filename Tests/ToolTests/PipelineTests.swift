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
}
