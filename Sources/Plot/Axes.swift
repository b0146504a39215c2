import Foundation
import DKLCore
import DKLData

/// Tick positions and labels: steps of 1, 2 or 5 times a power of ten, the step that gives
/// the nearest to `count` ticks inside [lo, hi], labelled with as many decimals as the
/// step needs.
public enum Ticks {
    public static func nice(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        // A span beyond the largest double (values near ±1.8e308): its two ends.
        guard (hi - lo).isFinite else { return [lo, hi] }
        let raw = (hi - lo) / Double(max(count, 1))
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.min { abs(log($0 / raw)) < abs(log($1 / raw)) }!
        var ticks: [Double] = []
        var t = (lo / step).rounded(.up) * step
        while t <= hi + step * 1e-9 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return ticks
    }

    /// Labels for equally spaced ticks: the fewest decimals that tell them apart, or
    /// exponent form for very large or small values.
    public static func labels(_ ticks: [Double]) -> [String] {
        guard ticks.count > 1 else { return ticks.map { format($0) } }
        let step = abs(ticks[1] - ticks[0])
        let biggest = ticks.map(abs).max() ?? 0
        if !(step > 0 && step.isFinite) { return ticks.map { String(format: "%.1e", $0) } }
        if biggest >= 1e5 || (biggest < 1e-3 && biggest > 0) {
            // Mantissa digits enough to tell the ticks apart (-1.6395e-07, -1.6390e-07).
            let digits = min(12, max(1, Int(ceil(log10(biggest / step) - 1e-9))))
            return ticks.map { String(format: "%.\(digits)e", $0) }
        }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return ticks.map { String(format: "%.\(decimals)f", $0) }
    }

    /// One value, four significant digits.
    public static func format(_ v: Double) -> String {
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.2e", v) }
        return String(format: "%.4g", v)
    }
}

/// A rectangle of the canvas that shows [x0, x1] × [y0, y1] (y upwards unless `flipY`),
/// with its frame, ticks, tick labels and axis labels drawn around it.
public struct Axes {
    public var left: Int, top: Int, width: Int, height: Int
    public var x0: Double, x1: Double, y0: Double, y1: Double
    public var logY = false
    public var flipY = false

    public init(left: Int, top: Int, width: Int, height: Int, x: (Double, Double), y: (Double, Double)) {
        self.left = left; self.top = top; self.width = width; self.height = height
        (x0, x1) = x.1 > x.0 ? x : (x.0 - 0.5, x.0 + 0.5)
        (y0, y1) = y.1 > y.0 ? y : (y.0 - 0.5, y.0 + 0.5)
    }

    /// The pixel column of x.
    public func px(_ x: Double) -> Int { Axes.pixel(left, Axes.fraction(x, x0, x1), Double(width - 1)) }
    /// The pixel row of y.
    public func py(_ y: Double) -> Int {
        let (v, a, b) = logY ? (log10(y), log10(y0), log10(y1)) : (y, y0, y1)
        let t = Axes.fraction(v, a, b)
        return Axes.pixel(top, flipY ? t : 1 - t, Double(height - 1))
    }

    /// Where v lies in [a, b] (0 to 1), computed in halves so that a span wider than the
    /// largest double (values near ±1.8e308) stays finite.
    static func fraction(_ v: Double, _ a: Double, _ b: Double) -> Double { (v / 2 - a / 2) / (b / 2 - a / 2) }

    /// The pixel `origin + t·length`, for any t: a NaN or a value far outside the axes lands
    /// off the canvas (which clips), never past Int's range.
    static func pixel(_ origin: Int, _ t: Double, _ length: Double) -> Int {
        guard t.isFinite else { return origin - 1_000_000 }
        return origin + Int((min(max(t, -1000), 1000) * length).rounded())
    }

