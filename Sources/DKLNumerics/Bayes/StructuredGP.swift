import Foundation
import DKLCore

/// A structured GP: y = m(x; θ) + f(x) + ε, the mean a physical model written in the
/// expression language, f ~ GP(0, s·k(x/ℓ)) and ε ~ N(0, σ²), every parameter with a
/// prior; or, without a kernel, the parametric model alone with Gaussian noise (Bayesian
/// inference of a known model). Its log posterior over the free parameters, in the
/// unconstrained coordinates the sampler moves in (log for positive parameters, logit for
/// bounded ones, with the Jacobian), with the analytic gradient.
public struct StructuredGP: Sendable {
    public enum Role: Sendable, Equatable { case mean(Int), lengthscale(Int), outputscale, noise }
    public struct Parameter: Sendable, Equatable {
        public let name: String
        public let prior: Prior
        public let role: Role
        /// Whether the prior came from the defaults (no --param).
        public let isDefault: Bool
    }

    public let mean: MeanExpression?
    public let kernel: Kernel?
    public let x: Matrix
    public let y: [Double]
    public let parameters: [Parameter]
    /// The inputs' names (the mean's, or x1…xd).
    public let inputNames: [String]
    /// The parameters that are not fixed, in order: the sampler's coordinates.
    public let free: [Int]
    /// At one input with a Matérn kernel, the likelihood's O(n) Kalman filter (exact).
    let stateSpace: MaternStateSpace?

    /// The default priors, scaled to the data (sd of y, range of each input): lengthscale
    /// lognormal(log(range/3), 1), outputscale lognormal(log(sd²), 1.5), noise variance
    /// lognormal(log(sd²/100), 2).
    public static func defaultPrior(_ role: Role, x: Matrix, y: [Double]) -> Prior {
        let mu = y.reduce(0, +) / Double(max(y.count, 1))
        var v = y.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(max(y.count - 1, 1))
        if !(v > 0) { v = 1 }
        switch role {
        case .lengthscale(let j):
            let col = (0..<x.rows).map { x.data[$0 * x.cols + j] }
            var range = (col.max() ?? 1) - (col.min() ?? 0)
            if !(range > 0) { range = 1 }
            return .lognormal(mu: Foundation.log(range / 3), sigma: 1)
        case .outputscale: return .lognormal(mu: Foundation.log(v), sigma: 1.5)
        case .noise: return .lognormal(mu: Foundation.log(v / 100), sigma: 2)
        case .mean: return .normal(mean: 0, sd: 1)
        }
    }

    /// The model over inputs `x` (n×d: the columns `mean`'s inputs name) and targets `y`.
    /// `priors` gives --param NAME=DIST: a mean parameter by its name, the kernel's as
    /// `lengthscale` (every input) or `lengthscale_<input>`, `outputscale`, `noise` (the
    /// noise variance). Every mean parameter needs one; the kernel's have defaults.
    public init(mean: MeanExpression?, kernel: Kernel?, x: Matrix, y: [Double], priors: [String: Prior], inputNames names: [String]? = nil) throws {
        precondition(x.rows == y.count)
        guard mean != nil || kernel != nil else { throw DKLError.usage("--kernel none needs a mean function (--mean EXPR)") }
        if let mean, mean.inputs.count != x.cols { throw DKLError.usage("the mean's inputs are \(mean.inputs.count), the data's \(x.cols)") }
        self.mean = mean; self.kernel = kernel; self.x = x; self.y = y
        var list: [Parameter] = []
        for (k, name) in (mean?.parameters ?? []).enumerated() {
            guard let p = priors[name] else { throw DKLError.usage("the mean's parameter '\(name)' needs a prior: --param \(name)=DIST (e.g. normal:0,1)") }
            list.append(Parameter(name: name, prior: p, role: .mean(k), isDefault: false))
        }
        let inputNames = mean?.inputs ?? names ?? (1...max(x.cols, 1)).map { "x\($0)" }
        self.inputNames = inputNames
        var roles: [(String, Role, [String])] = []
        if kernel != nil {
            for j in 0..<x.cols {
                roles.append((x.cols == 1 ? "lengthscale" : "lengthscale_\(inputNames[j])", .lengthscale(j), ["lengthscale_\(inputNames[j])", "lengthscale"]))
            }
            roles.append(("outputscale", .outputscale, ["outputscale"]))
        }
        roles.append(("noise", .noise, ["noise"]))
        for (name, role, keys) in roles {
            if list.contains(where: { $0.name == name }) { throw DKLError.usage("the mean's parameter '\(name)' has the name of the GP's; rename it") }
            if let p = keys.lazy.compactMap({ priors[$0] }).first {
                let positive: Bool
                switch p.support {
                case .positive: positive = true
                case let .interval(lo, _): positive = lo >= 0
                case .point: positive = p.centre > 0
                case .real: positive = false
                }
                guard positive else { throw DKLError.usage("--param \(name): the \(name) must be positive: give lognormal, halfnormal, gamma, uniform from 0 up, or fixed") }
                list.append(Parameter(name: name, prior: p, role: role, isDefault: false))
            } else {
                list.append(Parameter(name: name, prior: StructuredGP.defaultPrior(role, x: x, y: y), role: role, isDefault: true))
            }
        }
        let known = Set(list.map(\.name)).union(["lengthscale"]).union(inputNames.map { "lengthscale_\($0)" })
        for key in priors.keys.sorted() where !known.contains(key) {
            throw DKLError.usage("--param \(key): no parameter of that name (the model's: \(list.map(\.name).joined(separator: ", ")))")
        }
        parameters = list
        free = list.indices.filter { list[$0].prior.support != .point }
        stateSpace = x.cols == 1 && !StructuredGP.denseOnly ? kernel.flatMap { MaternStateSpace(kernel: $0, inputs: x.data) } : nil
    }

