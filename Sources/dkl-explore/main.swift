import DKL
import Foundation

// dkl-explore: the active experiment in one process. Patches of the structural image are
// the candidates; each step trains the DKL model on the points measured so far, predicts
// every candidate, chooses the next point(s) by the acquisition function, measures them
// (from a pre-acquired cube or an instrument program) and appends them to the trace.
let command = Command(
    name: "dkl-explore",
    usage: ["--oracle CUBE -S SPEC --trace TRACE [options] IMAGE", "--measure PROGRAM [--measure-arg ARG...] [-S SPEC --energy AXIS] --trace TRACE [options] IMAGE"],
    summary: """
        Run an active experiment on the structural image IMAGE: measure a few random points,
        then at every step train a DKL model on the points measured so far (warm-started
        from the previous step), predict every patch, and measure the point(s) the
        acquisition function prefers, until the steps, the budget or the uncertainty
        threshold are reached. Every measurement (the whole spectrum, its scalar, the
        prediction before measuring, the acquisition value, the hyperparameters, the loss and
        the seconds per phase) is appended to TRACE and synced to disk, so a run that is
        killed continues with --trace TRACE and the same options: nothing is lost and
        nothing is measured twice. --maps writes the final mean, uncertainty and acquisition
        maps and the step at which each pixel was measured.
        """,
    options: [
        Option("trace", value: "TRACE", help: "the experiment's trace (NDJSON stream), created or continued"),
        Option("resume", value: "TRACE", help: "continue the run whose trace is TRACE (it must exist; give the same options)"),
        Option("oracle", value: "CUBE", help: "a pre-acquired spectrum image or 4D-STEM cube: measuring reads that position"),
        Option("measure", value: "PROGRAM", help: "an instrument program, run as PROGRAM ARG... Y X; it prints the spectrum (NPY or a stream), or without -S the property itself"),
        Option("measure-arg", value: "ARG", repeatable: true, help: "an argument for PROGRAM before Y X (repeatable)"),
        Option("measure-timeout", value: "S", help: "seconds to wait for PROGRAM's answer (default 600)"),
        Option("measure-retries", value: "N", help: "retries of a failed measurement (default 2)"),
        Option("scalarizer", "S", value: "[NAME=]SPEC", help: "the property to learn (see dkl-scalarize)"),
        Option("target", value: "NAME", help: "the scalarizer's field to learn (for a fit; default its first)"),
        Option("energy", value: "START:STEP|FILE", help: "the spectra's energy axis in eV (default: from the file)"),
        Option("window", "w", value: "W", help: "patch side (default 16)"),
        Option("normalize", "N", value: "MODE", help: "patch normalization, as dkl-patches (default minmax)"),
        Option("even", value: "interpolate|shift", help: "centring of even windows, as dkl-patches (default interpolate)"),
        Option("init-coords", value: "FILE", help: "measure these points first (an array K×2 of y, x, or a stream with y and x)"),
        Option("init", value: "N", help: "random points measured first (default 20)"),
        Option("steps", value: "N", help: "steps after the initial points (default 50)"),
        Option("budget", value: "N|P%", help: "stop when this many points (or this share of the patches) are measured"),
        Option("stop-sd", value: "X", help: "stop when no candidate's predicted sd exceeds X"),
        Option("count", value: "Q", help: "points measured per step (default 1)"),
        Option("batch", value: "MODE", help: "how q > 1 points are chosen: penalize (default: damp scores around each choice) or fantasize (condition the model on each choice)"),
        Option("radius", value: "R", help: "penalize: damp scores within about R pixels of each choice (default 3)"),
        Option("acquisition", "a", value: "NAME", help: "ei (default), logei, pi, ucb, kappa, maxvar"),
        Option("maps", value: "FILE.h5", help: "write /mean, /sd, /acquisition and /step (H×W) at the end"),
        Option("png", value: "PREFIX", help: "write PREFIX-mean.png, PREFIX-sd.png, PREFIX-acquisition.png with the measured points"),
        Option.seed, Option.threads,
    ] + Option.stepModel + Option.acquisitionParameters
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    Parallel.threads = try a.threads()
    BLAS.setThreads(Parallel.threads)
    if let r = a.string("resume") {
        guard a.string("trace") == nil || a.string("trace") == r else { throw DKLError.usage("--resume and --trace name different files") }
        guard FileManager.default.fileExists(atPath: r) else { throw DKLError.data("no such file (--resume continues an existing trace)", file: r) }
    }
    guard let tracePath = a.string("resume") ?? a.string("trace") else { throw DKLError.usage("give the trace file with --trace TRACE") }

    // The candidates: every patch of the image whose window fits.
    let image = try ArrayFile.open(a.positionals[0])
    let grid = try CandidateGrid(image: image, window: try a.int("window", default: 16, range: 1...1024), even: try a.evenWindow(),
                                 normalization: try a.patchNormalization())
    let (h, w) = (grid.height, grid.width)
    let (centres, candidates, usable, index) = (grid.centres, grid.inputs, grid.usable, grid.index)
    let (window, norm) = (grid.window, grid.normalization)

    // The oracle and the scalarizer.
    let oracle: Oracle
    switch (a.string("oracle"), a.string("measure")) {
    case let (path?, nil):
        let o = try ArrayOracle(try ArrayFile.open(path))
        guard o.height >= h, o.width >= w else {
            throw DKLError.data("the oracle's grid \(o.height)×\(o.width) is smaller than the image's \(h)×\(w)", file: path)
        }
        oracle = o
    case let (nil, program?):
        oracle = CommandOracle(command: [program] + a.strings("measure-arg"), timeout: try a.double("measure-timeout", default: 600),
                               retries: try a.int("measure-retries", default: 2, range: 0...100))
    case (nil, nil): throw DKLError.usage("give the oracle: --oracle CUBE or --measure PROGRAM")
    default: throw DKLError.usage("--oracle and --measure do not mix")
    }
    // A map oracle holds the property itself, and so does a program's answer without -S
    // (one number, a simulator's); a spectrum needs a scalarizer.
    let isMap = (oracle as? ArrayOracle)?.isMap ?? false
    if isMap && (a.string("scalarizer") ?? a.string("target")) != nil { throw DKLError.usage("the oracle is a map of the property: give no -S or --target") }
    let spec = a.string("scalarizer")
    guard isMap || spec != nil || oracle is CommandOracle else { throw DKLError.usage("give the property to learn with -S SPEC") }
    let scalarizer = try spec.map { try Scalarizer.parse($0) }
    let column = try { () throws -> Int in
        guard let scalarizer else { return 0 }
        let name = a.string("target") ?? scalarizer.fieldNames[0]
        guard let c = scalarizer.fieldNames.firstIndex(of: name) else { throw DKLError.usage("--target must be one of \(scalarizer.fieldNames.joined(separator: ", "))") }
        return c
    }()
    let targetName = scalarizer?.fieldNames[column] ?? "value"
    var bound: Scalarizer.Bound?
    func scalar(_ spectrum: [Double]) throws -> Double {
        guard let scalarizer else {   // a map's measurement, or a program's one number, is the value
            guard spectrum.count == 1 else {
                throw DKLError.data("\(a.string("measure") ?? "the program") answered \(spectrum.count) values: give the property with -S SPEC")
            }
            return spectrum[0]
        }
        if bound == nil {
            let axis: EnergyAxis
            if let o = oracle as? ArrayOracle {
                axis = try EnergyAxis.resolve(option: a.string("energy"), source: o.source, channels: spectrum.count)
            } else {
                guard let e = a.string("energy") else { throw DKLError.usage("--measure needs the energy axis: --energy START:STEP|FILE") }
                axis = try EnergyAxis.resolve(option: e, attributes: [], sibling: nil, channels: spectrum.count, name: "--energy")
            }
            bound = try scalarizer.bind(axis)
        }
        return spectrum.withUnsafeBufferPointer { bound!.evaluate($0).values[column] }
    }

    // The model and the acquisition.
    let config = try a.stepModelConfig()
    let gpWidth = config.extractor == .none ? candidates.cols : config.embedding   // the GP's input width
    let (function, acquisitionName) = try a.acquisition()
    let acquisition = function!
    let maximize = !a.flag("minimize")
    let q = try a.int("count", default: 1, range: 1...100_000)
    let radius = try a.double("radius", default: 3)
    guard radius > 0 else { throw DKLError.usage("--radius must be positive") }
    let batch = a.string("batch") ?? "penalize"
    guard ["penalize", "fantasize"].contains(batch) else { throw DKLError.usage("unknown --batch '\(batch)' (penalize or fantasize)") }
    if batch == "fantasize" && a.string("radius") != nil { throw DKLError.usage("--radius goes with --batch penalize") }
    let initCount = try a.int("init", default: 20, range: 1...1_000_000)
    let steps = try a.int("steps", default: 50, range: 0...10_000_000)
    let patchesCount = index.count
    var budget = Int.max
    if let b = a.string("budget") {
        if b.hasSuffix("%"), let p = Double(b.dropLast()), p > 0, p <= 100 { budget = max(1, Int((p / 100 * Double(patchesCount)).rounded(.down))) }
        else if let n = Int(b), n >= 1 { budget = n }
        else { throw DKLError.usage("--budget must be a count or a percentage like 5%") }
    }
    let stopSD = try a.string("stop-sd").map { s -> Double in
        guard let v = Double(s), v > 0 else { throw DKLError.usage("--stop-sd must be a positive number") }
        return v
    }

    // The trace: what was measured, and where to continue.
    let schemaFields = [Field("step", .i32), Field("y", .i32), Field("x", .i32), Field("spectrum", .f64, shape: [1]),
                        Field("value", .f64), Field("mean", .f64), Field("var", .f64), Field("acquisition", .f64),
                        Field("noise", .f64), Field("outputscale", .f64), Field("lengthscale", .f64, shape: [gpWidth]), Field("loss", .f64),
                        Field("seconds_train", .f64), Field("seconds_predict", .f64), Field("seconds_acquire", .f64), Field("seconds_measure", .f64)]
    // The spectrum's length is the oracle's; a command oracle's is learnt by a first measurement.
    var itemShape = oracle.itemShape
    var firstAnswer: (Int, [Double])?
    let skip: Set<String> = ["trace", "resume", "steps", "budget", "stop-sd", "threads", "quiet", "progress", "maps", "png", "measure-timeout", "measure-retries"]
    let signature = command.signature(of: Array(inv.argv.dropFirst()), skipping: skip)
    if itemShape.isEmpty && !FileManager.default.fileExists(atPath: tracePath) {
        // Measure the first random point now to learn the spectrum's length.
        var rng = Xoshiro(seed: config.seed &+ 0xA11CE)
        let keys = index.values.sorted()
        let k = keys[Int(rng.next() % UInt64(keys.count))]
        firstAnswer = (k, try oracle.measure(y: centres[k].0, x: centres[k].1))
        itemShape = oracle.itemShape
    }
    if itemShape.isEmpty, let existing = try? StreamReader(path: tracePath), let f = existing.schema["spectrum"] { itemShape = f.shape }
    var fields = schemaFields
    fields[3] = Field("spectrum", .f64, shape: itemShape)
    let schema = try Schema(fields)
    let attrs: JSON = ["image": .string(image.name), "grid": JSON([h, w]), "window": .number(Double(window)), "normalize": .string(norm.rawValue),
                       "scalarizer": spec.map { .string($0) } ?? .null, "target": .string(targetName), "acquisition": .string(acquisitionName),
                       "candidates": .number(Double(patchesCount))]
    let trace = try Checkpoint(path: tracePath, header: inv.stamped(StreamHeader(schema: schema, attrs: attrs)), signature: signature)
    struct Point { var step: Int; var k: Int; var value: Double }
    var measured: [Point] = []
    for r in trace.records {
        let v = r.withUnsafeBytes { RecordView($0, schema) }
        let (y, x) = (v.int(1), v.int(2))
        guard let k = index[TrainingSet.key(y, x)] else { throw DKLError.data("the trace's point (\(y), \(x)) is not a candidate of this image", file: tracePath) }
        measured.append(Point(step: v.int(0), k: k, value: v.double(4)))
    }
    if !measured.isEmpty { inv.note("continuing: \(measured.count) points measured in \(tracePath), the last at step \(measured.last!.step)") }
    Interrupts.deferExit = true

    /// Measures candidate k (unless `spectrum` is already its measurement) and appends it to
    /// the trace; `seconds` are the step's train, predict and acquire times.
    func record(step: Int, k: Int, spectrum: [Double]?, mean: Double, variance: Double, score: Double,
                model: DKLEnsemble?, seconds: [Double]) throws {
        let t0 = Date()
        let s = try spectrum ?? oracle.measure(y: centres[k].0, x: centres[k].1)
        guard s.count == itemShape.reduce(1, *) else { throw DKLError.data("a measurement of \(s.count) values; the trace's hold \(itemShape.reduce(1, *))") }
        let value = try scalar(s)
        let measureSeconds = Date().timeIntervalSince(t0)
        var rec = RecordBuilder(schema)
        rec.set(0, int: step); rec.set(1, int: centres[k].0); rec.set(2, int: centres[k].1)
        rec.set(3, s); rec.set(4, value); rec.set(5, mean); rec.set(6, variance); rec.set(7, score)
        let m = model?.members[0]
        rec.set(8, m.map { $0.gpParameters.noise * $0.targetStd * $0.targetStd } ?? .nan)
        rec.set(9, m.map { $0.gpParameters.outputscale } ?? .nan)
        rec.set(10, m?.gpParameters.lengthscales ?? [Double](repeating: .nan, count: gpWidth))
        rec.set(11, m?.lossCurve.last ?? .nan)
        rec.set(12, seconds[0]); rec.set(13, seconds[1]); rec.set(14, seconds[2]); rec.set(15, measureSeconds)
        try trace.append([rec.bytes])
        measured.append(Point(step: step, k: k, value: value))
        if !value.isFinite { inv.note("the measurement at (\(centres[k].0), \(centres[k].1)) gives no value (NaN or a refused fit); it is kept in the trace but not learnt") }
    }

    // Initial points: the listed ones, then seeded random candidates.
    if let path = a.string("init-coords") {
        for (n, c) in try TrainingSet.readCoordinates(path).enumerated() {
            guard let k = index[TrainingSet.key(c.0, c.1)] else {
                throw DKLError.data("(\(c.0), \(c.1)) is not a candidate (its window must fit in the image)", file: path, record: n + 1)
            }
            if measured.contains(where: { $0.k == k }) { continue }
            try Interrupts.check()
            try record(step: 0, k: k, spectrum: nil, mean: .nan, variance: .nan, score: .nan, model: nil, seconds: [0, 0, 0])
        }
    }
    var rng = Xoshiro(seed: config.seed &+ 0xA11CE)
    let order = index.values.sorted()
    if let (k, s) = firstAnswer { try record(step: 0, k: k, spectrum: s, mean: .nan, variance: .nan, score: .nan, model: nil, seconds: [0, 0, 0]) }
    while measured.count < min(initCount, patchesCount) {
        try Interrupts.check()
        let taken = Set(measured.map(\.k))
        let k = order[Int(rng.next() % UInt64(order.count))]
        if taken.contains(k) { continue }
        try record(step: 0, k: k, spectrum: nil, mean: .nan, variance: .nan, score: .nan, model: nil, seconds: [0, 0, 0])
    }

    // The steps. The model of step s is trained on the points measured before step s,
    // warm-started from step s−1's; a continued run retrains the steps it has records of.
    let progress = Progress(tool: command.name, what: "steps", total: steps, enabled: inv.showsProgress)
    var model: DKLEnsemble?
    var step = 1
    while step <= steps {
        // In candidate order, as dkl-train joins patches and targets: the same model.
        let before = measured.filter { $0.step < step && $0.value.isFinite }.sorted { $0.k < $1.k }
        let already = measured.filter { $0.step == step }
        let done = measured.count >= budget || measured.count >= patchesCount
        if already.isEmpty && done { break }
        let t0 = Date()
        let x = candidates.gather(before.map(\.k))
        model = try DKLEnsemble.train(x: x, y: before.map(\.value), config: config, initial: model)
        let t1 = Date()
        if !already.isEmpty { step += 1; continue }   // replayed from the trace
        var fantasies = batch == "fantasize" ? try EnsembleFantasies(ensemble: model!, candidates: candidates) : nil
        let pred: (mean: [Double], variance: [Double])
        if let f = fantasies { pred = (f.mean, f.variance) } else { let p = try model!.predict(candidates); pred = (p.mean, p.variance) }
        let t2 = Date()
        let best = Acquisition.best(observed: before.map(\.value), maximize: maximize)
        let excluded = Set(measured.map(\.k)).union(Set(centres.indices.filter { !usable[$0] }))
        let room = min(q, budget - measured.count)
        let chosen: [(Int, Double)]
        if fantasies != nil {
            chosen = BatchSelection.greedyFantasized(&fantasies!, q: room, acquisition: acquisition, best: best, maximize: maximize, excluded: excluded)
                .map { ($0.index, $0.score) }
        } else {
            let scores = acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: maximize)
            chosen = BatchSelection.locallyPenalized(scores: scores, coordinates: centres, q: room, radius: radius, excluded: excluded).map { ($0, scores[$0]) }
        }
        let t3 = Date()
        if let stopSD, (0..<centres.count).filter({ !excluded.contains($0) }).allSatisfy({ pred.variance[$0].squareRoot() <= stopSD }) {
            inv.note("stopping at step \(step): no candidate's predicted sd exceeds \(stopSD)")
            break
        }
        for (k, score) in chosen {
            try record(step: step, k: k, spectrum: nil, mean: pred.mean[k], variance: pred.variance[k], score: score, model: model,
                       seconds: [t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2)])
        }
        progress.update(step)
        if Interrupts.signalNumber != 0 {
            throw DKLError(.interrupted, "interrupted after step \(step): the trace \(tracePath) holds every measurement; run the same command to continue")
        }
        step += 1
    }
    progress.finish(min(step, steps))
    let finite = measured.filter { $0.value.isFinite }
    let bestPoint = maximize ? finite.max { $0.value < $1.value } : finite.min { $0.value < $1.value }
    inv.note("\(measured.count) of \(patchesCount) points measured (\(String(format: "%.1f", 100 * Double(measured.count) / Double(patchesCount)))%); best \(bestPoint.map { "\($0.value) at (\(centres[$0.k].0), \(centres[$0.k].1)), step \($0.step)" } ?? "none")")

    if a.string("maps") != nil || a.string("png") != nil {
        // The final model, on every measured point.
        let all = finite.sorted { $0.k < $1.k }
        model = try DKLEnsemble.train(x: candidates.gather(all.map(\.k)), y: all.map(\.value), config: config, initial: model)
        let pred = try model!.predict(candidates)
        let scores = acquisition.scores(mean: pred.mean, variance: pred.variance, best: Acquisition.best(observed: finite.map(\.value), maximize: maximize), maximize: maximize)
        var mean = [Double](repeating: .nan, count: h * w), sd = mean, acq = mean, stepMap = [Double](repeating: -1, count: h * w)
        for (k, c) in centres.enumerated() where usable[k] {
            mean[c.0 * w + c.1] = pred.mean[k]; sd[c.0 * w + c.1] = pred.variance[k].squareRoot(); acq[c.0 * w + c.1] = scores[k]
        }
        for p in measured { stepMap[centres[p.k].0 * w + centres[p.k].1] = Double(p.step) }
        if let mapsPath = a.string("maps") {
            let writer = try HDF5Writer(path: mapsPath)
            do {
                try writer.write("/mean", shape: [h, w], values: .double(mean))
                try writer.write("/sd", shape: [h, w], values: .double(sd))
                try writer.write("/acquisition", shape: [h, w], values: .double(acq))
                try writer.write("/step", shape: [h, w], values: .double(stepMap))
                try writer.setAttribute("/", "trace", .string(tracePath))
                try writer.commit()
            } catch { writer.abort(); throw error }
        }
        if let prefix = a.string("png") {
            let (points, steps) = (measured.map { centres[$0.k] }, measured.map { Double($0.step) })
            for (name, values) in [("mean", mean), ("sd", sd), ("acquisition", acq)] {
                var map = MapFigure(height: h, width: w, panels: [MapPanel(values: values, points: points, pointValues: steps)])
                map.pointsLabel = "step"
                map.title = "\(name == "sd" ? "uncertainty (sd)" : name) after \(measured.count) points"
                map.colorLabel = name == "acquisition" ? acquisitionName : targetName
                try map.write("\(prefix)-\(name).png")
            }
        }
    }
}
