import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-acquire on dkl-predict's output for the sample data: choices and scores against the
/// formulas evaluated by Python, measured points excluded, batches and maps, bad input.
final class DklAcquireTests: XCTestCase {
    func testChoicesMatchTheFormulas() throws {
        let dir = TempDir()
        let share = Tools.root + "/share/plasmon/"
        try Tools.expect(0, "dkl-scalarize", ["-S", "gap=integral:1.35:2.05", share + "spectra.h5:/spectra", "-o", "t.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "9", "--stride", "5", share + "image.npy", "-o", "grid.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-patches", ["-w", "9", share + "image.npy", "-o", "all.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-train", ["grid.dkl", "--targets", "t.dkl", "-o", "m.h5", "--ensemble", "1", "--iterations", "60", "-q"], cwd: dir.path)
        try Tools.expect(0, "dkl-predict", ["--model", "m.h5", "all.dkl", "-o", "p.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["-J", "p.dkl", "-o", "p.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["-J", "grid.dkl", "--fields", "y,x", "-o", "grid.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["-J", "t.dkl", "-o", "t.ndjson"], cwd: dir.path)
        // Python: the scores of every rule, the measured points (the training grid) excluded.
        let py = try Tools.python("""
            import json, math
            rows = [json.loads(l) for l in open('p.ndjson').read().splitlines()[1:]]
            grid = {(r['y'], r['x']) for r in (json.loads(l) for l in open('grid.ndjson').read().splitlines()[1:])}
            t = {(r['y'], r['x']): r['gap'] for r in (json.loads(l) for l in open('t.ndjson').read().splitlines()[1:])}
            best = max(t[p] for p in grid)
            Phi = lambda u: 0.5 * math.erfc(-u / math.sqrt(2)); phi = lambda u: math.exp(-u * u / 2) / math.sqrt(2 * math.pi)
            def ei(m, s, xi=0.01, sign=1):
                imp = sign * m - sign * best - xi
                return imp * Phi(imp / s) + s * phi(imp / s) if s > 0 else max(imp, 0)
            rules = {'ei': lambda m, s: ei(m, s), 'kappa': lambda m, s: m + 10 * s, 'ucb': lambda m, s: m + 2 * s,
                     'pi': lambda m, s: Phi((m - best - 0.01) / s), 'min-kappa': lambda m, s: -m + 10 * s}
            out = {}
            for name, f in rules.items():
                scores = [(f(r['mean'], math.sqrt(r['var'])), -i) for i, r in enumerate(rows) if (r['y'], r['x']) not in grid]
                s, i = max(scores)
                out[name] = [rows[-i]['y'], rows[-i]['x'], s]
            out['excluded'] = sum((r['y'], r['x']) in grid for r in rows)
            print(json.dumps(out))
            """, cwd: dir.path)
        let expected = try JSONParser.parse(py.trimmingCharacters(in: .newlines))
        let runs: [(String, [String])] = [("ei", []), ("kappa", ["-a", "kappa"]), ("ucb", ["-a", "ucb"]), ("pi", ["-a", "pi"]),
                                          ("min-kappa", ["-a", "kappa", "--minimize"])]
        for (name, args) in runs {
            // The model file holds the measured points: its training grid.
            let m = try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "m.h5", "-J"] + args, cwd: dir.path)
            let rec = try JSONParser.parse(String(m.out.split(separator: "\n")[1]))
            let want = expected[name]!.arrayValue!
            XCTAssertEqual([rec["y"]!.intValue!, rec["x"]!.intValue!], [want[0].intValue!, want[1].intValue!], name)
            assertClose(rec["score"]!.doubleValue!, want[2].doubleValue!, rtol: 1e-9, name)
        }
        // With every pixel measured, nothing is left to choose.
        let none = try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "t.dkl"], cwd: dir.path)
        XCTAssertTrue(none.err.contains("only 0 candidates were left to choose"), none.err)
        // A batch of 5 damped around each choice: distinct, unmeasured, the first the argmax.
        let batch = try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "m.h5", "--count", "5", "--radius", "4", "-J"], cwd: dir.path)
        let chosen = try batch.out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(chosen.count, 5)
        let points = chosen.map { [$0["y"]!.intValue!, $0["x"]!.intValue!] }
        XCTAssertEqual(Set(points).count, 5)
        XCTAssertEqual(points[0], expected["ei"]!.arrayValue!.prefix(2).map { $0.intValue! })
        // Fantasized batches: the model conditioned on each pick in turn. The first pick and
        // its score are the pipe's argmax; every later score is no larger (variances only shrink).
        let fan = try Tools.expect(0, "dkl-acquire", ["all.dkl", "--model", "m.h5", "--measured", "m.h5", "-a", "ucb", "--batch", "fantasize",
                                                      "--count", "4", "-J"], cwd: dir.path)
        let fanned = try fan.out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(fanned.count, 4)
        let ucb = try JSONParser.parse(String(try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "m.h5", "-a", "ucb", "-J"], cwd: dir.path).out.split(separator: "\n")[1]))
        XCTAssertEqual(fanned[0]["y"], ucb["y"]); XCTAssertEqual(fanned[0]["x"], ucb["x"])
        XCTAssertEqual(fanned[0]["score"]!.doubleValue!, ucb["score"]!.doubleValue!)
        XCTAssertEqual(fanned[0]["var"]!.doubleValue!, ucb["var"]!.doubleValue!)
        XCTAssertEqual(Set(fanned.map { [$0["y"]!.intValue!, $0["x"]!.intValue!] }).count, 4)
        for (a, b) in zip(fanned, fanned.dropFirst()) { XCTAssertLessThanOrEqual(b["score"]!.doubleValue!, a["score"]!.doubleValue!) }
        // Thompson sampling from the model: q distinct unmeasured points, the same for the same seed.
        let t1 = try Tools.expect(0, "dkl-acquire", ["all.dkl", "-a", "thompson", "--model", "m.h5", "--measured", "m.h5", "--count", "3", "--subset", "500", "-J"], cwd: dir.path)
        let t2 = try Tools.expect(0, "dkl-acquire", ["all.dkl", "-a", "thompson", "--model", "m.h5", "--measured", "m.h5", "--count", "3", "--subset", "500", "-J"], cwd: dir.path)
        let drawn = try t1.out.split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
        XCTAssertEqual(drawn.count, 3)
        XCTAssertEqual(t1.out.split(separator: "\n").dropFirst(), t2.out.split(separator: "\n").dropFirst())
        let grid = Set(try Tools.expect(0, "dkl-cat", ["-J", "--fields", "y,x", "grid.dkl"], cwd: dir.path).out.split(separator: "\n").dropFirst().map(String.init))
        let picked = drawn.map { "{\"y\":\($0["y"]!.intValue!),\"x\":\($0["x"]!.intValue!)}" }
        XCTAssertEqual(Set(picked).count, 3)
        XCTAssertTrue(grid.isDisjoint(with: picked), "measured points are not drawn")
        // The map: one score per candidate, the measured ones marked.
        let map = try Tools.expect(0, "dkl-acquire", ["p.dkl", "--measured", "m.h5", "--map", "-J"], cwd: dir.path)
        let lines = map.out.split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, 56 * 56)
        XCTAssertEqual(lines.filter { $0.hasSuffix("\"measured\":1}") }.count, expected["excluded"]!.intValue!)
    }

    func testBadInput() throws {
        let dir = TempDir()
        try Tools.expect(0, "dkl-patches", ["-w", "9", Tools.root + "/share/plasmon/image.npy", "-o", "all.dkl"], cwd: dir.path)
        let cases: [([String], Int32, String)] = [
            (["all.dkl", "-a", "kappa"], 1, "dkl-acquire: all.dkl:header: the predictions need fields y, x, mean and var (from dkl-predict)\n"),
            (["all.dkl"], 64, "dkl-acquire: error: ei improves on the best measured value: give --measured FILE or --best X\n"),
            (["all.dkl", "-a", "greedy"], 64, "dkl-acquire: error: unknown acquisition 'greedy' (ei, logei, pi, ucb, kappa, maxvar, thompson)\n"),
            (["missing.dkl", "-a", "kappa"], 1, "dkl-acquire: missing.dkl: no such file\n"),
            (["all.dkl", "-a", "thompson"], 64, "dkl-acquire: error: thompson draws from the model: give --model MODEL (and the patches as input)\n"),
            (["all.dkl", "--batch", "fantasize"], 64, "dkl-acquire: error: --batch fantasize conditions the model: give --model MODEL (and the patches as input)\n"),
            (["all.dkl", "--batch", "fantasise"], 64, "dkl-acquire: error: unknown --batch 'fantasise' (penalize or fantasize)\n"),
            (["all.dkl", "--batch", "fantasize", "--radius", "2"], 64, "dkl-acquire: error: --batch fantasize goes with an acquisition function other than thompson, and without --map, --radius or --recent\n"),
        ]
        for (args, status, message) in cases {
            let r = try Tools.expect(status, "dkl-acquire", args + ["-o", "out.dkl"], cwd: dir.path)
            XCTAssertTrue(r.err.hasPrefix(message), "\(args): \(r.err)")
            XCTAssertFalse(dir.exists("out.dkl"))
        }
    }
}
