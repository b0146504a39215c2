import DKL
import Foundation
import XCTest

/// The Bayesian pieces: the mean-function language (values, precedence, errors that point
/// at the column, gradients against finite differences), the priors (densities that
/// integrate to one, the Jacobians of their transforms), the NUTS sampler (moments of known
/// targets within their Monte-Carlo error, divergences where the geometry is bad, the same
/// draws on any thread count, simulation-based calibration with a χ² test that a biased
/// sampler fails) and the convergence diagnostics (R̂ and ESS on draws whose answers are
/// known).
final class BayesTests: XCTestCase {
    let x = Matrix(rows: 4, cols: 2, data: [0.1, 2.0, 0.4, 1.5, 0.8, -0.5, 1.3, 0.25])

    func testTheExpressionLanguage() throws {
        let e = try MeanExpression("a*x1^2 + b*exp(-x2/c) - min(x1, 0.5) + step(x1 - 0.3) + max(sqrt(abs(x2)), tanh(x1)) / sigmoid(x2) + sin(x1)*cos(a) - log(c)",
                               inputs: ["x1", "x2"])
        XCTAssertEqual(e.parameters, ["a", "b", "c"])
        let theta = [1.5, -0.7, 2.2]
        let (a, b, c) = (theta[0], theta[1], theta[2])
        let values = e.values(x, theta)
        for i in 0..<4 {
            let (x1, x2) = (x.data[2 * i], x.data[2 * i + 1])
            let want = a * x1 * x1 + b * exp(-x2 / c) - min(x1, 0.5) + (x1 - 0.3 > 0 ? 1 : 0) + max(abs(x2).squareRoot(), tanh(x1)) / (1 / (1 + exp(-x2)))
                + sin(x1) * cos(a) - log(c)
            XCTAssertEqual(values[i], want, accuracy: 1e-12)
        }
        // Precedence and associativity.
        for (text, want) in [("-x1^2", -0.01), ("2^3^2", 512), ("1-2-3", -4), ("8/2/2", 2), ("2*3+4*5", 26), ("-(1+2)*3", -9), ("2^-1", 0.5),
                             ("1e-3*1000", 1), (".5+x2", 2.5), ("2 * -x1", -0.2)] {
            XCTAssertEqual(try MeanExpression(text, inputs: ["x1", "x2"]).values(x, [])[0], want, accuracy: 1e-12, text)
        }
        // Every mistake points at its column.
        for (text, message) in [("a*(x1+", "the expression ends where a value was expected at column 7"), ("a*(x1+2", "a '(' is not closed at column 8"), ("foo(x1)", "unknown function 'foo' (exp, log, sqrt, abs, tanh, sigmoid, sin, cos, step, min, max) at column 1"),
                                ("x1 $ 2", "unexpected '$' at column 4"), ("", "an empty expression at column 1"), ("2*exp", "'exp' is a function: write exp(…) at column 3"),
                                ("max(x1)", "max takes 2 arguments, not 1 at column 1"), ("x1)", "a ')' without its '(' at column 3"), ("x1 +", "the expression ends where a value was expected at column 5"),
                                ("3 4", "unexpected '4' at column 3"), ("exp(x1, x2)", "exp takes 1 argument, not 2 at column 1")] {
            XCTAssertThrowsError(try MeanExpression(text, inputs: ["x1", "x2"]), text) { error in
                let m = (error as? DKLError)?.message ?? "\(error)"
                XCTAssertTrue(m.hasPrefix("--mean: " + message), "\(text): \(m)")
                XCTAssertTrue(m.contains("\n  " + text + "\n"), m)
            }
        }
        XCTAssertThrowsError(try MeanExpression(String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500), inputs: []))
    }

    /// ∂(Σ wᵢ·m(xᵢ; θ))/∂θ against central differences, for every function of the language.
    func testTheExpressionsGradient() throws {
        let texts = ["a*x1^b + c", "exp(a*x1) * log(b + x2^2) / sqrt(c)", "abs(a - x2) + tanh(b*x1) * sigmoid(c*x2)", "sin(a*x1) - cos(b*x2) + c^2",
                     "max(a*x1, b) + min(c, x2) + step(x1 - 0.5)*a", "a^x1 * b / (1 + c*x1^2)", "-a*(x1 - b)^2 + sqrt(abs(c))*x2"]
        let theta = [0.8, 1.3, 0.45], w = [0.3, -1.1, 0.7, 2.0]
        for text in texts {
            let e = try MeanExpression(text, inputs: ["x1", "x2"])
            XCTAssertEqual(e.parameters, ["a", "b", "c"], text)
            let (values, grad) = e.valuesAndGradient(x, theta, weights: w)
            XCTAssertEqual(values, e.values(x, theta), text)
            for k in 0..<3 {
                let h = 1e-6
                var up = theta, down = theta
                up[k] += h; down[k] -= h
                let f = { (t: [Double]) in zip(e.values(self.x, t), w).reduce(0) { $0 + $1.0 * $1.1 } }
                let numeric = (f(up) - f(down)) / (2 * h)
                XCTAssertEqual(grad[k], numeric, accuracy: 1e-6 * max(1, abs(numeric)), "\(text): ∂/∂\(e.parameters[k])")
            }
        }
    }

    func testPriors() throws {
        let priors: [Prior] = [.normal(mean: 1, sd: 2), .lognormal(mu: 0.3, sigma: 0.5), .halfnormal(sd: 1.5), .uniform(low: -1, high: 3), .gamma(shape: 2.5, rate: 1.5),
                               .gamma(shape: 0.7, rate: 2)]
        for p in priors {
            XCTAssertEqual(try Prior.parse(p.description), p)
            // The density integrates to one (midpoint rule on the unconstrained line, through the Jacobian).
            var total = 0.0
            let h = 0.001
            for k in -30_000..<30_000 {
                let u = (Double(k) + 0.5) * h
                let c = p.constrain(u)
                total += exp(p.logDensity(c.x).value + c.logJacobian) * h
            }
            XCTAssertEqual(total, 1, accuracy: 2e-4, "\(p)")
            // Derivatives against central differences.
            for u in [-1.3, 0.2, 1.7] {
                let c = p.constrain(u), d = 1e-6
                let (cu, cd) = (p.constrain(u + d), p.constrain(u - d))
                XCTAssertEqual(c.dx, (cu.x - cd.x) / (2 * d), accuracy: 1e-6 * max(1, abs(c.dx)), "\(p)")
                XCTAssertEqual(c.logJacobian, log(abs(c.dx)), accuracy: 1e-9, "\(p)")
                XCTAssertEqual(c.dLogJacobian, (cu.logJacobian - cd.logJacobian) / (2 * d), accuracy: 1e-6, "\(p)")
                XCTAssertEqual(p.logDensity(c.x).derivative, (p.logDensity(cu.x).value - p.logDensity(cd.x).value) / (cu.x - cd.x), accuracy: 1e-5 * max(1, abs(p.logDensity(c.x).derivative)), "\(p)")
                XCTAssertEqual(p.unconstrain(c.x), u, accuracy: 1e-8, "\(p)")
            }
            // Draws have the prior's mean.
            var rng = Xoshiro(seed: 4)
            let draws = (0..<40_000).map { _ in p.sample(&rng) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let want: Double
            switch p {
            case let .normal(m, _): want = m
            case let .lognormal(m, s): want = exp(m + s * s / 2)
            case let .halfnormal(s): want = s * (2 / Double.pi).squareRoot()
            case let .uniform(lo, hi): want = (lo + hi) / 2
            case let .gamma(a, b): want = a / b
            case let .fixed(v): want = v
            }
            XCTAssertEqual(mean, want, accuracy: 0.03 * max(1, abs(want)), "\(p)")
        }
        XCTAssertEqual(try Prior.parse("fixed:2.5").constrain(7).x, 2.5)
        for (text, message) in [("normal:0", "--param: normal takes 2 numbers: 'normal:0'"), ("beta:1,2", "--param: unknown distribution 'beta'"),
                                ("uniform:3,1", "--param: uniform needs lo < hi"), ("gamma:1,-2", "--param: gamma's shape and rate must be positive"),
                                ("normal:0,nan", "--param: 'normal:0,nan' has a value that is not a finite number")] {
            XCTAssertThrowsError(try Prior.parse(text)) { XCTAssertTrue(($0 as? DKLError)?.message.hasPrefix(message) ?? false, "\($0)") }
        }
    }

    /// A correlated Gaussian: the draws' means and sds within their Monte-Carlo errors, R̂
    /// near 1, no divergences; a dense metric too.
    func testNUTSOnACorrelatedGaussian() throws {
        let (s1, s2, rho) = (1.0, 3.0, 0.9)
        let det = s1 * s1 * s2 * s2 * (1 - rho * rho)
        let (a, b, c) = (s2 * s2 / det, -rho * s1 * s2 / det, s1 * s1 / det)   // the precision matrix
        let density: NUTS.Density = { q in
            let (x, y) = (q[0] - 1, q[1] + 2)
            return (-0.5 * (a * x * x + 2 * b * x * y + c * y * y), [-(a * x + b * y), -(b * x + c * y)])
        }
        for dense in [false, true] {
            let sampler = NUTS(warmup: 500, samples: 1000, metric: dense ? .dense : .diag, seed: 7)
            let chains = try sampler.run(chains: 4, start: [0, 0], density: density)
            XCTAssertEqual(chains.map(\.divergences).reduce(0, +), 0)
            for (d, (mu, sd)) in [(1.0, s1), (-2.0, s2)].enumerated() {
                let draws = chains.map { $0.draws.map { $0[d] } }
                let all = draws.flatMap { $0 }
                let mean = all.reduce(0, +) / Double(all.count)
                let sdHat = (all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count - 1)).squareRoot()
                let mcse = MCMCDiagnostics.meanStandardError(draws)
                XCTAssertEqual(mean, mu, accuracy: 4 * mcse, "dense \(dense), coordinate \(d)")
                XCTAssertEqual(sdHat, sd, accuracy: 0.08 * sd, "dense \(dense), coordinate \(d)")
                XCTAssertLessThan(MCMCDiagnostics.rhat(draws), 1.01)
                XCTAssertGreaterThan(MCMCDiagnostics.bulkESS(draws), 800)
            }
            if dense {
                // The adapted metric approaches the target's covariance.
                let m = chains[0].inverseMetric
                XCTAssertEqual(m[1] / (m[0] * m[3]).squareRoot(), rho, accuracy: 0.1)
            }
        }
        // The same seed gives the same draws on one thread or two.
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = try NUTS(warmup: 100, samples: 50, seed: 3).run(chains: 3, start: [0, 0], density: density).map(\.draws)
        Parallel.threads = 2
        let two = try NUTS(warmup: 100, samples: 50, seed: 3).run(chains: 3, start: [0, 0], density: density).map(\.draws)
        XCTAssertEqual(one, two)
    }

    /// Chains stopped part-way (in warm-up, at a metric window's end, in the kept draws),
    /// saved as JSON and read back, continue to the draws of a run that never stopped, to
    /// the bit; a state is refused by another sampler or another dimension.
    func testChainsSavedAndContinuedGiveTheSameDraws() throws {
        let density: NUTS.Density = { q in
            let (x, y) = (q[0] - 1, q[1] + 2)
            return (-0.5 * (x * x + 1.8 * x * y + y * y) / 0.19, [-(x + 0.9 * y) / 0.19, -(0.9 * x + y) / 0.19])
        }
        for metric in [NUTS.MetricKind.diag, .dense] {
            let sampler = NUTS(warmup: 200, samples: 100, metric: metric, seed: 5)
            let whole = try sampler.run(chains: 2, start: [0, 0], density: density)
            for cut in [0, 37, 100, 200, 251] {
                let part = try sampler.states(chains: 2, start: [0, 0], until: cut, density: density)
                XCTAssertEqual(part.map(\.iteration), [cut, cut])
                XCTAssertFalse(part.contains(where: \.finished))
                let back = try part.map { try NUTS.ChainState(json: try JSONParser.parse($0.json.text), sampler: sampler, dimension: 2) }
                let rest = try sampler.states(chains: 2, start: [0, 0], resume: back, density: density)
                XCTAssertTrue(rest.allSatisfy(\.finished))
                XCTAssertEqual(rest.map(\.chain.draws), whole.map(\.draws), "\(metric) cut at \(cut)")
                XCTAssertEqual(rest.map(\.chain.treeDepth), whole.map(\.treeDepth))
                XCTAssertEqual(rest.map(\.chain.stepSize), whole.map(\.stepSize))
                XCTAssertEqual(rest.map(\.chain.inverseMetric), whole.map(\.inverseMetric))
            }
            let state = try sampler.states(chains: 1, start: [0, 0], until: 50, density: density)[0].json
            XCTAssertThrowsError(try NUTS.ChainState(json: state, sampler: NUTS(warmup: 100, samples: 100, metric: metric), dimension: 2))
            XCTAssertThrowsError(try NUTS.ChainState(json: state, sampler: sampler, dimension: 3))
            var damaged = state
            damaged.set("q", .string("AAAA"))
            XCTAssertThrowsError(try NUTS.ChainState(json: damaged, sampler: sampler, dimension: 2))
        }
    }

    /// Neal's funnel, where a single step size cannot fit the neck: divergences are found and counted.
    func testDivergencesAreReported() throws {
        let density: NUTS.Density = { q in
            let (v, x) = (q[0], q[1])
            let s2 = exp(v)
            return (-v * v / 18 - 0.5 * x * x / s2 - 0.5 * v, [-v / 9 + 0.5 * x * x / s2 - 0.5, -x / s2])
        }
        let chains = try NUTS(warmup: 300, samples: 500, seed: 1).run(chains: 2, start: [0, 0], density: density)
        XCTAssertGreaterThan(chains.map(\.divergences).reduce(0, +), 0)
    }

    /// Simulation-based calibration on μ ~ N(0, 1), yᵢ ~ N(μ, 1) (five points): the rank of
    /// the true μ among 99 posterior draws is uniform; a χ² test over ten bins passes, and
    /// the same test fails for draws shifted by a fifth of the posterior's sd.
    func testSimulationBasedCalibration() throws {
        var rng = Xoshiro(seed: 12)
        var ranks: [Int] = [], shiftedRanks: [Int] = []
        for rep in 0..<200 {
            let mu = rng.normal()
            let y = (0..<5).map { _ in mu + rng.normal() }
            let sum = y.reduce(0, +)
            let density: NUTS.Density = { q in (-0.5 * q[0] * q[0] - 0.5 * y.reduce(0) { $0 + ($1 - q[0]) * ($1 - q[0]) }, [-q[0] + sum - 5 * q[0]]) }
            let chain = try NUTS(warmup: 150, samples: 198, seed: UInt64(rep)).run(chains: 1, start: [0], density: density)[0]
            let draws = stride(from: 1, to: 198, by: 2).map { chain.draws[$0][0] }
            ranks.append(draws.filter { $0 < mu }.count)
            shiftedRanks.append(draws.filter { $0 + 0.2 / 6.0.squareRoot() * 5 < mu }.count)
        }
        func chiSquare(_ r: [Int]) -> Double {
            var bins = [Double](repeating: 0, count: 10)
            for k in r { bins[min(k / 10, 9)] += 1 }
            let expected = Double(r.count) / 10
            return bins.reduce(0) { $0 + ($1 - expected) * ($1 - expected) / expected }
        }
        // χ²(9) exceeds 27.88 with probability 0.001.
        XCTAssertLessThan(chiSquare(ranks), 27.88, "ranks \(ranks)")
        XCTAssertGreaterThan(chiSquare(shiftedRanks), 27.88, "the test can fail")
    }

    /// R̂ and ESS on draws whose answers are known: independent draws, an AR(1) process and
    /// chains that disagree.
    func testDiagnostics() {
        var rng = Xoshiro(seed: 5)
        let iid = (0..<4).map { _ in (0..<1000).map { _ in rng.normal() } }
        XCTAssertLessThan(MCMCDiagnostics.rhat(iid), 1.01)
        XCTAssertEqual(MCMCDiagnostics.bulkESS(iid), 4000, accuracy: 600)
        let phi = 0.9
        let ar = (0..<4).map { _ -> [Double] in
            var v = rng.normal() / (1 - phi * phi).squareRoot()
            return (0..<4000).map { _ in v = phi * v + rng.normal(); return v }
        }
        // ESS = N·(1 − φ)/(1 + φ) for an AR(1) process.
        XCTAssertEqual(MCMCDiagnostics.meanESS(ar), 16_000 * (1 - phi) / (1 + phi), accuracy: 0.25 * 16_000 * (1 - phi) / (1 + phi))
        XCTAssertEqual(MCMCDiagnostics.bulkESS(ar), 16_000 * (1 - phi) / (1 + phi), accuracy: 0.3 * 16_000 * (1 - phi) / (1 + phi))
        let apart = iid.enumerated().map { k, c in c.map { $0 + (k == 0 ? 2 : 0) } }
        XCTAssertGreaterThan(MCMCDiagnostics.rhat(apart), 1.1)
        // Wider in one chain only: the folded R̂ sees it.
        let wide = iid.enumerated().map { k, c in c.map { $0 * (k == 0 ? 4 : 1) } }
        XCTAssertGreaterThan(MCMCDiagnostics.rhat(wide), 1.05)
        for (p, z) in [(0.975, 1.959963984540054), (0.5, 0), (1e-10, -6.361340902404056), (0.8, 0.8416212335729143)] {
            XCTAssertEqual(MCMCDiagnostics.inverseNormal(p), z, accuracy: 1e-12)
        }
    }
}

