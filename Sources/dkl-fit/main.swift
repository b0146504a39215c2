import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DeepKernel
import DKLCommandLine

// dkl-fit: a physical model, with or without a GP around it, fitted to data by MAP or
// by NUTS: posteriors, diagnostics and the scores that compare models.
let command = Command(
    name: "dkl-fit",
    usage: ["[--mean EXPR --param NAME=DIST...] [options] -o FIT [STREAM]"],
    summary: """
        Fit a structured Gaussian process to the records of STREAM (stdin when absent or
        '-'): y = m(x; θ) + f(x) + ε, where the mean m is a physical model written in the
        expression language (--mean; zero without one), f a GP with the kernel's
        lengthscales and output scale, and ε Gaussian noise; with --kernel none the model
        alone (Bayesian inference of a known model). Every parameter has a prior
        (--param NAME=DIST; the kernel's and the noise's have defaults scaled to the data).
        --inference map finds the posterior mode (L-BFGS from several starts) and reports
        the log marginal likelihood there; nuts draws from the posterior with the No-U-Turn
        sampler (chains in parallel, warm-up adapting the step size and the metric) and
        reports split R-hat, bulk ESS, divergences, WAIC and PSIS-LOO. The fit (model, data,
        draws) goes to FIT (HDF5), a JSON summary to standard output.
        """,
    options: [
        Option("output", "o", value: "FIT", help: "the fit file to write (HDF5, atomically)"),
        Option("mean", value: "EXPR", help: "the mean function over the inputs and named parameters (see dkl-fit(1)); default zero"),
        Option("param", value: "NAME=DIST", repeatable: true, help: "a prior: normal:μ,σ, lognormal:μ,σ, halfnormal:σ, uniform:lo,hi, gamma:shape,rate or fixed:v"),
        Option("inputs", value: "A,B,...", help: "the input fields (default: every numeric scalar field but the target, y, x, flags, id)"),
        Option("target", value: "NAME", help: "the target field (default value, or the last numeric scalar field)"),
        Option("kernel", "k", value: "NAME", help: "rbf, matern12, matern32, matern52 (default) or none"),
        Option("inference", value: "map|nuts", help: "the posterior's mode (default) or draws from it"),
        Option("warmup", value: "N", help: "nuts: warm-up iterations per chain (default 1000)"),
        Option("samples", value: "N", help: "nuts: draws kept per chain (default 1000)"),
        Option("chains", value: "N", help: "nuts: chains, run in parallel (default 4)"),
        Option("metric", value: "KIND", help: "nuts: the metric adapted in warm-up: diag (default) or dense"),
        Option("target-accept", value: "P", help: "nuts: the acceptance the step size is adapted to (default 0.8)"),
        Option("max-depth", value: "N", help: "nuts: the trees' depth limit (default 10)"),
        Option("draws", value: "FILE", help: "also write the draws as a stream {chain, draw, <parameter>...} (one record for MAP)"),
        Option("restarts", value: "N", help: "map: starts drawn from the priors besides their centres (default 4)"),
        Option.seed, Option.threads,
    ]
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(0...1)
    guard let output = a.string("output") else { throw DKLError.usage("give the fit file with -o FIT") }
    let priors = try Prior.assignments(a.strings("param"))
    let kernelName = a.string("kernel") ?? "matern52"
    let kernel: Kernel? = kernelName == "none" ? nil : Kernel(rawValue: kernelName)
    if kernelName != "none" && kernel == nil { throw DKLError.usage("--kernel must be rbf, matern12, matern32, matern52 or none") }
    let inference = try a.string("inference").map { s -> BayesianFit.Inference in
        guard let i = BayesianFit.Inference(rawValue: s) else { throw DKLError.usage("--inference must be map or nuts") }
        return i
    } ?? .map
    let nutsOnly = ["warmup", "samples", "chains", "metric", "target-accept", "max-depth"].filter { a.string($0) != nil || a.flag($0) }
    if inference == .map, let o = nutsOnly.first { throw DKLError.usage("--\(o) goes with --inference nuts") }
    var sampler = NUTS(warmup: try a.int("warmup", default: 1000, range: 0...1_000_000), samples: try a.int("samples", default: 1000, range: 4...1_000_000),
                       maxDepth: try a.int("max-depth", default: 10, range: 1...16), seed: try a.seed())
    if let m = a.string("metric") {
        guard let kind = NUTS.MetricKind(rawValue: m) else { throw DKLError.usage("--metric must be diag or dense") }
        sampler.metric = kind
    }
    sampler.targetAccept = try a.double("target-accept", default: 0.8)
    guard sampler.targetAccept > 0, sampler.targetAccept < 1 else { throw DKLError.usage("--target-accept must be between 0 and 1") }
    let chains = try a.int("chains", default: 4, range: 1...256)
    let restarts = try a.int("restarts", default: 4, range: 0...1000), seed = try a.seed()
    if inference == .nuts && a.string("restarts") != nil { throw DKLError.usage("--restarts goes with --inference map") }
    guard chains * sampler.samples <= 10_000_000 else { throw DKLError.usage("--chains × --samples is more than 10,000,000 draws") }

    let path = a.positionals.first ?? "-"
    if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
    let reader = try StreamReader(path: path)
    let data = try FitData.read(reader, inputs: a.string("inputs").map { OptionList.items($0, ",") }, target: a.string("target"))
    let mean = try a.string("mean").map { try MeanExpression($0, inputs: data.names) }
    let model = try StructuredGP(mean: mean, kernel: kernel, x: data.x, y: data.y, priors: priors, inputNames: data.names)
    if data.skipped > 0 { inv.note("\(data.skipped) record\(data.skipped == 1 ? "" : "s") without a finite target or inputs left out") }
    inv.note("fitting \(model.parameters.count) parameters (\(model.parameters.map(\.name).joined(separator: ", "))) to \(data.y.count) points")

    let fit: BayesianFit
    Allocator.keepLargeBlocks()   // every gradient allocates n×n matrices: keep them in the heap
    if inference == .nuts {
        let progress = SharedProgress(tool: command.name, what: "iterations of chain 1", total: sampler.warmup + sampler.samples, enabled: inv.showsProgress)
        Interrupts.deferExit = true   // ^C saves the chains (FIT.part) for the same command to continue
        let options = command.signature(of: Array(inv.argv.dropFirst()), skipping: ["output", "draws", "threads", "quiet", "progress"])
        fit = try ResumableSampling(output: output, options: options, model: model)
            .nuts(model, sampler: sampler, chains: chains, progress: progress.update, note: inv.note)
        progress.finish(sampler.warmup + sampler.samples)
    } else {
        fit = try BayesianFit.map(model, restarts: restarts, seed: seed)
    }
    try fit.save(to: output, provenance: inv.stamped(StreamHeader(schema: try Schema([Field("x", .f64)]), attrs: .object([]))).provenance)
    if let path = a.string("draws") {
        let out = try StreamOutput(path: path, header: inv.stamped(StreamHeader(schema: try fit.drawsSchema(), attrs: fit.modelJSON)),
                                   encoding: StreamOutput.encoding(explicit: nil, path: path))
        try fit.writeDraws(out.writer)
        try out.commit()
    }
    for w in fit.warnings { inv.note("warning: \(w)") }
    print(fit.summaryJSON.text)
}
