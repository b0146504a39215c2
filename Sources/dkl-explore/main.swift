import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging
import DeepKernel
import Plot
import DKLCommandLine
import ToolOptions

// dkl-explore: the active experiment in one process. Patches of the structural image are
// the candidates; each step trains the DKL model on the points measured so far, predicts
// every candidate, chooses the next point(s) by the acquisition function, measures them
// (from a pre-acquired cube or an instrument program) and appends them to the trace.
let command = Command(
    name: "dkl-explore",
    usage: ["--oracle CUBE -S SPEC --trace TRACE [options] IMAGE", "--measure PROGRAM [--measure-arg ARG...] [-S SPEC --energy AXIS] --trace TRACE [options] IMAGE",
            "--instrument PROGRAM [--instrument-arg ARG...] [-S SPEC] --trace TRACE [options] IMAGE"],
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
        Option("instrument", value: "PROGRAM", help: "an instrument program started once and asked for every measurement over the protocol of dkl-instrument(7) (dkl-twin rehearses one)"),
        Option("instrument-arg", value: "ARG", repeatable: true, help: "an argument for the --instrument PROGRAM (repeatable)"),
        Option("dose", value: "D", help: "--oracle: shot noise at a dose, each measurement resampled as Poisson(v·D)/D (D counts per unit of the stored values), seeded by --seed and the point"),
        Option("dwell", value: "S", help: "the dwell sent with every --instrument measure request, and a measurement's beam time in a cost model (seconds; default 1)"),
        Option("measurements", value: "FILE|inline", help: "keep the measurements in FILE, a binary stream of float32 records beside the trace (default for diffraction patterns: TRACE's name with .patterns.dkl), or inline in the trace (default for spectra)"),
        Option("measure-timeout", value: "S", help: "seconds to wait for PROGRAM's answer (default 600)"),
        Option("measure-retries", value: "N", help: "retries of a failed measurement (default 2)"),
        Option("scalarizer", "S", value: "[NAME=]SPEC", help: "the property to learn (see dkl-scalarize)"),
        Option("counts", value: "GAIN[:OFFSET[:READ]]", help: "the detector counts (as dkl-scalarize --counts): each value's variance in the trace, value_var"),
        Option("target", value: "NAME", help: "the scalarizer's field to learn (for a fit; default its first)"),
        Option("energy", value: "START:STEP|FILE", help: "the spectra's energy axis in the file's unit, eV unless it says (default: from the file)"),
        Option("window", "w", value: "W", help: "patch side (default 16)"),
        Option("normalize", "N", value: "MODE", help: "patch normalization, as dkl-patches (default minmax)"),
        Option("even", value: "interpolate|shift", help: "centring of even windows, as dkl-patches (default interpolate)"),
        Option("init-coords", value: "FILE", help: "measure these points first (an array K×2 of y, x, or a stream with y and x)"),
        Option("init", value: "N", help: "points measured first (default 20)"),
        Option("init-design", value: "random|structure", help: "the first points: random (default) or one in each of N clusters of the image's patches (with --per-second along a short route)"),
        Option("steps", value: "N", help: "steps after the initial points (default 50)"),
        Option("budget", value: "N|P%|TIME", help: "stop when this many points (or this share of the patches) are measured, or before the beam time passes TIME (90s, 30min, 2h)"),
        Option("stop-sd", value: "X", help: "stop when no candidate's predicted sd exceeds X"),
        Option("count", value: "Q", help: "points measured per step (default 1)"),
        Option("batch", value: "MODE", help: "how q > 1 points are chosen: penalize (default: damp scores around each choice) or fantasize (condition the model on each choice)"),
        Option("radius", value: "R", help: "penalize: damp scores within about R pixels of each choice (default 3)"),
        Option("acquisition", "a", value: "NAME", help: "ei (default), logei, pi, ucb, kappa, maxvar"),
        Option("mean", value: "EXPR", repeatable: true, help: "a structured GP as the step model: this physical mean over the image's channels (--inputs) and named parameters (see dkl-fit(1)); several: candidate models, weighed by their predictive density"),
        Option("param", value: "NAME=DIST", repeatable: true, help: "a structured GP's prior (see dkl-fit(1))"),
        Option("inputs", value: "A,B,...", help: "the image's channels' names in --mean (default x1, x2, ...)"),
        Option("inference", value: "map|nuts", help: "a structured GP's fit at every step: its mode (default) or NUTS draws, over which the acquisition is averaged"),
        Option("warmup", value: "N", help: "nuts: warm-up iterations per chain (default 300)"),
        Option("samples", value: "N", help: "nuts: draws kept per chain (default 200)"),
        Option("chains", value: "N", help: "nuts: chains (default 2)"),
        Option("maps", value: "FILE.h5", help: "write /mean, /sd, /acquisition and /step (H×W) at the end"),
        Option("png", value: "PREFIX", help: "write PREFIX-mean.png, PREFIX-sd.png, PREFIX-acquisition.png with the measured points"),
        Option.seed, Option.threads,
    ] + Option.detector(radius: "detector-radius") + Option.stepModel + Option.acquisitionParameters + Option.beamTime
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    let tracePath = try a.tracePath()

    // The candidates: every patch of the image whose window fits.
    let image = try ArrayFile.open(a.positionals[0])
    let structured = a.asksStructuredGP   // a structured GP's inputs: the image's channels at each pixel, as they are
    let grid = try CandidateGrid(image: image, window: try a.int("window", default: structured ? 1 : 16, range: 1...1024), even: try .named(a.string("even")),
                                 normalization: structured && a.string("normalize") == nil ? .none : try .named(a.string("normalize")))
    let (h, w, index) = (grid.height, grid.width, grid.index)

    // The oracle and the scalarizer.
    let oracle = try a.explorationOracle(height: h, width: w)
    // A map oracle holds the property itself, and so does a program's answer without -S
    // (one number, a simulator's); a spectrum needs a scalarizer.
    let isMap = (oracle as? ArrayOracle)?.isMap ?? false
    if isMap && (a.string("scalarizer") ?? a.string("target")) != nil { throw DKLError.usage("the oracle is a map of the property: give no -S or --target") }
    let spec = a.string("scalarizer")
    guard isMap || spec != nil || oracle is CommandOracle || oracle is InstrumentOracle else { throw DKLError.usage("give the property to learn with -S SPEC") }
    let scalar = try MeasuredValue(scalarizer: try spec.map { try Scalarizer.parse($0) }, target: a.string("target"), energy: a.string("energy"),
                                   detector: try DetectorOptions(centre: a.string("centre"), mask: a.string("mask"), radius: a.string("detector-radius")),
                                   source: (oracle as? ArrayOracle)?.source, oracle: oracle, program: a.string("measure") ?? a.string("instrument") ?? "the program")
    let targetName = scalar.name

    // The plan: the step model, the acquisition, how points are chosen and when to stop.
    let plan = try a.experimentPlan(grid: grid, structured: structured, imagePixelSize: PixelSize(attributes: image.attributes))

    // The experiment, continued from its trace when there is one.
    let skip: Set<String> = ["trace", "resume", "steps", "budget", "budget-dose", "stop-sd", "stop-stall", "stop-prob", "threads", "quiet", "progress", "maps", "png", "measure-timeout", "measure-retries"]
    let attrs: JSON = ["image": .string(image.name), "grid": JSON([h, w]), "window": .number(Double(grid.window)), "normalize": .string(grid.normalization.rawValue),
                       "scalarizer": spec.map { .string($0) } ?? .null, "target": .string(targetName), "acquisition": .string(plan.acquisitionName),
                       "candidates": .number(Double(index.count))]
    let measurements = a.string("measurements")
    let experiment = try ActiveExperiment(grid: grid, oracle: oracle, plan: plan, value: { try scalar($0) }, variance: try a.countedVariance(of: scalar),
                                          tracePath: tracePath, attributes: attrs,
                                          signature: command.signature(of: Array(inv.argv.dropFirst()), skipping: skip),
                                          measurementsPath: { ExperimentTrace.measurementsPath(option: measurements, trace: tracePath, itemShape: $0) },
                                          header: inv.stamped)
    experiment.note = inv.note
    experiment.progress = Progress(tool: command.name, what: "steps", total: plan.steps, enabled: inv.showsProgress)
    Interrupts.deferExit = true
    try experiment.run()
    if let instrument = oracle as? InstrumentOracle {
        if instrument.sessions > 1 { inv.note("the instrument was started \(instrument.sessions) times (a failed session is restarted)") }
        instrument.close()
    }

    guard a.string("maps") != nil || a.string("png") != nil else { return }
    let maps = try experiment.finalMaps()
    if let path = a.string("maps") { try maps.write(path, trace: tracePath) }
    if let prefix = a.string("png") {
        for (name, values) in [("mean", maps.mean), ("sd", maps.sd), ("acquisition", maps.acquisition)] {
            var map = MapFigure(height: h, width: w, panels: [MapPanel(values: values, points: maps.points, pointValues: maps.pointSteps)])
            map.pointsLabel = "step"
            map.title = "\(name == "sd" ? "uncertainty (sd)" : name) after \(experiment.measured.count) points"
            map.colorLabel = name == "acquisition" ? plan.acquisitionName : targetName
            try map.write("\(prefix)-\(name).png")
        }
    }
}
