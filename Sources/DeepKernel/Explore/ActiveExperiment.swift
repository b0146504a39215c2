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
    /// Points measured first (seeded by the model's seed), after `initialPoints`: random, or one
    /// in each of this many clusters of the patches (`initialDesign`).
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
    /// What measurements cost at the instrument (nil: not modelled, and the trace has no
    /// beam-time fields). With it, every batch and the initial points are measured along a
    /// short route, and points past the dose limit are not measured.
    public var beam: BeamCost?
    /// Choose by the acquisition per second of beam time, each point of a batch from the one
    /// before (needs `beam` and an acquisition whose scores are not negative).
    public var perSecond = false
    /// With `perSecond`: the acquisition per second to this power (1: per second; below 1,
    /// travel weighs less against the acquisition).
    public var costExponent = 1.0
    /// How the `initialCount` points are chosen (after `initialPoints`).
    public var initialDesign = InitialDesign.random
    /// Stop before the beam time (seconds) or the dose given in all would pass these.
    public var timeBudget: Double?
    public var doseBudget: Double?
    /// Stop when the best value has not improved by more than `delta` over the last `steps` steps.
    public var stall: (steps: Int, delta: Double)?
    /// Stop when the posterior probability that some unmeasured candidate beats the best
    /// (the candidates taken as independent) falls below this.
    public var stopProbability: Double?

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
    /// The value's variance from the measurement's own counts (nil: not known).
    public var variance: Double? = nil
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
    /// Its variance from the measurement's own counts, when known (the trace's value_var).
    let valueVariance: (([Double]) throws -> Double)?
    /// Every point measured, in the trace's order.
    public private(set) var measured: [MeasuredPoint] = []
    /// Where the instrument says each point was measured (nil: where it was asked).
    var measuredAt: [(y: Double, x: Double)?] = []
    /// The last step's model (after `run`, the model of the last step run).
    public private(set) var model: DKLEnsemble?
    /// The last step's structured-GP fits, when the plan has one.
    public private(set) var fits: StructuredStep.Fits?
    /// The beam time and dose spent, when the plan models them.
    public private(set) var ledger: BeamLedger?
    /// The stop rule that ended the run (nil: it ran its steps or its point budget).
    public private(set) var stoppedBy: String?
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
                variance: (([Double]) throws -> Double)? = nil, tracePath: String, attributes: JSON, signature: String,
                measurementsPath: ([Int]) -> String? = { _ in nil }, header: (StreamHeader) -> StreamHeader = { $0 }) throws {
        self.grid = grid; self.oracle = oracle; self.plan = plan; self.value = value; self.valueVariance = variance
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
        var attributes = attributes
        if let beam = plan.beam {
            attributes.set("beam", beam.json); attributes.set("per_second", .bool(plan.perSecond))
            if plan.perSecond { attributes.set("cost_exponent", .number(plan.costExponent)) }
        }
        if plan.initialDesign != .random { attributes.set("init_design", .string(plan.initialDesign.rawValue)) }
        if plan.model.noise != .homoscedastic { attributes.set("noise_model", .string(plan.model.noise.rawValue)) }
        trace = try ExperimentTrace(path: tracePath, itemShape: shape, gpWidth: gpWidth, attributes: attributes, signature: signature,
                                    measurementsPath: logPath, calibration: oracle.calibration, hypotheses: plan.structured?.means.count ?? 1,
                                    beam: plan.beam != nil, valueVariance: variance != nil, header: header)
        for (k, r) in trace.points.enumerated() {
            guard let c = grid.index[Positions.key(r.y, r.x)] else {
                throw DKLError.data("the trace's point (\(r.y), \(r.x)) is not a candidate of this image", file: tracePath, record: k + 1)
            }
            measured.append(MeasuredPoint(step: r.step, candidate: c, learnt: grid.nearest(y: r.measured.y, x: r.measured.x) ?? c, value: r.value,
                                          variance: r.variance.isNaN ? nil : r.variance))
            measuredAt.append(r.measured.x.isFinite && r.measured.y.isFinite ? r.measured : nil)
            tracePredictions.append(r.predicted)
        }
        // The clock and the dose map of the points measured so far (a model: the same on every run).
        ledger = beamLedger(after: measured.count)
        pendingFirst = first
    }

    var pendingFirst: (Int, Reading)?

    /// The beam time and dose after the first `count` points measured (nil without a cost model).
    func beamLedger(after count: Int) -> BeamLedger? {
        guard let beam = plan.beam else { return nil }
        var book = BeamLedger(cost: beam, height: grid.height, width: grid.width)
        for i in 0..<count { book.charge(at: grid.centres[measured[i].candidate], measured: measuredAt[i]) }
        return book
    }

    /// The number of usable candidates.
    public var candidateCount: Int { grid.count }

    /// Runs the initial points and the steps to the end (or to a stop rule). Throws
    /// `interrupted` after the step in which a deferred ^C arrived: the trace holds every
    /// measurement, and the same experiment opened again continues.
    public func run() throws {
        if !measured.isEmpty { note("continuing: \(measured.count) points measured in \(trace.path), the last at step \(measured.last!.step)") }
        try measureInitialPoints()
        if stoppedBy == nil { try runSteps() }
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
        let beamSeconds = ledger?.charge(at: (y, x), measured: s.position)
        let m = step == 0 ? nil : model?.members[0]
        var entry = ExperimentTrace.Entry(
            step: step, y: y, x: x, measurement: s, value: v, mean: prediction.mean, variance: prediction.variance, acquisition: prediction.score,
            noise: m.map { $0.gpParameters.noise * $0.targetStd * $0.targetStd } ?? .nan, outputscale: m?.gpParameters.outputscale ?? .nan,
            lengthscales: m?.gpParameters.lengthscales, loss: m?.lossCurve.last ?? .nan, seconds: seconds + [measureSeconds])
        if let ledger, let beamSeconds { entry.beam = (beamSeconds, ledger.clock, ledger.peakDose) }
        entry.valueVariance = try valueVariance?(s.values)
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
        measured.append(MeasuredPoint(step: step, candidate: k, learnt: learnt, value: v, variance: entry.valueVariance))
        measuredAt.append(s.position)
        tracePredictions.append((prediction.mean, prediction.variance))
        if !v.isFinite { note("the measurement at (\(y), \(x)) gives no value (NaN or a refused fit); it is kept in the trace but not learnt") }
    }

    /// The listed points, then the design's: seeded random candidates to `initialCount`
    /// points, or one point in each of `initialCount` clusters of the patches from the first
    /// random one. With a cost model they are measured along a short route from the first.
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
        if plan.beam == nil && plan.initialDesign == .random {
            while measured.count < min(plan.initialCount, grid.count) {
                try Interrupts.check()
                let taken = Set(measured.map(\.candidate))
                let k = order[Int(rng.next() % UInt64(order.count))]
                if taken.contains(k) { continue }
                try record(step: 0, candidate: k)
            }
            return
        }
        let listed = Set(plan.initialPoints.compactMap { grid.index[Positions.key($0.y, $0.x)] })
        var draws: [Int] = []
        switch plan.initialDesign {
        case .random:
            while listed.count + draws.count < min(plan.initialCount, grid.count) {
                let k = order[Int(rng.next() % UInt64(order.count))]
                if !listed.contains(k) && !draws.contains(k) { draws.append(k) }
            }
        case .structure:
            // The first random point (the one a program's first answer came from), then one in
            // each cluster not yet covered.
            let k = order[Int(rng.next() % UInt64(order.count))]
            let first = listed.contains(k) ? [] : [k]
            draws = first + StructureDesign.points(grid: grid, clusters: min(plan.initialCount, grid.count), first: k, covered: Array(listed),
                                                   cost: plan.perSecond ? plan.beam : nil, rng: &rng)
        }
        guard let first = draws.first else { return }
        var rest = Array(draws.dropFirst())
        if plan.beam != nil {
            rest = BeamTimeSelection.shortRoute(rest.map { grid.centres[$0] }, from: (Double(grid.centres[first].0), Double(grid.centres[first].1)))
                .map { rest[$0] }
        }
        for k in [first] + rest where !measured.contains(where: { $0.candidate == k }) {
            try Interrupts.check()
            if let ledger, ledger.exceedsDoseLimit(at: grid.centres[k]) { continue }
            if let t = plan.timeBudget, let ledger, ledger.clock + ledger.seconds(to: grid.centres[k]) > t {
                try stop(step: 0, rule: "time budget", details: [("budget_s", .number(t)), ("clock_s", .number(ledger.clock))])
                return
            }
            try record(step: 0, candidate: k)
        }
    }

    /// The measured noise model's variances of `points` (nil for the other models): each
    /// must be known, from the measurement's counts.
    func noise(of points: [MeasuredPoint]) throws -> [Double]? {
        guard plan.model.noise == .measured else { return nil }
        var noise: [Double] = []
        for p in points {
            guard let v = p.variance, v.isFinite, v >= 0 else {
                let (y, x) = grid.centres[p.candidate]
                throw DKLError.data("the measurement at (\(y), \(x)) has no variance from its counts (value_var is \(p.variance ?? .nan)); the measured noise model needs one",
                                    file: trace.path)
            }
            noise.append(v)
        }
        return noise
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
                model = try DKLEnsemble.train(x: grid.inputs.gather(before.map(\.learnt)), y: before.map(\.value), noise: try noise(of: before),
                                              config: plan.model, initial: model)
            }
            let t1 = Date()
            if replayed || (!recorded.isEmpty && plan.perStep == 1) {
                // The predictions the trace holds for this step's points, the model's noise now.
                if plan.structured == nil, let model {
                    let held = measured.indices.filter { measured[$0].step == step }
                    check(held.map { (measured[$0].candidate, $0) }, step: step, model: model) { tracePredictions[$0] }
                }
                step += 1
                continue
            }
            var fantasies = plan.batch == .fantasize && plan.structured == nil ? try EnsembleFantasies(ensemble: model!, candidates: grid.inputs) : nil
            let pred: (mean: [Double], variance: [Double])
            var averagedScores: [Double]?
            if let s = plan.structured {
                let p = try s.predictAndScore(fits!, candidates: grid.inputs, acquisition: plan.acquisition, best: best, maximize: plan.maximize)
                pred = (p.mean, p.variance)
                averagedScores = p.scores
            } else if let f = fantasies { pred = (f.mean, f.variance) } else { let p = try model!.predict(grid.inputs); pred = (p.mean, p.variance) }
            let t2 = Date()
            // The beam time and dose before this step, and the points the dose limit or the
            // time left rule out.
            let book = beamLedger(after: earlier.count)
            var excluded = Set(earlier.map(\.candidate) + earlier.map(\.learnt)).union(Set(centres.indices.filter { !grid.usable[$0] }))
            var outOfReach = (dose: 0, time: 0)
            if let book {
                for k in centres.indices where !excluded.contains(k) {
                    if book.exceedsDoseLimit(at: centres[k]) { excluded.insert(k); outOfReach.dose += 1 }
                    else if let t = plan.timeBudget, book.clock + book.seconds(to: centres[k]) > t { excluded.insert(k); outOfReach.time += 1 }
                }
            }
            if recorded.isEmpty, let (rule, details) = stopRule(step: step, mean: pred.mean, variance: pred.variance, excluded: excluded, best: best, book: book,
                                                              outOfReach: outOfReach) {
                try stop(step: step, rule: rule, details: details)
                break
            }
            let room = min(plan.perStep, plan.budget - earlier.count)
            var chosen: [(Int, Double)]
            switch plan.batch {
            case .fantasize:
                chosen = BatchSelection.greedyFantasized(&fantasies!, q: room, acquisition: plan.acquisition, best: best,
                                                         maximize: plan.maximize, excluded: excluded).map { ($0.index, $0.score) }
            case .penalize(let radius):
                let scores = averagedScores ?? plan.acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: plan.maximize)
                if plan.perSecond, let book {
                    // log EI's scores are logarithms: per second, EI itself.
                    let rate = { if case .logEI = plan.acquisition { return scores.map { exp($0) } } else { return scores } }()
                    chosen = BeamTimeSelection.route(scores: rate, coordinates: centres, q: room, radius: radius, excluded: excluded, ledger: book,
                                                     exponent: plan.costExponent,
                                                     secondsLeft: plan.timeBudget.map { $0 - book.clock } ?? .infinity).map { ($0, scores[$0]) }
                } else {
                    chosen = BatchSelection.locallyPenalized(scores: scores, coordinates: centres, q: room, radius: radius, excluded: excluded)
                        .map { ($0, scores[$0]) }
                }
            }
            if let book, !plan.perSecond {
                // A batch is measured along a short route, and only as far as the time and the dose allow.
                chosen = BeamTimeSelection.shortRoute(chosen.map { centres[$0.0] }, from: book.position).map { chosen[$0] }
                var b = book, kept: [(Int, Double)] = []
                for c in chosen {
                    if let t = plan.timeBudget, b.clock + b.seconds(to: centres[c.0]) > t { break }
                    if let d = plan.doseBudget, b.totalDose + b.cost.dose > d { break }
                    if b.exceedsDoseLimit(at: centres[c.0]) { continue }
                    b.charge(at: centres[c.0]); kept.append(c)
                }
                chosen = kept
            }
            let t3 = Date()
            if !recorded.isEmpty {
                guard Array(chosen.prefix(recorded.count).map(\.0)) == recorded else {
                    throw DKLError.data("step \(step)'s points in the trace are not the batch this experiment chooses at that step", file: trace.path)
                }
                if recorded.count < chosen.count { note("step \(step) was cut after \(recorded.count) of its \(chosen.count) points; measuring the rest") }
            }
            for (k, score) in chosen.dropFirst(recorded.count) {
                try record(step: step, candidate: k, prediction: (pred.mean[k], pred.variance[k], score),
                           seconds: [t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2)])
            }
            if plan.structured == nil, let model {
                let taken = chosen.compactMap { c in measured.lastIndex { $0.candidate == c.0 && $0.step == step }.map { (c.0, $0) } }
                check(taken, step: step, model: model) { i in (pred.mean[measured[i].candidate], pred.variance[measured[i].candidate]) }
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
        if calibration.count > 0 {
            note("calibration: \(calibration.covered) of \(calibration.count) measurements (\(String(format: "%.1f", 100 * Double(calibration.covered) / Double(calibration.count)))%) "
                 + "within ±2σ of their prediction before they were measured")
        }
    }

    /// Of the points measured after the initial ones (this run's and those its trace holds):
    /// how many fell within ±2σ of the prediction made before they were measured, σ² the
    /// latent variance, the model's noise there and, for the measured noise model, the
    /// measurement's own variance.
    public private(set) var calibration = (covered: 0, count: 0)

    /// The trace's predictions of its points (mean, latent variance), by index in `measured`.
    var tracePredictions: [(mean: Double, variance: Double)] = []

    /// Counts `points` (candidate, index in `measured`) in `calibration`, given each one's
    /// prediction (by its index).
    func check(_ points: [(candidate: Int, index: Int)], step: Int, model: DKLEnsemble, prediction: (Int) -> (mean: Double, variance: Double)) {
        guard !points.isEmpty else { return }
        let noise = model.noiseVariances(grid.inputs.gather(points.map(\.candidate)))
        for (i, p) in points.enumerated() {
            let m = measured[p.index], (mean, variance) = prediction(p.index)
            guard m.value.isFinite, mean.isFinite, variance.isFinite else { continue }
            let own = plan.model.noise == .measured ? m.variance ?? 0 : 0
            calibration.count += 1
            if (m.value - mean) * (m.value - mean) <= 4 * (variance + noise[i] + own) { calibration.covered += 1 }
        }
    }

    /// Ends the run by `rule`: its record in the trace (once, however often the run is
    /// continued to the same stop), `stoppedBy` and a note.
    func stop(step: Int, rule: String, details: [(String, JSON)]) throws {
        if !trace.stops.contains(where: { $0.step == step && $0.meta["stop"]?.stringValue == rule }) {
            try trace.appendStop(step: step, rule: rule, details: details)
        }
        stoppedBy = rule
        note("stopping at step \(step): \(rule) (\(JSON.object(details).text))")
    }

    /// The first stop rule that holds before step `step` measures anything, with the numbers
    /// that made it fire: the beam-time and dose budgets (the cheapest point would pass them),
    /// the dose limit (no point left under it), the predicted sd, a stall of the best value,
    /// and the probability that any candidate beats the best.
    /// `outOfReach`: how many candidates the dose limit and the time left ruled out.
    func stopRule(step: Int, mean: [Double], variance: [Double], excluded: Set<Int>, best: Double, book: BeamLedger?,
                  outOfReach: (dose: Int, time: Int)) -> (String, [(String, JSON)])? {
        let open = grid.centres.indices.filter { !excluded.contains($0) }
        if let book, open.isEmpty, outOfReach.dose + outOfReach.time > 0 {
            if let t = plan.timeBudget, outOfReach.time > 0 {
                let taken = Set(measured.map(\.candidate))
                let cheapest = grid.centres.indices.filter { grid.usable[$0] && !taken.contains($0) }.map { book.seconds(to: grid.centres[$0]) }.min() ?? .nan
                return ("time budget", [("budget_s", .number(t)), ("clock_s", .number(book.clock)), ("cheapest_s", .number(cheapest))])
            }
            return ("dose limit", [("limit", .number(book.cost.doseLimit ?? .nan)), ("dose_peak", .number(book.peakDose))])
        }
        if let book, let d = plan.doseBudget, book.totalDose + book.cost.dose > d {
            return ("dose budget", [("budget", .number(d)), ("dose_given", .number(book.totalDose))])
        }
        if let s = plan.stopSD, open.allSatisfy({ variance[$0].squareRoot() <= s }) {
            return ("sd", [("stop_sd", .number(s)), ("largest_sd", .number(open.map { variance[$0].squareRoot() }.max() ?? 0))])
        }
        if let (k, delta) = plan.stall, step > k {
            let finite = measured.filter { $0.value.isFinite && $0.step < step }
            let then = finite.filter { $0.step < step - k }.map(\.value)
            if !then.isEmpty {
                let (a, b) = (Acquisition.best(observed: then, maximize: plan.maximize), best)
                let gain = plan.maximize ? b - a : a - b
                if gain <= delta { return ("stall", [("steps", .number(Double(k))), ("delta", .number(delta)), ("gain", .number(gain))]) }
            }
        }
        if let p = plan.stopProbability {
            let q = BeamTimeSelection.probabilityAnyBeats(mean: mean, variance: variance, best: best, maximize: plan.maximize, candidates: open)
            if q < p { return ("probability", [("below", .number(p)), ("probability", .number(q))]) }
        }
        return nil
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
            model = try DKLEnsemble.train(x: grid.inputs.gather(all.map(\.learnt)), y: all.map(\.value), noise: try noise(of: all),
                                          config: plan.model, initial: model)
            let p = try model!.predict(grid.inputs)
            pred = (p.mean, p.variance)
            scores = plan.acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: plan.maximize)
        }
        var maps = ExperimentMaps(height: h, width: w)
        for (k, c) in grid.centres.enumerated() where grid.usable[k] {
            maps.mean[c.0 * w + c.1] = pred.mean[k]; maps.sd[c.0 * w + c.1] = pred.variance[k].squareRoot(); maps.acquisition[c.0 * w + c.1] = scores[k]
        }
        for p in measured { maps.step[grid.centres[p.learnt].0 * w + grid.centres[p.learnt].1] = Double(p.step) }
        maps.dose = ledger.flatMap { $0.cost.dose > 0 ? $0.doseMap : nil }
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
    /// The cumulative dose of every pixel, when the experiment counts dose.
    public var dose: [Double]?

    init(height: Int, width: Int) {
        (self.height, self.width) = (height, width)
        mean = [Double](repeating: .nan, count: height * width)
        (sd, acquisition) = (mean, mean)
        step = [Double](repeating: -1, count: height * width)
    }

    /// /mean, /sd, /acquisition and /step (and /dose when counted), and the trace's path as an attribute.
    public func write(_ path: String, trace: String) throws {
        let writer = try HDF5Writer(path: path)
        do {
            for (name, v) in [("/mean", mean), ("/sd", sd), ("/acquisition", acquisition), ("/step", step)] + (dose.map { [("/dose", $0)] } ?? []) {
                try writer.write(name, shape: [height, width], values: .double(v))
            }
            try writer.setAttribute("/", "trace", .string(trace))
            try writer.commit()
        } catch { writer.abort(); throw error }
    }
}
