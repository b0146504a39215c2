import Foundation
import DKLCore

/// Acquisition functions: pure functions of the predictive mean, the (latent) standard
/// deviation and the best observed value. Every score is "higher is better"; with
/// `maximize: false` the problem is turned around (ξ then still asks for improvement).
public enum Acquisition: Sendable, Equatable {
    /// Expected improvement over `best` + ξ.
    case ei(xi: Double)
    /// log EI, finite and accurate for very negative u (Ament et al. 2023).
    case logEI(xi: Double)
    /// Probability of improvement over `best` + ξ.
    case pi(xi: Double)
    /// μ + √β·σ.
    case ucb(beta: Double)
    /// μ + κ·σ (the lecture's "mu + 10 sigma" is κ = 10).
    case kappa(Double)
    /// σ² (pure exploration).
    case maxVariance

    /// The score at one candidate.
    @inline(__always)
    public func score(mean: Double, sd: Double, best: Double, maximize: Bool = true) -> Double {
        let mu = maximize ? mean : -mean
        let b = maximize ? best : -best
        switch self {
        case let .ei(xi):
            let imp = mu - b - xi
            guard sd > 0 else { return max(imp, 0) }
            let u = imp / sd
            return sd * Normal.eiHelper(u)
        case let .logEI(xi):
            let imp = mu - b - xi
            guard sd > 0 else { return imp > 0 ? log(imp) : -.infinity }
            return log(sd) + Normal.logEIHelper(imp / sd)
        case let .pi(xi):
            guard sd > 0 else { return mu - b - xi > 0 ? 1 : 0 }
            return Normal.cdf((mu - b - xi) / sd)
        case let .ucb(beta): return mu + beta.squareRoot() * sd
        case let .kappa(k): return mu + k * sd
        case .maxVariance: return sd * sd
        }
    }

    /// Whether the score depends on the best observed value.
    public var needsBest: Bool {
        switch self {
        case .ei, .logEI, .pi: return true
        case .ucb, .kappa, .maxVariance: return false
        }
    }

    /// Scores for arrays of means and variances.
    public func scores(mean: [Double], variance: [Double], best: Double, maximize: Bool = true) -> [Double] {
        (0..<mean.count).map { score(mean: mean[$0], sd: max(variance[$0], 0).squareRoot(), best: best, maximize: maximize) }
    }

    /// `best` as acquisitions need it: the largest (or smallest) *observed* value.
    public static func best(observed: [Double], maximize: Bool = true) -> Double {
        maximize ? observed.max() ?? -.infinity : observed.min() ?? .infinity
    }
}

/// The standard normal distribution and the EI helpers h(u) = φ(u) + u·Φ(u).
public enum Normal {
    static let invSqrt2 = 1 / 2.0.squareRoot()
    static let logSqrt2Pi = 0.5 * log(2 * Double.pi)

    @inline(__always) public static func pdf(_ u: Double) -> Double { exp(-0.5 * u * u - logSqrt2Pi) }
    @inline(__always) public static func cdf(_ u: Double) -> Double { 0.5 * erfc(-u * invSqrt2) }

    /// h(u) = φ(u) + u·Φ(u), written through erfcx for u < 0 so it keeps its relative
    /// accuracy: h(u) = φ(u)·(1 − |u|·√(π/2)·erfcx(|u|/√2)).
    public static func eiHelper(_ u: Double) -> Double {
        if u > -1 { return pdf(u) + u * cdf(u) }
        return exp(logEIHelper(u))
    }

    /// log h(u), accurate for every u (for u ≪ 0 through the log of the erfcx form, as
    /// BoTorch's `_log_ei_helper` does).
    public static func logEIHelper(_ u: Double) -> Double {
        if u > -1 { return log(pdf(u) + u * cdf(u)) }
        let a = -u
        if a < 35 {
            // h(u) = φ(u)·(1 − a·√(π/2)·erfcx(a/√2)); the bracket is computed in log space.
            let t = log(a * erfcx(a * invSqrt2)) + 0.5 * log(Double.pi / 2)   // < 0
            return -0.5 * u * u - logSqrt2Pi + log1mexp(t)
        }
        // For large a the bracket is (1/a²)·(1 − 3/a² + 15/a⁴ − 105/a⁶ + 945/a⁸ − 10395/a¹⁰),
        // from the asymptotic series of erfcx, without the cancellation of 1 − (1 − 1/a²…).
        let y = 1 / (a * a)
        let series = 1 - 3 * y * (1 - 5 * y * (1 - 7 * y * (1 - 9 * y * (1 - 11 * y))))
        return -0.5 * u * u - logSqrt2Pi - 2 * log(a) + log(series)
    }

    /// log(1 − eˣ) for x < 0, accurate near 0 and for very negative x.
    @inline(__always) public static func log1mexp(_ x: Double) -> Double {
        x > -log(2.0) ? log(-expm1(x)) : log1p(-exp(x))
    }

    /// The scaled complementary error function erfcx(x) = e^{x²}·erfc(x), for x ≥ 0.
    public static func erfcx(_ x: Double) -> Double {
        if x < 25 { return exp(x * x) * erfc(x) }
        // Asymptotic series: (1/(x√π))·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + 105/(16x⁸)).
        let y = 1 / (2 * x * x)
        return (1 - y * (1 - 3 * y * (1 - 5 * y * (1 - 7 * y)))) / (x * Double.pi.squareRoot())
    }
}
