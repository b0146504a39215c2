import Foundation
import DKLCore
import DKLData

/// The figures of dkl-plot built from the tools' files: maps from arrays, scatter plots
/// from a stream's fields, curves from streams or 1-D arrays.

/// The points (y, x) of a stream in order, and their steps when it has a field `step` (an
/// experiment's trace) and `bySteps`.
public struct TracePoints {
    public var points: [(Int, Int)] = []
    /// The field the points are coloured by, per point (nil: their order).
    public var steps: [Double]?
    /// That field's name.
    public var field: String?
    public var file: String?

    public init() {}

    /// The points (y, x) of the stream at `path`, coloured by the field `by` (a trace's step,
    /// its beam_clock, any scalar field) when the stream has it, else by their order.
    public init(_ path: String, by: String?) throws {
        let header = try StreamReader(path: path).header
        let hasSteps = header.schema.index(of: "step") != nil
        let colour = by.flatMap { header.schema.index(of: $0) != nil ? $0 : nil }
        if let by, colour == nil, by != "step" {
            throw DKLError.data("no field '\(by)' to colour the points by", file: path, location: "header")
        }
        let c = try StreamColumns(path: path, columns: ["y", "x"] + (hasSteps ? ["step"] : []) + (colour.map { [$0] } ?? []))
        // A trace's stop records (step −1) are no points.
        let kept = (0..<c.values[0].count).filter { !hasSteps || c.values[2][$0] >= 0 }
        points = try kept.map { k in (c.values[0][k], c.values[1][k]) }.enumerated().map { k, p in
            guard p.0 == p.0.rounded(), p.1 == p.1.rounded(), abs(p.0) < 1e9, abs(p.1) < 1e9 else {
                throw DKLError.data("points must be whole pixels, found (\(p.0), \(p.1))", file: path, record: k + 1)
            }
            return (Int(p.0), Int(p.1))
        }
        steps = colour.map { _ in kept.map { c.values[c.values.count - 1][$0] } }
        field = colour
        file = path
    }
}

extension MapFigure {
    /// Panels from H×W arrays or the frames of K×H×W arrays (all on one grid), in order.
    /// - Parameters: `frames`: the frames to draw of K×H×W arrays (negative: from the end;
    ///   nil: all); `frameValues`: a value per frame, for titles (`frameTitle`: %v the value,
    ///   %k the index) and for how many of `points` each frame shows; `panelTitles`: the
    ///   first panels' titles.
    public static func fromArrays(_ specs: [String], frames: String?, frameValues: [Double]?, frameTitle: String?, panelTitles: [String],
                                  points: TracePoints) throws -> MapFigure {
        var panels: [MapPanel] = []
        var grid: (Int, Int)?
        var titles = panelTitles
        var pixelSize: PixelSize?
        for spec in specs {
            let array = try ArrayFile.open(spec)
            if pixelSize == nil { pixelSize = PixelSize(attributes: array.attributes) }
            try array.requireRank([2, 3], "a map H×W or frames K×H×W")
            let (k, h, w) = array.rank == 2 ? (1, array.shape[0], array.shape[1]) : (array.shape[0], array.shape[1], array.shape[2])
            if let g = grid, g != (h, w) { throw DKLError.data("a \(h)×\(w) map; the first was \(g.0)×\(g.1)", file: array.name) }
            grid = (h, w)
            guard h * w > 0, k > 0 else { throw DKLError.data("the array is empty", file: array.name) }
            var chosen = Array(0..<k)
            if array.rank == 3, let list = frames {
                chosen = try OptionList.ints(list, option: "frames", range: -k...(k - 1),
                                             what: "frames of \(array.name): 0 to \(k - 1), or negative from the end").map { $0 < 0 ? k + $0 : $0 }
            }
            if let v = frameValues, array.rank == 3, v.count != k {
                throw DKLError.data("--frame-values holds \(v.count) values for \(k) frames", file: array.name)
            }
            for f in chosen {
                let values = try array.readBlock(start: array.rank == 2 ? [0, 0] : [f, 0, 0], count: array.rank == 2 ? [h, w] : [1, h, w])
                var panel = MapPanel(values: values)
                if !titles.isEmpty { panel.title = titles.removeFirst() } else if array.rank == 3 {
                    let format = frameTitle ?? (frameValues == nil ? "frame %k" : "%v points")
                    let v = frameValues.map { Ticks.format($0[f]) } ?? ""
                    panel.title = format.replacingOccurrences(of: "%v", with: v).replacingOccurrences(of: "%k", with: String(f))
                }
                if !points.points.isEmpty {
                    // Frame f shows the first v points, v its --frame-values value (all without).
                    let shown = frameValues.map { v in v[f].isNaN ? 0 : min(Double(points.points.count), max(0, v[f].rounded())) }
                    let n = array.rank == 3 ? shown.map { Int($0) } ?? points.points.count : points.points.count
                    panel.points = Array(points.points.prefix(n))
                    panel.pointValues = points.steps.map { Array($0.prefix(n)) }
                }
                panels.append(panel)
            }
        }
        let (h, w) = grid!
        if let bad = points.points.firstIndex(where: { $0.0 < 0 || $0.0 >= h || $0.1 < 0 || $0.1 >= w }) {
            throw DKLError.data("the point (\(points.points[bad].0), \(points.points[bad].1)) is outside the \(h)×\(w) map", file: points.file, record: bad + 1)
        }
        var figure = MapFigure(height: h, width: w, panels: panels)
        if let f = points.field { figure.pointsLabel = f }
        figure.metresPerPixel = pixelSize?.metres
        return figure
    }
}

