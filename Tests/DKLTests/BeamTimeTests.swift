import DKL
import DKLCommandLine
import Foundation
import TestSupport
import ToolOptions
import XCTest

/// The cost model of an experiment (beam time and dose), routes, stop rules in the user's
/// units, and the experiment that uses them.
final class BeamTimeTests: XCTestCase {
    func testTheLedgerBooksTimeAndDose() {
        let cost = BeamCost(dwell: 0.5, settle: 0.2, speed: 10, dose: 9, doseRadius: 1, doseLimit: 4)
        var book = BeamLedger(cost: cost, height: 10, width: 10)
        XCTAssertEqual(book.seconds(to: (5, 5)), 0.5, "the first measurement: its dwell")
        XCTAssertEqual(book.charge(at: (5, 5)), 0.5)
        XCTAssertEqual(book.seconds(to: (5, 5)), 0.5, "no move: no settling")
        XCTAssertEqual(book.seconds(to: (5, 8)), 0.5 + 0.2 + 3 / 10.0, accuracy: 1e-15)
        XCTAssertEqual(book.seconds(to: (9, 8)), 0.5 + 0.2 + 5 / 10.0, accuracy: 1e-15)
        // The disc of radius 1 is five pixels: 9/5 each.
        XCTAssertEqual(book.doseMap[5 * 10 + 5], 1.8, accuracy: 1e-15)
        XCTAssertEqual(book.doseMap[4 * 10 + 5], 1.8, accuracy: 1e-15)
        XCTAssertEqual(book.doseMap[4 * 10 + 4], 0)
        XCTAssertEqual(book.doseMap.reduce(0, +), 9, accuracy: 1e-12)
        XCTAssertFalse(book.exceedsDoseLimit(at: (5, 5)), "3.6 ≤ 4")
        book.charge(at: (5, 5))
        XCTAssertEqual(book.peakDose, 3.6, accuracy: 1e-12)
        XCTAssertTrue(book.exceedsDoseLimit(at: (5, 5)), "5.4 > 4")
        XCTAssertTrue(book.exceedsDoseLimit(at: (5, 6)), "its disc overlaps")
        XCTAssertTrue(book.exceedsDoseLimit(at: (5, 7)), "(5, 6) is in both discs")
        XCTAssertFalse(book.exceedsDoseLimit(at: (5, 8)), "its disc does not overlap")
        XCTAssertEqual(book.clock, 1.0)
        XCTAssertEqual(book.totalDose, 18)
        // At a corner three of the five pixels are on the image; the rest of the dose is lost.
        book.charge(at: (0, 0), measured: (0.4, 0.2))
        XCTAssertEqual(book.doseMap[0] + book.doseMap[1] + book.doseMap[10], 3 * 1.8, accuracy: 1e-12)
        XCTAssertEqual(book.clock, 1.0 + 0.5 + 0.2 + (25.0 + 25.0).squareRoot() / 10, accuracy: 1e-12)
        XCTAssertEqual(book.seconds(to: (0, 0)), 0.5 + 0.2 + (0.16 + 0.04).squareRoot() / 10, accuracy: 1e-12, "from where it measured")
    }

