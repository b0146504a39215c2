import Foundation
import DKLCore
import DKLData

/// A grid over FerroSIM's Hamiltonian parameters: each axis NAME=LO:HI:N gives N values
/// from LO to HI (evenly spaced); the points are every combination, row-major (the last
/// axis fastest), so that two axes make an N1×N2 grid with the point (y, x) at index
/// y·N2 + x.
public struct ParameterSweep: Sendable {
    public struct Axis: Sendable {
        public var name: String
        public var values: [Double]
        /// The parameter's stream field name (dep-alpha → dep_alpha).
        public var field: String { name.replacingOccurrences(of: "-", with: "_") }
    }
    public var axes: [Axis]

    /// The parameters a sweep may vary: the coupling K, the depolarization α_dep, the
    /// relaxation rate γ and the three Landau coefficients.
    public static let names = ["k", "dep-alpha", "gamma", "a1", "a2", "a3"]

    public static func parse(_ specs: [String]) throws -> ParameterSweep {
        var axes: [Axis] = []
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, names.contains(parts[0]) else {
                throw DKLError.usage("--sweep '\(spec)': give NAME=LO:HI:N with NAME one of \(names.joined(separator: ", "))")
            }
            guard !axes.contains(where: { $0.name == parts[0] }) else { throw DKLError.usage("--sweep: '\(parts[0])' is swept twice") }
            let r = parts[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard r.count == 3, let lo = Double(r[0]), let hi = Double(r[1]), let n = Int(r[2]), lo.isFinite, hi.isFinite, n >= 1, n <= 1_000_000 else {
                throw DKLError.usage("--sweep '\(spec)': the range is LO:HI:N (numbers, and N from 1 to 1000000)")
            }
            axes.append(Axis(name: parts[0], values: n == 1 ? [lo] : (0..<n).map { lo + (hi - lo) * Double($0) / Double(n - 1) }))
        }
        let total = axes.reduce(1.0) { $0 * Double($1.values.count) }
        guard total <= 100_000_000 else { throw DKLError.usage("--sweep: \(Int(total)) points are too many (at most 100000000)") }
        return ParameterSweep(axes: axes)
    }

    public var count: Int { axes.reduce(1) { $0 * $1.values.count } }

    /// The grid indices of point i (row-major).
    public func indices(_ i: Int) -> [Int] {
        var rest = i
        var out = [Int](repeating: 0, count: axes.count)
        for a in axes.indices.reversed() {
            out[a] = rest % axes[a].values.count
            rest /= axes[a].values.count
        }
        return out
    }

    /// The parameter values of point i.
    public func point(_ i: Int) -> [Double] { zip(axes, indices(i)).map { $0.values[$1] } }

    /// `model` with point i's parameters.
    public func model(_ i: Int, from model: FerroModel) -> FerroModel {
        var m = model
        for (axis, v) in zip(axes, point(i)) {
            switch axis.name {
            case "k": m.k = [Double](repeating: v, count: m.sites)
            case "dep-alpha": m.depAlpha = [Double](repeating: v, count: m.sites)
            case "gamma": m.gamma = v
            case "a1": m.alpha.0 = v
            case "a2": m.alpha.1 = v
            default: m.alpha.2 = v
            }
        }
        return m
    }
}
