import Foundation
import DKLCore

/// A structured GP fitted by MAP (the posterior mode, by L-BFGS from several starts) or by
/// NUTS (posterior draws), with what tells models apart: the log marginal likelihood at the
/// mode, or WAIC and PSIS-LOO over the draws.
public struct BayesianFit: Sendable {
    public enum Inference: String, Sendable { case map, nuts }

    /// Per parameter: its posterior mean, sd, 2.5%, 50% and 97.5% quantiles, split R̂, bulk
    /// ESS and the Monte-Carlo standard error of the mean (NaN for MAP but the value).
    public struct Summary: Sendable, Equatable {
        public var name: String
        public var mean: Double, sd: Double, q025: Double, median: Double, q975: Double
        public var rhat: Double, ess: Double, mcse: Double
        /// The Monte-Carlo standard error of the sd (NaN for MAP).
        public var mcseSD: Double = .nan
    }

    public let model: StructuredGP
    public let inference: Inference
    /// Parameter values (natural units): one row for MAP; chains × samples rows for NUTS,
    /// chain after chain.
    public let draws: [[Double]]
    public let chains: Int
    public let summaries: [Summary]
    /// MAP: log p(y | θ̂) (the GP's log marginal likelihood at the mode) and log p(θ̂ | y) up to a constant.
    public var logMarginalLikelihood: Double = .nan
    public var logPosteriorAtMode: Double = .nan
    /// NUTS: divergent transitions, draws whose tree hit the depth limit, the step sizes.
    public var divergences = 0
    public var saturated = 0
    public var stepSizes: [Double] = []
    /// NUTS: the metric adapted in warm-up (diag or dense).
    public var metric = NUTS.MetricKind.diag
    /// NUTS: leapfrog steps (each one evaluation of the log posterior and its gradient)
    /// per kept draw, over the chains.
    public var leapfrogsPerDraw: Double = .nan
    /// NUTS: elpd by WAIC and by PSIS-LOO (with their standard errors), WAIC's effective
    /// number of parameters, and the points whose Pareto k̂ exceeds 0.7.
    public var elpdWAIC: Double = .nan, seWAIC: Double = .nan, pWAIC: Double = .nan
    public var elpdLOO: Double = .nan, seLOO: Double = .nan, paretoKHigh = 0
    public var paretoK: [Double] = []

    /// Each parameter's mean over the draws (for MAP, the mode).
    public var posteriorMeans: [Double] {
        (0..<model.parameters.count).map { k in draws.reduce(0) { $0 + $1[k] } / Double(draws.count) }
    }

    /// A fit read back from a file: the model and its draws (summaries as stored).
    public init(model: StructuredGP, inference: Inference, draws: [[Double]], chains: Int, summaries: [Summary]) {
        self.model = model; self.inference = inference; self.draws = draws; self.chains = chains; self.summaries = summaries
    }

    /// Warnings a user must see: R̂ above 1.01, divergences, saturated trees, large k̂.
    public var warnings: [String] {
        var w: [String] = []
        let bad = summaries.filter { $0.rhat > 1.01 }
        if !bad.isEmpty { w.append("R̂ > 1.01 for \(bad.map { "\($0.name) (\(String(format: "%.3f", $0.rhat)))" }.joined(separator: ", ")): the chains disagree; run longer (--warmup, --samples) or reparametrize") }
        if divergences > 0 { w.append("\(divergences) divergent transition\(divergences == 1 ? "" : "s") after warm-up: the posterior has regions the sampler could not follow (a larger --target-accept may help)") }
        if saturated > 0 { w.append("\(saturated) draw\(saturated == 1 ? "" : "s") reached the tree depth limit") }
        if paretoKHigh > 0 { w.append("\(paretoKHigh) point\(paretoKHigh == 1 ? "" : "s") with Pareto k̂ > 0.7: PSIS-LOO is unreliable there") }
        return w
    }