    func testShortRoutes() {
        // Points on a line, shuffled: the route walks along it.
        let line = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5].map { (3, $0) }
        let order = BeamTimeSelection.shortRoute(line, from: (3, -1))
        XCTAssertEqual(order.map { line[$0].1 }, Array(0...9))
        // Random points: a permutation no longer than the nearest-neighbour route.
        var g = Xoshiro(seed: 3)
        let pts = (0..<40).map { _ in (Int(g.next() % 50), Int(g.next() % 50)) }
        let route = BeamTimeSelection.shortRoute(pts, from: nil)
        XCTAssertEqual(route.sorted(), Array(0..<40))
        func length(_ o: [Int]) -> Double {
            zip(o, o.dropFirst()).map { a, b in
                let (dy, dx) = (Double(pts[a].0 - pts[b].0), Double(pts[a].1 - pts[b].1))
                return (dy * dy + dx * dx).squareRoot()
            }.reduce(0, +)
        }
        var nn = [0], left = Set(1..<40)
        while !left.isEmpty {
            let last = pts[nn.last!]
            let next = left.min { a, b in
                let da = (pts[a].0 - last.0) * (pts[a].0 - last.0) + (pts[a].1 - last.1) * (pts[a].1 - last.1)
                let db = (pts[b].0 - last.0) * (pts[b].0 - last.0) + (pts[b].1 - last.1) * (pts[b].1 - last.1)
                return (da, a) < (db, b)
            }!
            nn.append(next); left.remove(next)
        }
        XCTAssertLessThanOrEqual(length(route), length(nn) + 1e-9)
        XCTAssertEqual(BeamTimeSelection.shortRoute([(1, 1)], from: nil), [0])
    }

    func testPerSecondPrefersWhatIsWorthItsTravel() {
        let coords = [(0, 1), (0, 40), (0, 2)]
        let book = BeamLedger(cost: BeamCost(dwell: 1, settle: 0, speed: 1), height: 1, width: 50)
        var moved = book
        moved.charge(at: (0, 0))
        // From (0, 0): 1 + 1 s to the first (score 1), 1 + 40 s to the second (score 10).
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 10, 0.5], coordinates: coords, q: 1, radius: 0.1, excluded: [], ledger: moved), [0])
        // Worth it when it scores more than 20 times as much.
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 25, 0.5], coordinates: coords, q: 1, radius: 0.1, excluded: [], ledger: moved), [1])
        // A batch from each pick: then the third, one pixel on.
        // A batch from each pick: then the third, one pixel on (0.6 in 2 s against 10 in 40 s).
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 10, 0.6], coordinates: coords, q: 2, radius: 0.1, excluded: [], ledger: moved), [0, 2])
        // Within 5 s left only the near points fit.
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 1000, 0.6], coordinates: coords, q: 3, radius: 0.1, excluded: [], ledger: moved, secondsLeft: 5),
                       [0, 2])
    }

    func testTheProbabilityThatAnyBeatsTheBest() {
        let p = BeamTimeSelection.probabilityAnyBeats(mean: [1, 1, 1, 0], variance: [4, 4, 4, 0], best: 1, maximize: true, candidates: [0, 1, 2, 3])
        XCTAssertEqual(p, 1 - 0.125, accuracy: 1e-15)
        let z = 0.7, q = 0.5 * erfc(-z / 2.0.squareRoot())   // Φ(0.7)
        XCTAssertEqual(BeamTimeSelection.probabilityAnyBeats(mean: [1.7], variance: [1], best: 1, maximize: true, candidates: [0]), q, accuracy: 1e-15)
        XCTAssertEqual(BeamTimeSelection.probabilityAnyBeats(mean: [1.7], variance: [1], best: 1, maximize: false, candidates: [0]), 1 - q, accuracy: 1e-15)
        XCTAssertEqual(BeamTimeSelection.probabilityAnyBeats(mean: [1.7], variance: [1], best: 1, maximize: true, candidates: []), 0)
    }

    // MARK: the experiment

    let stepOptions = ["--extractor", "none", "-w", "1", "--ensemble", "1", "--iterations", "30"]

    func plan(_ extra: [String]) throws -> ExperimentPlan {
        let cmd = Command(name: "t", usage: [], summary: "", options: Option.stepModel + Option.acquisitionParameters + Option.beamTime
                          + [Option.seed, Option("window", "w", value: "W", help: ""), Option("budget", value: "B", help: ""), Option("dwell", value: "S", help: ""),
                             Option("acquisition", "a", value: "A", help: ""), Option("stop-sd", value: "X", help: "")])
        let a = try cmd.parse(stepOptions + extra)
        let (f, name) = try a.acquisition()
        var p = ExperimentPlan(model: try a.stepModelConfig(), acquisition: f!, acquisitionName: name, perStep: 2, initialCount: 6, steps: 8,
                               budget: try a.pointBudget(candidates: 110), stopSD: try a.string("stop-sd").map { try a.double("stop-sd", default: Double($0) ?? 0) })
        try a.applyBeamTime(to: &p)
        return p
    }

    /// An experiment on a 10×11 image that is its own property (a GP on the pixel's value):
    /// Gaussian noise, or with `peak` one pixel far above the rest, measured first.
    func experiment(_ dir: TempDir, _ extra: [String], trace: String = "run.ndjson", peak: Bool = false) throws -> ActiveExperiment {
        let name = peak ? "peak.npy" : "truth.npy"
        if !dir.exists(name) {
            _ = try Tools.python("import numpy as np; t = np.random.default_rng(5).normal(size=(10, 11)); t[3, 4] = 50 if \(peak ? "True" : "False") else t[3, 4]; np.save('\(name)', t)",
                                 cwd: dir.path)
        }
        let source = try ArrayFile.open(dir.file(name))
        let grid = try CandidateGrid(image: source, window: 1, even: .interpolate, normalization: .minmax)
        let truth = try source.readAll()
        var p = try plan(extra)
        if peak { p.initialPoints = [(3, 4)] }
        return try ActiveExperiment(grid: grid, oracle: ActiveExperimentTests.MemoryOracle(truth, width: 11), plan: p,
                                    value: { $0[0] }, tracePath: dir.file(trace), attributes: [:], signature: "test")
    }

    func records(_ path: String) throws -> [JSON] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map { try JSONParser.parse(String($0)) }
    }

    /// The trace books every measurement's beam time along the route taken; a time budget
    /// stops the run before the clock would pass it, says so in a record of its own, and the
    /// same run continued measures nothing more and says it once.
    func testATimeBudgetStopsTheRunAndTheTraceSaysWhy() throws {
        let dir = TempDir()
        let options = ["--dwell", "0.5", "--settle", "0.25", "--speed", "4", "--budget", "12s"]
        let run = try experiment(dir, options)
        try run.run()
        XCTAssertEqual(run.stoppedBy, "time budget")
        let recs = try records(dir.file("run.ndjson"))
        let points = recs.filter { $0["step"]!.intValue! >= 0 }, stops = recs.filter { $0["step"]!.intValue! < 0 }
        XCTAssertEqual(stops.count, 1)
        XCTAssertTrue(recs.last! == stops[0], "the stop is the last record")
        let meta = try JSONParser.parse(stops[0]["meta"]!.stringValue!)
        XCTAssertEqual(meta["stop"]?.stringValue, "time budget")
        XCTAssertEqual(meta["budget_s"]?.doubleValue, 12)
        // Each measurement's seconds from the one before, by hand, and the clock their sum.
        var clock = 0.0, last: (Double, Double)?
        for r in points {
            let (y, x) = (Double(r["y"]!.intValue!), Double(r["x"]!.intValue!))
            let d = last.map { (($0.0 - y) * ($0.0 - y) + ($0.1 - x) * ($0.1 - x)).squareRoot() }
            let want = 0.5 + (d.map { $0 > 0 ? 0.25 + $0 / 4 : 0 } ?? 0)
            XCTAssertEqual(r["beam_seconds"]!.doubleValue!, want, accuracy: 1e-12)
            clock += want
            XCTAssertEqual(r["beam_clock"]!.doubleValue!, clock, accuracy: 1e-9)
            last = (y, x)
        }
        XCTAssertLessThanOrEqual(clock, 12)
        XCTAssertGreaterThan(clock + 0.5, 12 - 3, "it stopped for want of time, not of points")
        XCTAssertEqual(meta["clock_s"]!.doubleValue!, clock, accuracy: 1e-9)
        XCTAssertGreaterThan(meta["cheapest_s"]!.doubleValue! + clock, 12)
        XCTAssertEqual(run.measured.count, points.count)
        // The initial points: the same set as without a cost model, on a shorter route.
        let plain = try experiment(dir, ["--budget", "6"], trace: "plain.ndjson")
        try plain.run()
        let initial = points.filter { $0["step"]!.intValue! == 0 }.map { [$0["y"]!.intValue!, $0["x"]!.intValue!] }
        let plainInitial = try records(dir.file("plain.ndjson")).filter { $0["step"]!.intValue! == 0 }.map { [$0["y"]!.intValue!, $0["x"]!.intValue!] }
        XCTAssertEqual(Set(initial), Set(plainInitial))
        func length(_ p: [[Int]]) -> Double {
            zip(p, p.dropFirst()).map { a, b in Double((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])).squareRoot() }.reduce(0, +)
        }
        XCTAssertLessThan(length(initial), length(plainInitial))
        // Continued: nothing measured, no second stop record.
        let again = try experiment(dir, options)
        XCTAssertEqual(again.measured.count, points.count)
        try again.run()
        XCTAssertEqual(try records(dir.file("run.ndjson")).count, recs.count)
        XCTAssertEqual(again.ledger!.clock, clock, accuracy: 1e-9)
    }

    /// A dose limit: no pixel passes it, and when no point is left under it the run stops.
    func testTheDoseLimitIsNeverPassed() throws {
        let dir = TempDir()
        let run = try experiment(dir, ["--point-dose", "10", "--dose-radius", "2", "--dose-limit", "2.5", "--budget", "40"])
        try run.run()
        let book = run.ledger!
        XCTAssertLessThanOrEqual(book.peakDose, 2.5 * (1 + 1e-12))
        XCTAssertGreaterThan(book.peakDose, 0)
        // A disc of radius 2 has 13 pixels: no pixel can take three doses of 10/13.
        let recs = try records(dir.file("run.ndjson"))
        for r in recs where r["step"]!.intValue! >= 0 { XCTAssertLessThanOrEqual(r["dose_peak"]!.doubleValue!, 2.5 * (1 + 1e-12)) }
        XCTAssertEqual(recs.last!["dose_peak"]!.doubleValue!, book.peakDose, accuracy: 1e-12)
        // The final maps carry the dose map, /dose in their file.
        let maps = try run.finalMaps()
        XCTAssertEqual(maps.dose, book.doseMap)
        XCTAssertEqual(maps.dose!.reduce(0, +), book.doseMap.reduce(0, +))
        try maps.write(dir.file("maps.h5"), trace: dir.file("run.ndjson"))
        XCTAssertEqual(try ArrayFile.open(dir.file("maps.h5") + ":/dose").readAll(), book.doseMap)
        // Without a dose counted there is none.
        XCTAssertNil(try { let r = try experiment(dir, ["--settle", "1"], trace: "t.ndjson"); try r.run(); return try r.finalMaps().dose }())
    }

    /// A dose budget in all, a stall of the best value and the probability rule each stop the
    /// run with their own record.
    func testTheStopRulesNameThemselves() throws {
        for (options, rule) in [(["--point-dose", "1", "--budget-dose", "9"], "dose budget"), (["--stop-stall", "2:1e9"], "stall"),
                                (["--stop-prob", "0.05"], "probability"), (["--stop-sd", "1e9"], "sd")] {
            let dir = TempDir()
            let run = try experiment(dir, options, peak: rule == "probability")
            try run.run()
            XCTAssertEqual(run.stoppedBy, rule, "\(options)")
            let last = try records(dir.file("run.ndjson")).last!
            XCTAssertEqual(last["step"]?.intValue, -1)
            XCTAssertEqual(try JSONParser.parse(last["meta"]!.stringValue!)["stop"]?.stringValue, rule)
            if rule == "dose budget" { XCTAssertEqual(run.measured.count, 9) }
            if rule == "stall" { XCTAssertEqual(run.measured.map(\.step).max(), 2, "stops at step 3: nothing gained over two steps by more than 1e9") }
            if rule == "probability" {
                // Nothing can beat the peak, measured first: the rule fires at the first step.
                XCTAssertEqual(run.measured.map(\.step).max(), 0)
                XCTAssertLessThan(try JSONParser.parse(try records(dir.file("run.ndjson")).last!["meta"]!.stringValue!)["probability"]!.doubleValue!, 0.05)
            }
        }
    }

    /// EI per second in an experiment (the route itself is checked above): it runs its steps,
    /// the trace says so and keeps each point's EI (not the rate); the options it refuses.
    func testPerSecond() throws {
        let dir = TempDir()
        let aware = try experiment(dir, ["--settle", "1", "--speed", "0.5", "--per-second"], trace: "aware.ndjson")
        try aware.run()
        XCTAssertEqual(aware.measured.count, 6 + 8 * 2)
        XCTAssertEqual(try StreamReader(path: dir.file("aware.ndjson")).header.attrs["per_second"], .bool(true))
        let recs = try records(dir.file("aware.ndjson"))
        for r in recs.dropFirst(6) {
            XCTAssertGreaterThanOrEqual(r["acquisition"]!.doubleValue!, 0)
            XCTAssertGreaterThan(r["beam_seconds"]!.doubleValue!, 2, "a move: the dwell, a second's settling and the travel")
        }
        XCTAssertThrowsError(try experiment(dir, ["--per-second", "-a", "ucb"], trace: "x.ndjson")) { XCTAssertTrue("\($0)".contains("--per-second"), "\($0)") }
        XCTAssertThrowsError(try experiment(dir, ["--dose-limit", "3"], trace: "x.ndjson")) { XCTAssertTrue("\($0)".contains("--point-dose"), "\($0)") }
        XCTAssertThrowsError(try experiment(dir, ["--budget", "5m"], trace: "x.ndjson")) { XCTAssertTrue("\($0)".contains("--budget"), "\($0)") }
    }
}

