import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging
import DeepKernel
import Plot
import DKLCommandLine
import ToolOptions

// dkl-replay: an experiment's path (or a random one, or every point) replayed against the
// pre-acquired data, with the map error and the best point found as points are added.
let command = Command(
    name: "dkl-replay",
    usage: ["--oracle CUBE --trace TRACE [options] IMAGE", "--oracle CUBE --path all -S SPEC [options] IMAGE"],
    summary: """
        Replay an experiment against its pre-acquired spectrum image CUBE: take the points of
        a path in order (--path active: the trace TRACE of dkl-explore; random: as many
        points drawn at random; all: every candidate), and every --every points train the
        DKL model on the points so far (warm-started from the last), predict every patch of
        IMAGE, and write a record comparing the prediction with the truth (the scalarizer
        over the whole cube): the map's RMSE, NLPD and ±2σ coverage, the best value measured
        and its rank. -S gives another property along the same path. The curves of the
        active path against random ones tell what the acquisition bought; the all-data model
        is the reference. --maps keeps the mean, sd and acquisition maps of every record.
        """,
    options: [
        Option("oracle", value: "CUBE", help: "the pre-acquired spectrum image H×W×E (at least as large as IMAGE)"),
        Option("trace", value: "TRACE", help: "the experiment's trace (dkl-explore); its path, scalarizer and patch settings"),
        Option("path", value: "KIND", help: "active (default: the trace's), random (as many points, seeded), or all"),
        Option("points", value: "N", help: "random: points on the path (default: the trace's)"),
        Option("start", value: "N", help: "the first record after N points (default: the trace's initial points, or 20)"),
        Option("every", value: "K", help: "a record every K points (default 10); the last point always gives one"),
        Option("all-max", value: "N", help: "all: at most N points, a seeded random subset when there are more (default 2000)"),
        Option("scalarizer", "S", value: "[NAME=]SPEC", help: "the property (default: the trace's scalarizer)"),
        Option("target", value: "NAME", help: "the scalarizer's field (for a fit; default its first, or the trace's)"),
        Option("energy", value: "START:STEP|FILE", help: "the spectra's energy axis in eV (default: from the file)"),
        Option("window", "w", value: "W", help: "patch side (default: the trace's, or 16)"),
        Option("normalize", "N", value: "MODE", help: "patch normalization (default: the trace's, or minmax)"),
        Option("even", value: "interpolate|shift", help: "centring of even windows, as dkl-patches (default interpolate)"),
        Option("maps", value: "FILE.h5", help: "write /mean, /sd, /acquisition (records×H×W), /points, /truth and /order (H×W)"),
        Option("acquisition", "a", value: "NAME", help: "--maps: the acquisition map's function (default: the trace's, or ei): ei, logei, pi, ucb, kappa, maxvar"),
        Option.seed, Option.threads,
    ] + Option.acquisitionParameters + Option.stepModel + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    Parallel.threads = try a.threads()
    BLAS.setThreads(Parallel.threads)
    let kind = a.string("path") ?? "active"
    guard ["active", "random", "all"].contains(kind) else { throw DKLError.usage("unknown --path '\(kind)' (active, random or all)") }
    guard let oraclePath = a.string("oracle") else { throw DKLError.usage("give the pre-acquired data with --oracle CUBE") }
    if kind != "all" && a.string("trace") == nil { throw DKLError.usage("--path \(kind) needs the experiment's --trace TRACE") }
    let maximize = !a.flag("minimize")
    let config = try a.stepModelConfig()
    let every = try a.int("every", default: 10, range: 1...100_000_000)

    // The trace: its points in order, and the settings it was run with.
    var tracePoints: [(Int, Int)] = [], initial = 0
    var traceAttrs: JSON = .object([])
    if let t = a.string("trace") {
        if !FileManager.default.fileExists(atPath: t) { throw DKLError.data("no such file", file: t) }
        let reader = try StreamReader(path: t)
        guard let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x"), let istep = reader.schema.index(of: "step") else {
            throw DKLError.data("not an experiment trace: it needs fields step, y and x (from dkl-explore)", file: reader.name, location: "header")
        }
        traceAttrs = reader.header.attrs
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                let r = RecordView(batch.record(i), reader.schema)
                tracePoints.append((r.int(iy), r.int(ix)))
                if r.int(istep) == 0 { initial += 1 }
            }
        }
        guard !tracePoints.isEmpty else { throw DKLError.data("the trace holds no measurement", file: reader.name) }
    }

    let traceAcquisition = traceAttrs["acquisition"]?.stringValue.flatMap { ["ei", "logei", "pi", "ucb", "kappa", "maxvar"].contains($0) ? $0 : nil }
    let acquisition = try a.acquisition(default: traceAcquisition ?? "ei").function!

    // The candidates, cut as in the experiment.
    let image = try ArrayFile.open(a.positionals[0])
    var window = traceAttrs["window"]?.intValue ?? 16
    if a.string("window") != nil { window = try a.int("window", default: 16, range: 1...1024) }
    var norm = try PatchExtractor.Normalization.named(a.string("normalize"))
    if a.string("normalize") == nil, let n = traceAttrs["normalize"]?.stringValue, let t = PatchExtractor.Normalization(rawValue: n) { norm = t }
    let grid = try CandidateGrid(image: image, window: window, even: try .named(a.string("even")), normalization: norm)
    let (h, w) = (grid.height, grid.width)

    // The truth: the property at every pixel of the cube (or of a map of the property).
    let cube = try ArrayFile.open(oraclePath)
    try cube.requireRank([2, 3], "a map H×W or a spectrum image H×W×E")
    guard cube.shape[0] >= h, cube.shape[1] >= w else {
        throw DKLError.data("the oracle's grid \(cube.shape[0])×\(cube.shape[1]) is smaller than the image's \(h)×\(w)", file: cube.name)
    }
    var truth = [Double](repeating: .nan, count: grid.centres.count)
    var spec: String?, targetName = "value"
    if cube.rank == 2 {
        if a.string("scalarizer") != nil { throw DKLError.usage("the oracle is a map of the property: give no -S") }
        let values = try cube.readAll()
        for (k, c) in grid.centres.enumerated() where grid.usable[k] { truth[k] = values[c.0 * cube.shape[1] + c.1] }
    } else {
        guard let s = a.string("scalarizer") ?? traceAttrs["scalarizer"]?.stringValue else {
            throw DKLError.usage("give the property with -S SPEC")
        }
        spec = s
        let scalarizer = try Scalarizer.parse(s)
        targetName = a.string("target") ?? (a.string("scalarizer") == nil ? traceAttrs["target"]?.stringValue : nil) ?? scalarizer.fieldNames[0]
        guard let column = scalarizer.fieldNames.firstIndex(of: targetName) else {
            throw DKLError.usage("--target must be one of \(scalarizer.fieldNames.joined(separator: ", "))")
        }
        let axis = try EnergyAxis.resolve(option: a.string("energy"), source: cube, channels: cube.shape[2])
        let bound = try locating(file: cube.name) { try scalarizer.bind(axis) }
        try SpectrumScalarizers(bound: [bound]).forEachRow(of: cube) { y, results in
            guard y < h else { return }
            for x in 0..<w { if let k = grid.index[Positions.key(y, x)] { truth[k] = results[x].values[column] } }
        }
    }
    let scored = grid.centres.indices.filter { grid.usable[$0] && truth[$0].isFinite }
    guard scored.count >= 2 else { throw DKLError.data("the property is finite at fewer than two candidates", file: cube.name) }
    let ranked = scored.map { truth[$0] }.sorted(by: maximize ? (>) : (<))
    let topCount = max(1, Int((Double(scored.count) / 100).rounded(.up)))
    let topValue = ranked[topCount - 1]
    func rank(_ v: Double) -> Int { 1 + ranked.prefix { maximize ? $0 > v : $0 < v }.count }

    // The path.
    var rng = Xoshiro(seed: config.seed &+ 0x5EED)
    func shuffled(_ items: [Int]) -> [Int] {
        var s = items
        for i in stride(from: s.count - 1, to: 0, by: -1) { s.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return s
    }
    var path: [Int]
    switch kind {
    case "active":
        path = try tracePoints.map { p in
            guard let k = grid.index[Positions.key(p.0, p.1)] else { throw DKLError.data("the trace's point (\(p.0), \(p.1)) is not a candidate of this image", file: a.string("trace")!) }
            return k
        }
    case "random":
        let n = try a.int("points", default: tracePoints.count, range: 1...100_000_000)
        path = Array(shuffled(grid.centres.indices.filter { grid.usable[$0] }).prefix(n))
    default:
        let cap = try a.int("all-max", default: 2000, range: 2...10_000_000)
        path = grid.centres.indices.filter { grid.usable[$0] }
        if path.count > cap {
            inv.note("all: \(cap) of \(path.count) candidates, drawn at random (--all-max)")
            path = Array(shuffled(path).prefix(cap)).sorted()
        }
    }
    let start = kind == "all" ? path.count : try a.int("start", default: initial > 0 ? initial : min(20, path.count), range: 1...100_000_000)
    var checkpoints = Array(stride(from: min(start, path.count), through: path.count, by: every))
    if checkpoints.last != path.count { checkpoints.append(path.count) }
    // Along an ordered path: the number of points until one of the top 1% was measured.
    let firstTop = kind == "all" ? nil : path.firstIndex { truth[$0].isFinite && (maximize ? truth[$0] >= topValue : truth[$0] <= topValue) }.map { $0 + 1 }

    let schema = try Schema([Field("points", .i32), Field("fraction", .f64), Field("best", .f64), Field("best_rank", .i32), Field("top_found", .u8),
                             Field("rmse", .f64), Field("nlpd", .f64), Field("coverage", .f64), Field("noise", .f64), Field("seconds", .f64)])
    let attrs: JSON = ["path": .string(kind), "trace": a.string("trace").map { .string($0) } ?? .null, "scalarizer": spec.map { .string($0) } ?? .null,
                       "target": .string(targetName), "candidates": .number(Double(scored.count)), "top_count": .number(Double(topCount)),
                       "first_top_points": firstTop.map { .number(Double($0)) } ?? .null, "maximize": .bool(maximize)]
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
    let progress = Progress(tool: command.name, what: "records", total: checkpoints.count, enabled: inv.showsProgress)
    var model: DKLEnsemble?
    var means: [[Double]] = [], sds: [[Double]] = [], scores: [[Double]] = []
    for (c, n) in checkpoints.enumerated() {
        try Interrupts.check()
        let t0 = Date()
        // In candidate order, as dkl-train joins patches and targets.
        let points = path.prefix(n).filter { truth[$0].isFinite }.sorted()
        guard points.count >= 2 else { throw DKLError.data("fewer than two of the path's first \(n) points have a finite value") }
        model = try DKLEnsemble.train(x: grid.inputs.gather(points), y: points.map { truth[$0] }, config: config, initial: model)
        let pred = try model!.predict(grid.inputs)
        let seconds = Date().timeIntervalSince(t0)
        var se = 0.0, nl = 0.0, inside = 0
        for k in scored {
            let v = pred.variance[k] + pred.noise, e = pred.mean[k] - truth[k]
            se += e * e; nl += 0.5 * log(2 * .pi * v) + e * e / (2 * v)
            if abs(e) <= 2 * v.squareRoot() { inside += 1 }
        }
        let values = points.map { truth[$0] }
        let best = maximize ? values.max()! : values.min()!, bestRank = rank(best)
        var rec = RecordBuilder(schema)
        rec.set(0, int: n); rec.set(1, Double(n) / Double(grid.count)); rec.set(2, best); rec.set(3, int: bestRank)
        rec.set(4, int: bestRank <= topCount ? 1 : 0)
        rec.set(5, (se / Double(scored.count)).squareRoot()); rec.set(6, nl / Double(scored.count)); rec.set(7, Double(inside) / Double(scored.count))
        rec.set(8, pred.noise); rec.set(9, seconds)
        try out.writer.write(rec.bytes)
        if a.string("maps") != nil {
            // The acquisition as the experiment saw it before its next point: the measured
            // points are not candidates any more (NaN).
            let acq = acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: maximize)
            let taken = Set(path.prefix(n))
            var m = [Double](repeating: .nan, count: h * w), s = m, q = m
            for (k, p) in grid.centres.enumerated() where grid.usable[k] {
                m[p.0 * w + p.1] = pred.mean[k]; s[p.0 * w + p.1] = pred.variance[k].squareRoot()
                if !taken.contains(k) { q[p.0 * w + p.1] = acq[k] }
            }
            means.append(m); sds.append(s); scores.append(q)
        }
        progress.update(c + 1)
    }
    progress.finish(checkpoints.count)
    if let mapsPath = a.string("maps") {
        var truthMap = [Double](repeating: .nan, count: h * w), order = [Double](repeating: -1, count: h * w)
        for k in scored { truthMap[grid.centres[k].0 * w + grid.centres[k].1] = truth[k] }
        for (i, k) in path.enumerated() { order[grid.centres[k].0 * w + grid.centres[k].1] = Double(i + 1) }
        let writer = try HDF5Writer(path: mapsPath)
        do {
            try writer.write("/mean", shape: [checkpoints.count, h, w], values: .double(means.flatMap { $0 }))
            try writer.write("/sd", shape: [checkpoints.count, h, w], values: .double(sds.flatMap { $0 }))
            try writer.write("/acquisition", shape: [checkpoints.count, h, w], values: .double(scores.flatMap { $0 }))
            try writer.write("/points", shape: [checkpoints.count], values: .double(checkpoints.map(Double.init)))
            try writer.write("/truth", shape: [h, w], values: .double(truthMap))
            try writer.write("/order", shape: [h, w], values: .double(order))
            try writer.setAttribute("/", "path", .string(kind))
            try writer.setAttribute("/acquisition", "function", .string(a.string("acquisition") ?? traceAcquisition ?? "ei"))
            try writer.commit()
        } catch { writer.abort(); throw error }
    }
    try out.commit()
    let reached = path.map { truth[$0] }.filter(\.isFinite)
    let bestRank = rank((maximize ? reached.max() : reached.min())!)
    inv.note("\(kind) path of \(path.count) points: its best is rank \(bestRank) of \(scored.count)" +
             (kind == "all" ? "" : "; a top-1% point \(firstTop.map { "after \($0) points" } ?? "never")"))
}
