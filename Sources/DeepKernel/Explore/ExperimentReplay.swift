import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// An experiment's path replayed against pre-acquired data: the points of a path taken in
/// order, and at each checkpoint the DKL model trained on the points so far (warm-started
/// from the last) and its prediction of every candidate compared with the truth.
public final class ExperimentReplay {
    /// A record per checkpoint, set by name:
    ///
    /// | field | what |
    /// |---|---|
    /// | points, fraction | points on the path so far, and their share of the candidates |
    /// | best, best_rank, top_found | the best value measured, its rank, whether it is in the top 1% |
    /// | rmse, nlpd, coverage | the prediction against the truth (`PredictiveScore`) |
    /// | noise, seconds | the model's noise variance, the seconds to train and predict |
    /// | range_coverage | the share of the truth's ten deciles with a point of the path so far |
    /// | space_coverage | the share of the candidates' 16 clusters in the first member's embedding (k-means) with a point of the path so far |
    /// | coverage_measured | with measurements at a dose: the share of the unmeasured candidates' measurements within ±2σ of the prediction, σ² the latent variance and the measurement's noise (the model's, and with the measured noise model the measurement's own) |
    /// | coverage_low_noise, coverage_high_noise | the same over the candidates whose measurement's own variance (from its counts) is below, and above, the median |
    public static let fields = ["points", "fraction", "best", "best_rank", "top_found", "rmse", "nlpd", "coverage", "noise", "seconds",
                                "range_coverage", "space_coverage", "coverage_measured", "coverage_low_noise", "coverage_high_noise"]
    public static func schema() throws -> Schema {
        try Schema(fields.map { Field($0, ["points", "best_rank"].contains($0) ? .i32 : $0 == "top_found" ? .u8 : .f64) })
    }

    public let grid: CandidateGrid
    /// The property at every candidate (NaN where unknown or unusable).
    public let truth: [Double]
    /// The candidates with a finite truth, the ones scored.
    public let scored: [Int]
    public let ranking: TruthRanking
    /// The nine values that split the scored truth into ten equal parts.
    let decileEdges: [Double]
    /// Candidate indices in the order they are measured.
    public let path: [Int]
    /// The numbers of points at which a record is made.
    public let checkpoints: [Int]
    public var model: DKLConfig
    /// Kept when set: each checkpoint's mean, sd and acquisition maps (H×W, NaN off the
    /// candidates; the acquisition NaN at points already measured).
    public var acquisition: Acquisition?
    /// The values learnt at the path's candidates when they are not the truth (measurements
    /// at a dose: `observe(…)`); NaN elsewhere.
    public var observed: [Double]?
    /// Each of those values' variance from its own counts (`observe(…, counts:)`); NaN elsewhere.
    public var observedVariance: [Double]?
    public private(set) var maps: [(mean: [Double], sd: [Double], acquisition: [Double])] = []

    /// - Parameters: `start`: the first record after this many points; then one every
    ///   `every` points, and one at the path's end.
    public init(grid: CandidateGrid, truth: [Double], path: [Int], start: Int, every: Int, model: DKLConfig, maximize: Bool,
                file: String? = nil) throws {
        self.grid = grid; self.truth = truth; self.path = path; self.model = model
        scored = grid.centres.indices.filter { grid.usable[$0] && truth[$0].isFinite }
        guard scored.count >= 2 else { throw DKLError.data("the property is finite at fewer than two candidates", file: file) }
        ranking = TruthRanking(scored.map { truth[$0] }, maximize: maximize)
        let sorted = scored.map { truth[$0] }.sorted()
        decileEdges = (1...9).map { sorted[min(sorted.count - 1, $0 * sorted.count / 10)] }
        var c = Array(stride(from: min(max(start, 1), path.count), through: path.count, by: max(every, 1)))
        if c.last != path.count { c.append(path.count) }
        checkpoints = c
    }

    /// Along the path: the number of points until one of the top 1% was measured (nil: never).
    public var firstTop: Int? { path.firstIndex { ranking.isTop(truth[$0]) }.map { $0 + 1 } }
    /// The best value on the whole path.
    public var bestOnPath: Double {
        let reached = path.map { truth[$0] }.filter(\.isFinite)
        return (ranking.maximize ? reached.max() : reached.min()) ?? .nan
    }