/// The structure design: one initial point in each cluster of the image's patches, from the
/// first random one; with a cost model along the route that reaches each cluster soonest.
final class InitialDesignTests: XCTestCase {
    func grid(_ dir: TempDir) throws -> CandidateGrid {
        // Stripes of four kinds of structure repeated across the image, and noise.
        _ = try Tools.python("""
            import numpy as np
            r = np.random.default_rng(3)
            y, x = np.mgrid[0:40, 0:40]
            t = np.sin(x / 2.0) * (y // 10 % 2) + np.cos(y / 3.0) * (x // 10 % 2) + 0.1 * r.normal(size=(40, 40))
            np.save('image.npy', t)
            """, cwd: dir.path)
        return try CandidateGrid(image: try ArrayFile.open(dir.file("image.npy")), window: 5, even: .interpolate, normalization: .minmax)
    }

    /// The grid, its usable candidates and each one's cluster of 8 (k-means of the patches).
    func clustered(_ dir: TempDir) throws -> (CandidateGrid, [Int], [Int: Int]) {
        let g = try grid(dir)
        let usable = g.index.values.sorted().filter { g.usable[$0] }
        let km = KMeans(g.inputs.gather(usable), k: 8)
        return (g, usable, Dictionary(uniqueKeysWithValues: zip(usable, km.labels)))
    }

