import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DeepKernel
import DKLCommandLine

/// The option groups of the active experiment (dkl-explore): its trace, its oracle and a
/// structured-GP step model.
extension Arguments {
    /// --trace, or --resume (which must exist).
    public func tracePath() throws -> String {
        if let r = string("resume") {
            guard string("trace") == nil || string("trace") == r else { throw DKLError.usage("--resume and --trace name different files") }
            guard FileManager.default.fileExists(atPath: r) else { throw DKLError.data("no such file (--resume continues an existing trace)", file: r) }
        }
        guard let path = string("resume") ?? string("trace") else { throw DKLError.usage("give the trace file with --trace TRACE") }
        return path
    }

    /// Whether --mean, --param or --inference ask for a structured GP as the step model.
    public var asksStructuredGP: Bool { string("mean") != nil || string("inference") != nil || !strings("param").isEmpty }

    /// The oracle of --oracle (with --dose), --instrument (with --instrument-arg, --dwell) or
    /// --measure (with --measure-arg), for an image of height × width.
    public func explorationOracle(height h: Int, width w: Int) throws -> Oracle {
        if string("dose") != nil && string("oracle") == nil {
            throw DKLError.usage("--dose resamples an --oracle's measurements (an instrument's noise is its own: dkl-twin --dose)")
        }
        let timeout = try double("measure-timeout", default: 600), retries = try int("measure-retries", default: 2, range: 0...100)
        if let program = string("instrument") {
            // A persistent session over the instrument protocol (dkl-instrument(7)).
            guard string("oracle") == nil, string("measure") == nil else { throw DKLError.usage("--instrument, --oracle and --measure do not mix") }
            let instrument = InstrumentOracle(command: [program] + strings("instrument-arg"), timeout: timeout, retries: retries)
            if string("dwell") != nil {
                instrument.dwell = try double("dwell", default: 1)
                guard instrument.dwell! > 0 else { throw DKLError.usage("--dwell must be a positive number of seconds") }
            }
            return instrument
        }
        if string("dwell") != nil { throw DKLError.usage("--dwell goes with --instrument") }
        switch (string("oracle"), string("measure")) {
        case let (path?, nil):
            let o = try ArrayOracle(try ArrayFile.open(path))
            guard o.height >= h, o.width >= w else {
                throw DKLError.data("the oracle's grid \(o.height)×\(o.width) is smaller than the image's \(h)×\(w)", file: path)
            }
            if let d = string("dose") {
                guard let dose = Double(d), dose > 0, dose.isFinite else { throw DKLError.usage("--dose must be a positive number of counts per unit value") }
                guard !o.isMap else { throw DKLError.usage("--dose resamples spectra or patterns; the oracle is a map of the property") }
                o.noise = ShotNoise(dose: dose, seed: UInt64(try int("seed", default: 0, range: 0...Int.max)))
            }
            return o
        case let (nil, program?):
            return CommandOracle(command: [program] + strings("measure-arg"), timeout: timeout, retries: retries)
        case (nil, nil): throw DKLError.usage("give the oracle: --oracle CUBE, --instrument PROGRAM or --measure PROGRAM")
        default: throw DKLError.usage("--oracle and --measure do not mix")
        }
    }

    /// The structured-GP step model of --mean, --param, --inference (nil without them).
    public func structuredStep(grid: CandidateGrid) throws -> StructuredStep? {
            let a = self
        guard a.string("mean") != nil || a.string("inference") != nil || !a.strings("param").isEmpty else {
            for o in ["inputs", "warmup", "samples", "chains"] where a.string(o) != nil { throw DKLError.usage("--\(o) goes with a structured GP (--mean, --param, --inference)") }
            return nil
        }
        guard grid.window == 1 else { throw DKLError.usage("a structured GP's inputs are the image's channels at a pixel: -w 1") }
        for o in ["ensemble", "embedding", "hidden", "lr", "iterations"] where a.string(o) != nil { throw DKLError.usage("--\(o) goes with the DKL model, not a structured GP") }
        if a.string("extractor") == "mlp" { throw DKLError.usage("--extractor mlp goes with the DKL model, not a structured GP") }
        let d = grid.inputs.cols
        let names = try a.string("inputs").map { text -> [String] in
            let n = OptionList.items(text, ",")
            guard n.count == d else { throw DKLError.usage("--inputs names \(n.count) channels; the image has \(d)") }
            return n
        } ?? (1...d).map { "x\($0)" }
        let priors = try Prior.assignments(a.strings("param"))
        let kernelName = a.string("kernel") ?? "matern52"
        let kernel: Kernel? = kernelName == "none" ? nil : Kernel(rawValue: kernelName)
        if kernelName != "none" && kernel == nil { throw DKLError.usage("--kernel must be rbf, matern12, matern32, matern52 or none") }
        let means = try a.strings("mean").map { try MeanExpression($0, inputs: names) }
        var step = StructuredStep(means: means.isEmpty ? [nil] : means, kernel: kernel, priors: priors, inputNames: names)
        if let i = a.string("inference") {
            guard let inference = BayesianFit.Inference(rawValue: i) else { throw DKLError.usage("--inference must be map or nuts") }
            step.inference = inference
        }
        if step.inference == .map, let o = ["warmup", "samples", "chains"].first(where: { a.string($0) != nil }) { throw DKLError.usage("--\(o) goes with --inference nuts") }
        step.sampler = NUTS(warmup: try a.int("warmup", default: 300, range: 0...1_000_000), samples: try a.int("samples", default: 200, range: 4...1_000_000),
                            seed: try a.seed())
        step.chains = try a.int("chains", default: 2, range: 1...64)
        guard step.chains * step.sampler.samples <= 1_000_000 else { throw DKLError.usage("--chains × --samples is more than 1,000,000 draws a step") }
        // The priors are checked against the models now, not at the first step.
        try step.validate()
        return step
    }
}