    /// Set (DKL_DENSE_LIKELIHOOD=1 in the environment) to evaluate every likelihood by the
    /// Cholesky factorization: for comparisons of the two paths.
    static let denseOnly = ProcessInfo.processInfo.environment["DKL_DENSE_LIKELIHOOD"] == "1"

    /// Whether the likelihood is evaluated by the Kalman filter (one input, a Matérn kernel).
    public var usesStateSpace: Bool { stateSpace != nil }

    /// The free parameters' starting point in unconstrained coordinates: each prior's centre.
    public var start: [Double] { free.map { parameters[$0].prior.unconstrain(parameters[$0].prior.centre) } }

    /// Every parameter's value (natural units) for the unconstrained free coordinates `u`.
    public func values(_ u: [Double]) -> [Double] {
        var theta = parameters.map { $0.prior.centre }
        for (k, i) in free.enumerated() { theta[i] = parameters[i].prior.constrain(u[k]).x }
        return theta
    }

    /// The unconstrained coordinates of parameter values.
    public func unconstrained(_ theta: [Double]) -> [Double] { free.map { parameters[$0].prior.unconstrain(theta[$0]) } }

    struct Split {
        var meanTheta: [Double] = [], lengthscales: [Double] = [], outputscale = 1.0, noise = 1.0
    }

    func split(_ theta: [Double]) -> Split {
        var s = Split()
        s.meanTheta = [Double](repeating: 0, count: mean?.parameters.count ?? 0)
        s.lengthscales = [Double](repeating: 1, count: x.cols)
        for (i, p) in parameters.enumerated() {
            switch p.role {
            case .mean(let k): s.meanTheta[k] = theta[i]
            case .lengthscale(let j): s.lengthscales[j] = theta[i]
            case .outputscale: s.outputscale = theta[i]
            case .noise: s.noise = theta[i]
            }
        }
        return s
    }

    /// The mean function's values at the data (zeros without one).
    public func meanValues(_ theta: [Double], at inputs: Matrix? = nil) -> [Double] {
        let xs = inputs ?? x
        guard let mean else { return [Double](repeating: 0, count: xs.rows) }
        return mean.values(xs, split(theta).meanTheta)
    }