    func testOnePointInEachClusterOfThePatches() throws {
        let (g, usable, label) = try clustered(TempDir())
        let first = usable[100]
        var rng = Xoshiro(seed: 1)
        for cost in [nil, BeamCost(dwell: 1, settle: 1, speed: 2)] {
            let design = StructureDesign.points(grid: g, clusters: 8, first: first, covered: [], cost: cost, rng: &rng)
            XCTAssertEqual(design.count, 7, "the clusters but the first's")
            XCTAssertEqual(Set(design.map { label[$0]! } + [label[first]!]).count, 8, "each cluster once")
            XCTAssertFalse(design.contains(first))
        }
        // A listed point covers its cluster.
        let listed = usable.first { label[$0] != label[first] }!
        let fewer = StructureDesign.points(grid: g, clusters: 8, first: first, covered: [listed], cost: nil, rng: &rng)
        XCTAssertEqual(fewer.count, 6)
        XCTAssertFalse(fewer.contains { label[$0] == label[listed] })
    }

    /// With a cost model each next point is the nearest of an uncovered cluster, so the
    /// design's route is far shorter than a random member of each cluster's (routed).
    func testTheCostAwareDesignsRouteIsShort() throws {
        let (g, usable, label) = try clustered(TempDir())
        let cost = BeamCost(dwell: 0.5, settle: 1, speed: 2)
        func seconds(_ points: [Int]) -> Double {
            var book = BeamLedger(cost: cost, height: 40, width: 40)
            for k in points { book.charge(at: g.centres[k]) }
            return book.clock
        }
        let first = usable[0]
        var rng = Xoshiro(seed: 2)
        let aware = StructureDesign.points(grid: g, clusters: 8, first: first, covered: [], cost: cost, rng: &rng)
        // Each step: no candidate of a cluster not yet covered is nearer.
        var at = first, done: Set<Int> = [label[first]!]
        for k in aware {
            let d = { (a: Int) -> Double in let (p, q) = (g.centres[at], g.centres[a]); return Double((p.0 - q.0) * (p.0 - q.0) + (p.1 - q.1) * (p.1 - q.1)) }
            XCTAssertEqual(d(k), usable.filter { !done.contains(label[$0]!) }.map(d).min()!)
            done.insert(label[k]!); at = k
        }
        var blindSeconds: [Double] = []
        for seed in 0..<5 {
            var r = Xoshiro(seed: UInt64(seed))
            let blind = StructureDesign.points(grid: g, clusters: 8, first: first, covered: [], cost: nil, rng: &r)
            let order = BeamTimeSelection.shortRoute(blind.map { g.centres[$0] }, from: (Double(g.centres[first].0), Double(g.centres[first].1)))
            blindSeconds.append(seconds([first] + order.map { blind[$0] }))
        }
        XCTAssertLessThan(seconds([first] + aware), blindSeconds.min()!)
    }