extension Scatter {
    /// One point per record of the stream at `path` at (x, y) fields, coloured by the field
    /// `color` (values, or categories when `categorical` or an integer field; `names` or
    /// the header's attribute FIELDs name them) or by the H×W map `colorMap` at the
    /// record's (y, x).
    public static func fromStream(_ path: String, x xf: String, y yf: String, color: String?, colorMap: String?,
                                  categorical: Bool, names: [String]?) throws -> Scatter {
        let c = try StreamColumns(path: path, columns: [xf, yf] + (color.map { [$0] } ?? []) + (colorMap != nil ? ["y", "x"] : []))
        guard c.count > 0 else { throw DKLError.data("the stream holds no record", file: c.name) }
        var plot = Scatter(x: c.values[0], y: c.values[1])
        plot.xLabel = xf; plot.yLabel = yf; plot.colorLabel = color
        if let colorMap {
            let m = try ArrayFile.open(colorMap)
            try m.requireRank([2], "a map H×W")
            let values = try m.readAll()
            plot.values = try zip(c.values[2], c.values[3]).enumerated().map { (k, p) in
                let (y, x) = (Int(p.0), Int(p.1))
                guard y >= 0, y < m.shape[0], x >= 0, x < m.shape[1] else {
                    throw DKLError.data("the record at (\(y), \(x)) is outside the \(m.shape[0])×\(m.shape[1]) map \(m.name)", file: c.name, record: k + 1)
                }
                return values[y * m.shape[1] + x]
            }
        }
        plot.radius = c.count > 5000 ? 2 : 3
        guard let color else { return plot }
        guard categorical || c.integral[2] else { plot.values = c.values[2]; return plot }
        let values = c.values[2]
        guard values.allSatisfy({ $0 >= 0 && $0 < 1000 && $0 == $0.rounded() }) else {
            throw DKLError.data("the categories of '\(color)' must be whole numbers from 0 to 999", file: c.name)
        }
        plot.categories = values.map { Int($0) }
        let base = color.split(separator: "[").first.map(String.init) ?? color
        if let names {
            plot.categoryNames = names
        } else if case .array(let items)? = c.header.attrs[base + "s"], items.allSatisfy({ $0.stringValue != nil }) {
            plot.categoryNames = items.map { $0.stringValue! }   // names only when the attribute is a list of strings
        }
        return plot
    }
}

extension LinePlot {
    /// y as drawn: as it is, its running maximum or minimum, or its running sum.
    static func transformed(_ values: [Double], _ transform: Transform) -> [Double] {
        var y = values
        var running = transform == .cumulative ? 0.0 : Double.nan
        for i in y.indices where y[i].isFinite {
            switch transform {
            case .none: continue
            case .cumulative: running += y[i]
            case .max: running = running.isNaN ? y[i] : Swift.max(running, y[i])
            case .min: running = running.isNaN ? y[i] : Swift.min(running, y[i])
            }
            y[i] = running
        }
        return y
    }

