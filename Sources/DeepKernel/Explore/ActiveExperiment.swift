import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// What an active experiment does, as the options of dkl-explore say it.
public struct ExperimentPlan: Sendable {
    /// How q > 1 points of one step are chosen.
    public enum Batch: Sendable, Equatable {
        /// Scores damped within about `radius` pixels of each choice (local penalization).
        case penalize(radius: Double)
        /// The model conditioned on a fantasy at each choice (kriging believer).
        case fantasize
    }

    /// The step model (retrained at every step, warm-started from the previous step's).
    public var model: DKLConfig
    public var acquisition: Acquisition
    /// The acquisition's name, for the trace's header and the figures.
    public var acquisitionName: String
    public var maximize: Bool
    /// Points measured per step.
    public var perStep: Int
    public var batch: Batch
    /// Random candidates measured first (seeded by the model's seed), after `initialPoints`.
    public var initialCount: Int
    /// Points measured first, with the file they came from (for messages).
    public var initialPoints: [(y: Int, x: Int)]
    public var initialPointsFile: String?
    /// Steps after the initial points; the run also stops at `budget` points measured and
    /// when no unmeasured candidate's predicted sd exceeds `stopSD`.
    public var steps: Int
    public var budget: Int
    public var stopSD: Double?
    /// A structured GP (a physical mean, priors, MAP or NUTS) instead of the DKL model;
    /// its acquisitions are averaged over the posterior's draws.
    public var structured: StructuredStep?

    public init(model: DKLConfig, acquisition: Acquisition, acquisitionName: String, maximize: Bool = true, perStep: Int = 1,
                batch: Batch = .penalize(radius: 3), initialCount: Int = 20, initialPoints: [(y: Int, x: Int)] = [],
                initialPointsFile: String? = nil, steps: Int = 50, budget: Int = .max, stopSD: Double? = nil) {
        self.model = model; self.acquisition = acquisition; self.acquisitionName = acquisitionName; self.maximize = maximize
        self.perStep = perStep; self.batch = batch; self.initialCount = initialCount; self.initialPoints = initialPoints
        self.initialPointsFile = initialPointsFile; self.steps = steps; self.budget = budget; self.stopSD = stopSD
    }
}

/// One measured point of an experiment: the step it was measured at (0 for the initial
/// points), the candidate asked for, the candidate nearest to where the instrument says it
/// measured (the patch its value is learnt with: the same unless the probe drifted) and
/// the value learnt (NaN when the measurement gave none).
public struct MeasuredPoint: Sendable, Equatable {
    public var step: Int
    public var candidate: Int
    public var learnt: Int
    public var value: Double
}

/// The active experiment: initial points, then at every step train the DKL ensemble on
/// the points measured so far (warm-started from the previous step's), predict every
/// candidate, choose the next point(s) and measure them, each measurement appended to the
/// trace and synced before the next. A run continued on its trace retrains the steps it
/// has records of (the models are those of the uninterrupted run) and measures nothing
/// twice. dkl-explore is this with options; tests run it on an in-memory oracle.
public final class ActiveExperiment {
    public let grid: CandidateGrid
    public let oracle: Oracle
    public let plan: ExperimentPlan
    public let trace: ExperimentTrace
    /// The value learnt from one measurement (a scalarizer, or the measurement itself).
    let value: ([Double]) throws -> Double
    /// Every point measured, in the trace's order.
    public private(set) var measured: [MeasuredPoint] = []
    /// The last step's model (after `run`, the model of the last step run).
    public private(set) var model: DKLEnsemble?
    /// The last step's structured-GP fits, when the plan has one.
    public private(set) var fits: StructuredStep.Fits?
    /// Notes for the user (stderr in a tool).
    public var note: (String) -> Void = { _ in }
    public var progress: DKLCore.Progress?