    /// The rate's exponent: 0 takes the best score wherever it is, 1 the best per second.
    func testTheCostExponent() {
        let coords = [(0, 1), (0, 40)]
        var book = BeamLedger(cost: BeamCost(dwell: 1, settle: 0, speed: 1), height: 1, width: 50)
        book.charge(at: (0, 0))
        // 2 s to the first (score 1), 41 s to the second (score 10).
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 10], coordinates: coords, q: 1, radius: 0.1, excluded: [], ledger: book, exponent: 1), [0])
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 10], coordinates: coords, q: 1, radius: 0.1, excluded: [], ledger: book, exponent: 0), [1])
        // 1/2^a against 10/41^a: the second from a below log 10 / log 20.5 = 0.766.
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 10], coordinates: coords, q: 1, radius: 0.1, excluded: [], ledger: book, exponent: 0.75), [1])
        XCTAssertEqual(BeamTimeSelection.route(scores: [1, 10], coordinates: coords, q: 1, radius: 0.1, excluded: [], ledger: book, exponent: 0.78), [0])
    }
}

extension BeamTimeTests {
    /// In an experiment: the structure design's initial points (one a cluster), the options
    /// in the trace's header, and the options refused.
    func testTheDesignAndTheExponentInAnExperiment() throws {
        let dir = TempDir()
        let run = try experiment(dir, ["--settle", "1", "--speed", "2", "--per-second", "--cost-exponent", "0.5"], trace: "a.ndjson")
        XCTAssertEqual(run.plan.costExponent, 0.5)
        try run.run()
        let header = try StreamReader(path: dir.file("a.ndjson")).header.attrs
        XCTAssertEqual(header["cost_exponent"]?.doubleValue, 0.5)
        XCTAssertNil(header["init_design"], "random: not written")
        XCTAssertThrowsError(try experiment(dir, ["--cost-exponent", "0.5"], trace: "x.ndjson")) { XCTAssertTrue("\($0)".contains("--per-second"), "\($0)") }
        XCTAssertThrowsError(try experiment(dir, ["--per-second", "--cost-exponent", "-1"], trace: "x.ndjson")) { XCTAssertTrue("\($0)".contains("0 to 4"), "\($0)") }
    }
}