    /// log p(y | θ) and its gradient in every parameter (natural units).
    public func logLikelihood(_ theta: [Double]) throws -> (value: Double, gradient: [Double]) {
        let s = split(theta)
        let n = y.count
        let m = meanValues(theta)
        let r = zip(y, m).map { $0 - $1 }
        var grad = [Double](repeating: 0, count: parameters.count)
        let value: Double
        let weights: [Double]
        if let stateSpace {
            let result = try stateSpace.evaluate(residuals: r, lengthscale: s.lengthscales[0], outputscale: s.outputscale, noise: s.noise)
            value = result.logLikelihood
            for (i, p) in parameters.enumerated() {
                switch p.role {
                case .lengthscale: grad[i] = result.gradient.lengthscale
                case .outputscale: grad[i] = result.gradient.outputscale
                case .noise: grad[i] = result.gradient.noise
                case .mean: break
                }
            }
            weights = result.alpha
        } else if let kernel {
            let result = try MarginalLikelihood.evaluate(inputs: x, targets: r, kernel: kernel,
                                                         parameters: GPParameters(lengthscales: s.lengthscales, outputscale: s.outputscale, noise: s.noise),
                                                         needsInputGradient: false)
            value = -Double(n) * result.loss
            let g = result.gradParameters.map { -Double(n) * $0 }
            for (i, p) in parameters.enumerated() {
                switch p.role {
                case .lengthscale(let j): grad[i] = g[j]
                case .outputscale: grad[i] = g[x.cols]
                case .noise: grad[i] = g[x.cols + 1]
                case .mean: break
                }
            }
            weights = result.alpha   // ∂/∂mᵢ = αᵢ
        } else {
            let v = s.noise
            let ss = r.reduce(0) { $0 + $1 * $1 }
            value = -0.5 * ss / v - 0.5 * Double(n) * Foundation.log(2 * Double.pi * v)
            for (i, p) in parameters.enumerated() where p.role == .noise { grad[i] = 0.5 * ss / (v * v) - 0.5 * Double(n) / v }
            weights = r.map { $0 / v }
        }
        if let mean, !mean.parameters.isEmpty {
            let g = mean.valuesAndGradient(x, s.meanTheta, weights: weights).gradient
            for (i, p) in parameters.enumerated() { if case .mean(let k) = p.role { grad[i] = g[k] } }
        }
        return (value, grad)
    }

    /// The log posterior (up to a constant) at the unconstrained free coordinates `u`, and
    /// its gradient there; −∞ where the model cannot be evaluated (a kernel matrix that is
    /// not positive definite, a mean that is not finite). Without the Jacobian (`jacobian`
    /// false) its maximum is the posterior mode in the parameters' own units (MAP).
    public func logPosterior(_ u: [Double], jacobian: Bool = true) -> (value: Double, gradient: [Double]) {
        let theta = values(u)
        let failed = (-Double.infinity, [Double](repeating: 0, count: u.count))
        guard let (ll, g) = try? logLikelihood(theta), ll.isFinite else { return failed }
        var total = ll
        var grad = [Double](repeating: 0, count: u.count)
        for (k, i) in free.enumerated() {
            let prior = parameters[i].prior
            let c = prior.constrain(u[k])
            let lp = prior.logDensity(c.x)
            total += lp.value + (jacobian ? c.logJacobian : 0)
            grad[k] = (g[i] + lp.derivative) * c.dx + (jacobian ? c.dLogJacobian : 0)
        }
        guard total.isFinite, grad.allSatisfy(\.isFinite) else { return failed }
        return (total, grad)
    }

    /// Each point's log predictive density given θ: log p(yᵢ | y₋ᵢ, θ) for the GP (exact
    /// leave-one-out of a Gaussian: mean yᵢ − αᵢ/[K⁻¹]ᵢᵢ, variance 1/[K⁻¹]ᵢᵢ), log p(yᵢ | θ)
    /// without one: what WAIC and PSIS-LOO weigh over the posterior draws.
    public func pointwiseLogDensities(_ theta: [Double]) throws -> [Double] {
        let s = split(theta)
        let r = zip(y, meanValues(theta)).map { $0 - $1 }
        guard let kernel else {
            return r.map { -0.5 * $0 * $0 / s.noise - 0.5 * Foundation.log(2 * Double.pi * s.noise) }
        }
        let post = try GPPosterior(inputs: x, targets: r, kernel: kernel, parameters: GPParameters(lengthscales: s.lengthscales, outputscale: s.outputscale, noise: s.noise))
        let inv = post.cholesky.inverse()
        return (0..<y.count).map { i in
            let d = inv[i, i]
            return -0.5 * post.alpha[i] * post.alpha[i] / d + 0.5 * Foundation.log(d / (2 * Double.pi))
        }
    }

    /// The prediction at `inputs` given θ: the mean m(x*) + the GP's posterior mean of the
    /// residuals, the latent variance, and the noise variance.
    public func predict(_ theta: [Double], at inputs: Matrix) throws -> (mean: [Double], variance: [Double], noise: Double) {
        let s = split(theta)
        let m = meanValues(theta, at: inputs)
        guard let kernel else { return (m, [Double](repeating: 0, count: inputs.rows), s.noise) }
        let r = zip(y, meanValues(theta)).map { $0 - $1 }
        let post = try GPPosterior(inputs: x, targets: r, kernel: kernel, parameters: GPParameters(lengthscales: s.lengthscales, outputscale: s.outputscale, noise: s.noise))
        let p = post.predict(inputs)
        return (zip(m, p.mean).map { $0 + $1 }, p.variance, s.noise)
    }
}
