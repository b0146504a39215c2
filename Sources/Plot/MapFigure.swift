import Foundation
import DKLCore
import DKLData

/// One map of a figure: values on the H×W grid (NaN is drawn grey), a title, and points
/// (y, x) drawn as discs coloured by their order, or by a value each (their step).
public struct MapPanel {
    public var values: [Double]
    public var title: String?
    public var points: [(Int, Int)]
    /// A value per point that colours it (such as the step it was measured at); nil: the order.
    public var pointValues: [Double]?

    public init(values: [Double], title: String? = nil, points: [(Int, Int)] = [], pointValues: [Double]? = nil) {
        precondition(pointValues == nil || pointValues!.count == points.count)
        self.values = values; self.title = title; self.points = points; self.pointValues = pointValues
    }
}

/// Maps of one H×W grid side by side (up to `columns` a row) on one colour scale, with
/// pixel axes, a colorbar, and a scale of the points' order when there are points.
public struct MapFigure {
    public var height: Int, width: Int
    public var panels: [MapPanel]
    public var title: String?
    public var colorLabel: String?
    /// The colour scale's ends (default: the finite values' minimum and maximum).
    public var range: (Double, Double)?
    public var columns = 4
    public var pointsLabel = "order"
    /// Join the points in their order (the probe's path).
    public var drawsPath = false
    /// Each panel on its own colour scale, with its own colorbar (for maps whose ranges
    /// differ by orders of magnitude, such as an acquisition function's as points are added).
    public var ownScales = false
    /// The coordinates of the first and last columns' (rows') centres, for axes in the
    /// grid's units (a parameter sweep's); default the pixel indices.
    public var xExtent: (Double, Double)?
    public var yExtent: (Double, Double)?
    public var xLabel: String?, yLabel: String?
    /// The pixel size in metres: each panel gets a scale bar of a round length.
    public var metresPerPixel: Double?

    public init(height: Int, width: Int, panels: [MapPanel]) {
        precondition(!panels.isEmpty && panels.allSatisfy { $0.values.count == height * width })
        self.height = height; self.width = width; self.panels = panels
    }

    /// The colour scale's ends, over all panels (or over `panel`'s values).
    public func scale(of panel: Int? = nil) -> (lo: Double, hi: Double) {
        if let range { return range }
        let finite = (panel.map { [panels[$0]] } ?? panels).flatMap(\.values).filter(\.isFinite)
        let (lo, hi) = (finite.min() ?? 0, finite.max() ?? 1)
        return hi > lo ? (lo, hi) : (lo - 0.5, lo + 0.5)
    }