    /// Opens (or continues) the experiment whose trace is at `tracePath`.
    /// - Parameters:
    ///   - value: turns a measurement into the value learnt.
    ///   - header: the trace's header for a schema: the tool stamps its provenance here.
    ///   - attributes: more of the trace header's attributes (the scalarizer, the image).
    ///   - signature: the options that define the experiment (a trace made by others is refused).
    ///   - measurementsPath: for a measurement's shape, where its measurements are logged
    ///     beside the trace (nil: in the trace).
    public init(grid: CandidateGrid, oracle: Oracle, plan: ExperimentPlan, value: @escaping ([Double]) throws -> Double,
                tracePath: String, attributes: JSON, signature: String, measurementsPath: ([Int]) -> String? = { _ in nil },
                header: (StreamHeader) -> StreamHeader = { $0 }) throws {
        self.grid = grid; self.oracle = oracle; self.plan = plan; self.value = value
        // The measurement's shape is the oracle's; a program's is learnt from a first answer
        // (the first random point, measured now) unless the trace says it.
        var shape = oracle.itemShape
        var first: (Int, Reading)?
        if shape.isEmpty && !FileManager.default.fileExists(atPath: tracePath) {
            var rng = Xoshiro(seed: plan.model.seed &+ 0xA11CE)
            let keys = grid.index.values.sorted()
            let k = keys[Int(rng.next() % UInt64(keys.count))]
            first = (k, try oracle.measure(y: grid.centres[k].0, x: grid.centres[k].1))
            shape = oracle.itemShape
        }
        if shape.isEmpty, let existing = try? StreamReader(path: tracePath) {
            if let f = existing.schema["spectrum"] { shape = f.shape }
            if let m = existing.header.attrs["measurements"]?.stringValue, let log = try? StreamReader(path: m), let f = log.schema["spectrum"] { shape = f.shape }
        }
        let gpWidth = plan.model.extractor == .none ? grid.inputs.cols : plan.model.embedding
        let logPath = measurementsPath(shape)
        trace = try ExperimentTrace(path: tracePath, itemShape: shape, gpWidth: gpWidth, attributes: attributes, signature: signature,
                                    measurementsPath: logPath, calibration: oracle.calibration, hypotheses: plan.structured?.means.count ?? 1, header: header)
        for (k, r) in trace.points.enumerated() {
            guard let c = grid.index[Positions.key(r.y, r.x)] else {
                throw DKLError.data("the trace's point (\(r.y), \(r.x)) is not a candidate of this image", file: tracePath, record: k + 1)
            }
            measured.append(MeasuredPoint(step: r.step, candidate: c, learnt: grid.nearest(y: r.measured.y, x: r.measured.x) ?? c, value: r.value))
        }
        pendingFirst = first
    }

    var pendingFirst: (Int, Reading)?

    /// The number of usable candidates.
    public var candidateCount: Int { grid.count }

    /// Runs the initial points and the steps to the end (or to a stop rule). Throws
    /// `interrupted` after the step in which a deferred ^C arrived: the trace holds every
    /// measurement, and the same experiment opened again continues.
    public func run() throws {
        if !measured.isEmpty { note("continuing: \(measured.count) points measured in \(trace.path), the last at step \(measured.last!.step)") }
        try measureInitialPoints()
        try runSteps()
    }

    /// Measures candidate k (unless `answer` is already its measurement) and appends it.
    func record(step: Int, candidate k: Int, answer: Reading? = nil, prediction: (mean: Double, variance: Double, score: Double) = (.nan, .nan, .nan),
                seconds: [Double] = [0, 0, 0]) throws {
        let (y, x) = grid.centres[k]
        let t0 = Date()
        var s = try answer ?? oracle.measure(y: y, x: x)
        // Stored as float32: learnt from the stored numbers, so that the log re-scalarizes to the bit.
        if trace.storesFloat32 { s.values = s.values.map { Double(Float($0)) } }
        let v = try value(s.values)
        let measureSeconds = Date().timeIntervalSince(t0)
        let m = step == 0 ? nil : model?.members[0]
        var entry = ExperimentTrace.Entry(
            step: step, y: y, x: x, measurement: s, value: v, mean: prediction.mean, variance: prediction.variance, acquisition: prediction.score,
            noise: m.map { $0.gpParameters.noise * $0.targetStd * $0.targetStd } ?? .nan, outputscale: m?.gpParameters.outputscale ?? .nan,
            lengthscales: m?.gpParameters.lengthscales, loss: m?.lossCurve.last ?? .nan, seconds: seconds + [measureSeconds])
        if step > 0, let fits {
            let fit = fits.favoured
            if fits.fits.count > 1 { entry.weights = fits.weights }
            // The structured GP's posterior means (the mode's values for MAP), and −log posterior at the mode.
            let means = fit.posteriorMeans
            func value(_ name: String) -> Double { fit.model.parameters.firstIndex { $0.name == name }.map { means[$0] } ?? .nan }
            entry.noise = value("noise"); entry.outputscale = value("outputscale")
            let ls = fit.model.parameters.enumerated().filter { if case .lengthscale = $0.element.role { return true }; return false }.map { means[$0.offset] }
            entry.lengthscales = ls.count == trace.gpWidth ? ls : nil
            entry.loss = -fit.logPosteriorAtMode
        }
        try trace.append(entry)
        let learnt = s.position.flatMap { grid.nearest(y: $0.y, x: $0.x) } ?? k
        measured.append(MeasuredPoint(step: step, candidate: k, learnt: learnt, value: v))
        if !v.isFinite { note("the measurement at (\(y), \(x)) gives no value (NaN or a refused fit); it is kept in the trace but not learnt") }
    }

