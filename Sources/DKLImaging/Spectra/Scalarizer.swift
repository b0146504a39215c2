import Foundation
import DKLCore
import DKLData

/// A scalarizer turns one spectrum into the property of interest: a band integral, mean or
/// maximum, a ratio of two band integrals, a peak's energy or prominence, or a fitted
/// peak's parameters. Bands are in eV, ends included.
///
/// Written `[NAME=]KIND:ARGS`:
///
///     integral:LO:HI   mean:LO:HI   max:LO:HI   ratio:LO1:HI1:LO2:HI2
///     peak:LO:HI       prominence:LO:HI         fit:gauss|lorentz:LO:HI
///     edge:PRE_LO:PRE_HI:LO:HI
///     edgeratio:PRE_LO:PRE_HI:LO:HI:PRE_LO2:PRE_HI2:LO2:HI2
///
/// An edge is the EELS core-loss recipe: a power law A·E^−r fitted to the pre-edge window
/// (least squares of log counts on log energy) and extrapolated under the edge, whose
/// integral above it is the value. An edge ratio is the first edge's value over the
/// second's (the same recipe on each: a composition ratio such as Ti L2,3 over O K).
///
/// A fit gives five fields NAME_centre, NAME_height, NAME_fwhm, NAME_area, NAME_r2.
public struct Scalarizer: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case integral(ClosedRange<Double>)
        case mean(ClosedRange<Double>)
        case max(ClosedRange<Double>)
        case ratio(ClosedRange<Double>, ClosedRange<Double>)
        case peak(ClosedRange<Double>)
        case prominence(ClosedRange<Double>)
        case fit(PeakFit.Shape, ClosedRange<Double>)
        /// A power-law background fitted over the first window, the edge's integral over the second.
        case edge(pre: ClosedRange<Double>, ClosedRange<Double>)
        /// Two edges, each over its own power-law background: the first's integral over the second's.
        case edgeRatio(pre: ClosedRange<Double>, ClosedRange<Double>, pre2: ClosedRange<Double>, ClosedRange<Double>)
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) { self.name = name; self.kind = kind }

    /// The output fields, in order.
    public var fieldNames: [String] {
        if case .fit = kind { return ["centre", "height", "fwhm", "area", "r2"].map { name + "_" + $0 } }
        return [name]
    }

    public static func parse(_ text: String) throws -> Scalarizer {
        var name: String?
        var spec = Substring(text)
        if let eq = text.firstIndex(of: "=") {
            name = String(text[..<eq])
            spec = text[text.index(after: eq)...]
            guard let n = name, !n.isEmpty, n.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !n.first!.isNumber else {
                throw DKLError.usage("a scalarizer's name must be letters, digits and '_', not '\(name ?? "")'")
            }
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func band(_ i: Int) throws -> ClosedRange<Double> { try EnergyAxis.band(parts[i] + ":" + parts[i + 1]) }
        func expect(_ count: Int) throws {
            guard parts.count == count else { throw DKLError.usage("'\(text)': \(parts[0]) takes \(count - 1) values separated by ':'") }
        }
        let kind: Kind
        switch parts[0] {
        case "integral": try expect(3); kind = .integral(try band(1))
        case "mean": try expect(3); kind = .mean(try band(1))
        case "max": try expect(3); kind = .max(try band(1))
        case "peak": try expect(3); kind = .peak(try band(1))
        case "prominence": try expect(3); kind = .prominence(try band(1))
        case "ratio": try expect(5); kind = .ratio(try band(1), try band(3))
        case "edge":
            try expect(5)
            let (pre, edge) = (try band(1), try band(3))
            guard pre.upperBound <= edge.lowerBound, pre.lowerBound > 0 else {
                throw DKLError.usage("'\(text)': the pre-edge window must lie below the edge, at positive energies")
            }
            kind = .edge(pre: pre, edge)
        case "edgeratio":
            try expect(9)
            let (pre, edge, pre2, edge2) = (try band(1), try band(3), try band(5), try band(7))
            guard pre.upperBound <= edge.lowerBound, pre.lowerBound > 0, pre2.upperBound <= edge2.lowerBound, pre2.lowerBound > 0 else {
                throw DKLError.usage("'\(text)': each pre-edge window must lie below its edge, at positive energies")
            }
            kind = .edgeRatio(pre: pre, edge, pre2: pre2, edge2)
        case "fit":
            try expect(4)
            guard let shape = PeakFit.Shape(rawValue: parts[1]) else { throw DKLError.usage("'\(text)': the peak shape must be gauss or lorentz") }
            kind = .fit(shape, try band(2))
        default:
            throw DKLError.usage("unknown scalarizer '\(parts[0])' (integral, mean, max, ratio, peak, prominence, fit, edge, edgeratio)")
        }
        return Scalarizer(name: name ?? parts.joined(separator: "_").replacingOccurrences(of: ".", with: "p").replacingOccurrences(of: "-", with: "m"), kind: kind)
    }

    /// The scalarizer bound to an energy axis: channel ranges resolved once.
    public struct Bound: Sendable {
        public let scalarizer: Scalarizer
        let energies: [Double]
        /// Channel width for integrals: the step of a uniform axis, else half the distance
        /// between a channel's neighbours.
        let widths: [Double]
        let first: [Int], second: [Int]
        /// An edge ratio's second edge and its pre-edge window.
        let third: [Int], fourth: [Int]

        /// The values (one, or five for a fit) for one spectrum; NaN when the spectrum holds
        /// NaN in the band or a fit fails (the second result says which: 1 NaN, 2 no fit).
        public func evaluate(_ s: UnsafeBufferPointer<Double>) -> (values: [Double], flags: UInt8) {
            let nan = [Double](repeating: .nan, count: scalarizer.fieldNames.count)
            for c in first where !s[c].isFinite { return (nan, 1) }
            for c in second where !s[c].isFinite { return (nan, 1) }
            for c in third where !s[c].isFinite { return (nan, 1) }
            for c in fourth where !s[c].isFinite { return (nan, 1) }
            func integral(_ cs: [Int]) -> Double { cs.reduce(0.0) { $0 + s[$1] * widths[$1] } }
            switch scalarizer.kind {
            case .integral: return ([integral(first)], 0)
            case .mean: return ([first.reduce(0.0) { $0 + s[$1] } / Double(first.count)], 0)
            case .max: return ([first.map { s[$0] }.max()!], 0)
            case .ratio: return ([integral(first) / integral(second)], 0)
            case .peak:
                var top = first[0]
                for c in first where s[c] > s[top] { top = c }
                // Sub-channel: the vertex of the parabola through the top and its neighbours.
                if top > first[0] && top < first[first.count - 1] {
                    let (l, m, r) = (s[top - 1], s[top], s[top + 1])
                    let d = l - 2 * m + r
                    if d < 0 {
                        let t = 0.5 * (l - r) / d
                        let e = t >= 0 ? energies[top] + t * (energies[top + 1] - energies[top]) : energies[top] + t * (energies[top] - energies[top - 1])
                        return ([e], 0)
                    }
                }
                return ([energies[top]], 0)
            case .prominence:
                var top = first[0]
                for c in first where s[c] > s[top] { top = c }
                let left = first.filter { $0 <= top }.map { s[$0] }.min()!, right = first.filter { $0 >= top }.map { s[$0] }.min()!
                return ([s[top] - Swift.max(left, right)], 0)
            case let .fit(shape, _):
                guard let f = PeakFit.fit(shape, energies: first.map { energies[$0] }, values: first.map { s[$0] }) else { return (nan, 2) }
                return ([f.centre, f.height, f.fwhm, f.area, f.r2], 0)
            case .edge:
                guard let value = edge(first, above: second, s) else { return (nan, 2) }
                return ([value], 0)
            case .edgeRatio:
                guard let a = edge(first, above: second, s), let b = edge(third, above: fourth, s), b != 0, (a / b).isFinite else { return (nan, 2) }
                return ([a / b], 0)
            }
        }

        /// The integral over `channels` above a power law fitted over `pre` (log I = a + b·log E,
        /// least squares): nil without positive counts in the window or a finite result.
        func edge(_ channels: [Int], above pre: [Int], _ s: UnsafeBufferPointer<Double>) -> Double? {
            var (n, sx, sy, sxx, sxy) = (0.0, 0.0, 0.0, 0.0, 0.0)
            for c in pre {
                guard s[c] > 0 else { return nil }
                let (x, y) = (log(energies[c]), log(s[c]))
                n += 1; sx += x; sy += y; sxx += x * x; sxy += x * y
            }
            let d = n * sxx - sx * sx
            guard d > 0 else { return nil }
            let b = (n * sxy - sx * sy) / d, a = (sy - b * sx) / n
            let value = channels.reduce(0.0) { $0 + (s[$1] - exp(a + b * log(energies[$1]))) * widths[$1] }
            return value.isFinite ? value : nil
        }
    }

    public func bind(_ axis: EnergyAxis) throws -> Bound {
        let e = axis.values
        // Upward or downward, evenly spaced or not, but ordered: a width and a neighbour
        // mean nothing on an axis that turns back or repeats an energy.
        if e.count > 1 {
            let up = e[1] > e[0]
            if let k = e.indices.dropFirst().first(where: { up ? !(e[$0] > e[$0 - 1]) : !(e[$0] < e[$0 - 1]) }) {
                throw DKLError.data("the energy axis is not monotonic: channel \(k) is at " + String(format: "%g", e[k])
                    + " \(axis.unit) after " + String(format: "%g", e[k - 1]))
            }
        }
        // A uniform axis (to 1e-4 of a step, e.g. float32 energies) integrates with one step.
        let step = e.count > 1 ? (e[e.count - 1] - e[0]) / Double(e.count - 1) : 1
        let uniform = e.indices.dropFirst().allSatisfy { abs((e[$0] - e[$0 - 1]) - step) <= 1e-4 * abs(step) }
        let widths = uniform ? [Double](repeating: abs(step), count: e.count) : e.indices.map { i -> Double in
            if e.count == 1 { return 1 }
            let lo = i > 0 ? e[i - 1] : e[i] - (e[i + 1] - e[i]), hi = i + 1 < e.count ? e[i + 1] : e[i] + (e[i] - e[i - 1])
            return abs(hi - lo) / 2
        }
        var first: [Int] = [], second: [Int] = [], third: [Int] = [], fourth: [Int] = []
        switch kind {
        case let .integral(b), let .mean(b), let .max(b), let .peak(b), let .prominence(b), let .fit(_, b): first = try axis.channels(in: b)
        case let .ratio(a, b): first = try axis.channels(in: a); second = try axis.channels(in: b)
        case let .edge(pre, b): first = try axis.channels(in: b); second = try axis.channels(in: pre)
        case let .edgeRatio(pre, b, pre2, b2):
            first = try axis.channels(in: b); second = try axis.channels(in: pre)
            third = try axis.channels(in: b2); fourth = try axis.channels(in: pre2)
        }
        // Every pre-edge window holds enough channels, all at positive energies.
        let windows: [[Int]]
        switch kind {
        case .edge: windows = [second]
        case .edgeRatio: windows = [second, fourth]
        default: windows = []
        }
        for window in windows {
            guard window.count >= 3 else { throw DKLError.usage("\(name): a pre-edge window needs at least 3 channels, found \(window.count)") }
            guard window.allSatisfy({ e[$0] > 0 }) else { throw DKLError.usage("\(name): the pre-edge window must be at positive energies") }
        }
        if case .fit = kind, first.count < 6 {
            throw DKLError.usage("\(name): a fit needs at least 6 channels in its band, found \(first.count)")
        }
        return Bound(scalarizer: self, energies: e, widths: widths, first: first, second: second, third: third, fourth: fourth)
    }
}

/// Adjacent channels averaged in groups of `factor` (a trailing partial group is dropped);
/// the energy of a group is the mean of its channels'.
public enum SpectralBinning {
    public static func bin(_ s: [Double], _ factor: Int) -> [Double] {
        guard factor > 1 else { return s }
        return (0..<(s.count / factor)).map { g in (0..<factor).reduce(0.0) { $0 + s[g * factor + $1] } / Double(factor) }
    }
}
