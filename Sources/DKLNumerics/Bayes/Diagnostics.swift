import Foundation

/// Convergence diagnostics of MCMC draws (chains × draws of one quantity), after Vehtari,
/// Gelman, Simpson, Carpenter and Bürkner (2021): the rank-normalized split R̂ (the larger
/// of the bulk's and the tails', through the folded draws) and the bulk effective sample
/// size (Geyer's initial monotone sequence on rank-normalized split chains).
public enum MCMCDiagnostics {
    /// Split R̂ (rank-normalized, bulk and folded; their maximum).
    public static func rhat(_ chains: [[Double]]) -> Double {
        let split = splitChains(chains)
        guard split.count >= 2, split[0].count >= 2 else { return .nan }
        let bulk = classicRhat(rankNormalized(split))
        let median = quantile(split.flatMap { $0 }, 0.5)
        let folded = classicRhat(rankNormalized(split.map { $0.map { Swift.abs($0 - median) } }))
        return max(bulk, folded)
    }

    /// Bulk effective sample size (rank-normalized split chains).
    public static func bulkESS(_ chains: [[Double]]) -> Double {
        let split = splitChains(chains)
        guard split.count >= 1, split[0].count >= 4 else { return .nan }
        return ess(rankNormalized(split))
    }

    /// The effective sample size of the draws themselves (for the mean's Monte-Carlo error).
    public static func meanESS(_ chains: [[Double]]) -> Double {
        let split = splitChains(chains)
        guard split.count >= 1, split[0].count >= 4 else { return .nan }
        return ess(split)
    }

    /// The Monte-Carlo standard error of the mean: sd / √ESS.
    public static func meanStandardError(_ chains: [[Double]]) -> Double {
        let all = chains.flatMap { $0 }
        let m = all.reduce(0, +) / Double(all.count)
        let sd = (all.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(all.count - 1, 1))).squareRoot()
        return sd / meanESS(chains).squareRoot()
    }

    /// The Monte-Carlo standard error of the sd, by the delta method from the fourth
    /// central moment and the effective sample size of the squared deviations:
    /// √((μ₄ − σ⁴) / (4σ²·ESS)). A heavy tail (a lengthscale's) makes it large where the
    /// normal theory's σ/√(2·ESS) would promise an sd it cannot deliver.
    public static func sdStandardError(_ chains: [[Double]]) -> Double {
        let all = chains.flatMap { $0 }
        guard all.count >= 8 else { return .nan }
        let m = all.reduce(0, +) / Double(all.count)
        let squares = chains.map { $0.map { ($0 - m) * ($0 - m) } }
        let flat = squares.flatMap { $0 }
        let v = flat.reduce(0, +) / Double(all.count - 1)
        let m4 = flat.reduce(0) { $0 + $1 * $1 } / Double(all.count)
        guard v > 0 else { return 0 }
        return (max(m4 - v * v, 0) / (4 * v * meanESS(squares))).squareRoot()
    }

    /// Each chain cut into halves (an odd middle draw dropped).
    static func splitChains(_ chains: [[Double]]) -> [[Double]] {
        chains.flatMap { c -> [[Double]] in
            let h = c.count / 2
            return [Array(c[0..<h]), Array(c[(c.count - h)...])]
        }
    }

    /// Ranks of all draws together (ties averaged), mapped through Φ⁻¹((r − 3/8)/(S + 1/4)).
    static func rankNormalized(_ chains: [[Double]]) -> [[Double]] {
        let all = chains.flatMap { $0 }
        let order = all.indices.sorted { all[$0] < all[$1] }
        var rank = [Double](repeating: 0, count: all.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && all[order[j + 1]] == all[order[i]] { j += 1 }
            let r = Double(i + j) / 2 + 1
            for k in i...j { rank[order[k]] = r }
            i = j + 1
        }
        let s = Double(all.count)
        var out: [[Double]] = []
        var k = 0
        for c in chains {
            out.append(c.indices.map { _ in defer { k += 1 }; return inverseNormal((rank[k] - 0.375) / (s + 0.25)) })
        }
        return out
    }

    /// R̂ = √(var⁺/W), var⁺ = (N−1)/N·W + B/N.
    static func classicRhat(_ chains: [[Double]]) -> Double {
        let m = Double(chains.count), n = Double(chains[0].count)
        let means = chains.map { $0.reduce(0, +) / n }
        let vars = zip(chains, means).map { c, mu in c.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / (n - 1) }
        let grand = means.reduce(0, +) / m
        let b = n / (m - 1) * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) }
        let w = vars.reduce(0, +) / m
        guard w > 0 else { return b > 0 ? .infinity : 1 }
        return (((n - 1) / n * w + b / n) / w).squareRoot()
    }

    /// ESS = M·N/τ with τ = −1 + 2·Σ P̂ₜ, the paired autocorrelations P̂ₜ = ρ̂₂ₜ + ρ̂₂ₜ₊₁
    /// summed while positive and kept monotone (Geyer), ρ̂ from the chains' autocovariances
    /// and the between-chain variance (Stan's estimator); at most M·N·log₁₀(M·N).
    static func ess(_ chains: [[Double]]) -> Double {
        let m = chains.count, n = chains[0].count
        let means = chains.map { $0.reduce(0, +) / Double(n) }
        let acov: [[Double]] = zip(chains, means).map { c, mu in
            let d = c.map { $0 - mu }
            return (0..<n).map { t in (0..<(n - t)).reduce(0) { $0 + d[$1] * d[$1 + t] } / Double(n) }
        }
        let chainVar = acov.map { $0[0] * Double(n) / Double(n - 1) }
        let w = chainVar.reduce(0, +) / Double(m)
        let grand = means.reduce(0, +) / Double(m)
        let b = m > 1 ? Double(n) / Double(m - 1) * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) } : 0
        let varPlus = Double(n - 1) / Double(n) * w + b / Double(n)
        guard varPlus > 0 else { return .nan }
        func rho(_ t: Int) -> Double { 1 - (w - acov.map { $0[t] }.reduce(0, +) / Double(m)) / varPlus }
        var sum = 0.0, previous = Double.infinity
        var t = 0
        while t + 1 < n {
            var pair = rho(t) + rho(t + 1)
            if pair < 0 { break }
            pair = min(pair, previous)   // monotone
            previous = pair
            sum += pair
            t += 2
        }
        let tau = max(-1 + 2 * sum, 1 / Foundation.log10(Double(m * n)))
        return Double(m * n) / tau
    }

    static func quantile(_ x: [Double], _ p: Double) -> Double {
        let s = x.sorted()
        let h = Double(s.count - 1) * p
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
    }

    /// Φ⁻¹(p) (Acklam's rational approximation refined by one Halley step; |error| < 1e-15).
    public static func inverseNormal(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p <= 0 ? -.infinity : .infinity }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * Foundation.log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p > 1 - 0.02425 {
            let q = (-2 * Foundation.log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * Foundation.exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }
}