    /// What is drawn of each curve's y.
    public enum Transform: String, Sendable { case none, max, min, cumulative }

    /// One curve per input: a stream's `y` against `x` ('#': the record number), or a 1-D
    /// array's values against 1, 2, …; `transform` draws the running maximum, minimum or
    /// sum instead; `names` label the curves (default: the file names).
    public static func fromInputs(_ inputs: [String], x xf: String, y yf: String?, transform: Transform, names: [String]) throws -> LinePlot {
        var names = names
        var series: [Series] = []
        for path in inputs {
            var x: [Double], y: [Double]
            if ArrayFile.isArrayFile(ArrayFile.split(path).0) {
                let array = try ArrayFile.open(path)
                try array.requireRank([1], "a curve (one value per point)")
                y = try array.readAll()
                x = (1...max(y.count, 1)).prefix(y.count).map(Double.init)
            } else {
                guard let yf else { throw DKLError.usage("line needs --y FIELD for the stream \(path)") }
                let fields = yf.split(separator: ",").map(String.init)
                let c = try StreamColumns(path: path, columns: [xf] + fields)
                (x, y) = (c.values[0], c.values[1])
                if fields.count > 1 {
                    // Several fields of one stream: a curve each, labelled by the field.
                    let base = names.isEmpty ? PathName.base(path) : names.removeFirst()
                    for (k, f) in fields.enumerated() {
                        series.append(Series(label: inputs.count > 1 ? "\(base): \(f)" : f, x: x, y: transformed(c.values[k + 1], transform)))
                    }
                    continue
                }
            }
            y = transformed(y, transform)
            let label = names.isEmpty ? PathName.base(path) : names.removeFirst()
            series.append(Series(label: label, x: x, y: y))
        }
        var plot = LinePlot(series: series)
        let yName = yf.map { $0.contains(",") ? "value" : $0 } ?? "value"
        plot.xLabel = xf == "#" ? (yf == nil ? "point" : "record") : xf
        plot.yLabel = transform == .max || transform == .min ? "\(yName), best so far" : transform == .cumulative ? "\(yName), running sum" : yName
        return plot
    }
}

extension LinePlot {
    /// Histograms of a field of several streams (posterior draws, say) on common bins: one
    /// step curve each, of the share of its values per unit (a density, so that streams of
    /// different lengths compare), and vertical lines at `marks` (a value given to the
    /// simulator, the truth). Values that are not finite are left out.
    public static func histogram(_ inputs: [String], field: String, bins: Int, names: [String], marks: [Double]) throws -> (plot: LinePlot, counts: [[Int]], edges: [Double]) {
        var names = names
        var columns: [(String, [Double])] = []
        for path in inputs {
            let c = try StreamColumns(path: path, columns: [field])
            columns.append((names.isEmpty ? PathName.base(path) : names.removeFirst(), c.values[0].filter(\.isFinite)))
        }
        let all = columns.flatMap(\.1)
        guard var lo = all.min(), var hi = all.max() else { throw DKLError.data("no finite value of '\(field)' to count") }
        if hi <= lo { (lo, hi) = (lo - 0.5, hi + 0.5) }
        let width = (hi - lo) / Double(bins)
        let edges = (0...bins).map { lo + Double($0) * width }
        var series: [Series] = [], counts: [[Int]] = []
        for (label, v) in columns {
            var c = [Int](repeating: 0, count: bins)
            for x in v { c[min(bins - 1, Int((x - lo) / width))] += 1 }
            counts.append(c)
            var xs: [Double] = [], ys: [Double] = []
            for b in 0..<bins {
                let d = v.isEmpty ? 0 : Double(c[b]) / (Double(v.count) * width)
                xs += [edges[b], edges[b + 1]]; ys += [d, d]
            }
            series.append(Series(label: label, x: [lo] + xs + [hi], y: [0] + ys + [0]))
        }
        let top = series.flatMap(\.y).max() ?? 1
        for m in marks { series.append(Series(label: "\(field) = \(Ticks.format(m))", x: [m, m], y: [0, top])) }
        var plot = LinePlot(series: series)
        plot.xLabel = field
        plot.yLabel = "density"
        return (plot, counts, edges)
    }
}