    /// Sets `observed`: the property at every scored candidate and along the path from its
    /// measurement in `cube` as measured with `noise` (a point whose value is not finite
    /// keeps its truth), and with `counts` `observedVariance`, each value's variance from its
    /// own counts (NaN where the scalarizer does not propagate it).
    public func observe(cube: ArraySource, noise: ShotNoise, bound: Scalarizer.Bound, column: Int, counts: CountNoise? = nil) throws {
        var values = [Double](repeating: .nan, count: truth.count), variances = values
        for k in Set(path).union(scored) {
            try Interrupts.check()
            let (y, x) = grid.centres[k]
            let measured = noise.resample(try cube.read(at: [y, x]), y: y, x: x)
            let v = measured.withUnsafeBufferPointer { bound.evaluate($0).values[column] }
            values[k] = v.isFinite ? v : truth[k]
            if let counts, v.isFinite { variances[k] = measured.withUnsafeBufferPointer { bound.variances($0, noise: counts)[column] } }
        }
        observed = values
        if counts != nil { observedVariance = variances }
    }

    /// Runs every checkpoint, giving each record to `emit`; interruptible between records.
    public func run(progress: DKLCore.Progress? = nil, emit: ([UInt8]) throws -> Void) throws {
        let schema = try ExperimentReplay.schema()
        let slot = schema.slots
        let (h, w) = (grid.height, grid.width)
        var ensemble: DKLEnsemble?
        maps = []
        for (c, n) in checkpoints.enumerated() {
            try Interrupts.check()
            let t0 = Date()
            // In candidate order, as dkl-train joins patches and targets.
            let points = path.prefix(n).filter { truth[$0].isFinite }.sorted()
            guard points.count >= 2 else { throw DKLError.data("fewer than two of the path's first \(n) points have a finite value") }
            let learnt = observed ?? truth
            var noise: [Double]?
            if model.noise == .measured {
                guard let v = observedVariance else { throw DKLError.usage("the measured noise model needs measurements at a dose with their counts' variances") }
                noise = points.map { v[$0] }
                if let bad = points.first(where: { !(v[$0].isFinite && v[$0] >= 0) }) {
                    throw DKLError.data("the measurement at (\(grid.centres[bad].0), \(grid.centres[bad].1)) has no variance from its counts (the scalarizer does not propagate it)")
                }
            }
            ensemble = try DKLEnsemble.train(x: grid.inputs.gather(points), y: points.map { learnt[$0] }, noise: noise, config: model, initial: ensemble)
            let pred = try ensemble!.predict(grid.inputs)
            let seconds = Date().timeIntervalSince(t0)
            let score = PredictiveScore(mean: pred.mean, variance: pred.variance.map { $0 + pred.noise }, truth: truth, indices: scored)
            let calibration = measuredCoverage(pred: pred, noise: observed == nil ? [] : ensemble!.noiseVariances(grid.inputs), taken: Set(path.prefix(n)))
            let values = points.map { truth[$0] }
            let best = ranking.maximize ? values.max()! : values.min()!, bestRank = ranking.rank(best)
            // Where the path has been: the truth's deciles and the embedding's clusters it reached.
            let deciles = Set(values.map { v in decileEdges.filter { $0 <= v }.count })
            let clusters = KMeans(ensemble!.members[0].embed(grid.inputs.gather(scored)), k: 16)
            let clusterOf = Dictionary(uniqueKeysWithValues: zip(scored, clusters.labels))
            let reached = Set(path.prefix(n).compactMap { clusterOf[$0] })
            var rec = RecordBuilder(schema)
            rec.set(slot["points"]!, int: n)
            rec.set(slot["best_rank"]!, int: bestRank)
            rec.set(slot["top_found"]!, int: bestRank <= ranking.topCount ? 1 : 0)
            for (name, v) in [("fraction", Double(n) / Double(grid.count)), ("best", best), ("rmse", score.rmse), ("nlpd", score.nlpd),
                              ("coverage", score.coverage), ("noise", pred.noise), ("seconds", seconds),
                              ("range_coverage", Double(deciles.count) / 10), ("space_coverage", Double(reached.count) / Double(clusters.centres.rows)),
                              ("coverage_measured", calibration.all), ("coverage_low_noise", calibration.low), ("coverage_high_noise", calibration.high)] {
                rec.set(slot[name]!, v)
            }
            try emit(rec.bytes)
            if let acquisition {
                // The acquisition as the experiment saw it before its next point: the
                // measured points are not candidates any more (NaN).
                let acq = acquisition.scores(mean: pred.mean, variance: pred.variance, best: best, maximize: ranking.maximize)
                let taken = Set(path.prefix(n))
                var m = [Double](repeating: .nan, count: h * w), s = m, q = m
                for (k, p) in grid.centres.enumerated() where grid.usable[k] {
                    m[p.0 * w + p.1] = pred.mean[k]; s[p.0 * w + p.1] = pred.variance[k].squareRoot()
                    if !taken.contains(k) { q[p.0 * w + p.1] = acq[k] }
                }
                maps.append((m, s, q))
            }
            progress?.update(c + 1)
        }
        progress?.finish(checkpoints.count)
    }

