import Foundation

/// How well a Gaussian prediction matches known values: the error of the mean, the
/// negative log predictive density, the share of values within ±2σ and the mean squared
/// standardized error (1 for a calibrated model). The one implementation behind the
/// trainer's held-out score and dkl-replay's map error.
public struct PredictiveScore: Sendable, Equatable {
    public var count = 0
    public var rmse = Double.nan
    /// Mean of ½log(2πv) + e²/(2v).
    public var nlpd = Double.nan
    /// Share of the values with |e| ≤ 2√v.
    public var coverage = Double.nan
    /// Mean of e²/v.
    public var meanSquaredZ = Double.nan

    /// Scores predictions (means and predictive variances, noise included) against `truth`
    /// at `indices` (default: all), summed in index order.
    public init(mean: [Double], variance: [Double], truth: [Double], indices: [Int]? = nil) {
        precondition(mean.count == variance.count && mean.count == truth.count)
        var se = 0.0, nl = 0.0, z = 0.0, inside = 0, n = 0
        func add(_ k: Int) {
            let v = variance[k], e = mean[k] - truth[k]
            se += e * e
            nl += 0.5 * log(2 * .pi * v) + e * e / (2 * v)
            z += e * e / v
            if abs(e) <= 2 * v.squareRoot() { inside += 1 }
            n += 1
        }
        if let indices { for k in indices { add(k) } } else { for k in mean.indices { add(k) } }
        guard n > 0 else { return }
        count = n
        rmse = (se / Double(n)).squareRoot()
        nlpd = nl / Double(n)
        coverage = Double(inside) / Double(n)
        meanSquaredZ = z / Double(n)
    }
}

/// The known values of a property ranked best first (largest when maximizing): the rank of
/// a value and the threshold of the top 1%.
public struct TruthRanking: Sendable {
    public let maximize: Bool
    /// Best first.
    public let ranked: [Double]

    public init(_ values: [Double], maximize: Bool) {
        self.maximize = maximize
        ranked = values.sorted(by: maximize ? (>) : (<))
    }

    /// The number of values in the top 1% (at least one).
    public var topCount: Int { max(1, Int((Double(ranked.count) / 100).rounded(.up))) }
    /// The worst value of the top 1%.
    public var topValue: Double { ranked[topCount - 1] }
    /// Whether v is as good as the top 1%'s worst.
    public func isTop(_ v: Double) -> Bool { v.isFinite && (maximize ? v >= topValue : v <= topValue) }
    /// 1 + how many values are strictly better than v.
    public func rank(_ v: Double) -> Int { 1 + ranked.prefix { maximize ? $0 > v : $0 < v }.count }
}