extension BeamTimeTests {
    /// --speed in a length per second over the image's pixel size (given, or the file's).
    func testTheProbeSpeedInTheImagesLengthUnits() throws {
        XCTAssertEqual(try plan(["--speed", "4nm/s", "--pixel-size", "2nm"]).beam?.speed, 2)
        XCTAssertEqual(try plan(["--speed", "1.5um/s", "--pixel-size", "0.5um"]).beam?.speed ?? 0, 3, accuracy: 1e-12)
        XCTAssertEqual(try plan(["--speed", "3"]).beam?.speed, 3)
        let cmd = Command(name: "t", usage: [], summary: "", options: Option.beamTime + [Option("dwell", value: "S", help: ""), Option("budget", value: "B", help: "")])
        var p = try plan([])
        try cmd.parse(["--speed", "10nm/s"]).applyBeamTime(to: &p, imagePixelSize: PixelSize(value: 0.5, unit: "nm"))
        XCTAssertEqual(p.beam?.speed, 20, "the image file's pixel size")
        for (args, message) in [(["--speed", "4nm/s"], "the image has no pixel size: give --pixel-size"),
                                (["--speed", "4nm"], "--speed must be a positive number of pixels per second, or a length per second"),
                                (["--speed", "-2"], "--speed must be a positive number"),
                                (["--speed", "2", "--pixel-size", "1nm"], "--pixel-size goes with --speed in a length per second"),
                                (["--speed", "4parsecs/s", "--pixel-size", "1nm"], "--speed must be")] {
            XCTAssertThrowsError(try plan(args), "\(args)") { XCTAssertTrue("\($0)".contains(message), "\(args): \($0)") }
        }
    }
}
