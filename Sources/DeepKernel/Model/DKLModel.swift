import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// A trained deep-kernel-learning model: feature extractor, embedding scaling, GP
/// hyperparameters, target standardization and the training data, which is everything
/// needed to predict again (see `DKLModel+File.swift`).
public struct DKLModel: Sendable {
    public var config: DKLConfig
    /// The network (nil for `.none`).
    public var network: (any FeatureNetwork)?
    /// Raw GP parameters [ℓ…, s, σ², c] before the positivity transform.
    public var rawGP: Matrix
    /// The embedding is mapped to [−1, 1] per dimension: z′ = (z − low)·scale − 1.
    public var embeddingLow: [Double]
    public var embeddingScale: [Double]
    /// Targets are standardized inside the model: y′ = (y − targetMean)/targetStd.
    public var targetMean: Double
    public var targetStd: Double
    public var trainInputs: Matrix
    public var trainTargets: [Double]
    /// The loss (−MLL/n, with priors) at every iteration run.
    public var lossCurve: [Double]
    /// Predictive variances are multiplied by this factor, fitted on held-out points (1 when none were).
    public var varianceScale: Double = 1
    /// The iteration whose parameters were kept, and its validation NLPD (standardized units; NaN without validation).
    public var keptIteration: Int = 0
    public var validationNLPD: Double = .nan
    /// The share of held-out measurements within ±2σ of the prediction, σ² the calibrated
    /// latent variance plus the measurement's noise (NaN without validation).
    public var validationCoverage: Double = .nan
    /// Noise model `.measured`: each training target's own noise variance (targets' units).
    public var trainNoise: [Double] = []
    /// Noise model `.learnt`: [b₁…b_e, a], each point's noise variance (standardized units)
    /// exp(a + b·z) over the floor σ², z its scaled embedding.
    public var noiseWeights: [Double] = []
    public var provenance: [JSON] = []

    public var gpParameters: GPParameters { config.constraints.parameters(rawGP) }

    /// The raw network output (or the inputs) for a batch, before scaling.
    func features(_ x: Matrix) -> Matrix { network?.apply(x) ?? x }

    /// The same for rows `rows` of `x`, read in place by the network.
    func features(_ x: Matrix, rows: Range<Int>) -> Matrix { network?.apply(x, rows: rows) ?? x.rows(rows) }

    /// The scaled embedding of a batch of inputs (rows), `GPPosterior.chunkRows` rows at a
    /// time: the same numbers, bit for bit, as prediction computes chunk by chunk.
    public func embed(_ x: Matrix) -> Matrix {
        let rows = GPPosterior.chunkRows, chunks = (x.rows + rows - 1) / rows
        var parts = [Matrix](repeating: Matrix(rows: 0, cols: 0), count: chunks)
        parts.withUnsafeMutableBufferPointer { p in
            let out = SharedBuffer(p)
            Parallel.lanes(chunks) { c in out[c] = embedChunk(x, rows: (c * rows)..<min((c + 1) * rows, x.rows)) }
        }
        if chunks == 1 { return parts[0] }
        return Matrix(rows: x.rows, cols: parts.first?.cols ?? 0, data: parts.flatMap(\.data))
    }

    private func embedChunk(_ x: Matrix, rows: Range<Int>) -> Matrix {
        var z = features(x, rows: rows)
        let e = z.cols
        z.data.withUnsafeMutableBufferPointer { p in
            for row in 0..<(p.count / max(e, 1)) {
                for j in 0..<e { p[row * e + j] = (p[row * e + j] - embeddingLow[j]) * embeddingScale[j] - 1 }
            }
        }
        return z
    }

    /// The posterior on the training data (in standardized units).
    public func posterior() throws -> GPPosterior {
        let z = embed(trainInputs)
        return try GPPosterior(inputs: z, targets: trainTargets.map { ($0 - targetMean) / targetStd },
                               kernel: config.kernel, parameters: gpParameters, pointNoise: pointNoise(embedding: z))
    }

    /// Each training point's own noise variance over the floor σ², in standardized units,
    /// given the points' scaled embedding (empty for the homoscedastic model).
    func pointNoise(embedding z: Matrix) -> [Double] {
        switch config.noise {
        case .homoscedastic: return []
        case .measured: return trainNoise.map { $0 / (targetStd * targetStd) }
        case .learnt: return DKLModel.learntNoise(z, weights: noiseWeights)
        }
    }

    /// exp(a + b·zᵢ) for each row of z, `weights` [b…, a] (empty: none).
    static func learntNoise(_ z: Matrix, weights w: [Double]) -> [Double] {
        guard w.count == z.cols + 1 else { return [] }
        return (0..<z.rows).map { i in
            var t = w[z.cols]
            for j in 0..<z.cols { t += w[j] * z.data[i * z.cols + j] }
            return Foundation.exp(min(t, 700))
        }
    }

    /// The noise variance of a new measurement at each input, in the targets' units
    /// (calibrated): the floor σ², and for the learnt noise model its value there. A
    /// measured model's new measurements carry their own variance besides (not included).
    public func noiseVariance(_ x: Matrix) -> [Double] {
        let c = targetStd * targetStd * varianceScale, floor = gpParameters.noise
        let extra = config.noise == .learnt ? DKLModel.learntNoise(embed(x), weights: noiseWeights) : []
        return (0..<x.rows).map { (floor + (extra.isEmpty ? 0 : extra[$0])) * c }
    }

