import Foundation
import DKLCore
import DKLNumerics

/// What a measurement costs at the instrument, in the units a microscopist budgets: seconds
/// of beam time (the dwell, and the probe's travel and settling between points) and the
/// electron dose the sample takes. Positions are in pixels of the structural image.
public struct BeamCost: Sendable, Equatable {
    /// Seconds of one measurement (the dwell).
    public var dwell: Double
    /// Seconds to settle after any move of the probe.
    public var settle: Double
    /// The probe's speed in pixels per second (infinity: a move costs only its settling).
    public var speed: Double
    /// The dose of one measurement (electrons, or whatever unit the limit is in; 0: none counted).
    public var dose: Double
    /// A measurement's dose spreads evenly over the pixels within this radius (0: its own pixel).
    public var doseRadius: Double
    /// The most dose any pixel may take in all (nil: no limit): a point whose measurement would
    /// take a pixel past it is not measured.
    public var doseLimit: Double?

    public init(dwell: Double = 1, settle: Double = 0, speed: Double = .infinity, dose: Double = 0, doseRadius: Double = 0, doseLimit: Double? = nil) {
        self.dwell = dwell; self.settle = settle; self.speed = speed; self.dose = dose; self.doseRadius = doseRadius; self.doseLimit = doseLimit
    }

    /// The parameters, for a trace's header.
    public var json: JSON {
        ["dwell_s": .number(dwell), "settle_s": .number(settle), "speed_px_per_s": speed.isInfinite ? .null : .number(speed),
         "point_dose": .number(dose), "dose_radius_px": .number(doseRadius), "dose_limit": doseLimit.map { .number($0) } ?? .null]
    }

    /// Seconds to travel from `a` (nil: the probe is not anywhere yet) to `b` and measure there.
    public func seconds(from a: (y: Double, x: Double)?, to b: (y: Int, x: Int)) -> Double {
        guard let a else { return dwell }
        let d = ((a.y - Double(b.y)) * (a.y - Double(b.y)) + (a.x - Double(b.x)) * (a.x - Double(b.x))).squareRoot()
        if d == 0 { return dwell }
        return dwell + settle + (speed.isInfinite ? 0 : d / speed)
    }

    /// The pixels a measurement at (y, x) doses, on an h×w image, with the dose each takes.
    func footprint(y: Int, x: Int, height h: Int, width w: Int) -> [(Int, Double)] {
        let r = Int(doseRadius.rounded(.down))
        var pixels: [Int] = []
        for dy in -r...r { for dx in -r...r where Double(dy * dy + dx * dx) <= doseRadius * doseRadius {
            let (py, px) = (y + dy, x + dx)
            if (0..<h).contains(py) && (0..<w).contains(px) { pixels.append(py * w + px) }
        } }
        if pixels.isEmpty { pixels = [min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)] }
        // The disc's area, not the part of it on the image: dose falling off the edge is lost.
        let area = max(Double(pixelsInDisc), 1)
        return pixels.map { ($0, dose / area) }
    }

    /// The number of pixels within `doseRadius` of a pixel (the whole disc).
    var pixelsInDisc: Int {
        let r = Int(doseRadius.rounded(.down))
        var n = 0
        for dy in -r...r { for dx in -r...r where Double(dy * dy + dx * dx) <= doseRadius * doseRadius { n += 1 } }
        return n
    }
}

/// The instrument's clock, the probe's position and the sample's dose map as an experiment
/// measures: what every measurement cost, and what the next would.
public struct BeamLedger: Sendable {
    public let cost: BeamCost
    public let height: Int, width: Int
    /// Seconds of beam time spent.
    public private(set) var clock = 0.0
    /// The dose given in all (the sum over measurements).
    public private(set) var totalDose = 0.0
    /// Where the probe is (nil before the first measurement).
    public private(set) var position: (y: Double, x: Double)?
    /// The cumulative dose of every pixel (H×W, raster order).
    public private(set) var doseMap: [Double]

    public init(cost: BeamCost, height: Int, width: Int) {
        self.cost = cost; self.height = height; self.width = width
        doseMap = [Double](repeating: 0, count: height * width)
    }

    /// The largest cumulative dose of any pixel.
    public var peakDose: Double { doseMap.max() ?? 0 }

    /// Seconds a measurement at `p` would take from where the probe is.
    public func seconds(to p: (y: Int, x: Int)) -> Double { cost.seconds(from: position, to: p) }

    /// Whether a measurement at `p` would take some pixel past the dose limit.
    public func exceedsDoseLimit(at p: (y: Int, x: Int)) -> Bool {
        guard let limit = cost.doseLimit, cost.dose > 0 else { return false }
        return cost.footprint(y: p.y, x: p.x, height: height, width: width).contains { doseMap[$0.0] + $0.1 > limit * (1 + 1e-12) }
    }

