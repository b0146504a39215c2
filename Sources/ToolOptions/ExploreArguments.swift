import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DeepKernel
import DKLImaging
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
        if string("dwell") != nil && !asksBeamTime { throw DKLError.usage("--dwell goes with --instrument or a cost model (--settle, --speed, --point-dose, ...)") }
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

extension Option {
    /// What measuring costs at the instrument, and the stop rules in the user's units (dkl-explore).
    public static let beamTime: [Option] = [
        Option("settle", value: "S", help: "seconds the probe settles after any move (a cost model: every point's beam time is recorded)"),
        Option("speed", value: "V", help: "the probe's travel speed: pixels per second, or a length per second such as 2um/s (with the image's pixel size) (default: travel takes only the settling)"),
        Option("pixel-size", value: "SIZE", help: "the image's pixel size (0.5nm) for --speed in a length per second (default: the image file's)"),
        Option("point-dose", value: "E", help: "the dose of one measurement, in any unit (electrons): counted, and limited by --dose-limit and --budget-dose"),
        Option("dose-radius", value: "R", help: "a measurement's dose spreads evenly over the pixels within R (default 0: its own pixel)"),
        Option("dose-limit", value: "L", help: "no pixel may take more than L in all: points that would pass it are not measured"),
        Option("budget-dose", value: "E", help: "stop before the dose given in all would pass E"),
        Option("per-second", help: "choose by the acquisition per second of beam time (ei, logei, pi, maxvar), each point of a batch from the one before"),
        Option("cost-exponent", value: "A", help: "--per-second: the acquisition per second to the power A, score/t^A (default 1; below 1 travel weighs less)"),
        Option("stop-stall", value: "K:D", help: "stop when the best value has not improved by more than D over the last K steps"),
        Option("stop-prob", value: "P", help: "stop when the probability that any unmeasured candidate beats the best falls below P"),
    ]
}

extension Arguments {
    /// Whether a cost model is asked for (any of its options, or a --budget in time).
    public var asksBeamTime: Bool {
        ["settle", "speed", "point-dose", "dose-radius", "dose-limit", "budget-dose"].contains { string($0) != nil } || flag("per-second")
            || (string("budget").map { Arguments.seconds($0) != nil } ?? false)
    }

    /// "90", "90s", "30min", "2h" in seconds (nil: not a duration with a unit).
    static func seconds(_ text: String) -> Double? {
        for (unit, scale) in [("min", 60.0), ("h", 3600.0), ("s", 1.0)] where text.hasSuffix(unit) {
            if let v = Double(text.dropLast(unit.count)), v > 0, v.isFinite { return v * scale }
            return nil
        }
        return nil
    }

    /// --budget as points (Int.max for a budget in time or none).
    public func pointBudget(candidates: Int) throws -> Int {
        guard let b = string("budget") else { return .max }
        if Arguments.seconds(b) != nil { return .max }
        if b.hasSuffix("s") || b.hasSuffix("min") || b.hasSuffix("h") { throw DKLError.usage("--budget \(b): a duration must be a positive number of s, min or h") }
        return try ExperimentPlan.budget(b, candidates: candidates)
    }

    /// --speed in pixels per second: a number, or a length per second (`2um/s`) over the
    /// image's pixel size (--pixel-size, else `imagePixelSize`, the image file's).
    func probeSpeed(imagePixelSize: PixelSize?) throws -> Double? {
        guard let t = string("speed") else {
            if string("pixel-size") != nil { throw DKLError.usage("--pixel-size goes with --speed in a length per second") }
            return nil
        }
        let usage = "--speed must be a positive number of pixels per second, or a length per second (2um/s, 500nm/s), not '\(t)'"
        if let v = Double(t) {
            guard v > 0, v.isFinite else { throw DKLError.usage(usage) }
            if string("pixel-size") != nil { throw DKLError.usage("--pixel-size goes with --speed in a length per second") }
            return v
        }
        guard t.hasSuffix("/s"), let length = try? PixelSize(parsing: String(t.dropLast(2))), let metres = length.metres else { throw DKLError.usage(usage) }
        let size = try string("pixel-size").map { try PixelSize(parsing: $0) } ?? imagePixelSize
        guard let pixel = size?.metres else {
            throw DKLError.usage("--speed \(t) is a length per second, and the image has no pixel size: give --pixel-size SIZE")
        }
        return metres / pixel
    }