    /// The frame, outward ticks with labels (scale 2), and the axis labels.
    public func draw(on c: inout Canvas, xLabel: String?, yLabel: String?, xTicks: [Double]? = nil, yTicks: [Double]? = nil) {
        c.frame(x: left - 1, y: top - 1, w: width + 2, h: height + 2, .black)
        let xt = xTicks ?? Ticks.nice(x0, x1, count: max(2, width / 90))
        for (t, label) in zip(xt, Ticks.labels(xt)) {
            let x = px(t)
            c.fill(x: x, y: top + height + 1, w: 1, h: 5, .black)
            c.text(label, x: x, y: top + height + 9, anchor: .centre)
        }
        var widest = 0
        let yt = yTicks ?? (logY ? Axes.logTicks(y0, y1) : Ticks.nice(y0, y1, count: max(2, height / 70)))
        let yl = logY ? yt.map { Ticks.format($0) } : Ticks.labels(yt)
        for (t, label) in zip(yt, yl) {
            let y = py(t)
            c.fill(x: left - 6, y: y, w: 5, h: 1, .black)
            c.text(label, x: left - 10, y: y - 7, anchor: .right)
            widest = max(widest, Font.width(label, scale: 2))
        }
        if let xLabel { c.text(xLabel, x: left + width / 2, y: top + height + 32, anchor: .centre) }
        if let yLabel { c.text(yLabel, x: left - 22 - widest, y: top + height / 2, anchor: .centre, vertical: true) }
    }

    /// Decades (and 2, 5 times them when there are few) inside [lo, hi].
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        guard lo > 0, hi > lo, hi.isFinite else { return [lo] }
        let a = Int(floor(log10(lo))), b = Int(ceil(log10(hi)))
        let mult: [Double] = b - a <= 2 ? [1, 2, 5] : [1]
        var ticks: [Double] = []
        for e in a...b {
            let decade = pow(10, Double(e))
            for m in mult where m * decade >= lo * (1 - 1e-9) && m * decade <= hi * (1 + 1e-9) { ticks.append(m * decade) }
        }
        return ticks
    }

    /// Room the labels of ticks take on the left: the widest label plus the axis label.
    public static func leftMargin(_ labels: [String], withLabel: Bool) -> Int {
        (labels.map { Font.width($0, scale: 2) }.max() ?? 0) + 12 + (withLabel ? 30 : 0)
    }
}

/// A vertical colour scale [lo, hi] with ticks and a label turned upwards on its right.
public struct Colorbar {
    public var lo: Double, hi: Double
    public var label: String?
    public static let barWidth = 18

    public init(lo: Double, hi: Double, label: String?) { self.lo = lo; self.hi = hi; self.label = label }

    /// Pixels the bar takes to the right of its left edge.
    /// About one tick per 45 pixels.
    static func ticks(_ lo: Double, _ hi: Double, height: Int) -> [Double] { Ticks.nice(lo, hi, count: max(2, min(6, height / 45))) }

    public var width: Int {
        let labels = Ticks.labels(Ticks.nice(lo, hi))
        return Colorbar.barWidth + 8 + (labels.map { Font.width($0, scale: 2) }.max() ?? 0) + (label == nil ? 4 : 30)
    }

    public func draw(on c: inout Canvas, left: Int, top: Int, height: Int, colormap: (Double) -> RGB = Colormap.rgb) {
        for y in 0..<height {
            let col = colormap(1 - Double(y) / Double(max(height - 1, 1)))
            c.fill(x: left, y: top + y, w: Colorbar.barWidth, h: 1, col)
        }
        c.frame(x: left - 1, y: top - 1, w: Colorbar.barWidth + 2, h: height + 2, .black)
        let ticks = Colorbar.ticks(lo, hi, height: height)
        var widest = 0
        for (t, label) in zip(ticks, Ticks.labels(ticks)) {
            let y = hi > lo ? Axes.pixel(top, Axes.fraction(t, hi, lo), Double(height - 1)) : top
            c.fill(x: left + Colorbar.barWidth + 1, y: y, w: 4, h: 1, .black)
            c.text(label, x: left + Colorbar.barWidth + 8, y: y - 7)
            widest = max(widest, Font.width(label, scale: 2))
        }
        if let label { c.text(label, x: left + Colorbar.barWidth + 8 + widest + 16, y: top + height / 2, anchor: .centre, vertical: true) }
    }
}