    /// Predictions in the targets' units: mean, latent variance and the noise variance.
    public func predict(_ x: Matrix, posterior: GPPosterior? = nil) throws -> (mean: [Double], variance: [Double], noise: Double) {
        let post = try posterior ?? self.posterior()
        let (m, v) = post.predict(x, precision: config.variancePrecision) { embedChunk($0, rows: $1) }
        let (mean, variance) = inTargetUnits(mean: m, variance: v)
        return (mean, variance, inTargetUnits(mean: [], variance: [post.parameters.noise]).variance[0])
    }

    /// Standardized means and variances in the targets' units (variances calibrated).
    public func inTargetUnits(mean: [Double], variance: [Double]) -> (mean: [Double], variance: [Double]) {
        let s2 = targetStd * targetStd
        let c = varianceScale
        return (mean.map { $0 * targetStd + targetMean }, variance.map { $0 * s2 * c })
    }
}

/// Models trained from consecutive seeds whose predictions are combined as one Gaussian.
public struct DKLEnsemble: Sendable {
    public var members: [DKLModel]
    /// The training points' (y, x) positions, two per point (empty when not known).
    public var coordinates: [Int] = []
    /// What the inputs were (the patches stream's header attributes): how to cut new ones.
    public var inputs: JSON = .object([])
    public init(members: [DKLModel]) { self.members = members }

    /// Trains `config.members(for: n)` members (seeds seed, seed+1, …); `initial` warm-starts them
    /// member by member. `observe(member, iteration, loss)` is called after every iteration,
    /// from the threads that train the members (it must be thread-safe); returning false
    /// stops that member's training there.
    public static func train(x: Matrix, y: [Double], noise: [Double]? = nil, config: DKLConfig, initial: DKLEnsemble? = nil,
                             observe: (@Sendable (Int, Int, Double) -> Bool)? = nil) throws -> DKLEnsemble {
        let count = config.members(for: x.rows)
        @Sendable func member(_ k: Int) throws -> DKLModel {
            var c = config
            c.seed = config.seed &+ UInt64(k)
            let start = initial.flatMap { k < $0.members.count ? $0.members[k] : nil }
            return try DKLTrainer.train(x: x, y: y, noise: noise, config: c, initial: start, observe: observe.map { o in { o(k, $0, $1) } })
        }
        var members: [DKLModel] = []
        if count >= 2 && Parallel.threads >= 2 {
            // Members train side by side, one BLAS thread each: small factorizations use two
            // cores better this way than one factorization on two threads.
            members = try Parallel.lanesMap(count, member)
        } else {
            members = try (0..<count).map(member)
        }
        return DKLEnsemble(members: members)
    }

    /// The members' posteriors on their training data: side by side on lanes of one BLAS
    /// thread each when there are several (as they train, so the numbers do not depend on
    /// the thread count), with every BLAS thread for a single model. Every path to a
    /// prediction (dkl-predict, dkl-acquire, dkl-explore) builds them here, so that all
    /// factor the same matrices the same way.
    public func posteriors() throws -> [GPPosterior] {
        if members.count == 1 { return [try members[0].posterior()] }
        return try Parallel.lanesMap(members.count) { try members[$0].posterior() }
    }

    /// The variance product's arithmetic each member predicts with, given their posteriors:
    /// its configuration's, or float64 where the posterior's probes refused float32.
    public func precisionsInUse(_ posteriors: [GPPosterior]) -> [VariancePrecision] {
        zip(members, posteriors).map { $1.precisionInUse($0.config.variancePrecision) }
    }

    /// The noise variance of a new measurement at each input in the targets' units (see
    /// `DKLModel.noiseVariance(_:)`): the members' mean.
    public func noiseVariances(_ x: Matrix) -> [Double] {
        var total = [Double](repeating: 0, count: x.rows)
        for m in members { for (i, v) in m.noiseVariance(x).enumerated() { total[i] += v / Double(members.count) } }
        return total
    }

    /// The noise variance of a new measurement in the targets' units: the members' mean.
    public var noiseVariance: Double {
        members.map { $0.gpParameters.noise * $0.targetStd * $0.targetStd * $0.varianceScale }.reduce(0, +) / Double(members.count)
    }

    /// Mean, latent variance and noise variance, combined over the members (`posteriors`:
    /// the members' posteriors when already built).
    public func predict(_ x: Matrix, posteriors: [GPPosterior]? = nil) throws -> (mean: [Double], variance: [Double], noise: Double) {
        let posteriors = try posteriors ?? self.posteriors()
        if members.count == 1 { return try members[0].predict(x, posterior: posteriors[0]) }
        // Members predict side by side, one BLAS thread each (as they train).
        let preds = try Parallel.lanesMap(members.count) { try members[$0].predict(x, posterior: posteriors[$0]) }
        let combined = Ensemble.combine(preds.map { ($0.mean, $0.variance) })
        return (combined.mean, combined.variance, noiseVariance)
    }
}

/// Ensembles: moments of k models combined as one Gaussian.
public enum Ensemble {
    /// Mean of means; variance = mean of (variance + mean²) − mean².
    public static func combine(_ predictions: [(mean: [Double], variance: [Double])]) -> (mean: [Double], variance: [Double]) {
        let k = Double(predictions.count), m = predictions[0].mean.count
        var mean = [Double](repeating: 0, count: m), second = mean
        for p in predictions {
            for i in 0..<m { mean[i] += p.mean[i] / k; second[i] += (p.variance[i] + p.mean[i] * p.mean[i]) / k }
        }
        return (mean, (0..<m).map { max(second[$0] - mean[$0] * mean[$0], 0) })
    }
}
