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

    /// `noise`: each target's own noise variance (targets' units), needed by the `.measured`
    /// noise model and ignored by the others.
    public static func train(x: Matrix, y: [Double], noise: [Double]? = nil, config: DKLConfig, initial: DKLModel? = nil,
                             observe: Observer? = nil) throws -> DKLModel {
        Allocator.keepLargeBlocks()
        let n = x.rows
        guard n >= 2, y.count == n else { throw DKLError.data("training needs at least 2 points with targets (got \(n) inputs, \(y.count) targets)") }
        guard x.allFinite, y.allSatisfy(\.isFinite) else { throw DKLError.data("training inputs or targets hold NaN or infinity") }
        let measured = config.noise == .measured ? noise ?? [] : []
        if config.noise == .measured {
            guard measured.count == n else { throw DKLError.data("the measured noise model needs a noise variance for each of the \(n) targets (got \(measured.count))") }
            if let bad = measured.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw DKLError.data("target \(bad + 1)'s noise variance is \(measured[bad]) (it must be finite and not negative)")
            }
        }
        let mean = y.reduce(0, +) / Double(n)
        let std = max((y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot(), 1e-12)
        let ys = y.map { ($0 - mean) / std }
        let ns = measured.map { $0 / (std * std) }

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
        // The parameters: the network's, the GP's raw hyperparameters, and a learnt noise
        // model's weights [b…, a] (starting from no slope and the initial noise).
        let nNet = network?.parameters.count ?? 0
        let learnt = config.noise == .learnt
        let noise0 = initial.flatMap { $0.config.noise == .learnt && $0.noiseWeights.count == e + 1 ? $0.noiseWeights : nil }
            ?? [Double](repeating: 0, count: e) + [log(config.initialNoise)]
        var params = (network?.parameters ?? []) + [raw0] + (learnt ? [Matrix(row: noise0)] : [])
        let decayMask = (network?.decayMask ?? []) + [false] + (learnt ? [false] : [])   // network weights only
        var adam = Adam(learningRate: config.learningRate, weightDecay: config.weightDecay, decayMask: decayMask)

        func model(_ p: [Matrix], on xs: Matrix, _ yRaw: [Double], _ noiseRaw: [Double]) -> DKLModel {
            var net = network
            net?.parameters = Array(p.prefix(nNet))
            let (low, scale) = DKLTrainer.range(net?.apply(xs) ?? xs)
            var m = DKLModel(config: config, network: net, rawGP: p[nNet], embeddingLow: low, embeddingScale: scale,
                             targetMean: mean, targetStd: std, trainInputs: xs, trainTargets: yRaw, lossCurve: [])
            m.trainNoise = noiseRaw
            if learnt { m.noiseWeights = p[nNet + 1].data }
            return m
        }
        /// Held-out NLPD (standardized units), the calibration's variance scale and the ±2σ
        /// coverage it gives.
        func validate(_ p: [Matrix]) -> (nlpd: Double, scale: Double, coverage: Double)? {
            let m = model(p, on: xFit, fit.map { y[$0] }, measured.isEmpty ? [] : fit.map { measured[$0] })
            guard let pred = try? m.predict(xHeld) else { return nil }
            // Each held-out measurement's variance: the part the calibration scales (the
            // latent variance and the learnt noise) and its own measured noise.
            let learntNoise = m.noiseVariance(xHeld)
            let scaled = held.indices.map { (pred.variance[$0] + learntNoise[$0]) / (std * std) }
            let own = held.map { measured.isEmpty ? 0 : ns[$0] }
            let errors = held.indices.map { pow((pred.mean[$0] - mean) / std - yHeld[$0], 2) }
            let score = PredictiveScore(mean: pred.mean.map { ($0 - mean) / std }, variance: held.indices.map { scaled[$0] + own[$0] }, truth: yHeld)
            let c = measured.isEmpty ? score.meanSquaredZ : DKLTrainer.calibration(errors: errors, scaled: scaled, own: own)
            let covered = held.indices.filter { errors[$0] <= 4 * (max(c, 1e-3) * scaled[$0] + own[$0]) }.count
            return (score.nlpd, c, Double(covered) / Double(max(held.count, 1)))
        }

        var losses: [Double] = []
        var best = (score: Double.infinity, params: params, iteration: 0, ratio: 1.0, coverage: Double.nan)
        var bestLoss = Double.infinity, sinceBest = 0
        let iterations = max(config.iterations, 0)
        for iteration in 0...iterations {
            if !held.isEmpty && (iteration % max(config.validationEvery, 1) == 0 || iteration == iterations),
               let v = validate(params), v.nlpd < best.score {
                best = (v.nlpd, params, iteration, v.scale, v.coverage)
            }
            if iteration == iterations { break }
            if !held.isEmpty && config.validationPatience > 0 && iteration - best.iteration >= config.validationPatience { break }
            let tape = Tape()
            let vars = params.map { tape.variable($0) }
            let xv = tape.constant(xFit)
            let z = network.map { $0.forward(xv, Array(vars.prefix(nNet))) } ?? xv
            // Each embedding dimension is scaled to [−1, 1] by this iteration's range (held constant).
            let (low, scale) = DKLTrainer.range(z.value)
            let zs = (z - tape.constant(Matrix(row: low))) * tape.constant(Matrix(row: scale)) - tape.constant(.scalar(1))
            let pointNoise: Var?
            switch config.noise {
            case .homoscedastic: pointNoise = nil
            case .measured: pointNoise = tape.constant(Matrix(rows: fit.count, cols: 1, data: fit.map { ns[$0] }))
            case .learnt:
                let w = vars[nNet + 1]
                pointNoise = (zs.matmulT(w.columns(0..<e)) + w.columns(e..<(e + 1))).exp()
            }
            let loss = try zs.gpNegativeMLL(targets: yFit, kernel: config.kernel, parameters: config.constraints.parameters(vars[nNet]),
                                            priors: config.priors, pointNoise: pointNoise)
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
        var result = model(kept, on: x, y, measured)
        result.lossCurve = losses
        result.keptIteration = held.isEmpty ? losses.count : best.iteration
        if !held.isEmpty {
            result.validationNLPD = best.score
            result.varianceScale = max(best.ratio, 1e-3)
            result.validationCoverage = best.coverage
        }
        return result
    }

    /// The variance scale c that makes held-out squared errors match their variances on
    /// average, mean(eᵢ²/(c·aᵢ + mᵢ)) = 1, where only aᵢ (the latent variance and the learnt
    /// noise) is scaled and mᵢ (the measurement's own noise) is known: by bisection on log c
    /// over [10⁻³, 10³].
    public static func calibration(errors: [Double], scaled: [Double], own: [Double]) -> Double {
        func excess(_ c: Double) -> Double {
            var t = 0.0
            for i in errors.indices { t += errors[i] / max(c * scaled[i] + own[i], 1e-300) }
            return t / Double(max(errors.count, 1)) - 1
        }
        var (lo, hi) = (log(1e-3), log(1e3))
        if excess(exp(lo)) <= 0 { return exp(lo) }
        if excess(exp(hi)) >= 0 { return exp(hi) }
        for _ in 0..<60 { let m = 0.5 * (lo + hi); if excess(exp(m)) > 0 { lo = m } else { hi = m } }
        return exp(0.5 * (lo + hi))
    }

    /// Per-column minimum and 2/(max − min) (1 for a constant column).
    static func range(_ z: Matrix) -> ([Double], [Double]) {
        var lo = [Double](repeating: .infinity, count: z.cols), hi = [Double](repeating: -.infinity, count: z.cols)
        for i in 0..<z.rows { for j in 0..<z.cols { let v = z.data[i * z.cols + j]; lo[j] = min(lo[j], v); hi[j] = max(hi[j], v) } }
        return (lo, (0..<z.cols).map { hi[$0] > lo[$0] ? 2 / (hi[$0] - lo[$0]) : 1 })
    }
}