    /// The mode: L-BFGS on the log posterior without the Jacobian, from the priors' centres
    /// and `restarts` draws from the priors (seeded); the best.
    public static func map(_ model: StructuredGP, restarts: Int = 4, seed: UInt64 = 0, iterations: Int = 500) throws -> BayesianFit {
        var rng = Xoshiro(seed: seed &+ 0x3A9)
        var list = [model.start]
        for _ in 0..<restarts { list.append(model.free.map { i in model.parameters[i].prior.unconstrain(model.parameters[i].prior.sample(&rng)) }) }
        let starts = list
        let results = Parallel.lanesMap(starts.count) { (k: Int) -> (Double, [Double]) in
            LBFGS.maximize(start: starts[k], iterations: iterations) { model.logPosterior($0, jacobian: false) }
        }
        guard let best = results.filter({ $0.0.isFinite }).max(by: { $0.0 < $1.0 }) else {
            throw DKLError.data("the log posterior is not finite at any starting point: check the mean function and the priors")
        }
        let theta = model.values(best.1)
        var fit = BayesianFit(model: model, inference: .map, draws: [theta], chains: 1,
                              summaries: model.parameters.enumerated().map { i, p in
                                  Summary(name: p.name, mean: theta[i], sd: .nan, q025: .nan, median: theta[i], q975: .nan, rhat: .nan, ess: .nan, mcse: .nan)
                              })
        fit.logMarginalLikelihood = try model.logLikelihood(theta).value
        fit.logPosteriorAtMode = best.0
        return fit
    }

    /// A NUTS fit stopped by a deferred ^C: the chains' states, to save and continue.
    public struct Stopped: Error {
        public let states: [NUTS.ChainState]
    }

