import Foundation
import DKLCore
import DKLData

/// Applied-field histories for FerroSim, in units of Ec.
public enum FieldHistory {
    /// The lecture's family A·exp(α t)·sin(ω t) + B, sampled at `times`.
    public static func family(a: Double, alpha: Double, omega: Double, b: Double, times: [Double]) -> [Double] {
        times.map { a * exp(alpha * $0) * sin(omega * $0) + b }
    }

    /// Parses "A,alpha,omega,B" (the family's parameters).
    public static func parse(_ spec: String, option: String = "field", times: [Double]) throws -> [Double] {
        let v = try OptionList.doubles(spec, option: option, count: 4...4, what: "A,alpha,omega,B: A·exp(alpha·t)·sin(omega·t) + B")
        return family(a: v[0], alpha: v[1], omega: v[2], b: v[3], times: times)
    }

    /// Appends `steps` steps that hold the last value, continuing the time axis with its last step.
    public static func equilibrate(_ field: [(Double, Double)], times: [Double], steps: Int) -> ([(Double, Double)], [Double]) {
        guard steps > 0, let last = field.last, times.count >= 2 else { return (field, times) }
        let dt = times[times.count - 1] - times[times.count - 2]
        return (field + [(Double, Double)](repeating: last, count: steps),
                times + (1...steps).map { times[times.count - 1] + Double($0) * dt })
    }

    /// `count` times evenly spaced from 0 to `duration` (numpy's linspace).
    public static func linspace(_ count: Int, duration: Double) -> [Double] {
        count == 1 ? [0] : (0..<count).map { duration * Double($0) / Double(count - 1) }
    }
}

/// What the tools report per history.
public struct FerroSummary: Sendable {
    public var meanP: (Double, Double)
    public var sumAbsCurl: Double
    public var diverged: Bool
    public var magnitude: Double { (meanP.0 * meanP.0 + meanP.1 * meanP.1).squareRoot() }
    /// FerroSim_Env's reward: Σ|curl| / |⟨P⟩|.
    public var curlOverP: Double { sumAbsCurl / magnitude }

    public init(_ r: FerroSimulator.Result, n: Int) { self.init(state: r.a, n: n, diverged: r.diverged) }

    public init(state: Polarization, n: Int, diverged: Bool) {
        meanP = state.mean
        sumAbsCurl = state.curl(n: n).map(abs).reduce(0, +)
        self.diverged = diverged
    }
}
