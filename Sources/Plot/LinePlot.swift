import Foundation
import DKLCore
import DKLData

/// Curves y(x), one colour each, with a legend: a loss per epoch, the best value so far
/// against the points measured, an error against the points.
public struct LinePlot {
    public struct Series {
        public var label: String, x: [Double], y: [Double]
        public init(label: String, x: [Double], y: [Double]) { self.label = label; self.x = x; self.y = y }
    }
    public var series: [Series]
    public var title: String?, xLabel: String?, yLabel: String?
    /// A logarithmic y axis (values ≤ 0 are left out).
    public var logY = false
    /// Dots at the points as well as the lines.
    public var markers = false

    public init(series: [Series]) { self.series = series }

    public func render() -> Canvas {
        func usable(_ v: Double) -> Bool { v.isFinite && (!logY || v > 0) }
        let xs = series.flatMap(\.x).filter(\.isFinite)
        let ys = series.flatMap(\.y).filter(usable)
        var xr = (xs.min() ?? 0, xs.max() ?? 1)
        var yr = (ys.min() ?? (logY ? 1 : 0), ys.max() ?? (logY ? 10 : 1))
        if xr.1 <= xr.0 { xr = (xr.0 - 0.5, xr.0 + 0.5) }
        if logY {
            if yr.1 <= yr.0 { yr = (yr.0 / 2, yr.0 * 2) }
        } else {
            let pad = yr.1 > yr.0 ? (yr.1 - yr.0) * 0.05 : 0.5
            yr = (yr.0 - pad, yr.1 + pad)
        }
        let plotW = 560, plotH = 360
        var axes = Axes(left: 0, top: title == nil ? 12 : 40, width: plotW, height: plotH, x: xr, y: yr)
        axes.logY = logY
        let yTicks = logY ? Axes.logTicks(yr.0, yr.1) : Ticks.nice(yr.0, yr.1, count: max(2, plotH / 70))
        axes.left = Axes.leftMargin(logY ? yTicks.map { Ticks.format($0) } : Ticks.labels(yTicks), withLabel: yLabel != nil) + 8
        let legendW = (series.map { Font.width($0.label, scale: 2) }.max() ?? 0) + 52
        var c = Canvas(width: max(axes.left + plotW + legendW, Canvas.titleWidth(title)), height: axes.top + plotH + 60)
        if let title { c.title(title) }
        for (k, s) in series.enumerated() {
            let col = Colormap.categories[k % Colormap.categories.count]
            var last: (Int, Int)?
            for i in s.x.indices {
                guard i < s.y.count, s.x[i].isFinite, usable(s.y[i]) else { last = nil; continue }
                let p = (axes.px(s.x[i]), axes.py(s.y[i]))
                if let l = last { c.line(l.0, l.1, p.0, p.1, col, thickness: 2) }
                if markers || s.x.count == 1 { c.disc(p.0, p.1, radius: 3, col) }
                last = p
            }
        }
        axes.draw(on: &c, xLabel: xLabel, yLabel: yLabel, yTicks: yTicks)
        for (k, s) in series.enumerated() {
            let col = Colormap.categories[k % Colormap.categories.count], y = axes.top + 4 + 22 * k
            c.line(axes.left + plotW + 12, y + 7, axes.left + plotW + 36, y + 7, col, thickness: 3)
            c.text(s.label, x: axes.left + plotW + 44, y: y)
        }
        return c
    }

    /// Writes the PNG; a logarithmic axis with no positive value to draw is an error.
    public func write(_ path: String) throws {
        if logY && !series.contains(where: { $0.y.contains { $0.isFinite && $0 > 0 } }) {
            throw DKLError.data("no curve has a positive value to draw on a logarithmic axis (--log-y)")
        }
        try render().write(path)
    }
}
