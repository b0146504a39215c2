import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// Joint training of the feature extractor and the GP by Adam on −MLL/n, full batch.
///
/// DKL over-fits easily (the network can make the training data look noise-free), so by
/// default a seeded fifth of the points is held out: every `validationEvery` iterations the
/// model is scored by its held-out NLPD, the best iteration's parameters are kept, and the
/// predictive variance is scaled so that held-out squared errors match it on average.
/// The returned model conditions on all the points.
public enum DKLTrainer {
    /// Progress callback: (iteration, loss); return false to stop (e.g. on ^C).
    public typealias Observer = (Int, Double) -> Bool

    public static func train(x: Matrix, y: [Double], config: DKLConfig, initial: DKLModel? = nil,
                             observe: Observer? = nil) throws -> DKLModel {
        Allocator.keepLargeBlocks()
        let n = x.rows
        guard n >= 2, y.count == n else { throw DKLError.data("training needs at least 2 points with targets (got \(n) inputs, \(y.count) targets)") }
        guard x.allFinite, y.allSatisfy(\.isFinite) else { throw DKLError.data("training inputs or targets hold NaN or infinity") }
        let mean = y.reduce(0, +) / Double(n)
        let std = max((y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot(), 1e-12)
        let ys = y.map { ($0 - mean) / std }

        // The split: `fit` trains, `held` validates.
        var order = Array(0..<n)
        var rng = Xoshiro(seed: config.seed &+ 0x5EED)
        order.shuffle(using: &rng)
        let nHeld = n >= 20 ? Int((Double(n) * config.validationFraction).rounded()) : 0
        let held = Array(order.prefix(nHeld)).sorted(), fit = Array(order.dropFirst(nHeld)).sorted()
        let xFit = x.gather(fit), yFit = fit.map { ys[$0] }
        let xHeld = x.gather(held), yHeld = held.map { ys[$0] }

        var network: (any FeatureNetwork)?
        if let prior = initial?.network, prior.inputWidth == x.cols, initial?.config.extractor == config.extractor {
            network = prior
        } else {
            network = try config.makeNetwork(inputWidth: x.cols, seed: config.seed)
        }
        let e = network?.outputWidth ?? x.cols
        let raw0 = initial?.rawGP.count == e + 3 ? initial!.rawGP : config.constraints.raw(
            GPParameters(lengthscales: [Double](repeating: config.initialLengthscale, count: e),
                         outputscale: config.initialOutputscale, noise: config.initialNoise, mean: 0))
        var params = (network?.parameters ?? []) + [raw0]
        let decayMask = (network?.decayMask ?? []) + [false]   // network weights only
        var adam = Adam(learningRate: config.learningRate, weightDecay: config.weightDecay, decayMask: decayMask)

        func model(_ p: [Matrix], on xs: Matrix, _ yRaw: [Double]) -> DKLModel {
            var net = network
            net?.parameters = Array(p.dropLast())
            let (low, scale) = DKLTrainer.range(net?.apply(xs) ?? xs)
            return DKLModel(config: config, network: net, rawGP: p.last!, embeddingLow: low, embeddingScale: scale,
                            targetMean: mean, targetStd: std, trainInputs: xs, trainTargets: yRaw, lossCurve: [])
        }
        /// Held-out NLPD (standardized units) and the mean ratio of squared error to variance.
        func validate(_ p: [Matrix]) -> (nlpd: Double, ratio: Double)? {
            let m = model(p, on: xFit, fit.map { y[$0] })
            guard let pred = try? m.predict(xHeld) else { return nil }
            let score = PredictiveScore(mean: pred.mean.map { ($0 - mean) / std }, variance: pred.variance.map { ($0 + pred.noise) / (std * std) },
                                        truth: yHeld)
            return (score.nlpd, score.meanSquaredZ)
        }

        var losses: [Double] = []
        var best = (score: Double.infinity, params: params, iteration: 0, ratio: 1.0)
        var bestLoss = Double.infinity, sinceBest = 0
        let iterations = max(config.iterations, 0)
        for iteration in 0...iterations {
            if !held.isEmpty && (iteration % max(config.validationEvery, 1) == 0 || iteration == iterations),
               let v = validate(params), v.nlpd < best.score {
                best = (v.nlpd, params, iteration, v.ratio)
            }
            if iteration == iterations { break }
            if !held.isEmpty && config.validationPatience > 0 && iteration - best.iteration >= config.validationPatience { break }
            let tape = Tape()
            let vars = params.map { tape.variable($0) }
            let xv = tape.constant(xFit)
            let z = network.map { $0.forward(xv, Array(vars.dropLast())) } ?? xv
            // Each embedding dimension is scaled to [−1, 1] by this iteration's range (held constant).
            let (low, scale) = DKLTrainer.range(z.value)
            let zs = (z - tape.constant(Matrix(row: low))) * tape.constant(Matrix(row: scale)) - tape.constant(.scalar(1))
            let loss = try zs.gpNegativeMLL(targets: yFit, kernel: config.kernel,
                                            parameters: config.constraints.parameters(vars.last!), priors: config.priors)
            let value = loss.value.data[0]
            guard value.isFinite else { throw DKLError.data("the loss became \(value) at iteration \(iteration + 1)") }
            losses.append(value)
            if value < bestLoss - config.earlyStoppingDelta { bestLoss = value; sinceBest = 0 } else { sinceBest += 1 }
            if let observe, !observe(iteration + 1, value) { break }
            if config.earlyStoppingPatience > 0 && sinceBest >= config.earlyStoppingPatience { break }
            tape.backward(loss)
            adam.update(&params, vars.map { tape.grad($0) })
        }
        let kept = held.isEmpty ? params : best.params
        var result = model(kept, on: x, y)
        result.lossCurve = losses
        result.keptIteration = held.isEmpty ? losses.count : best.iteration
        if !held.isEmpty {
            result.validationNLPD = best.score
            result.varianceScale = max(best.ratio, 1e-3)
        }
        return result
    }

    /// Per-column minimum and 2/(max − min) (1 for a constant column).
    static func range(_ z: Matrix) -> ([Double], [Double]) {
        var lo = [Double](repeating: .infinity, count: z.cols), hi = [Double](repeating: -.infinity, count: z.cols)
        for i in 0..<z.rows { for j in 0..<z.cols { let v = z.data[i * z.cols + j]; lo[j] = min(lo[j], v); hi[j] = max(hi[j], v) } }
        return (lo, (0..<z.cols).map { hi[$0] > lo[$0] ? 2 / (hi[$0] - lo[$0]) : 1 })
    }
}