    /// Posterior draws by NUTS: `chains` chains (in parallel, seeded), started near the
    /// mode, or continued from the `resume` states of an interrupted fit of the same model
    /// and sampler (the draws are then those of an uninterrupted fit). Throws `Stopped`
    /// when a deferred ^C arrives.
    public static func nuts(_ model: StructuredGP, sampler: NUTS, chains: Int, resume: [NUTS.ChainState]? = nil,
                            progress: (@Sendable (Int) -> Void)? = nil) throws -> BayesianFit {
        let mode = try BayesianFit.map(model, restarts: 2, seed: sampler.seed)
        let start = model.unconstrained(mode.draws[0])
        let states = try sampler.states(chains: chains, start: start, resume: resume, progress: progress) { model.logPosterior($0) }
        guard states.allSatisfy(\.finished) else { throw Stopped(states: states) }
        let runs = states.map(\.chain)
        var draws: [[Double]] = []
        for c in runs { for u in c.draws { draws.append(model.values(u)) } }
        let per = sampler.samples
        let summaries = model.parameters.enumerated().map { i, p -> Summary in
            let byChain = (0..<chains).map { c in (0..<per).map { draws[c * per + $0][i] } }
            let all = byChain.flatMap { $0 }.sorted()
            let mean = all.reduce(0, +) / Double(all.count)
            let sd = (all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(all.count - 1, 1))).squareRoot()
            let fixed = p.prior.support == .point
            return Summary(name: p.name, mean: mean, sd: sd, q025: MCMCDiagnostics.quantile(all, 0.025), median: MCMCDiagnostics.quantile(all, 0.5),
                           q975: MCMCDiagnostics.quantile(all, 0.975), rhat: fixed ? .nan : MCMCDiagnostics.rhat(byChain),
                           ess: fixed ? .nan : MCMCDiagnostics.bulkESS(byChain), mcse: fixed ? 0 : MCMCDiagnostics.meanStandardError(byChain),
                           mcseSD: fixed ? 0 : MCMCDiagnostics.sdStandardError(byChain))
        }
        var fit = BayesianFit(model: model, inference: .nuts, draws: draws, chains: chains, summaries: summaries)
        fit.divergences = runs.map(\.divergences).reduce(0, +)
        fit.saturated = runs.map(\.saturated).reduce(0, +)
        fit.stepSizes = runs.map(\.stepSize)
        fit.metric = sampler.isDense(dimension: start.count) ? .dense : .diag
        fit.leapfrogsPerDraw = Double(runs.map { $0.leapfrogs.reduce(0, +) }.reduce(0, +)) / Double(max(draws.count, 1))
        fit.logMarginalLikelihood = mode.logMarginalLikelihood
        fit.logPosteriorAtMode = mode.logPosteriorAtMode
        try fit.scoreDraws()
        return fit
    }

    /// WAIC and PSIS-LOO from the pointwise log densities of every draw.
    mutating func scoreDraws() throws {
        let model = self.model, draws = self.draws
        let rows = try Parallel.lanesMap(draws.count) { (s: Int) -> [Double] in try model.pointwiseLogDensities(draws[s]) }
        let n = model.y.count, s = Double(draws.count)
        var waic = [Double](repeating: 0, count: n), loo = waic, p = waic
        paretoK = []
        for i in 0..<n {
            let l = rows.map { $0[i] }
            let lppd = BayesianFit.logSumExp(l) - Foundation.log(s)
            let mean = l.reduce(0, +) / s
            p[i] = l.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (s - 1)
            waic[i] = lppd - p[i]
            let (lw, k) = PSIS.smooth(l.map { -$0 })
            loo[i] = BayesianFit.logSumExp(zip(lw, l).map { $0 + $1 }) - BayesianFit.logSumExp(lw)
            paretoK.append(k)
        }
        func total(_ v: [Double]) -> (Double, Double) {
            let sum = v.reduce(0, +), m = sum / Double(n)
            return (sum, (Double(n) * v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(n - 1, 1))).squareRoot())
        }
        (elpdWAIC, seWAIC) = total(waic)
        pWAIC = p.reduce(0, +)
        (elpdLOO, seLOO) = total(loo)
        paretoKHigh = paretoK.filter { $0 > 0.7 }.count
    }

    /// The posterior predictive at `inputs`: the mixture over at most `maxDraws` draws,
    /// evenly spaced (for MAP, the one draw): the mean, the latent variance (the draws'
    /// variances plus the spread of their means), the noise variance (its mean over the
    /// draws), and each draw's mean and latent variance.
    public func predict(_ inputs: Matrix, maxDraws: Int = 400) throws -> (mean: [Double], variance: [Double], noise: Double, perDraw: [(mean: [Double], variance: [Double])]) {
        let model = self.model, draws = self.draws
        let count = min(maxDraws, draws.count)
        let used = (0..<count).map { $0 * draws.count / count }   // evenly spaced
        let per = try Parallel.lanesMap(used.count) { (k: Int) in try model.predict(draws[used[k]], at: inputs) }
        let m = Double(per.count), rows = inputs.rows
        var mean = [Double](repeating: 0, count: rows), variance = mean
        for p in per { for i in 0..<rows { mean[i] += p.mean[i] / m } }
        for p in per { for i in 0..<rows { variance[i] += (p.variance[i] + (p.mean[i] - mean[i]) * (p.mean[i] - mean[i])) / m } }
        return (mean, variance, per.map(\.noise).reduce(0, +) / m, per.map { ($0.mean, $0.variance) })
    }

    /// The p-quantile of an equal-weight mixture of normals N(mᵢ, sᵢ²) (sᵢ = 0: a point
    /// mass), by bisection on its distribution function to 1e-12 of the range.
    public static func mixtureQuantile(means: [Double], sds: [Double], p: Double) -> Double {
        let n = Double(means.count)
        func cdf(_ q: Double) -> Double {
            zip(means, sds).reduce(0) { acc, ms in
                acc + (ms.1 > 0 ? 0.5 * erfc(-(q - ms.0) / (ms.1 * 2.0.squareRoot())) : (q >= ms.0 ? 1 : 0))
            } / n
        }
        var lo = zip(means, sds).map { $0 - 9 * $1 }.min() ?? 0, hi = zip(means, sds).map { $0 + 9 * $1 }.max() ?? 0
        if hi <= lo { return lo }
        let tolerance = 1e-12 * (hi - lo)
        while hi - lo > tolerance {
            let mid = 0.5 * (lo + hi)
            if cdf(mid) < p { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    static func logSumExp(_ v: [Double]) -> Double {
        guard let top = v.max(), top.isFinite else { return v.max() ?? -.infinity }
        return top + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - top) })
    }
}

/// Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman, Yao and Gabry 2024): the
/// largest raw log weights replaced by the quantiles of a generalized Pareto fitted to them
/// (Zhang and Stephens' estimate with a weakly informative prior on k), then truncated.
public enum PSIS {
    /// Smoothed log weights and the tail's shape k̂.
    public static func smooth(_ logRatios: [Double]) -> (logWeights: [Double], k: Double) {
        let s = logRatios.count
        var lw = logRatios
        let tail = min(s / 5, Int((3 * Double(s).squareRoot()).rounded(.up)))
        guard tail >= 5, let top = lw.max(), top.isFinite else { return (lw, .infinity) }
        let order = lw.indices.sorted { lw[$0] < lw[$1] }
        let cutoff = lw[order[s - tail - 1]]
        let tailIndices = Array(order[(s - tail)...])
        let exceed = tailIndices.map { Foundation.exp(lw[$0] - top) - Foundation.exp(cutoff - top) }
        let (k, sigma) = gpdFit(exceed)
        if k.isFinite && sigma > 0 {
            for (j, idx) in tailIndices.enumerated() {
                let p = (Double(j) + 0.5) / Double(tail)
                let q = abs(k) < 1e-12 ? -sigma * Foundation.log1p(-p) : sigma * Foundation.expm1(-k * Foundation.log1p(-p)) / k
                lw[idx] = Foundation.log(q + Foundation.exp(cutoff - top)) + top
            }
        }
        // Truncate at S^(3/4) times the mean weight.
        let limit = BayesianFit.logSumExp(lw) - Foundation.log(Double(s)) + 0.75 * Foundation.log(Double(s))
        lw = lw.map { min($0, limit) }
        return (lw, k)
    }

    /// Zhang and Stephens' generalized Pareto fit of exceedances (sorted here), k̂ shrunk
    /// towards 0.5 as if by ten more points.
    static func gpdFit(_ values: [Double]) -> (k: Double, sigma: Double) {
        let x = values.sorted()
        let n = x.count
        guard n > 0, x[n - 1] > 0 else { return (.infinity, 0) }
        let m = 30 + Int(Double(n).squareRoot())
        let xstar = x[max(0, Int((Double(n) / 4 + 0.5).rounded(.down)) - 1)]
        guard xstar > 0 else { return (.infinity, 0) }
        let count = Double(n)
        var theta: [Double] = []
        for j in 1...m {
            let shrink: Double = 1 - (Double(m) / (Double(j) - 0.5)).squareRoot()
            theta.append(1 / x[n - 1] + shrink / 3 / xstar)
        }
        var logLik: [Double] = []
        for t in theta {
            let a: Double = -t
            var sum = 0.0
            for v in x { sum += Foundation.log1p(a * v) }
            let k: Double = sum / count
            let l: Double = count * (Foundation.log(a / k) - k - 1)
            logLik.append(l.isFinite ? l : -.infinity)
        }
        let total = BayesianFit.logSumExp(logLik)
        var thetaHat = 0.0
        for (t, l) in zip(theta, logLik) where l.isFinite { thetaHat += t * Foundation.exp(l - total) }
        var sumK = 0.0
        for v in x { sumK += Foundation.log1p(-thetaHat * v) }
        var k: Double = sumK / count
        let sigma = -k / thetaHat
        k = k * Double(n) / Double(n + 10) + 10 * 0.5 / Double(n + 10)
        return (k, sigma)
    }
}

