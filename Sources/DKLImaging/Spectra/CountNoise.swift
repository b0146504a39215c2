import Foundation
import DKLCore
import DKLData

/// The noise of a detector that counts: a channel's value v is gain·N + offset with N
/// Poisson-distributed, plus read noise of standard deviation `read`, so that
/// Var(v) = gain·max(v − offset, 0) + read², known from the spectrum itself.
public struct CountNoise: Sendable, Equatable {
    /// Units of value per count.
    public var gain: Double
    /// The value of no counts (a dark level).
    public var offset: Double
    /// The read noise's standard deviation, in units of value.
    public var read: Double

    public init(gain: Double, offset: Double = 0, read: Double = 0) {
        self.gain = gain; self.offset = offset; self.read = read
    }

    /// `GAIN[:OFFSET[:READ]]`, as dkl-scalarize's --counts takes it.
    public static func parse(_ text: String, option: String = "--counts") throws -> CountNoise {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0?.isFinite == true }), parts[0]! > 0, parts.count < 3 || parts[2]! >= 0 else {
            throw DKLError.usage("\(option) must be GAIN[:OFFSET[:READ]]: a positive gain (value per count), the value of no counts, the read noise's sd")
        }
        return CountNoise(gain: parts[0]!, offset: parts.count > 1 ? parts[1]! : 0, read: parts.count > 2 ? parts[2]! : 0)
    }

    /// The variance of one channel's value.
    public func variance(_ v: Double) -> Double { gain * Swift.max(v - offset, 0) + read * read }

    /// The noise of the mean of `k` adjacent channels (spectral binning), in the binned values.
    public func binned(_ k: Int) -> CountNoise {
        CountNoise(gain: gain / Double(k), offset: offset, read: read / Double(k).squareRoot())
    }
}

extension Scalarizer.Bound {
    /// Each value's variance under `noise`, to first order in the channels' deviations
    /// (the delta method: Σᵢ (∂value/∂vᵢ)²·Var(vᵢ), the channels independent): exact for a
    /// band integral or mean; for a ratio of integrals, an edge (its power-law background
    /// fitted over the pre-edge window moves with the counts there) and a ratio of edges, the
    /// linearized spread, good while the counts are many. NaN for the kinds it is not
    /// propagated through (max, peak, prominence, fits) and where the value is NaN. A
    /// pattern's detector: exact for a virtual detector's sum, to first order for the centre
    /// of mass (its components, magnitude and angle) and the differential phase contrast.
    public func variances(_ s: UnsafeBufferPointer<Double>, noise: CountNoise) -> [Double] {
        let nan = [Double](repeating: .nan, count: scalarizer.fieldNames.count)
        if let pattern { return pattern.variances(scalarizer.kind, s, noise: noise) ?? nan }
        for list in [first, second, third, fourth] { for c in list where !s[c].isFinite { return nan } }
        func integral(_ cs: [Int]) -> Double { cs.reduce(0.0) { $0 + s[$1] * widths[$1] } }
        // ∂value/∂vᵢ by channel (summed in channel order: the same bits in every process).
        var gradient = [Double](repeating: 0, count: s.count)
        func add(_ g: [Double], _ scale: Double = 1) { for c in g.indices where g[c] != 0 { gradient[c] += scale * g[c] } }
        func band(_ cs: [Int], _ weight: (Int) -> Double) -> [Double] {
            var g = [Double](repeating: 0, count: s.count)
            for c in cs { g[c] += weight(c) }
            return g
        }
        switch scalarizer.kind {
        case .integral: add(band(first) { widths[$0] })
        case .mean: add(band(first) { _ in 1 / Double(first.count) })
        case .ratio:
            let (a, b) = (integral(first), integral(second))
            guard b != 0 else { return nan }
            add(band(first) { widths[$0] }, 1 / b)
            add(band(second) { widths[$0] }, -a / (b * b))
        case .edge:
            guard let g = edgeGradient(first, above: second, s) else { return nan }
            add(g)
        case .edgeRatio:
            guard let a = edge(first, above: second, s), let b = edge(third, above: fourth, s), b != 0,
                  let ga = edgeGradient(first, above: second, s), let gb = edgeGradient(third, above: fourth, s) else { return nan }
            add(ga, 1 / b)
            add(gb, -a / (b * b))
        default: return nan
        }
        var v = 0.0
        for c in gradient.indices where gradient[c] != 0 { v += gradient[c] * gradient[c] * noise.variance(s[c]) }
        return [v]
    }