    /// The cost model and the stop rules of `Option.beamTime` (with --dwell and a --budget in
    /// time), set on `plan`; `imagePixelSize` turns a --speed in a length per second into
    /// pixels per second.
    public func applyBeamTime(to plan: inout ExperimentPlan, imagePixelSize: PixelSize? = nil) throws {
        func positive(_ name: String, allowZero: Bool = false) throws -> Double? {
            guard let t = string(name) else { return nil }
            guard let v = Double(t), v.isFinite, allowZero ? v >= 0 : v > 0 else {
                throw DKLError.usage("--\(name) must be a \(allowZero ? "non-negative" : "positive") number")
            }
            return v
        }
        if asksBeamTime {
            let cost = BeamCost(dwell: try positive("dwell") ?? 1, settle: try positive("settle", allowZero: true) ?? 0,
                                speed: try probeSpeed(imagePixelSize: imagePixelSize) ?? .infinity, dose: try positive("point-dose", allowZero: true) ?? 0,
                                doseRadius: try positive("dose-radius", allowZero: true) ?? 0, doseLimit: try positive("dose-limit"))
            guard cost.doseRadius <= 50 else { throw DKLError.usage("--dose-radius must be at most 50 pixels") }
            if (cost.doseLimit != nil || string("budget-dose") != nil) && cost.dose == 0 {
                throw DKLError.usage("--dose-limit and --budget-dose need the dose of a measurement: --point-dose E")
            }
            if string("dose-radius") != nil && cost.dose == 0 { throw DKLError.usage("--dose-radius goes with --point-dose") }
            plan.beam = cost
            plan.timeBudget = string("budget").flatMap { Arguments.seconds($0) }
            plan.doseBudget = try positive("budget-dose")
        }
        if flag("per-second") {
            switch plan.acquisition {
            case .ei, .logEI, .pi, .maxVariance: break
            default: throw DKLError.usage("--per-second needs an acquisition whose scores are not negative: ei, logei, pi or maxvar")
            }
            if plan.batch == .fantasize { throw DKLError.usage("--per-second goes with --batch penalize") }
            if plan.structured != nil { throw DKLError.usage("--per-second goes with the DKL model, not a structured GP") }
            plan.perSecond = true
            if let a = string("cost-exponent") {
                guard let v = Double(a), v >= 0, v <= 4 else { throw DKLError.usage("--cost-exponent must be a number from 0 to 4") }
                plan.costExponent = v
            }
        } else if string("cost-exponent") != nil {
            throw DKLError.usage("--cost-exponent goes with --per-second")
        }
        if let s = string("stop-stall") {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let k = Int(parts[0]), k >= 1, k <= 1_000_000, let d = Double(parts[1]), d.isFinite, d >= 0 else {
                throw DKLError.usage("--stop-stall must be K:D, K steps (at least 1) and an improvement D (not negative)")
            }
            plan.stall = (k, d)
        }
        if let p = string("stop-prob") {
            guard let v = Double(p), v > 0, v < 1 else { throw DKLError.usage("--stop-prob must be a probability between 0 and 1") }
            plan.stopProbability = v
        }
    }
}

extension Arguments {
    /// --counts: the detector's counting noise set on `value`, and the variance of each value
    /// learnt (nil without it).
    public func countedVariance(of value: MeasuredValue) throws -> (([Double]) throws -> Double)? {
        guard let c = string("counts") else { return nil }
        if value.scalarizer == nil { throw DKLError.usage("--counts goes with a scalarizer (-S)") }
        value.noise = try CountNoise.parse(c)
        return { try value.variance($0) }
    }
}

extension Arguments {
    /// dkl-explore's plan from its options: the step model, the acquisition, how the points
    /// of a step are chosen (--count, --batch, --radius), the initial points, the steps and
    /// the budget, the stop rules, a structured GP and the cost model.
    public func experimentPlan(grid: CandidateGrid, structured: Bool, imagePixelSize: PixelSize? = nil) throws -> ExperimentPlan {
        let config = try stepModelConfig(allowsNone: structured)
        let (function, acquisitionName) = try acquisition()
        let radius = try double("radius", default: 3)
        guard radius > 0 else { throw DKLError.usage("--radius must be positive") }
        let batch = string("batch") ?? "penalize"
        guard ["penalize", "fantasize"].contains(batch) else { throw DKLError.usage("unknown --batch '\(batch)' (penalize or fantasize)") }
        if batch == "fantasize" && string("radius") != nil { throw DKLError.usage("--radius goes with --batch penalize") }
        let stopSD = try string("stop-sd").map { s -> Double in
            if let v = Double(s), v > 0, v.isFinite { return v } else { throw DKLError.usage("--stop-sd must be a positive number") } }
        var plan = ExperimentPlan(model: config, acquisition: function!, acquisitionName: acquisitionName, maximize: !flag("minimize"),
                                  perStep: try int("count", default: 1, range: 1...100_000), batch: batch == "fantasize" ? .fantasize : .penalize(radius: radius),
                                  initialCount: try int("init", default: 20, range: 1...1_000_000),
                                  initialPoints: try string("init-coords").map { try Positions.readCoordinates($0).map { (y: $0.0, x: $0.1) } } ?? [],
                                  initialPointsFile: string("init-coords"), steps: try int("steps", default: 50, range: 0...10_000_000),
                                  budget: try pointBudget(candidates: grid.index.count), stopSD: stopSD)
        if let d = string("init-design") {
            guard let design = InitialDesign(rawValue: d) else { throw DKLError.usage("unknown --init-design '\(d)' (random or structure)") }
            plan.initialDesign = design
        }
        if config.noise == .measured && string("counts") == nil {
            throw DKLError.usage("--noise measured needs each measurement's variance: --counts GAIN[:OFFSET[:READ]]")
        }
        plan.structured = try structuredStep(grid: grid)
        if plan.structured != nil && string("noise") != nil { throw DKLError.usage("--noise goes with the DKL model, not a structured GP (--mean)") }
        if plan.structured != nil && batch == "fantasize" { throw DKLError.usage("--batch fantasize goes with the DKL model, not a structured GP (--mean)") }
        try applyBeamTime(to: &plan, imagePixelSize: imagePixelSize)
        return plan
    }
}

