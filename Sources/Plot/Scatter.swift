import Foundation
import DKLCore
import DKLData

/// Points (x, y) coloured by a continuous value (with a colorbar) or by a category (with
/// a legend), e.g. latent means coloured by a card's suit or angle.
public struct Scatter {
    public var x: [Double], y: [Double]
    /// A value per point, drawn with the colormap; NaN points grey.
    public var values: [Double]?
    /// A category per point (0, 1, …) and the categories' names.
    public var categories: [Int]?
    public var categoryNames: [String] = []
    public var title: String?, xLabel: String?, yLabel: String?, colorLabel: String?
    /// The colour scale's ends (default: the values' minimum and maximum); values outside
    /// take the ends' colours.
    public var range: (Double, Double)?
    public var radius = 3

    public init(x: [Double], y: [Double]) {
        precondition(x.count == y.count)
        self.x = x; self.y = y
    }

    static func span(_ v: [Double]) -> (Double, Double) {
        let f = v.filter(\.isFinite)
        guard let lo = f.min(), let hi = f.max() else { return (0, 1) }
        let pad = hi > lo ? (hi - lo) * 0.04 : 0.5
        return (lo - pad, hi + pad)
    }

    public func render() -> Canvas {
        let (xr, yr) = (Scatter.span(x), Scatter.span(y))
        let plotW = 480, plotH = 480
        let yLabels = Ticks.labels(Ticks.nice(yr.0, yr.1, count: max(2, plotH / 70)))
        let left = Axes.leftMargin(yLabels, withLabel: yLabel != nil) + 8, top = title == nil ? 12 : 40
        var side = 20
        var bar: Colorbar?
        var lohi = (0.0, 1.0)
        if let values {
            let f = values.filter(\.isFinite)
            lohi = range ?? (f.min() ?? 0, f.max() ?? 1)
            if lohi.1 <= lohi.0 { lohi = (lohi.0 - 0.5, lohi.0 + 0.5) }
            bar = Colorbar(lo: lohi.0, hi: lohi.1, label: colorLabel)
            side = bar!.width + 24
        } else if let categories {
            let names = (0...(categories.max() ?? 0)).map { name(of: $0) }
            side = (names.map { Font.width($0, scale: 2) }.max() ?? 0) + 50
            if let colorLabel { side = max(side, Font.width(colorLabel, scale: 2) + 24) }
        }
        var c = Canvas(width: max(left + plotW + side, Canvas.titleWidth(title)), height: top + plotH + 60)
        if let title { c.title(title) }
        let axes = Axes(left: left, top: top, width: plotW, height: plotH, x: xr, y: yr)
        for i in x.indices where x[i].isFinite && y[i].isFinite {
            let col: RGB
            if let values { col = values[i].isFinite ? Colormap.rgb((values[i] - lohi.0) / (lohi.1 - lohi.0)) : .nan }
            else if let categories { col = categories[i] >= 0 ? Colormap.categories[categories[i] % Colormap.categories.count] : .nan }
            else { col = Colormap.categories[0] }
            c.disc(axes.px(x[i]), axes.py(y[i]), radius: radius, col)
        }
        axes.draw(on: &c, xLabel: xLabel, yLabel: yLabel)
        if let bar { bar.draw(on: &c, left: left + plotW + 16, top: top, height: plotH) }
        if let categories {
            var row = top + 4
            if let colorLabel { c.text(colorLabel, x: left + plotW + 16, y: row); row += 24 }
            for k in 0...(categories.max() ?? 0) {
                c.disc(left + plotW + 24, row + 7, radius: 5, Colormap.categories[k % Colormap.categories.count])
                c.text(name(of: k), x: left + plotW + 36, y: row)
                row += 22
            }
        }
        return c
    }

    func name(of k: Int) -> String { k < categoryNames.count ? categoryNames[k] : String(k) }

    public func write(_ path: String) throws { try render().write(path) }
}