    /// The ±2σ coverage of the unmeasured scored candidates' measurements (`observed`): all,
    /// and those whose own variance is below and above the median (NaN without them).
    func measuredCoverage(pred: (mean: [Double], variance: [Double], noise: Double), noise: [Double], taken: Set<Int>)
        -> (all: Double, low: Double, high: Double) {
        guard let observed, !noise.isEmpty else { return (.nan, .nan, .nan) }
        let own = observedVariance
        let held = scored.filter { !taken.contains($0) && observed[$0].isFinite }
        func covered(_ k: Int) -> Bool {
            let v = pred.variance[k] + noise[k] + (model.noise == .measured ? own?[k] ?? 0 : 0)
            return (observed[k] - pred.mean[k]) * (observed[k] - pred.mean[k]) <= 4 * v
        }
        func share(_ ks: [Int]) -> Double { ks.isEmpty ? .nan : Double(ks.filter(covered).count) / Double(ks.count) }
        guard let own else { return (share(held), .nan, .nan) }
        let ranked = held.filter { own[$0].isFinite }.sorted { (own[$0], $0) < (own[$1], $1) }
        return (share(held), share(Array(ranked.prefix(ranked.count / 2))), share(Array(ranked.suffix(ranked.count - ranked.count / 2))))
    }

    /// Writes the kept maps: /mean, /sd, /acquisition (records×H×W), /points (records),
    /// /truth and /order (H×W; the order is the step at which a pixel was measured, −1: never),
    /// and with measurements at a dose /observed and /observed_var (H×W).
    public func writeMaps(_ path: String, attributes: [(String, String, String)]) throws {
        let (h, w) = (grid.height, grid.width)
        var truthMap = [Double](repeating: .nan, count: h * w), order = [Double](repeating: -1, count: h * w)
        for k in scored { truthMap[grid.centres[k].0 * w + grid.centres[k].1] = truth[k] }
        for (i, k) in self.path.enumerated() { order[grid.centres[k].0 * w + grid.centres[k].1] = Double(i + 1) }
        let writer = try HDF5Writer(path: path)
        do {
            try writer.write("/mean", shape: [checkpoints.count, h, w], values: .double(maps.flatMap(\.mean)))
            try writer.write("/sd", shape: [checkpoints.count, h, w], values: .double(maps.flatMap(\.sd)))
            try writer.write("/acquisition", shape: [checkpoints.count, h, w], values: .double(maps.flatMap(\.acquisition)))
            try writer.write("/points", shape: [checkpoints.count], values: .double(checkpoints.map(Double.init)))
            try writer.write("/truth", shape: [h, w], values: .double(truthMap))
            try writer.write("/order", shape: [h, w], values: .double(order))
            // Measurements at a dose: each candidate's value, and its variance from its counts.
            for (name, values) in [("/observed", observed), ("/observed_var", observedVariance)] {
                guard let values else { continue }
                var map = [Double](repeating: .nan, count: h * w)
                for k in grid.centres.indices where values[k].isFinite { map[grid.centres[k].0 * w + grid.centres[k].1] = values[k] }
                try writer.write(name, shape: [h, w], values: .double(map))
            }
            for (object, name, value) in attributes { try writer.setAttribute(object, name, .string(value)) }
            try writer.commit()
        } catch { writer.abort(); throw error }
    }
}

