import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging
import DeepKernel
import DKLCommandLine
import ToolOptions

// dkl-train: patches (a stream) joined on (y, x) with measured targets → a DKL model file.
let command = Command(
    name: "dkl-train",
    usage: ["--targets TARGETS -o MODEL [options] [PATCHES]", "--spectra CUBE -S SPEC -o MODEL [options] [PATCHES]"],
    summary: """
        Train a deep-kernel-learning model (a feature network and an exact Gaussian process,
        jointly) on the patches of PATCHES (a stream from dkl-patches; stdin when absent or
        '-') whose positions have a target, and write everything needed to predict again to
        the model file MODEL (HDF5). Targets come from a stream with y, x and a value (e.g.
        dkl-scalarize's output), an H×W array (NaN = not measured), or a spectrum image and a
        scalarizer. Progress goes to stderr, a JSON summary of the fit to stdout. ^C stops
        training and saves the model reached so far; --init continues from it.
        """,
    options: [
        Option("output", "o", value: "MODEL", help: "the model file to write (HDF5, atomically)"),
        Option("targets", "t", value: "FILE", help: "targets: a stream with y, x and a value, or an array H×W"),
        Option("target", value: "NAME", help: "the target field of a stream with several"),
        Option("spectra", value: "CUBE", help: "targets from a spectrum image (or a 4D-STEM cube) and the scalarizer -S"),
        Option("scalarizer", "S", value: "[NAME=]SPEC", help: "the scalarizer for --spectra (see dkl-scalarize)"),
        Option("energy", value: "START:STEP|FILE", help: "the spectra's energy axis in the file's unit, eV unless it says (default: from the file)"),
        Option("saturation", value: "LEVEL", help: "with --spectra: leave out spectra with a value of magnitude LEVEL or more (the detector's limit)"),
        Option("field", value: "NAME", help: "the patch field (default patch)"),
        Option("extractor", value: "mlp|cnn|none", help: "feature network (default mlp; none: a GP on the raw inputs)"),
        Option("hidden", value: "A,B,...", help: "hidden widths of the MLP (default 64,64)"),
        Option("embedding", "e", value: "N", help: "embedding dimensions (default 4)"),
        Option("kernel", "k", value: "NAME", help: "rbf, matern12, matern32, matern52 (default)"),
        Option("iterations", "n", value: "N", help: "Adam iterations (default 500)"),
        Option("lr", value: "X", help: "learning rate (default 0.01)"),
        Option("weight-decay", value: "X", help: "decoupled weight decay on the network's weights (default 0)"),
        Option("ensemble", value: "K", help: "models from seeds seed…seed+K-1, combined (default: 2 below 1,000 points, 4 from 1,000)"),
        Option("validation", value: "F", help: "fraction held out to choose the iteration and calibrate (default 0.2; 0: none)"),
        Option("patience", value: "N", help: "stop N iterations after the best held-out score (default 50; 0: never)"),
        Option("init", value: "MODEL", help: "start from this model's weights and hyperparameters"),
        Option("prior-lengthscale", value: "SHAPE,RATE", help: "Gamma prior on the lengthscales (MAP training)"),
        Option("prior-outputscale", value: "SHAPE,RATE", help: "Gamma prior on the output scale"),
        Option("prior-noise", value: "SHAPE,RATE", help: "Gamma prior on the noise variance"),
        Option.seed, Option.threads, Option.precision, Option.noise,
    ] + Option.detector()
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(0...1)
    guard let modelPath = a.string("output") else { throw DKLError.usage("give the model file with -o MODEL") }
    let started = Date()

    var config = DKLConfig()
    config.seed = try a.seed()
    if let e = a.string("extractor") {
        guard let x = DKLConfig.Extractor(rawValue: e) else { throw DKLError.usage("--extractor must be mlp, cnn or none") }
        config.extractor = x
    }
    config.hidden = try a.hiddenWidths(default: config.hidden)
    config.embedding = try a.int("embedding", default: config.embedding, range: 1...64)
    config.kernel = try a.kernel(default: config.kernel)
    config.iterations = try a.int("iterations", default: config.iterations, range: 0...10_000_000)
    config.learningRate = try a.learningRate(default: config.learningRate)
    config.weightDecay = try a.double("weight-decay", default: config.weightDecay)
    config.ensemble = try a.int("ensemble", default: 0, range: 0...1000)
    config.variancePrecision = try a.variancePrecision() ?? config.variancePrecision
    config.validationFraction = try a.double("validation", default: config.validationFraction)
    config.validationPatience = try a.int("patience", default: config.validationPatience, range: 0...10_000_000)
    guard (0..<1).contains(config.validationFraction) else { throw DKLError.usage("--validation must be in [0, 1)") }
    guard config.weightDecay >= 0 else { throw DKLError.usage("--weight-decay must not be negative") }
    config.priors = try a.gpPriors()
    config.noise = try a.noiseModel()

    // Targets by position.
    let targets: [Int64: Double], targetName: String
    var variances: [Int64: Double]?
    switch (a.string("targets"), a.string("spectra")) {
    case let (t?, nil):
        if a.string("scalarizer") != nil || a.string("saturation") != nil { throw DKLError.usage("-S and --saturation go with --spectra") }
        (targets, variances, targetName) = try Positions.readTargets(t, field: a.string("target"), variances: config.noise == .measured)
    case let (nil, s?):
        guard config.noise != .measured else { throw DKLError.usage("--noise measured needs each target's variance: give dkl-scalarize --counts's stream as --targets") }
        guard let spec = a.string("scalarizer") else { throw DKLError.usage("--spectra needs a scalarizer -S SPEC") }
        let scalarizer = try Scalarizer.parse(spec)
        let cube = try ArrayFile.open(s)
        let detector = try DetectorOptions(centre: a.string("centre"), mask: a.string("mask"), radius: a.string("radius"))
        let geometry = try ItemGeometry.resolve(for: [scalarizer], cube: cube, energy: a.string("energy"), detector: detector)
        let bound = try locating(file: cube.name) { try scalarizer.bind(geometry) }
        let name = a.string("target") ?? scalarizer.fieldNames[0]
        guard let column = scalarizer.fieldNames.firstIndex(of: name) else {
            throw DKLError.usage("--target must be one of \(scalarizer.fieldNames.joined(separator: ", "))")
        }
        var scalarizers = SpectrumScalarizers(bound: [bound])
        scalarizers.saturation = try a.string("saturation").map { try SaturationLevel.parse($0) }
        (targets, targetName) = (try scalarizers.targets(of: cube, column: column), name)
    case (nil, nil): throw DKLError.usage("give the targets: --targets FILE, or --spectra CUBE with -S SPEC")
    default: throw DKLError.usage("--targets and --spectra do not mix")
    }

    // The training set: the patches at the targets' positions.
    let patchesPath = a.positionals.first ?? "-"
    if patchesPath != "-" && !FileManager.default.fileExists(atPath: patchesPath) { throw DKLError.data("no such file", file: patchesPath) }
    let reader = try StreamReader(path: patchesPath)
    let set = try TrainingSet.join(patches: reader, field: a.string("field") ?? "patch", targets: targets, variances: variances)
    guard set.targets.count >= 2 else {
        throw DKLError.data("only \(set.targets.count) of the \(set.patchCount) patches have a target (of \(targets.count) targets): at least 2 are needed", file: reader.name)
    }
    inv.note("training on \(set.targets.count) patches with a target (of \(set.patchCount) patches, \(targets.count) targets)")
    if config.extractor == .cnn {
        let shape = reader.schema[a.string("field") ?? "patch"]!.shape
        config.patchChannels = shape.count == 3 ? shape[0] : 1
    }

    var initial: DKLEnsemble?
    if let path = a.string("init") {
        initial = try DKLEnsemble.load(from: path)
        guard initial!.members[0].trainInputs.cols == set.inputs.cols else {
            throw DKLError.data("the model's inputs have \(initial!.members[0].trainInputs.cols) values, the patches \(set.inputs.cols)", file: path)
        }
    }
    let watch = EnsembleProgress(tool: command.name, members: config.members(for: set.targets.count), iterations: config.iterations, enabled: inv.showsProgress)
    Interrupts.deferExit = true
    var ensemble = try DKLEnsemble.train(x: set.inputs, y: set.targets, noise: set.noise, config: config, initial: initial, observe: watch.observe)
    watch.finish()
    let interrupted = Interrupts.signalNumber != 0
    ensemble.coordinates = set.coordinates
    ensemble.inputs = reader.header.attrs
    let entry = StreamHeader.provenanceEntry(tool: command.name, argv: Array(inv.argv.dropFirst()))
    for k in ensemble.members.indices { ensemble.members[k].provenance = reader.header.provenance + [entry] }
    try ensemble.save(to: modelPath)

    // The summary of the fit.
    let summary: JSON = ["model": .string(modelPath), "points": .number(Double(set.targets.count)), "patches": .number(Double(set.patchCount)),
                         "target": .string(targetName), "inputs": .number(Double(set.inputs.cols)), "interrupted": .bool(interrupted),
                         "seconds": .number((Date().timeIntervalSince(started) * 1000).rounded() / 1000),
                         "noise_model": .string(config.noise.rawValue), "members": .array(ensemble.members.map(\.fitSummary))]
    let out = ByteWriter.stdout()
    try out.write(summary.text + "\n")
    try out.flush()
    if interrupted {
        throw DKLError(.interrupted, "interrupted: the model reached so far is in \(modelPath); continue with --init \(modelPath)")
    }
}