    /// ∂(edge value)/∂vᵢ for every channel it reads: wᵢ in the edge's window, and through
    /// the background's fit, −Σ_c w_c·bg_c·(∂a/∂yᵢ + x_c·∂b/∂yᵢ)/vᵢ in the pre-edge window
    /// (y = log v, x = log E, least squares: ∂b/∂yᵢ = (xᵢ − x̄)/Sxx, ∂a/∂yᵢ = 1/n − x̄·∂b/∂yᵢ).
    func edgeGradient(_ channels: [Int], above pre: [Int], _ s: UnsafeBufferPointer<Double>) -> [Double]? {
        guard pre.count >= 2, pre.allSatisfy({ s[$0] > 0 }) else { return nil }
        let xs = pre.map { log(energies[$0]) }, ys = pre.map { log(s[$0]) }
        let n = Double(pre.count), xm = xs.reduce(0, +) / n, ym = ys.reduce(0, +) / n
        let sxx = xs.reduce(0.0) { $0 + ($1 - xm) * ($1 - xm) }
        guard sxx > 0 else { return nil }
        let b = zip(xs, ys).reduce(0.0) { $0 + ($1.0 - xm) * ($1.1 - ym) } / sxx, a = ym - b * xm
        var g = [Double](repeating: 0, count: s.count)
        var sumBg = 0.0, sumBgX = 0.0
        for c in channels {
            g[c] += widths[c]
            let x = log(energies[c]), bg = exp(a + b * x) * widths[c]
            sumBg += bg; sumBgX += bg * x
        }
        for (k, c) in pre.enumerated() {
            let db = (xs[k] - xm) / sxx, da = 1 / n - xm * db
            g[c] -= (sumBg * da + sumBgX * db) / s[c]
        }
        return g.allSatisfy(\.isFinite) ? g : nil
    }
}

extension PatternPixels {
    /// The pattern scalarizers' variances (see `Scalarizer.Bound.variances`); nil where the
    /// value is NaN.
    func variances(_ kind: Scalarizer.Kind, _ p: UnsafeBufferPointer<Double>, noise: CountNoise) -> [Double]? {
        for v in p where !v.isFinite { return nil }
        func spread(_ g: [Double]) -> Double {
            var v = 0.0
            for i in g.indices where g[i] != 0 { v += g[i] * g[i] * noise.variance(p[i]) }
            return v
        }
        func indicator(_ l: [Int]) -> [Double] {
            var g = [Double](repeating: 0, count: p.count)
            for i in l { g[i] = 1 }
            return g
        }
        switch kind {
        case .bf, .adf: return [spread(indicator(lists[0]))]
        case let .com(part):
            var total = 0.0, sy = 0.0, sx = 0.0
            for i in lists[0] { total += p[i]; sy += p[i] * Double(i / width); sx += p[i] * Double(i % width) }
            guard total > 0, total.isFinite else { return nil }
            let (my, mx) = (sy / total, sx / total), (y, x) = (my - centre.y, mx - centre.x)
            var gy = [Double](repeating: 0, count: p.count), gx = gy
            for i in lists[0] { gy[i] = (Double(i / width) - my) / total; gx[i] = (Double(i % width) - mx) / total }
            let m2 = x * x + y * y
            switch part {
            case .x: return [spread(gx)]
            case .y: return [spread(gy)]
            case .magnitude:
                guard m2 > 0 else { return nil }
                return [spread(zip(gx, gy).map { (x * $0 + y * $1) / m2.squareRoot() })]
            case .angle:
                guard m2 > 0 else { return nil }
                let k = 180 / Double.pi / m2
                return [spread(zip(gx, gy).map { k * (x * $1 - y * $0) })]
            }
        case .dpc:
            let sums = lists.map { l in l.reduce(0.0) { $0 + p[$1] } }
            let total = sums[4]
            guard total > 0, total.isFinite else { return nil }
            let (a, b) = ((sums[0] - sums[1]) / total, (sums[2] - sums[3]) / total)
            let (i0, i1, i2, i3, i4) = (indicator(lists[0]), indicator(lists[1]), indicator(lists[2]), indicator(lists[3]), indicator(lists[4]))
            let gx = p.indices.map { (i0[$0] - i1[$0] - a * i4[$0]) / total }, gy = p.indices.map { (i2[$0] - i3[$0] - b * i4[$0]) / total }
            return [spread(gx), spread(gy)]
        default: return nil
        }
    }
}