    /// Books a measurement asked at `p` and taken at `measured` (where the probe then is):
    /// returns its seconds.
    @discardableResult
    public mutating func charge(at p: (y: Int, x: Int), measured: (y: Double, x: Double)? = nil) -> Double {
        let s = seconds(to: p)
        clock += s
        totalDose += cost.dose
        if cost.dose > 0 {
            for (k, d) in cost.footprint(y: p.y, x: p.x, height: height, width: width) { doseMap[k] += d }
        }
        position = measured ?? (Double(p.y), Double(p.x))
        return s
    }
}

/// Choosing points per unit of beam time.
public enum BeamTimeSelection {
    /// q points, each the best score per second of beam time from the previous one (from the
    /// probe's position for the first): a route. Per second to the power `exponent`: score/tᵃ
    /// (1: per second; 0: the score alone). Scores are damped around each pick as in
    /// `BatchSelection.locallyPenalized`; points whose dose would pass the limit, or whose time
    /// would pass `secondsLeft`, are not chosen. Scores must not be negative (EI, PI, a variance).
    public static func route(scores: [Double], coordinates: [(Int, Int)], q: Int, radius: Double, excluded: Set<Int>,
                             ledger: BeamLedger, exponent: Double = 1, secondsLeft: Double = .infinity) -> [Int] {
        var s = scores
        var book = ledger
        var blocked = excluded
        var chosen: [Int] = []
        for _ in 0..<q {
            var best: Int?, bestRate = -Double.infinity
            for k in 0..<s.count where !blocked.contains(k) && s[k].isFinite {
                let p = (y: coordinates[k].0, x: coordinates[k].1)
                let t = book.seconds(to: p)
                if t > secondsLeft - book.clock + ledger.clock || book.exceedsDoseLimit(at: p) { continue }
                let rate = exponent == 1 ? s[k] / t : s[k] / pow(t, exponent)
                if rate > bestRate { bestRate = rate; best = k }
            }
            guard let i = best else { break }
            chosen.append(i)
            blocked.insert(i)
            book.charge(at: (coordinates[i].0, coordinates[i].1))
            // Damped towards 0, the least a rate can be.
            BatchSelection.damp(&s, coordinates: coordinates, around: coordinates[i], radius: radius, floor: 0)
        }
        return chosen
    }

    /// Orders `points` as a route from `start` that keeps travel short (nearest first, then
    /// improved by reversing segments while that shortens it).
    public static func shortRoute(_ points: [(Int, Int)], from start: (y: Double, x: Double)?) -> [Int] {
        let n = points.count
        guard n > 1 else { return Array(0..<n) }
        func d(_ a: (Double, Double), _ b: (Int, Int)) -> Double {
            ((a.0 - Double(b.0)) * (a.0 - Double(b.0)) + (a.1 - Double(b.1)) * (a.1 - Double(b.1))).squareRoot()
        }
        var order: [Int] = []
        var left = Set(0..<n)
        var at = start.map { ($0.y, $0.x) } ?? (Double(points[0].0), Double(points[0].1))
        while !left.isEmpty {
            let next = left.min { (d(at, points[$0]), $0) < (d(at, points[$1]), $1) }!
            order.append(next); left.remove(next)
            at = (Double(points[next].0), Double(points[next].1))
        }
        // 2-opt on the open path from `start` (for batches of up to 200 points).
        if n > 200 { return order }
        func length(_ o: [Int]) -> Double {
            var total = start.map { d(($0.y, $0.x), points[o[0]]) } ?? 0
            for k in 1..<o.count { total += d((Double(points[o[k - 1]].0), Double(points[o[k - 1]].1)), points[o[k]]) }
            return total
        }
        var improved = true, current = length(order)
        while improved {
            improved = false
            for i in 0..<(n - 1) { for j in (i + 1)..<n {
                var o = order
                o[i...j].reverse()
                let l = length(o)
                if l < current - 1e-12 { order = o; current = l; improved = true }
            } }
        }
        return order
    }

    /// The posterior probability that some candidate beats `best`, the candidates taken as
    /// independent: 1 − Π(1 − P(fᵢ beyond best)), with latent means and variances.
    public static func probabilityAnyBeats(mean: [Double], variance: [Double], best: Double, maximize: Bool, candidates: [Int]) -> Double {
        var logNone = 0.0
        for k in candidates {
            let sd = variance[k].squareRoot()
            let z = (maximize ? mean[k] - best : best - mean[k]) / max(sd, 1e-300)
            let p = sd > 0 ? 0.5 * erfc(-z / 2.0.squareRoot()) : (z > 0 ? 1 : 0)
            logNone += log1p(-min(p, 1 - 1e-16))
        }
        return -expm1(logNone)
    }
}