/// The structured GP's log posterior (gradient against finite differences, with and without
/// a kernel), its fits (MAP and NUTS against the analytic posterior of a conjugate model,
/// PSIS-LOO against the exact leave-one-out), and the comparison of physical models.
final class StructuredGPTests: XCTestCase {
    func data(_ n: Int, seed: UInt64, _ f: (Double, Double) -> Double, noise: Double) -> (Matrix, [Double]) {
        var rng = Xoshiro(seed: seed)
        var x = Matrix(rows: n, cols: 2)
        var y: [Double] = []
        for i in 0..<n {
            x.data[2 * i] = 2 * rng.uniform() - 1; x.data[2 * i + 1] = 3 * rng.uniform()
            y.append(f(x.data[2 * i], x.data[2 * i + 1]) + noise * rng.normal())
        }
        return (x, y)
    }

    func testTheLogPosteriorsGradient() throws {
        let (x, y) = data(25, seed: 3, { 0.7 * $0 + 1.5 * exp(-$1 / 0.8) }, noise: 0.1)
        let mean = try MeanExpression("a*x1 + b*exp(-x2/c)", inputs: ["x1", "x2"])
        let priors: [String: Prior] = ["a": .normal(mean: 0, sd: 2), "b": .lognormal(mu: 0, sigma: 1), "c": .uniform(low: 0.1, high: 3),
                                       "lengthscale_x2": .gamma(shape: 2, rate: 1), "noise": .halfnormal(sd: 0.5)]
        for kernel in [Kernel.matern52, nil] {
            let model = try StructuredGP(mean: mean, kernel: kernel, x: x, y: y, priors: priors)
            XCTAssertEqual(model.parameters.map(\.name), kernel == nil ? ["a", "b", "c", "noise"] : ["a", "b", "c", "lengthscale_x1", "lengthscale_x2", "outputscale", "noise"])
            var rng = Xoshiro(seed: 9)
            let u = model.start.map { $0 + 0.3 * rng.normal() }
            for jacobian in [true, false] {
                let (v, g) = model.logPosterior(u, jacobian: jacobian)
                XCTAssertTrue(v.isFinite)
                for k in u.indices {
                    let h = 1e-5
                    var up = u, down = u
                    up[k] += h; down[k] -= h
                    let numeric = (model.logPosterior(up, jacobian: jacobian).value - model.logPosterior(down, jacobian: jacobian).value) / (2 * h)
                    XCTAssertEqual(g[k], numeric, accuracy: 1e-5 * max(1, abs(numeric)), "kernel \(String(describing: kernel)), \(model.parameters[model.free[k]].name)")
                }
            }
        }
        // Mistakes are messages.
        XCTAssertThrowsError(try StructuredGP(mean: mean, kernel: nil, x: x, y: y, priors: ["a": .normal(mean: 0, sd: 1)])) {
            XCTAssertEqual(($0 as? DKLError)?.message, "the mean's parameter 'b' needs a prior: --param b=DIST (e.g. normal:0,1)")
        }
        XCTAssertThrowsError(try StructuredGP(mean: mean, kernel: .rbf, x: x, y: y, priors: priors.merging(["noise": .normal(mean: 0, sd: 1)]) { $1 })) {
            XCTAssertTrue(($0 as? DKLError)?.message.hasPrefix("--param noise: the noise must be positive") ?? false, "\($0)")
        }
        XCTAssertThrowsError(try StructuredGP(mean: mean, kernel: .rbf, x: x, y: y, priors: priors.merging(["d": .normal(mean: 0, sd: 1)]) { $1 })) {
            XCTAssertEqual(($0 as? DKLError)?.message, "--param d: no parameter of that name (the model's: a, b, c, lengthscale_x1, lengthscale_x2, outputscale, noise)")
        }
    }