extension CountNoise {
    /// `dark:E0:E1`: the energy range of a dark region (nil for any other text).
    public static func darkRegion(_ text: String, option: String = "--counts") throws -> ClosedRange<Double>? {
        guard text.hasPrefix("dark:") else { return nil }
        let parts = text.dropFirst(5).split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo < hi else {
            throw DKLError.usage("\(option) dark:E0:E1 needs the dark region's energies, E0 below E1")
        }
        return lo...hi
    }

    /// The counting noise estimated from the spectra themselves: the offset and the read
    /// noise from the channels of a dark region (their mean, and their spread within each
    /// spectrum, pooled), the gain from the spread between neighbouring channels elsewhere.
    /// A second difference d = v₋ − 2v + v₊ cancels a spectrum's slope, and its variance is
    /// 6·(gain·(m − offset) + read²) for a level m about constant over three channels, so
    /// gain = Σ(d²/6 − read²)/Σ(m − offset) over every such triplet.
    public struct Estimate {
        let dark: [Bool]
        var darkSum = 0.0, darkCount = 0.0, within = 0.0, withinFreedom = 0.0
        var spread = 0.0, level = 0.0, triplets = 0.0

        /// `energies`: the channels' energies; `region`: the dark region's.
        public init(energies: [Double], dark region: ClosedRange<Double>) throws {
            dark = energies.map { region.contains($0) }
            guard dark.filter({ $0 }).count >= 2 else {
                throw DKLError.usage("--counts dark:\(region.lowerBound):\(region.upperBound) holds \(dark.filter { $0 }.count) channel(s) of the spectra; at least 2 are needed")
            }
        }

        /// Adds one spectrum (NaN channels and the triplets they are in are left out).
        public mutating func add(_ v: UnsafeBufferPointer<Double>) {
            var sum = 0.0, sq = 0.0, k = 0.0
            for c in 0..<min(v.count, dark.count) where dark[c] && v[c].isFinite { sum += v[c]; sq += v[c] * v[c]; k += 1 }
            if k >= 2 { darkSum += sum; darkCount += k; within += sq - sum * sum / k; withinFreedom += k - 1 }
            guard v.count >= 3 else { return }
            for c in 1..<(min(v.count, dark.count) - 1) where !dark[c - 1] && !dark[c] && !dark[c + 1] {
                let (a, b, d) = (v[c - 1], v[c], v[c + 1])
                guard a.isFinite, b.isFinite, d.isFinite else { continue }
                let second = a - 2 * b + d
                spread += second * second / 6; level += (a + b + d) / 3; triplets += 1
            }
        }

        /// The estimate, or a data error when the spectra do not tell it.
        public func noise(file: String?) throws -> CountNoise {
            guard darkCount >= 2, withinFreedom >= 1, triplets >= 1 else {
                throw DKLError.data("too few finite channels to estimate the counting noise from (dark: \(Int(darkCount)), elsewhere: \(Int(triplets)) triplets)", file: file)
            }
            let offset = darkSum / darkCount, read2 = max(within / withinFreedom, 0)
            let gain = (spread - triplets * read2) / (level - triplets * offset)
            guard gain.isFinite, gain > 0 else {
                throw DKLError.data("the spectra's spread between neighbouring channels does not grow with their level above the dark region's (gain estimate \(gain)); give --counts GAIN[:OFFSET[:READ]]", file: file)
            }
            return CountNoise(gain: gain, offset: offset, read: read2.squareRoot())
        }
    }

    /// `GAIN:OFFSET:READ`, as --counts takes it back.
    public var text: String { "\(gain):\(offset):\(read)" }
}

extension CountNoise {
    /// The estimate over every spectrum of an H×W×E cube, a row at a time (interruptible).
    public static func estimated(from cube: ArraySource, energies: [Double], dark: ClosedRange<Double>) throws -> CountNoise {
        guard cube.shape.count == 3, cube.shape[2] == energies.count else {
            throw DKLError.data("--counts dark: needs a spectrum image H×W×E of \(energies.count) channels (found \(cube.shape))", file: cube.name)
        }
        var estimate = try Estimate(energies: energies, dark: dark)
        let (w, e) = (cube.shape[1], cube.shape[2])
        for y in 0..<cube.shape[0] {
            try Interrupts.check()
            let row = try cube.readBlock(start: [y, 0, 0], count: [1, w, e])
            row.withUnsafeBufferPointer { r in
                for x in 0..<w { estimate.add(UnsafeBufferPointer(rebasing: r[(x * e)..<((x + 1) * e)])) }
            }
        }
        return try estimate.noise(file: cube.name)
    }
}