/// Limited-memory BFGS with a backtracking (Armijo) line search, maximizing f.
public enum LBFGS {
    public static func maximize(start: [Double], iterations: Int, memory: Int = 8, tolerance: Double = 1e-9,
                                _ f: ([Double]) -> (value: Double, gradient: [Double])) -> (Double, [Double]) {
        var x = start
        var (fx, g) = f(x)
        guard fx.isFinite else { return (-.infinity, x) }
        var s: [[Double]] = [], y: [[Double]] = []
        for _ in 0..<iterations {
            // Direction: the two-loop recursion on −g (we minimize −f).
            var q = g.map { -$0 }
            var alphas: [Double] = []
            for (si, yi) in zip(s, y).reversed() {
                let rho = 1 / dot(yi, si)
                let a = rho * dot(si, q)
                alphas.append(a)
                for k in q.indices { q[k] -= a * yi[k] }
            }
            if let sl = s.last, let yl = y.last { let gamma = dot(sl, yl) / dot(yl, yl); q = q.map { $0 * gamma } }
            for ((si, yi), a) in zip(zip(s, y), alphas.reversed()) {
                let rho = 1 / dot(yi, si)
                let b = rho * dot(yi, q)
                for k in q.indices { q[k] += si[k] * (a - b) }
            }
            var d = q.map { -$0 }   // ascent direction for f
            if dot(d, g) <= 0 { d = g; s = []; y = [] }
            var step = s.isEmpty ? min(1, 1 / max(norm(g), 1e-12)) : 1.0
            var accepted = false
            var xn = x, fn = fx, gn = g
            for _ in 0..<40 {
                xn = zip(x, d).map { $0 + step * $1 }
                (fn, gn) = f(xn)
                if fn.isFinite && fn >= fx + 1e-4 * step * dot(d, g) { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }
            let sk = zip(xn, x).map { $0 - $1 }, yk = zip(g, gn).map { $0 - $1 }   // y for −f's gradient
            if dot(sk, yk) > 1e-12 {
                s.append(sk); y.append(yk)
                if s.count > memory { s.removeFirst(); y.removeFirst() }
            }
            let improvement = fn - fx
            (x, fx, g) = (xn, fn, gn)
            if abs(improvement) < tolerance * max(1, abs(fx)) && norm(g) < 1e-5 * max(1, abs(fx)) { break }
            if norm(g) < 1e-10 { break }
        }
        return (fx, x)
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
}

extension BayesianFit {
    /// Thompson sampling from the posterior: per point, a draw of the parameters chosen at
    /// random, then one joint draw of the latent function (the mean plus, with a GP, a
    /// joint sample of the GP given the data) over at most `subset` of the candidates, and
    /// its best; each choice is excluded from the next. Returns the candidate, the drawn
    /// value and the parameters' draw.
    public func thompsonChoices(_ x: Matrix, q: Int, subset: Int, seed: UInt64, maximize: Bool, excluded: Set<Int>) throws
        -> [(index: Int, value: Double, draw: Int)] {
        var rng = Xoshiro(seed: seed)
        var excluded = excluded
        var out: [(index: Int, value: Double, draw: Int)] = []
        for _ in 0..<q {
            let s = Int(rng.next() % UInt64(draws.count))
            var pool = (0..<x.rows).filter { !excluded.contains($0) }
            if pool.isEmpty { break }
            if pool.count > subset { pool.shuffle(using: &rng); pool = Array(pool.prefix(subset)).sorted() }
            let points = x.gather(pool)
            let theta = draws[s]
            var f = model.meanValues(theta, at: points)
            if let kernel = model.kernel {
                let split = model.split(theta)
                let r = zip(model.y, model.meanValues(theta)).map { $0 - $1 }
                let post = try GPPosterior(inputs: model.x, targets: r, kernel: kernel,
                                           parameters: GPParameters(lengthscales: split.lengthscales, outputscale: split.outputscale, noise: split.noise))
                let g = try Thompson.draw(posterior: post, points: points, rng: &rng)
                for i in f.indices { f[i] += g[i] }
            }
            guard let best = BatchSelection.argmax(maximize ? f : f.map { -$0 }) else { break }
            excluded.insert(pool[best])
            out.append((pool[best], f[best], s))
        }
        return out
    }
}