    /// At one input with a Matérn kernel the likelihood is the Kalman filter's: its value,
    /// its gradient in ℓ, s, σ² and α = K⁻¹r agree with the Cholesky factorization's on
    /// unsorted inputs with ties and a gap far beyond the lengthscale, and the structured
    /// GP's log posterior (which then uses it) with finite differences.
    func testTheKalmanFilterLikelihoodIsTheCholeskys() throws {
        var rng = Xoshiro(seed: 21)
        var x = (0..<40).map { _ in 3 * rng.uniform() }
        x[7] = x[3]; x[30] = x[3]; x[12] = 9   // ties, and an isolated point
        let r = x.map { sin(2 * $0) + 0.1 * rng.normal() }
        let z = Matrix(rows: x.count, cols: 1, data: x)
        XCTAssertNil(MaternStateSpace(kernel: .rbf, inputs: x))
        for kernel in [Kernel.matern12, .matern32, .matern52] {
            let ss = try XCTUnwrap(MaternStateSpace(kernel: kernel, inputs: x))
            for (l, s, noise) in [(0.4, 1.3, 0.02), (2.5, 0.2, 1e-4), (0.05, 3.0, 0.5)] {
                let got = try ss.evaluate(residuals: r, lengthscale: l, outputscale: s, noise: noise)
                let want = try MarginalLikelihood.evaluate(inputs: z, targets: r, kernel: kernel,
                                                           parameters: GPParameters(lengthscales: [l], outputscale: s, noise: noise), needsInputGradient: false)
                let n = Double(x.count), what = "\(kernel) ℓ=\(l) s=\(s) σ²=\(noise)"
                XCTAssertEqual(got.logLikelihood, -n * want.loss, accuracy: 1e-9 * max(1, abs(n * want.loss)), what)
                let g = [got.gradient.lengthscale, got.gradient.outputscale, got.gradient.noise]
                for k in 0..<3 { XCTAssertEqual(g[k], -n * want.gradParameters[k], accuracy: 1e-7 * max(1, abs(n * want.gradParameters[k])), "\(what) ∂\(k)") }
                let scale = want.alpha.map(abs).max()!
                for i in x.indices { XCTAssertEqual(got.alpha[i], want.alpha[i], accuracy: 1e-9 * scale, "\(what) α\(i)") }
            }
        }
        let mean = try MeanExpression("A*exp(-x1/L) + c", inputs: ["x1"])
        let priors: [String: Prior] = ["A": .lognormal(mu: 0, sigma: 1), "L": .lognormal(mu: 0, sigma: 0.5), "c": .normal(mean: 0, sd: 1)]
        let model = try StructuredGP(mean: mean, kernel: .matern52, x: z, y: r, priors: priors)
        XCTAssertTrue(model.usesStateSpace)
        XCTAssertFalse(try StructuredGP(mean: nil, kernel: .matern52, x: Matrix(rows: 40, cols: 2, data: x + x), y: r, priors: [:]).usesStateSpace)
        let u = model.start.map { $0 + 0.2 }
        let (v, g) = model.logPosterior(u)
        XCTAssertTrue(v.isFinite)
        for k in u.indices {
            var up = u, down = u
            up[k] += 1e-5; down[k] -= 1e-5
            let numeric = (model.logPosterior(up).value - model.logPosterior(down).value) / 2e-5
            XCTAssertEqual(g[k], numeric, accuracy: 1e-5 * max(1, abs(numeric)), model.parameters[model.free[k]].name)
        }
    }