    /// The listed points, then seeded random candidates, to `initialCount` points.
    func measureInitialPoints() throws {
        for (n, c) in plan.initialPoints.enumerated() {
            guard let k = grid.index[Positions.key(c.y, c.x)] else {
                throw DKLError.data("(\(c.y), \(c.x)) is not a candidate (its window must fit in the image)", file: plan.initialPointsFile, record: n + 1)
            }
            if measured.contains(where: { $0.candidate == k }) { continue }
            try Interrupts.check()
            try record(step: 0, candidate: k)
        }
        var rng = Xoshiro(seed: plan.model.seed &+ 0xA11CE)
        let order = grid.index.values.sorted()
        if let (k, s) = pendingFirst { try record(step: 0, candidate: k, answer: s); pendingFirst = nil }
        while measured.count < min(plan.initialCount, grid.count) {
            try Interrupts.check()
            let taken = Set(measured.map(\.candidate))
            let k = order[Int(rng.next() % UInt64(order.count))]
            if taken.contains(k) { continue }
            try record(step: 0, candidate: k)
        }
    }

    /// The steps. The model of step s is trained on the points measured before step s.
    func runSteps() throws {
        let centres = grid.centres
        var step = 1
        while step <= plan.steps {
            // In candidate order, as dkl-train joins patches and targets: the same model.
            // Each value with the patch where it was measured (the asked one unless the probe drifted).
            let before = measured.filter { $0.step < step && $0.value.isFinite }.sorted { ($0.learnt, $0.candidate) < ($1.learnt, $1.candidate) }
            // A step the trace has records of is replayed (its model retrained); the trace's
            // last step may be a batch cut by a kill, whose choice is made again (the same
            // model, the same points before it) and whose unmeasured points are measured now.
            let earlier = measured.filter { $0.step < step }
            let recorded = measured.filter { $0.step == step }.map(\.candidate)
            let replayed = !recorded.isEmpty && measured.contains { $0.step > step }
            if recorded.isEmpty && (measured.count >= plan.budget || measured.count >= grid.count) { break }
            let t0 = Date()
            let best = Acquisition.best(observed: before.map(\.value), maximize: plan.maximize)
            if let s = plan.structured {
                fits = try s.fit(x: grid.inputs.gather(before.map(\.learnt)), y: before.map(\.value), step: step)
            } else {
                model = try DKLEnsemble.train(x: grid.inputs.gather(before.map(\.learnt)), y: before.map(\.value), config: plan.model, initial: model)
            }
            let t1 = Date()
            if replayed || (!recorded.isEmpty && plan.perStep == 1) { step += 1; continue }
            var fantasies = plan.batch == .fantasize && plan.structured == nil ? try EnsembleFantasies(ensemble: model!, candidates: grid.inputs) : nil
            let pred: (mean: [Double], variance: [Double])
            var averagedScores: [Double]?
            if let s = plan.structured {
                let p = try s.predictAndScore(fits!, candidates: grid.inputs, acquisition: plan.acquisition, best: best, maximize: plan.maximize)
                pred = (p.mean, p.variance)
                averagedScores = p.scores
            } else if let f = fantasies { pred = (f.mean, f.variance) } else { let p = try model!.predict(grid.inputs); pred = (p.mean, p.variance) }
            let t2 = Date()
            let excluded = Set(earlier.map(\.candidate) + earlier.map(\.learnt)).union(Set(centres.indices.filter { !grid.usable[$0] }))
            let room = min(plan.perStep, plan.budget - earlier.count)
            let chosen: [(Int, Double)]
            switch plan.batch {
            case .fantasize:
                chosen = BatchSelection.greedyFantasized(&fantasies!, q: room, acquisition: plan.acquisition, best: best,
                                                         maximize: plan.maximize, excluded: excluded).map { ($0.index, $0.score) }
            case .penalize(let radius):
                let scores = averagedScores ?? plan.acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: plan.maximize)
                chosen = BatchSelection.locallyPenalized(scores: scores, coordinates: centres, q: room, radius: radius, excluded: excluded)
                    .map { ($0, scores[$0]) }
            }
            let t3 = Date()
            if !recorded.isEmpty {
                guard Array(chosen.prefix(recorded.count).map(\.0)) == recorded else {
                    throw DKLError.data("step \(step)'s points in the trace are not the batch this experiment chooses at that step", file: trace.path)
                }
                if recorded.count < chosen.count { note("step \(step) was cut after \(recorded.count) of its \(chosen.count) points; measuring the rest") }
            }
            if recorded.isEmpty, let stopSD = plan.stopSD, centres.indices.filter({ !excluded.contains($0) }).allSatisfy({ pred.variance[$0].squareRoot() <= stopSD }) {
                note("stopping at step \(step): no candidate's predicted sd exceeds \(stopSD)")
                break
            }
            for (k, score) in chosen.dropFirst(recorded.count) {
                try record(step: step, candidate: k, prediction: (pred.mean[k], pred.variance[k], score),
                           seconds: [t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2)])
            }
            progress?.update(step)
            if Interrupts.signalNumber != 0 {
                throw DKLError(.interrupted, "interrupted after step \(step): the trace \(trace.path) holds every measurement; run the same command to continue")
            }
            step += 1
        }
        progress?.finish(min(step, plan.steps))
        let finite = measured.filter { $0.value.isFinite }
        let best = plan.maximize ? finite.max { $0.value < $1.value } : finite.min { $0.value < $1.value }
        let share = String(format: "%.1f", 100 * Double(measured.count) / Double(grid.count))
        note("\(measured.count) of \(grid.count) points measured (\(share)%); best "
             + (best.map { "\($0.value) at (\(centres[$0.candidate].0), \(centres[$0.candidate].1)), step \($0.step)" } ?? "none"))
    }

    /// The final model (trained on every measured point) over the image: H×W maps of the
    /// mean, sd and acquisition (NaN where no candidate is), and the step at which each
    /// pixel was measured (−1 elsewhere).
    public func finalMaps() throws -> ExperimentMaps {
        let (h, w) = (grid.height, grid.width)
        let finite = measured.filter { $0.value.isFinite }
        let all = finite.sorted { ($0.learnt, $0.candidate) < ($1.learnt, $1.candidate) }
        let best = Acquisition.best(observed: finite.map(\.value), maximize: plan.maximize)
        let pred: (mean: [Double], variance: [Double]), scores: [Double]
        if let s = plan.structured {
            fits = try s.fit(x: grid.inputs.gather(all.map(\.learnt)), y: all.map(\.value), step: Int.max / 2)
            let p = try s.predictAndScore(fits!, candidates: grid.inputs, acquisition: plan.acquisition, best: best, maximize: plan.maximize)
            (pred, scores) = ((p.mean, p.variance), p.scores)
        } else {
            model = try DKLEnsemble.train(x: grid.inputs.gather(all.map(\.learnt)), y: all.map(\.value), config: plan.model, initial: model)
            let p = try model!.predict(grid.inputs)
            pred = (p.mean, p.variance)
            scores = plan.acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: plan.maximize)
        }
        var maps = ExperimentMaps(height: h, width: w)
        for (k, c) in grid.centres.enumerated() where grid.usable[k] {
            maps.mean[c.0 * w + c.1] = pred.mean[k]; maps.sd[c.0 * w + c.1] = pred.variance[k].squareRoot(); maps.acquisition[c.0 * w + c.1] = scores[k]
        }
        for p in measured { maps.step[grid.centres[p.learnt].0 * w + grid.centres[p.learnt].1] = Double(p.step) }
        maps.points = measured.map { grid.centres[$0.learnt] }
        maps.pointSteps = measured.map { Double($0.step) }
        return maps
    }
}

/// An experiment's final maps, H×W in raster order, and its points in the order measured.
public struct ExperimentMaps: Sendable {
    public let height: Int, width: Int
    public var mean: [Double], sd: [Double], acquisition: [Double], step: [Double]
    public var points: [(Int, Int)] = []
    public var pointSteps: [Double] = []

    init(height: Int, width: Int) {
        (self.height, self.width) = (height, width)
        mean = [Double](repeating: .nan, count: height * width)
        (sd, acquisition) = (mean, mean)
        step = [Double](repeating: -1, count: height * width)
    }

    /// /mean, /sd, /acquisition and /step, and the trace's path as an attribute.
    public func write(_ path: String, trace: String) throws {
        let writer = try HDF5Writer(path: path)
        do {
            for (name, v) in [("/mean", mean), ("/sd", sd), ("/acquisition", acquisition), ("/step", step)] {
                try writer.write(name, shape: [height, width], values: .double(v))
            }
            try writer.setAttribute("/", "trace", .string(trace))
            try writer.commit()
        } catch { writer.abort(); throw error }
    }
}
