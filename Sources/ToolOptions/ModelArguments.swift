import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging
import DeepKernel
import VAE
import DKLCommandLine

/// Options that several tools share beyond the common ones: the acquisition function's
/// parameters, the model's kernel and widths, how patches are cut. One parser each, so the
/// tools accept and check them the same way.
extension Option {
    /// --xi, --beta, --kappa and --minimize (the tool declares -a itself: its choices differ).
    public static let acquisitionParameters: [Option] = [
        Option("xi", value: "X", help: "ei, logei, pi: improvement asked beyond the best, in target units (default 0.01)"),
        Option("beta", value: "B", help: "ucb: mean + sqrt(B)·sd (default 4)"),
        Option("kappa", value: "K", help: "kappa: mean + K·sd (default 10, the lecture's mu + 10 sigma)"),
        Option("minimize", help: "look for the smallest value instead of the largest"),
    ]

    /// The model of an active loop, retrained at every step (dkl-explore, dkl-replay).
    public static let stepModel: [Option] = [
        Option("iterations", "n", value: "N", help: "training iterations per step (default 100)"),
        Option("ensemble", value: "K", help: "models per step, combined (default 4)"),
        Option("embedding", "e", value: "N", help: "embedding dimensions (default 4)"),
        Option("kernel", "k", value: "NAME", help: "rbf, matern12, matern32, matern52 (default)"),
        Option("hidden", value: "A,B,...", help: "hidden widths of the MLP (default 64,64)"),
        Option("lr", value: "X", help: "learning rate (default 0.01)"),
        Option("extractor", value: "mlp|none", help: "feature network (default mlp; none: a GP on the patches themselves)"),
        Option.precision, Option.noise,
    ]

    /// --noise: the measurements' noise model.
    public static let noise = Option("noise", value: "MODEL",
                                     help: "homoscedastic (default: one learnt variance), measured (each point's own variance, NAME_var, over a learnt floor) or learnt (a noise model over the embedding)")

    /// --precision: the variance product's arithmetic when a model predicts.
    public static let precision = Option("precision", value: "single|double",
                                         help: "the variance product's arithmetic: single (default: float32 where each model's probes find it within 1e-5 of float64) or double")
}

extension Arguments {
    /// The acquisition function named by -a (default ei) with --xi, --beta and --kappa;
    /// nil for a name in `others` that the tool handles itself (e.g. thompson).
    public func acquisition(others: [String] = [], default d: String = "ei") throws -> (function: Acquisition?, name: String) {
        let name = string("acquisition") ?? d
        let xi = try double("xi", default: 0.01), beta = try double("beta", default: 4), kappa = try double("kappa", default: 10)
        guard xi.isFinite, beta >= 0, beta.isFinite, kappa.isFinite else { throw DKLError.usage("--xi and --kappa must be numbers, --beta not negative") }
        switch name {
        case "ei": return (.ei(xi: xi), name)
        case "logei": return (.logEI(xi: xi), name)
        case "pi": return (.pi(xi: xi), name)
        case "ucb": return (.ucb(beta: beta), name)
        case "kappa": return (.kappa(kappa), name)
        case "maxvar": return (.maxVariance, name)
        case _ where others.contains(name): return (nil, name)
        default:
            throw DKLError.usage("unknown acquisition '\(name)' (\((["ei", "logei", "pi", "ucb", "kappa", "maxvar"] + others).joined(separator: ", ")))")
        }
    }

    /// The step model's configuration from `Option.stepModel` and --seed: 100 iterations,
    /// four members, each warm-started from the previous step's.
    /// With `allowsNone`, --kernel none is accepted (a structured GP's) and the DKL
    /// configuration keeps its default kernel.
    public func stepModelConfig(allowsNone: Bool = false) throws -> DKLConfig {
        var config = DKLConfig()
        config.seed = try seed()
        config.iterations = try int("iterations", default: 100, range: 1...10_000_000)
        config.ensemble = try int("ensemble", default: 4, range: 1...100)
        config.embedding = try int("embedding", default: config.embedding, range: 1...64)
        config.learningRate = try learningRate(default: config.learningRate)
        if !(allowsNone && string("kernel") == "none") { config.kernel = try kernel(default: config.kernel) }
        if allowsNone { config.extractor = .none }
        config.hidden = try hiddenWidths(default: config.hidden)
        if let e = string("extractor") {
            guard e == "mlp" || e == "none", let x = DKLConfig.Extractor(rawValue: e) else { throw DKLError.usage("--extractor must be mlp or none") }
            config.extractor = x
        }
        config.variancePrecision = try variancePrecision() ?? config.variancePrecision
        config.noise = try noiseModel()
        return config
    }

    /// --noise (default homoscedastic).
    public func noiseModel() throws -> DKLConfig.NoiseModel {
        guard let n = string("noise") else { return .homoscedastic }
        guard let m = DKLConfig.NoiseModel(rawValue: n) else { throw DKLError.usage("--noise must be homoscedastic, measured or learnt, not '\(n)'") }
        return m
    }

    /// --precision, when given.
    public func variancePrecision() throws -> VariancePrecision? {
        guard let p = string("precision") else { return nil }
        guard let v = VariancePrecision(rawValue: p) else { throw DKLError.usage("--precision must be single or double, not '\(p)'") }
        return v
    }

    /// --kernel, or `d`.
    /// --prior-lengthscale, --prior-outputscale, --prior-noise SHAPE,RATE: Gamma priors (MAP training).
    public func gpPriors() throws -> GPPriors {
        func gamma(_ name: String) throws -> GPPriors.Gamma? {
            guard let text = string(name) else { return nil }
            let v = try OptionList.doubles(text, option: name, count: 2...2, what: "SHAPE,RATE")
            guard v.allSatisfy({ $0 > 0 }) else { throw DKLError.usage("--\(name) must be SHAPE,RATE with positive numbers") }
            return GPPriors.Gamma(shape: v[0], rate: v[1])
        }
        return GPPriors(lengthscale: try gamma("prior-lengthscale"), outputscale: try gamma("prior-outputscale"), noise: try gamma("prior-noise"))
    }

    public func kernel(default d: Kernel) throws -> Kernel {
        guard let k = string("kernel") else { return d }
        guard let kernel = Kernel(rawValue: k) else { throw DKLError.usage("--kernel must be rbf, matern12, matern32 or matern52") }
        return kernel
    }

    /// --hidden A,B,…, or `d`.
    public func hiddenWidths(default d: [Int]) throws -> [Int] { try widths("hidden", default: d) }

    /// A list of layer widths A,B,… given by `option`, or `d`.
    public func widths(_ option: String, default d: [Int]) throws -> [Int] {
        guard let text = string(option) else { return d }
        return try OptionList.ints(text, option: option, range: 1...65536, what: "widths like 64,64")
    }

    /// --lr, or `d`, positive.
    public func learningRate(default d: Double) throws -> Double {
        let lr = try double("lr", default: d)
        guard lr > 0, lr.isFinite else { throw DKLError.usage("--lr must be a positive number") }
        return lr
    }
}