    /// y = a + b·x1 + ε with σ² known and normal priors: the posterior is normal with a known
    /// mean and covariance; MAP is its mean, NUTS's moments agree within their Monte-Carlo
    /// errors, and PSIS-LOO agrees with the exact leave-one-out predictive densities.
    func testAConjugateModelsPosterior() throws {
        let (x, y) = data(30, seed: 5, { 0.5 - 1.2 * $0 + 0 * $1 }, noise: 0.5)
        let one = Matrix(rows: 30, cols: 1, data: (0..<30).map { x.data[2 * $0] })
        let mean = try MeanExpression("a + b*x1", inputs: ["x1"])
        let model = try StructuredGP(mean: mean, kernel: nil, x: one, y: y,
                                     priors: ["a": .normal(mean: 0, sd: 2), "b": .normal(mean: 1, sd: 3), "noise": .fixed(0.25)])
        // Σ = (XᵀX/σ² + Σ₀⁻¹)⁻¹, μ = Σ(Xᵀy/σ² + Σ₀⁻¹μ₀).
        func posterior(_ rows: [Int]) -> (mu: [Double], cov: [Double]) {
            var (p00, p01, p11) = (1 / 4.0, 0.0, 1 / 9.0)
            var (b0, b1) = (0 / 4.0, 1 / 9.0)
            for i in rows {
                let xi = one.data[i]
                p00 += 1 / 0.25; p01 += xi / 0.25; p11 += xi * xi / 0.25
                b0 += y[i] / 0.25; b1 += xi * y[i] / 0.25
            }
            let det = p00 * p11 - p01 * p01
            let cov = [p11 / det, -p01 / det, -p01 / det, p00 / det]
            return ([cov[0] * b0 + cov[1] * b1, cov[2] * b0 + cov[3] * b1], cov)
        }
        let exact = posterior(Array(0..<30))
        let map = try BayesianFit.map(model)
        XCTAssertEqual(map.draws[0][0], exact.mu[0], accuracy: 1e-6)
        XCTAssertEqual(map.draws[0][1], exact.mu[1], accuracy: 1e-6)
        let fit = try BayesianFit.nuts(model, sampler: NUTS(warmup: 500, samples: 1000, seed: 2), chains: 4)
        XCTAssertEqual(fit.divergences, 0)
        for (k, s) in fit.summaries.prefix(2).enumerated() {
            XCTAssertEqual(s.mean, exact.mu[k], accuracy: 3 * s.mcse, s.name)
            XCTAssertEqual(s.sd, exact.cov[3 * k].squareRoot(), accuracy: 0.06 * exact.cov[3 * k].squareRoot(), s.name)
            XCTAssertLessThan(s.rhat, 1.01)
        }
        XCTAssertEqual(fit.summaries[2].mean, 0.25)
        // Exact LOO: p(yᵢ | y₋ᵢ) = N(xᵢᵀμ₋ᵢ, σ² + xᵢᵀΣ₋ᵢxᵢ).
        var elpd = 0.0
        for i in 0..<30 {
            let p = posterior((0..<30).filter { $0 != i })
            let xi = one.data[i]
            let m = p.mu[0] + p.mu[1] * xi
            let v = 0.25 + p.cov[0] + 2 * xi * p.cov[1] + xi * xi * p.cov[3]
            elpd += -0.5 * log(2 * Double.pi * v) - 0.5 * (y[i] - m) * (y[i] - m) / v
        }
        XCTAssertEqual(fit.elpdLOO, elpd, accuracy: 0.15)
        XCTAssertEqual(fit.paretoKHigh, 0)
        XCTAssertEqual(fit.elpdWAIC, elpd, accuracy: 0.3)
        XCTAssertEqual(fit.pWAIC, 2, accuracy: 0.5, "two parameters")
        // The posterior predictive: the draws' mixture against the analytic one.
        let at = Matrix(rows: 2, cols: 1, data: [-0.5, 0.9])
        let pred = try fit.predict(at, maxDraws: 4000)
        for (i, xi) in [-0.5, 0.9].enumerated() {
            XCTAssertEqual(pred.mean[i], exact.mu[0] + exact.mu[1] * xi, accuracy: 0.02)
            XCTAssertEqual(pred.variance[i], exact.cov[0] + 2 * xi * exact.cov[1] + xi * xi * exact.cov[3], accuracy: 0.15 * pred.variance[i])
        }
    }

