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
        Option("oracle", value: "CUBE", help: "the pre-acquired spectrum image H×W×E or 4D-STEM cube H×W×ky×kx (at least as large as IMAGE)"),
        Option("trace", value: "TRACE", help: "the experiment's trace (dkl-explore); its path, scalarizer and patch settings"),
        Option("path", value: "KIND", help: "active (default: the trace's), random (as many points, seeded), or all"),
        Option("points", value: "N", help: "random: points on the path (default: the trace's)"),
        Option("start", value: "N", help: "the first record after N points (default: the trace's initial points, or 20)"),
        Option("every", value: "K", help: "a record every K points (default 10); the last point always gives one"),
        Option("all-max", value: "N", help: "all: at most N points, a seeded random subset when there are more (default 2000)"),
        Option("scalarizer", "S", value: "[NAME=]SPEC", help: "the property (default: the trace's scalarizer)"),
        Option("target", value: "NAME", help: "the scalarizer's field (for a fit; default its first, or the trace's)"),
        Option("energy", value: "START:STEP|FILE", help: "the spectra's energy axis in the file's unit, eV unless it says (default: from the file)"),
        Option("window", "w", value: "W", help: "patch side (default: the trace's, or 16)"),
        Option("normalize", "N", value: "MODE", help: "patch normalization (default: the trace's, or minmax)"),
        Option("even", value: "interpolate|shift", help: "centring of even windows, as dkl-patches (default interpolate)"),
        Option("dose", value: "D", help: "learn from each point's measurement at this dose (Poisson(v·D)/D, seeded by --seed and the point, as dkl-explore --dose); the truth stays the clean data"),
        Option("counts", value: "GAIN[:OFFSET[:READ]]", help: "--dose: each measurement's variance from its own counts (as dkl-scalarize --counts), for --noise measured and the coverage by noise"),
        Option("maps", value: "FILE.h5", help: "write /mean, /sd, /acquisition (records×H×W), /points, /truth and /order (H×W)"),
        Option("acquisition", "a", value: "NAME", help: "--maps: the acquisition map's function (default: the trace's, or ei): ei, logei, pi, ucb, kappa, maxvar"),
        Option.seed, Option.threads,
    ] + Option.detector() + Option.acquisitionParameters + Option.stepModel + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    let kind = a.string("path") ?? "active"
    guard ["active", "random", "all"].contains(kind) else { throw DKLError.usage("unknown --path '\(kind)' (active, random or all)") }
    guard let oraclePath = a.string("oracle") else { throw DKLError.usage("give the pre-acquired data with --oracle CUBE") }
    if kind != "all" && a.string("trace") == nil { throw DKLError.usage("--path \(kind) needs the experiment's --trace TRACE") }
    let config = try a.stepModelConfig()
    let every = try a.int("every", default: 10, range: 1...100_000_000)
    if a.string("counts") != nil && a.string("dose") == nil { throw DKLError.usage("--counts goes with --dose (measurements with counting noise)") }
    if config.noise == .measured && a.string("counts") == nil { throw DKLError.usage("--noise measured needs --dose and --counts: each measurement's variance") }

    // The trace: its points in order, and the settings it was run with.
    let trace = try a.string("trace").map { try ExperimentTrace.readPath($0) }
    let traceAttrs = trace?.attributes ?? .object([])
    let traceAcquisition = traceAttrs["acquisition"]?.stringValue.flatMap { ["ei", "logei", "pi", "ucb", "kappa", "maxvar"].contains($0) ? $0 : nil }
    let acquisitionName = a.string("acquisition") ?? traceAcquisition ?? "ei"
    let acquisition = try a.acquisition(default: traceAcquisition ?? "ei").function!

    // The candidates, cut as in the experiment.
    let image = try ArrayFile.open(a.positionals[0])
    var window = traceAttrs["window"]?.intValue ?? 16
    if a.string("window") != nil { window = try a.int("window", default: 16, range: 1...1024) }
    var norm = try PatchExtractor.Normalization.named(a.string("normalize"))
    if a.string("normalize") == nil, let n = traceAttrs["normalize"]?.stringValue, let t = PatchExtractor.Normalization(rawValue: n) { norm = t }
    let grid = try CandidateGrid(image: image, window: window, even: try .named(a.string("even")), normalization: norm)

    // The truth: the property at every pixel of the cube (or of a map of the property).
    let cube = try ArrayFile.open(oraclePath)
    try cube.requireRank([2, 3, 4], "a map H×W, a spectrum image H×W×E or a 4D-STEM cube H×W×ky×kx")
    var spec: String?, targetName = "value", bound: Scalarizer.Bound?, column = 0
    if cube.rank == 2 {
        if a.string("scalarizer") != nil { throw DKLError.usage("the oracle is a map of the property: give no -S") }
    } else {
        guard let s = a.string("scalarizer") ?? traceAttrs["scalarizer"]?.stringValue else { throw DKLError.usage("give the property with -S SPEC") }
        spec = s
        let scalarizer = try Scalarizer.parse(s)
        targetName = a.string("target") ?? (a.string("scalarizer") == nil ? traceAttrs["target"]?.stringValue : nil) ?? scalarizer.fieldNames[0]
        guard let c = scalarizer.fieldNames.firstIndex(of: targetName) else {
            throw DKLError.usage("--target must be one of \(scalarizer.fieldNames.joined(separator: ", "))")
        }
        column = c
        let detector = try DetectorOptions(centre: a.string("centre"), mask: a.string("mask"), radius: a.string("radius"))
        let geometry = try ItemGeometry.resolve(for: [scalarizer], cube: cube, energy: a.string("energy"), detector: detector)
        bound = try locating(file: cube.name) { try scalarizer.bind(geometry) }
    }
    let truth = try grid.truth(from: cube, bound: bound, column: column)

    // The path.
    var rng = Xoshiro(seed: config.seed &+ 0x5EED)
    var path: [Int]
    switch kind {
    case "active": path = try grid.candidates(measured: trace!.points, file: a.string("trace"))
    case "random": path = Array(grid.shuffledCandidates(using: &rng).prefix(try a.int("points", default: trace!.points.count, range: 1...100_000_000)))
    default:
        let cap = try a.int("all-max", default: 2000, range: 2...10_000_000)
        path = grid.centres.indices.filter { grid.usable[$0] }
        if path.count > cap {
            inv.note("all: \(cap) of \(path.count) candidates, drawn at random (--all-max)")
            path = Array(grid.shuffledCandidates(using: &rng).prefix(cap)).sorted()
        }
    }
    let initial = trace?.initial ?? 0
    let start = kind == "all" ? path.count : try a.int("start", default: initial > 0 ? initial : min(20, path.count), range: 1...100_000_000)
    let replay = try ExperimentReplay(grid: grid, truth: truth, path: path, start: start, every: every, model: config, maximize: !a.flag("minimize"),
                                      file: cube.name)
    if a.string("maps") != nil { replay.acquisition = acquisition }
    if let d = a.string("dose") {
        guard let dose = Double(d), dose > 0, dose.isFinite else { throw DKLError.usage("--dose must be a positive number of counts per unit value") }
        guard let bound else { throw DKLError.usage("--dose resamples spectra or patterns; the oracle is a map of the property") }
        try replay.observe(cube: cube, noise: ShotNoise(dose: dose, seed: UInt64(try a.int("seed", default: 0, range: 0...Int.max))), bound: bound, column: column,
                           counts: try a.string("counts").map { try CountNoise.parse($0) })
    }
    // Along an ordered path: the number of points until one of the top 1% was measured.
    let firstTop = kind == "all" ? nil : replay.firstTop

    let attrs: JSON = ["path": .string(kind), "trace": a.string("trace").map { .string($0) } ?? .null, "scalarizer": spec.map { .string($0) } ?? .null,
                       "target": .string(targetName), "candidates": .number(Double(replay.scored.count)), "top_count": .number(Double(replay.ranking.topCount)),
                       "first_top_points": firstTop.map { .number(Double($0)) } ?? .null,
                       "dose": a.string("dose").flatMap(Double.init).map { .number($0) } ?? .null, "maximize": .bool(replay.ranking.maximize),
                       "noise_model": .string(config.noise.rawValue)]
    let out = try inv.openOutput(StreamHeader(schema: try ExperimentReplay.schema(), attrs: attrs))
    try replay.run(progress: Progress(tool: command.name, what: "records", total: replay.checkpoints.count, enabled: inv.showsProgress)) {
        try out.writer.write($0)
    }
    if let mapsPath = a.string("maps") { try replay.writeMaps(mapsPath, attributes: [("/", "path", kind), ("/acquisition", "function", acquisitionName)]) }
    try out.commit()
    inv.note("\(kind) path of \(path.count) points: its best is rank \(replay.ranking.rank(replay.bestOnPath)) of \(replay.scored.count)" +
             (kind == "all" ? "" : "; a top-1% point \(firstTop.map { "after \($0) points" } ?? "never")"))
}