    public func render() -> Canvas {
        let (lo, hi) = scale()
        let cols = min(columns, panels.count), rows = (panels.count + cols - 1) / cols
        let pixel = max(1, (panels.count == 1 ? 480 : 300) / max(height, width))
        let (mapW, mapH) = (width * pixel, height * pixel)
        let (xa, xb) = xExtent ?? (0, Double(width - 1)), (ya, yb) = yExtent ?? (0, Double(height - 1))
        let yTicks = Ticks.nice(min(ya, yb), max(ya, yb), count: max(2, mapH / 70))
        let left = Axes.leftMargin(Ticks.labels(yTicks), withLabel: yLabel != nil) + 6
        let panelTitle = panels.contains { $0.title != nil } ? 26 : 8
        let panelBarW = ownScales ? panels.indices.map { Colorbar(lo: scale(of: $0).lo, hi: scale(of: $0).hi, label: nil).width + 12 }.max()! : 0
        let cellW = left + mapW + 14 + panelBarW, cellH = panelTitle + mapH + 36 + (xLabel == nil ? 0 : 24)
        let top = title == nil ? 6 : 34
        let hasPoints = panels.contains { !$0.points.isEmpty }
        let bar = Colorbar(lo: lo, hi: hi, label: colorLabel)
        let barH = hasPoints ? mapH * 2 / 3 : mapH
        // The points' colour scale: their order (1 to the most any panel shows), or their values.
        let most = panels.map(\.points.count).max() ?? 0
        let given = panels.flatMap { $0.pointValues ?? [] }.filter(\.isFinite)
        var (pointLo, pointHi) = given.isEmpty ? (1.0, Double(max(most, 2))) : (given.min()!, given.max()!)
        if pointHi <= pointLo { pointHi = pointLo + 1 }
        let orderBar = Colorbar(lo: pointLo, hi: pointHi, label: pointsLabel)
        let sideW = max(ownScales ? 0 : bar.width, hasPoints ? orderBar.width : 0) + 12
        var c = Canvas(width: max(cols * cellW + sideW + 6, Canvas.titleWidth(title)), height: top + rows * cellH + 4)
        if let title { c.title(title) }
        for (i, panel) in panels.enumerated() {
            let x0 = (i % cols) * cellW + left, y0 = top + (i / cols) * cellH + panelTitle
            if let t = panel.title { c.text(t, x: x0 + mapW / 2, y: y0 - 22, anchor: .centre) }
            let (lo, hi) = ownScales ? scale(of: i) : (lo, hi)
            if ownScales { Colorbar(lo: lo, hi: hi, label: nil).draw(on: &c, left: x0 + mapW + 10, top: y0, height: mapH) }
            for gy in 0..<height {
                for gx in 0..<width {
                    let v = panel.values[gy * width + gx]
                    let col = v.isFinite ? Colormap.rgb((v - lo) / (hi - lo)) : RGB.nan
                    c.fill(x: x0 + gx * pixel, y: y0 + gy * pixel, w: pixel, h: pixel, col)
                }
            }
            // Cell centres at the extent's values: the axes reach half a cell beyond them.
            let hx = width > 1 ? (xb - xa) / Double(width - 1) / 2 : 0.5, hy = height > 1 ? (yb - ya) / Double(height - 1) / 2 : 0.5
            var axes = Axes(left: x0, top: y0, width: mapW, height: mapH, x: (xa - hx, xb + hx), y: (ya - hy, yb + hy))
            axes.flipY = true
            if xb < xa { axes.x0 = xa - hx; axes.x1 = xb + hx }
            if yb < ya { axes.y0 = ya - hy; axes.y1 = yb + hy }
            let xTicks = Ticks.nice(min(xa, xb), max(xa, xb), count: max(2, mapW / 90))
            axes.draw(on: &c, xLabel: xLabel, yLabel: yLabel, xTicks: xTicks, yTicks: yTicks)
            if let m = metresPerPixel { drawScaleBar(on: &c, metresPerPixel: m, left: x0, top: y0, mapW: mapW, mapH: mapH, pixel: pixel) }
            let r = min(max(pixel / 2, 2), 5)
            if drawsPath {
                for (a, b) in zip(panel.points, panel.points.dropFirst()) {
                    c.line(x0 + a.1 * pixel + pixel / 2, y0 + a.0 * pixel + pixel / 2, x0 + b.1 * pixel + pixel / 2, y0 + b.0 * pixel + pixel / 2, .black)
                }
            }
            for (k, p) in panel.points.enumerated() {
                let t = ((panel.pointValues?[k] ?? Double(k + 1)) - pointLo) / (pointHi - pointLo)
                c.disc(x0 + p.1 * pixel + pixel / 2, y0 + p.0 * pixel + pixel / 2, radius: r, Colormap.order(t), outline: .black)
            }
        }
        let barLeft = cols * cellW + 4, barTop = top + panelTitle
        if !ownScales { bar.draw(on: &c, left: barLeft, top: barTop, height: barH) }
        if hasPoints {
            let orderTop = ownScales ? barTop : barTop + barH + 14
            orderBar.draw(on: &c, left: barLeft, top: orderTop, height: mapH - (orderTop - barTop), colormap: Colormap.order)
        }
        return c
    }

    /// A white bar of a round length, about a quarter of the map's width at most, and its
    /// length above it, on a black box in the map's lower right corner; none when the box
    /// would not fit or the bar would be shorter than two pixels.
    func drawScaleBar(on c: inout Canvas, metresPerPixel m: Double, left x0: Int, top y0: Int, mapW: Int, mapH: Int, pixel: Int) {
        guard let bar = PixelSize.bar(mostMetres: m * Double(width) / 4) else { return }
        let length = Int((bar.metres / m * Double(pixel)).rounded())
        let textW = Font.width(bar.label, scale: 1)
        let (boxW, boxH) = (max(length, textW) + 8, Font.lineHeight + 12)
        guard length >= 2, boxW + 8 <= mapW, boxH + 8 <= mapH else { return }
        let (bx, by) = (x0 + mapW - boxW - 4, y0 + mapH - boxH - 4)
        c.fill(x: bx, y: by, w: boxW, h: boxH, .black)
        let centre = bx + boxW / 2
        c.text(bar.label, x: centre, y: by + 3, scale: 1, anchor: .centre, color: .white)
        c.fill(x: centre - length / 2, y: by + boxH - 6, w: length, h: 3, .white)
    }

    public func write(_ path: String) throws { try render().write(path) }
}
