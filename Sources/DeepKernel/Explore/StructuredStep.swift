import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// The step model of a structured-GP experiment: at every step the structured GP (a
/// physical mean, a GP, priors) is fitted to the points measured so far, by MAP or by NUTS,
/// and every acquisition is averaged over the posterior's draws (for MAP, its one draw).
///
/// With several candidate means (hypotheses), each is fitted, and the models are weighed
/// by their expected log predictive density — PSIS-LOO over the draws for NUTS, the exact
/// leave-one-out densities at the mode for MAP — as pseudo-BMA weights wₘ ∝ exp(elpdₘ).
/// The prediction is the weighted mixture and the acquisition the weighted average of
/// each model's, so that the experiment optimizes under the model the data favour as
/// they come to favour it, and hedges while they do not.
public struct StructuredStep: Sendable {
    /// The candidate means (nil: a zero mean).
    public var means: [MeanExpression?]
    public var kernel: Kernel?
    public var priors: [String: Prior]
    /// The candidates' inputs' names (the image's channels), for the mean and the priors.
    public var inputNames: [String]
    public var inference: BayesianFit.Inference = .map
    public var sampler = NUTS(warmup: 300, samples: 200)
    public var chains = 2
    /// The most draws the acquisition averages over (evenly spaced), per model.
    public var maxDraws = 100

    public init(means: [MeanExpression?], kernel: Kernel?, priors: [String: Prior], inputNames: [String]) {
        self.means = means; self.kernel = kernel; self.priors = priors; self.inputNames = inputNames
    }

    /// One step's fits: each model's, and their weights.
    public struct Fits: Sendable {
        public var fits: [BayesianFit]
        public var elpd: [Double]
        public var weights: [Double]
        /// The model with the largest weight.
        public var favoured: BayesianFit { fits[weights.indices.max { weights[$0] < weights[$1] }!] }
    }

    /// The model for mean `m`: the priors its parameters need (with several means, a prior
    /// may belong to another).
    func model(_ m: Int, x: Matrix, y: [Double]) throws -> StructuredGP {
        var own = priors
        if means.count > 1 {
            let names = Set((means[m]?.parameters ?? []) + ["lengthscale", "outputscale", "noise"] + inputNames.map { "lengthscale_\($0)" })
            own = own.filter { names.contains($0.key) }
        }
        return try StructuredGP(mean: means[m], kernel: kernel, x: x, y: y, priors: own, inputNames: inputNames)
    }

    /// Checks the models and the priors before a run: every mean's parameters have a prior,
    /// and every prior belongs to some model.
    public func validate() throws {
        let d = inputNames.count
        let x = Matrix(rows: 2, cols: d, data: [Double](repeating: 0, count: 2 * d))
        for m in means.indices { _ = try model(m, x: x, y: [0, 1]) }
        let known = Set(means.flatMap { $0?.parameters ?? [] } + ["lengthscale", "outputscale", "noise"] + inputNames.map { "lengthscale_\($0)" })
        if let bad = priors.keys.sorted().first(where: { !known.contains($0) }) {
            throw DKLError.usage("--param \(bad): no parameter of that name in any model")
        }
    }

    /// The fits on points (x, y); the seed varies with the step so that steps draw afresh.
    public func fit(x: Matrix, y: [Double], step: Int) throws -> Fits {
        Allocator.keepLargeBlocks()
        var s = sampler
        s.seed = sampler.seed &+ UInt64(step) &* 0x9E37_79B9
        var fits: [BayesianFit] = [], elpd: [Double] = []
        for m in means.indices {
            let model = try self.model(m, x: x, y: y)
            let f: BayesianFit
            switch inference {
            case .map: f = try BayesianFit.map(model, restarts: 2, seed: s.seed)
            case .nuts: f = try BayesianFit.nuts(model, sampler: s, chains: chains)
            }
            fits.append(f)
            if means.count > 1 {
                elpd.append(inference == .nuts ? f.elpdLOO : (try model.pointwiseLogDensities(f.draws[0])).reduce(0, +))
            } else {
                elpd.append(.nan)
            }
        }
        var weights = [Double](repeating: 1, count: fits.count)
        if fits.count > 1 {
            let finite = elpd.map { $0.isFinite ? $0 : -Double.infinity }
            let top = finite.max()!
            weights = finite.map { top.isFinite ? Foundation.exp($0 - top) : 1 }
            let total = weights.reduce(0, +)
            weights = weights.map { $0 / total }
        }
        return Fits(fits: fits, elpd: elpd, weights: weights)
    }

    /// The posterior predictive at the candidates (the models' weighted mixture of their
    /// draws: mean and latent variance) and the acquisition averaged over each model's
    /// draws, weighted across models.
    public func predictAndScore(_ fits: Fits, candidates: Matrix, acquisition: Acquisition, best: Double, maximize: Bool)
        throws -> (mean: [Double], variance: [Double], scores: [Double]) {
        let n = candidates.rows
        var mean = [Double](repeating: 0, count: n), second = mean, scores = mean
        for (fit, w) in zip(fits.fits, fits.weights) where w > 0 {
            let p = try fit.predict(candidates, maxDraws: maxDraws)
            for i in 0..<n {
                mean[i] += w * p.mean[i]
                second[i] += w * (p.variance[i] + p.mean[i] * p.mean[i])
            }
            for d in p.perDraw {
                let s = acquisition.scores(mean: d.mean, variance: d.variance, best: best, maximize: maximize)
                for i in 0..<n { scores[i] += w * s[i] / Double(p.perDraw.count) }
            }
        }
        let variance = (0..<n).map { max(second[$0] - mean[$0] * mean[$0], 0) }
        return (mean, variance, scores)
    }
}