extension CandidateGrid {
    /// The property at every candidate from pre-acquired data: a map H×W of the property
    /// (`bound` nil), or a spectrum image H×W×E scalarized by `bound`'s field `column`
    /// (NaN where the property is not finite).
    public func truth(from cube: ArraySource, bound: Scalarizer.Bound?, column: Int = 0) throws -> [Double] {
        guard cube.shape[0] >= height, cube.shape[1] >= width else {
            throw DKLError.data("the oracle's grid \(cube.shape[0])×\(cube.shape[1]) is smaller than the image's \(height)×\(width)", file: cube.name)
        }
        var truth = [Double](repeating: .nan, count: centres.count)
        guard let bound else {
            let values = try cube.readAll()
            for (k, c) in centres.enumerated() where usable[k] { truth[k] = values[c.0 * cube.shape[1] + c.1] }
            return truth
        }
        try SpectrumScalarizers(bound: [bound]).forEachRow(of: cube) { y, results in
            guard y < height else { return }
            for x in 0..<width { if let k = index[Positions.key(y, x)] { truth[k] = results[x].values[column] } }
        }
        return truth
    }

    /// The candidates of `points` (pixels y, x) in order; `file` names where they came from.
    public func candidates(_ points: [(Int, Int)], file: String?) throws -> [Int] {
        try points.map { p in
            guard let k = index[Positions.key(p.0, p.1)] else { throw DKLError.data("the trace's point (\(p.0), \(p.1)) is not a candidate of this image", file: file) }
            return k
        }
    }

    /// The candidates nearest to the positions measured (a drifted probe's), in order.
    public func candidates(measured points: [(Double, Double)], file: String?) throws -> [Int] {
        try points.map { p in
            guard let k = nearest(y: p.0, x: p.1) else { throw DKLError.data("the trace's point (\(p.0), \(p.1)) is not on this image", file: file) }
            return k
        }
    }

    /// The usable candidates in a seeded random order (a Fisher–Yates shuffle).
    public func shuffledCandidates(using rng: inout Xoshiro) -> [Int] {
        var s = centres.indices.filter { usable[$0] }
        for i in stride(from: s.count - 1, to: 0, by: -1) { s.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return s
    }
}

extension ExperimentTrace {
    /// A trace's path without opening it for writing: its points (y, x) in order, how many
    /// were initial points (step 0), and its attributes.
    /// The trace's points in order (where the instrument says it measured, when it says),
    /// how many were initial points, and its header's attributes.
    public static func readPath(_ path: String) throws -> (points: [(Double, Double)], initial: Int, attributes: JSON) {
        if !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let reader = try StreamReader(path: path)
        guard let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x"), let istep = reader.schema.index(of: "step") else {
            throw DKLError.data("not an experiment trace: it needs fields step, y and x (from dkl-explore)", file: reader.name, location: "header")
        }
        let (my, mx) = (reader.schema.index(of: "measured_y"), reader.schema.index(of: "measured_x"))
        var points: [(Double, Double)] = [], initial = 0
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                let r = RecordView(batch.record(i), reader.schema)
                if r.int(istep) < 0 { continue }   // a stop rule's record
                if let my, let mx, r.double(my).isFinite, r.double(mx).isFinite {
                    points.append((r.double(my), r.double(mx)))
                } else {
                    points.append((Double(r.int(iy)), Double(r.int(ix))))
                }
                if r.int(istep) == 0 { initial += 1 }
            }
        }
        guard !points.isEmpty else { throw DKLError.data("the trace holds no measurement", file: reader.name) }
        return (points, initial, reader.header.attrs)
    }
}
