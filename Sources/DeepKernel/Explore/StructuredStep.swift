import Foundation
import DKLCore
import DKLNumerics

/// The step model of a structured-GP experiment: at every step the structured GP (a
/// physical mean, a GP, priors) is fitted to the points measured so far, by MAP or by NUTS,
/// and every acquisition is averaged over the posterior's draws (for MAP, its one draw).
public struct StructuredStep: Sendable {
    public var mean: MeanExpression?
    public var kernel: Kernel?
    public var priors: [String: Prior]
    /// The candidates' inputs' names (the image's channels), for the mean and the priors.
    public var inputNames: [String]
    public var inference: BayesianFit.Inference = .map
    public var sampler = NUTS(warmup: 300, samples: 200)
    public var chains = 2
    /// The most draws the acquisition averages over (evenly spaced).
    public var maxDraws = 100

    public init(mean: MeanExpression?, kernel: Kernel?, priors: [String: Prior], inputNames: [String]) {
        self.mean = mean; self.kernel = kernel; self.priors = priors; self.inputNames = inputNames
    }

    /// The fit on points (x, y); the seed varies with the step so that steps draw afresh.
    public func fit(x: Matrix, y: [Double], step: Int) throws -> BayesianFit {
        let model = try StructuredGP(mean: mean, kernel: kernel, x: x, y: y, priors: priors, inputNames: inputNames)
        var s = sampler
        s.seed = sampler.seed &+ UInt64(step) &* 0x9E37_79B9
        switch inference {
        case .map: return try BayesianFit.map(model, restarts: 2, seed: s.seed)
        case .nuts: return try BayesianFit.nuts(model, sampler: s, chains: chains)
        }
    }

    /// The posterior predictive at the candidates (mixture mean and latent variance) and the
    /// acquisition averaged over the draws' predictions.
    public func predictAndScore(_ fit: BayesianFit, candidates: Matrix, acquisition: Acquisition, best: Double, maximize: Bool)
        throws -> (mean: [Double], variance: [Double], scores: [Double]) {
        let p = try fit.predict(candidates, maxDraws: maxDraws)
        var scores = [Double](repeating: 0, count: candidates.rows)
        for d in p.perDraw {
            let s = acquisition.scores(mean: d.mean, variance: d.variance, best: best, maximize: maximize)
            for i in scores.indices { scores[i] += s[i] / Double(p.perDraw.count) }
        }
        return (p.mean, p.variance, scores)
    }
}