    /// A second-order transition: y = A·√max(x0 − x1, 0) + ε. The structured GP with that
    /// mean finds x0 within its 95% interval; as pure models, PSIS-LOO and the likelihood
    /// at the mode prefer the physics to a line by far.
    func testModelComparisonPrefersThePhysics() throws {
        let (x, y) = data(24, seed: 8, { 1.3 * max(0.2 - $0, 0).squareRoot() + 0 * $1 }, noise: 0.05)
        let one = Matrix(rows: 24, cols: 1, data: (0..<24).map { x.data[2 * $0] })
        let physics = try MeanExpression("A*sqrt(max(x0 - x1, 0))", inputs: ["x1"]), line = try MeanExpression("a + b*x1", inputs: ["x1"])
        let physicsPriors: [String: Prior] = ["A": .lognormal(mu: 0, sigma: 1), "x0": .uniform(low: -1, high: 1), "noise": .halfnormal(sd: 0.2)]
        let linePriors: [String: Prior] = ["a": .normal(mean: 0, sd: 2), "b": .normal(mean: 0, sd: 2), "noise": .halfnormal(sd: 0.2)]
        let structured = try BayesianFit.nuts(try StructuredGP(mean: physics, kernel: .matern52, x: one, y: y, priors: physicsPriors),
                                              sampler: NUTS(warmup: 150, samples: 150, seed: 4), chains: 2)
        let x0 = structured.summaries.first { $0.name == "x0" }!
        XCTAssertEqual(x0.mean, 0.2, accuracy: 0.06)
        XCTAssertLessThan(x0.q025, 0.2); XCTAssertGreaterThan(x0.q975, 0.2)
        let sampler = NUTS(warmup: 300, samples: 300, seed: 4)
        let a = try BayesianFit.nuts(try StructuredGP(mean: physics, kernel: nil, x: one, y: y, priors: physicsPriors), sampler: sampler, chains: 2)
        let b = try BayesianFit.nuts(try StructuredGP(mean: line, kernel: nil, x: one, y: y, priors: linePriors), sampler: sampler, chains: 2)
        XCTAssertGreaterThan(a.elpdLOO, b.elpdLOO + 3 * (a.seLOO * a.seLOO + b.seLOO * b.seLOO).squareRoot())
        XCTAssertGreaterThan(a.logMarginalLikelihood, b.logMarginalLikelihood + 10)
        XCTAssertEqual(a.summaries[1].mean, 0.2, accuracy: 0.03)
    }
}
