import Foundation
import DKLCore

/// A prior on one parameter (`--param NAME=DIST`), with the map from an unconstrained
/// real u to the parameter's support that the sampler moves on: the identity on the real
/// line, exp for a positive parameter, lo + (hi − lo)·sigmoid(u) on an interval.
public enum Prior: Sendable, Equatable, CustomStringConvertible {
    case normal(mean: Double, sd: Double)
    case lognormal(mu: Double, sigma: Double)
    case halfnormal(sd: Double)
    case uniform(low: Double, high: Double)
    /// shape α, rate β.
    case gamma(shape: Double, rate: Double)
    case fixed(Double)

    public enum Support: Sendable, Equatable { case real, positive, interval(Double, Double), point }

    /// `normal:μ,σ`, `lognormal:μ,σ`, `halfnormal:σ`, `uniform:lo,hi`, `gamma:shape,rate`, `fixed:v`.
    public static func parse(_ text: String, name: String = "--param") throws -> Prior {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts[0]
        let args = parts.count > 1 ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) } : []
        let forms = "normal:μ,σ, lognormal:μ,σ, halfnormal:σ, uniform:lo,hi, gamma:shape,rate or fixed:v"
        guard args.allSatisfy({ $0 != nil && $0!.isFinite }) else { throw DKLError.usage("\(name): '\(text)' has a value that is not a finite number (\(forms))") }
        let v = args.map { $0! }
        func need(_ n: Int) throws { if v.count != n { throw DKLError.usage("\(name): \(kind) takes \(n) number\(n == 1 ? "" : "s"): '\(text)' (\(forms))") } }
        switch kind {
        case "normal":
            try need(2); guard v[1] > 0 else { throw DKLError.usage("\(name): normal's σ must be positive: '\(text)'") }
            return .normal(mean: v[0], sd: v[1])
        case "lognormal":
            try need(2); guard v[1] > 0 else { throw DKLError.usage("\(name): lognormal's σ must be positive: '\(text)'") }
            return .lognormal(mu: v[0], sigma: v[1])
        case "halfnormal":
            try need(1); guard v[0] > 0 else { throw DKLError.usage("\(name): halfnormal's σ must be positive: '\(text)'") }
            return .halfnormal(sd: v[0])
        case "uniform":
            try need(2); guard v[1] > v[0] else { throw DKLError.usage("\(name): uniform needs lo < hi: '\(text)'") }
            return .uniform(low: v[0], high: v[1])
        case "gamma":
            try need(2); guard v[0] > 0, v[1] > 0 else { throw DKLError.usage("\(name): gamma's shape and rate must be positive: '\(text)'") }
            return .gamma(shape: v[0], rate: v[1])
        case "fixed":
            try need(1)
            return .fixed(v[0])
        default:
            throw DKLError.usage("\(name): unknown distribution '\(kind)' (\(forms))")
        }
    }

    /// Priors by name from `--param NAME=DIST` texts (a name given twice is an error).
    public static func assignments(_ texts: [String]) throws -> [String: Prior] {
        var priors: [String: Prior] = [:]
        for p in texts {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw DKLError.usage("--param must be NAME=DIST, not '\(p)'") }
            let name = String(p[..<eq])
            guard priors[name] == nil else { throw DKLError.usage("--param \(name) is given twice") }
            priors[name] = try Prior.parse(String(p[p.index(after: eq)...]), name: "--param \(name)")
        }
        return priors
    }

    public var description: String {
        switch self {
        case let .normal(m, s): return "normal:\(m),\(s)"
        case let .lognormal(m, s): return "lognormal:\(m),\(s)"
        case let .halfnormal(s): return "halfnormal:\(s)"
        case let .uniform(lo, hi): return "uniform:\(lo),\(hi)"
        case let .gamma(a, b): return "gamma:\(a),\(b)"
        case let .fixed(v): return "fixed:\(v)"
        }
    }

    public var support: Support {
        switch self {
        case .normal: return .real
        case .lognormal, .halfnormal, .gamma: return .positive
        case let .uniform(lo, hi): return .interval(lo, hi)
        case .fixed: return .point
        }
    }

    /// log p(x) (normalized) and d/dx; −∞ outside the support.
    public func logDensity(_ x: Double) -> (value: Double, derivative: Double) {
        let halfLog2Pi = 0.5 * Foundation.log(2 * Double.pi)
        switch self {
        case let .normal(m, s):
            let z = (x - m) / s
            return (-0.5 * z * z - Foundation.log(s) - halfLog2Pi, -z / s)
        case let .lognormal(m, s):
            guard x > 0 else { return (-.infinity, 0) }
            let z = (Foundation.log(x) - m) / s
            return (-0.5 * z * z - Foundation.log(s * x) - halfLog2Pi, (-z / s - 1) / x)
        case let .halfnormal(s):
            guard x >= 0 else { return (-.infinity, 0) }
            let z = x / s
            return (-0.5 * z * z - Foundation.log(s) - halfLog2Pi + Foundation.log(2), -z / s)
        case let .uniform(lo, hi):
            return x >= lo && x <= hi ? (-Foundation.log(hi - lo), 0) : (-.infinity, 0)
        case let .gamma(a, b):
            guard x > 0 else { return (-.infinity, 0) }
            return (a * Foundation.log(b) - lgamma(a) + (a - 1) * Foundation.log(x) - b * x, (a - 1) / x - b)
        case let .fixed(v):
            return x == v ? (0, 0) : (-.infinity, 0)
        }
    }

    /// The parameter for the unconstrained u, log |dx/du| and its derivative in u.
    public func constrain(_ u: Double) -> (x: Double, logJacobian: Double, dLogJacobian: Double, dx: Double) {
        switch support {
        case .real: return (u, 0, 0, 1)
        case .positive:
            let x = Foundation.exp(u)
            return (x, u, 1, x)
        case let .interval(lo, hi):
            let s = Activations.sigmoid(u)
            // log σ(u) + log(1 − σ(u)) = −softplus(−u) − softplus(u)
            return (lo + (hi - lo) * s, Foundation.log(hi - lo) - Activations.softplus(-u) - Activations.softplus(u), 1 - 2 * s, (hi - lo) * s * (1 - s))
        case .point:
            if case let .fixed(v) = self { return (v, 0, 0, 0) }
            return (u, 0, 0, 1)
        }
    }

    /// The unconstrained u of a value x inside the support.
    public func unconstrain(_ x: Double) -> Double {
        switch support {
        case .real, .point: return x
        case .positive: return Foundation.log(max(x, 1e-300))
        case let .interval(lo, hi):
            let p = min(max((x - lo) / (hi - lo), 1e-12), 1 - 1e-12)
            return Foundation.log(p / (1 - p))
        }
    }

    /// A draw from the prior.
    public func sample(_ rng: inout Xoshiro) -> Double {
        switch self {
        case let .normal(m, s): return m + s * rng.normal()
        case let .lognormal(m, s): return Foundation.exp(m + s * rng.normal())
        case let .halfnormal(s): return Swift.abs(s * rng.normal())
        case let .uniform(lo, hi): return lo + (hi - lo) * rng.uniform()
        case let .gamma(a, b): return Prior.gammaDraw(a, &rng) / b
        case let .fixed(v): return v
        }
    }

    /// The prior's median, where a chain may start (the interval's middle).
    public var centre: Double {
        switch self {
        case let .normal(m, _): return m
        case let .lognormal(m, _): return Foundation.exp(m)
        case let .halfnormal(s): return 0.6745 * s
        case let .uniform(lo, hi): return (lo + hi) / 2
        case let .gamma(a, b): return max(a - 1.0 / 3 + 0.02 / a, 1e-3) / b
        case let .fixed(v): return v
        }
    }

    /// Marsaglia and Tsang's gamma(α, 1) draw (α < 1 by the boost U^(1/α)).
    static func gammaDraw(_ a: Double, _ rng: inout Xoshiro) -> Double {
        if a < 1 { return gammaDraw(a + 1, &rng) * Foundation.pow(max(rng.uniform(), 1e-300), 1 / a) }
        let d = a - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat { x = rng.normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = rng.uniform()
            if u < 1 - 0.0331 * x * x * x * x || Foundation.log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }
}
