import Foundation
import DKLCore
import DKLData

/// A scalarizer turns one spectrum into the property of interest: a band integral, mean or
/// maximum, a ratio of two band integrals, a peak's energy or prominence, or a fitted
/// peak's parameters (bands in the energy axis's unit, ends included); or one 4D-STEM
/// diffraction pattern into a detector's signal: the centre of mass's deflection, a virtual
/// bright-field or annular dark-field detector, the differential phase contrast of a
/// four-quadrant detector (radii in detector pixels, or mrad when the file is calibrated).
///
/// Written `[NAME=]KIND:ARGS`:
///
///     integral:LO:HI   mean:LO:HI   max:LO:HI   ratio:LO1:HI1:LO2:HI2
///     peak:LO:HI       prominence:LO:HI         fit:gauss|lorentz:LO:HI
///     edge:PRE_LO:PRE_HI:LO:HI
///     edgeratio:PRE_LO:PRE_HI:LO:HI:PRE_LO2:PRE_HI2:LO2:HI2
///     com  com_x  com_y  com_angle     bf:R   adf:R_IN:R_OUT   dpc[:R_IN:R_OUT]
///
/// An edge is the EELS core-loss recipe: a power law A·E^−r fitted to the pre-edge window
/// (least squares of log counts on log energy) and extrapolated under the edge, whose
/// integral above it is the value. An edge ratio is the first edge's value over the
/// second's (the same recipe on each: a composition ratio such as Ti L2,3 over O K).
///
/// A fit gives five fields NAME_centre, NAME_height, NAME_fwhm, NAME_area, NAME_r2; dpc two,
/// NAME_x and NAME_y.
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
        /// The centre of mass of the counted detector pixels, less the reference centre: x,
        /// y (detector pixels), magnitude, or angle atan2(y, x) in degrees.
        case com(CentreOfMassPart)
        /// The counts within a radius of the centre (a virtual bright-field detector).
        case bf(DetectorRadius)
        /// The counts between two radii (a virtual annular dark-field detector).
        case adf(DetectorRadius, DetectorRadius)
        /// A four-quadrant detector (within an annulus, or every counted pixel): (right − left)
        /// and (bottom − top) over the total.
        case dpc(DetectorRadius?, DetectorRadius?)
    }

    public enum CentreOfMassPart: String, Sendable { case x, y, magnitude, angle }

    /// Whether it scalarizes diffraction patterns (ky×kx) rather than spectra.
    public var isPattern: Bool {
        switch kind {
        case .com, .bf, .adf, .dpc: return true
        default: return false
        }
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) { self.name = name; self.kind = kind }

    /// The output fields, in order.
    public var fieldNames: [String] {
        if case .fit = kind { return ["centre", "height", "fwhm", "area", "r2"].map { name + "_" + $0 } }
        if case .dpc = kind { return [name + "_x", name + "_y"] }
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
        case "com", "com_magnitude": try expect(1); kind = .com(.magnitude)
        case "com_x": try expect(1); kind = .com(.x)
        case "com_y": try expect(1); kind = .com(.y)
        case "com_angle": try expect(1); kind = .com(.angle)
        case "bf": try expect(2); kind = .bf(try DetectorRadius.parse(parts[1], in: text))
        case "adf":
            try expect(3)
            let (inner, outer) = (try DetectorRadius.parse(parts[1], in: text), try DetectorRadius.parse(parts[2], in: text))
            guard inner.mrad == outer.mrad, inner.value < outer.value else { throw DKLError.usage("'\(text)': the inner radius must be below the outer, in the same unit") }
            kind = .adf(inner, outer)
        case "dpc":
            guard parts.count == 1 || parts.count == 3 else { throw DKLError.usage("'\(text)': dpc takes no values, or an annulus R_IN:R_OUT") }
            if parts.count == 3 {
                let (inner, outer) = (try DetectorRadius.parse(parts[1], in: text), try DetectorRadius.parse(parts[2], in: text))
                guard inner.mrad == outer.mrad, inner.value < outer.value else { throw DKLError.usage("'\(text)': the inner radius must be below the outer, in the same unit") }
                kind = .dpc(inner, outer)
            } else {
                kind = .dpc(nil, nil)
            }
        case "fit":
            try expect(4)
            guard let shape = PeakFit.Shape(rawValue: parts[1]) else { throw DKLError.usage("'\(text)': the peak shape must be gauss or lorentz") }
            kind = .fit(shape, try band(2))
        default:
            throw DKLError.usage("unknown scalarizer '\(parts[0])' (integral, mean, max, ratio, peak, prominence, fit, edge, edgeratio; for diffraction patterns com, com_x, com_y, com_angle, bf, adf, dpc)")
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
        /// A pattern scalarizer's detector pixels.
        let pattern: PatternPixels?

        init(scalarizer: Scalarizer, energies: [Double] = [], widths: [Double] = [], first: [Int] = [], second: [Int] = [],
             third: [Int] = [], fourth: [Int] = [], pattern: PatternPixels? = nil) {
            self.scalarizer = scalarizer; self.energies = energies; self.widths = widths
            self.first = first; self.second = second; self.third = third; self.fourth = fourth; self.pattern = pattern
        }

        /// The values (one, or five for a fit) for one spectrum; NaN when the spectrum holds
        /// NaN in the band or a fit fails (the second result says which: 1 NaN, 2 no fit).
        public func evaluate(_ s: UnsafeBufferPointer<Double>) -> (values: [Double], flags: UInt8) {
            if let pattern { return pattern.evaluate(scalarizer.kind, s) }
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
            case .com, .bf, .adf, .dpc: return (nan, 2)   // bound to a detector: evaluated by `pattern`
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

    /// The scalarizer bound to its items' geometry.
    public func bind(_ geometry: ItemGeometry) throws -> Bound {
        switch geometry {
        case let .spectrum(axis): return try bind(axis)
        case let .pattern(detector): return try bind(detector)
        }
    }

    /// A pattern scalarizer bound to a detector: its pixels listed once.
    public func bind(_ detector: Detector) throws -> Bound {
        guard isPattern else { throw DKLError.usage("\(name) scalarizes spectra, not diffraction patterns") }
        let (w, c) = (detector.width, detector.centre)
        let counted = (0..<(detector.height * w)).filter { detector.mask?[$0] ?? true }
        func r(_ i: Int) -> Double { let (dy, dx) = (Double(i / w) - c.y, Double(i % w) - c.x); return (dy * dy + dx * dx).squareRoot() }
        func within(_ lo: Double, _ hi: Double) -> [Int] { counted.filter { r($0) >= lo && r($0) <= hi } }
        var lists: [[Int]]
        switch kind {
        case .com: lists = [counted]
        case let .bf(radius): lists = [within(0, try radius.pixels(detector, in: name))]
        case let .adf(inner, outer): lists = [within(try inner.pixels(detector, in: name), try outer.pixels(detector, in: name))]
        case let .dpc(inner, outer):
            let all = try inner.map { try within($0.pixels(detector, in: name), outer!.pixels(detector, in: name)) } ?? counted
            lists = [all.filter { Double($0 % w) > c.x }, all.filter { Double($0 % w) < c.x },
                     all.filter { Double($0 / w) > c.y }, all.filter { Double($0 / w) < c.y }, all]
        default: lists = []
        }
        if let empty = lists.firstIndex(where: \.isEmpty) {
            throw DKLError.usage("\(name): no detector pixel lies in its \(lists.count > 1 && empty < 4 ? "quadrant" : "region") (centre \(String(format: "%g, %g", c.y, c.x)) on a \(detector.height)×\(w) detector)")
        }
        return Bound(scalarizer: self, pattern: PatternPixels(width: w, centre: c, lists: lists))
    }

    public func bind(_ axis: EnergyAxis) throws -> Bound {
        guard !isPattern else { throw DKLError.usage("\(name) scalarizes diffraction patterns (4D-STEM), not spectra") }
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
        case .com, .bf, .adf, .dpc: break   // refused above
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

/// The detector pixels a pattern scalarizer sums over: for com the counted pixels; bf and
/// adf their disc or annulus; dpc the right, left, lower and upper quadrants and the whole.
struct PatternPixels: Sendable {
    let width: Int
    let centre: (y: Double, x: Double)
    let lists: [[Int]]

    func evaluate(_ kind: Scalarizer.Kind, _ p: UnsafeBufferPointer<Double>) -> (values: [Double], flags: UInt8) {
        let fields: Int
        if case .dpc = kind { fields = 2 } else { fields = 1 }
        let nan = [Double](repeating: .nan, count: fields)
        for v in p where !v.isFinite { return (nan, SpectrumScalarizers.flagNaN) }
        func sum(_ l: [Int]) -> Double { l.reduce(0.0) { $0 + p[$1] } }
        switch kind {
        case let .com(part):
            // Summed in the same order as CentreOfMass.raw, to the same bits.
            var total = 0.0, sy = 0.0, sx = 0.0
            for i in lists[0] {
                total += p[i]; sy += p[i] * Double(i / width); sx += p[i] * Double(i % width)
            }
            guard total > 0, total.isFinite else { return (nan, SpectrumScalarizers.flagFit) }
            let (y, x) = (sy / total - centre.y, sx / total - centre.x)
            switch part {
            case .x: return ([x], 0)
            case .y: return ([y], 0)
            case .magnitude: return ([(x * x + y * y).squareRoot()], 0)
            case .angle: return ([atan2(y, x) * 180 / .pi], 0)
            }
        case .bf, .adf: return ([sum(lists[0])], 0)
        case .dpc:
            let total = sum(lists[4])
            guard total > 0, total.isFinite else { return (nan, SpectrumScalarizers.flagFit) }
            return ([(sum(lists[0]) - sum(lists[1])) / total, (sum(lists[2]) - sum(lists[3])) / total], 0)
        default: return (nan, SpectrumScalarizers.flagFit)
        }
    }
}
