import Foundation
import DKLCore
import DKLData
import Plot
import DKLCommandLine

// dkl-plot: PNG figures from the tools' arrays and streams — maps, scatter plots, curves.
let command = Command(
    name: "dkl-plot",
    usage: ["map -o OUT.png [options] ARRAY...", "scatter -o OUT.png --x FIELD --y FIELD [--color FIELD] [options] STREAM",
            "line -o OUT.png --y FIELD [--x FIELD] [options] STREAM...", "line -o OUT.png [options] CURVE..."],
    summary: """
        map: heatmaps of H×W arrays (NPY, or FILE.h5:/DATASET), or of the frames of a K×H×W
        array, side by side on one colour scale, with a colorbar, and the points of a
        trace (y, x in order) drawn over them coloured from first to last.
        scatter: one point per record at (--x, --y), coloured by --color: a value on the
        colormap with a colorbar, or a category (an integer field, or --categorical) with a
        legend; e.g. latent means coloured by suit or angle.
        line: one curve per stream, --y against --x (default '#', the record number), such
        as the best value so far against the points measured; or per 1-D array (a model
        file's FILE.h5:/loss/train, say), its values against 1, 2, ….
        A field is FIELD, FIELD[i] (element i of an array field) or '#'. The colormap is
        perceptually uniform (its lightness rises evenly, so it also reads in grey); NaN
        is drawn grey. PNG files are written whole or not at all.
        """,
    options: [
        Option("output", "o", value: "OUT.png", help: "the PNG file to write"),
        Option("title", value: "TEXT", help: "a title above the figure"),
        Option("label", value: "TEXT", help: "the colorbar's (or the categories') label"),
        Option("xlabel", value: "TEXT", help: "the x axis's label (scatter, line: default the field)"),
        Option("ylabel", value: "TEXT", help: "the y axis's label (scatter, line: default the field)"),
        Option("extent", value: "X0:X1,Y0:Y1", help: "map: the coordinates of the first and last columns and rows (default: pixel indices)"),
        Option("range", value: "LO:HI", help: "map, scatter: the colour scale's ends (default: the data's)"),
        Option("frames", value: "LIST", help: "map: the frames of K×H×W arrays to draw, e.g. 0,4,-1 (default: all)"),
        Option("frame-values", value: "ARRAY", help: "map: a value per frame (e.g. replay's FILE.h5:/points), for titles and points"),
        Option("frame-title", value: "FORMAT", help: "map: each frame's title; %v its value, %k its index (default '%v points', or 'frame %k')"),
        Option("panel-title", value: "TEXT", repeatable: true, help: "map: the title of the next panel (repeatable)"),
        Option("points", value: "TRACE", help: "map: draw the points (y, x) of this stream in order; with --frame-values, the first v of them"),
        Option("points-by", value: "step|order", help: "map: colour the points by their field step (a trace's; the default when there is one) or their order"),
        Option("columns", value: "N", help: "map: panels per row (default 4)"),
        Option("own-scales", help: "map: each panel on its own colour scale with its own colorbar"),
        Option("x", value: "FIELD", help: "scatter, line: the x coordinate (line: default '#')"),
        Option("y", value: "FIELD", help: "scatter, line: the y coordinate"),
        Option("color", value: "FIELD", help: "scatter: colour points by this field"),
        Option("color-map", value: "ARRAY", help: "scatter: colour each record by this H×W map at its (y, x)"),
        Option("categorical", help: "scatter: the colour field holds categories (default: when it is an integer field)"),
        Option("names", value: "A,B,...", help: "scatter: the categories' names (default: the header's FIELDs attribute, else 0, 1, …)"),
        Option("name", value: "TEXT", repeatable: true, help: "line: the next stream's legend (repeatable; default its file name)"),
        Option("best-so-far", value: "max|min", help: "line: draw the running maximum (or minimum) of --y"),
        Option("cumulative", help: "line: draw the running sum of --y (hits found so far, say)"),
        Option("log-y", help: "line: a logarithmic y axis"),
        Option("markers", help: "line: dots at the points too"),
    ]
)

func outputPath(_ a: Arguments) throws -> String {
    guard let o = a.string("output") else { throw DKLError.usage("give the PNG file with -o OUT.png") }
    return o
}

func range(_ a: Arguments) throws -> (Double, Double)? {
    guard let s = a.string("range") else { return nil }
    let v = try OptionList.doubles(s, option: "range", separator: ":", count: 2...2, what: "LO:HI")
    guard v[1] > v[0] else { throw DKLError.usage("--range must be LO:HI with LO < HI") }
    return (v[0], v[1])
}

/// The points (y, x) of a stream, in order, and their steps when it has a field `step`
/// (an experiment's trace) and they are not asked to be coloured by their order.
func readPoints(_ path: String, by: String) throws -> (points: [(Int, Int)], steps: [Double]?) {
    let header = try StreamReader(path: path).header
    let withSteps = by == "step" && header.schema.index(of: "step") != nil
    let c = try StreamColumns(path: path, columns: ["y", "x"] + (withSteps ? ["step"] : []))
    return (zip(c.values[0], c.values[1]).map { (Int($0.0), Int($0.1)) }, withSteps ? c.values[2] : nil)
}

/// --extent X0:X1,Y0:Y1.
func extent(_ a: Arguments) throws -> (x: (Double, Double), y: (Double, Double))? {
    guard let e = a.string("extent") else { return nil }
    let axes = OptionList.items(e, ",")
    guard axes.count == 2 else { throw DKLError.usage("--extent must be X0:X1,Y0:Y1, not '\(e)'") }
    let v = try axes.flatMap { try OptionList.doubles($0, option: "extent", separator: ":", count: 2...2, what: "X0:X1,Y0:Y1") }
    guard v[0] != v[1], v[2] != v[3] else { throw DKLError.usage("--extent must be X0:X1,Y0:Y1 with X0 ≠ X1 and Y0 ≠ Y1") }
    return ((v[0], v[1]), (v[2], v[3]))
}

func map(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(2...1000)
    let out = try outputPath(a)
    // The options first: a usage error before any file is read.
    let (colorRange, axes) = (try range(a), try extent(a))
    let columns = try a.int("columns", default: 4, range: 1...64)
    if a.flag("own-scales") && colorRange != nil { throw DKLError.usage("give --range or --own-scales, not both") }
    let frameValues = try a.string("frame-values").map { try ArrayFile.open($0).readAll() }
    let by = a.string("points-by") ?? "step"
    guard by == "step" || by == "order" else { throw DKLError.usage("--points-by must be step or order") }
    let (points, steps) = try a.string("points").map { try readPoints($0, by: by) } ?? ([], nil)
    var panels: [MapPanel] = []
    var grid: (Int, Int)?
    var titles = a.strings("panel-title")
    for spec in a.positionals.dropFirst() {
        let array = try ArrayFile.open(spec)
        try array.requireRank([2, 3], "a map H×W or frames K×H×W")
        let (k, h, w) = array.rank == 2 ? (1, array.shape[0], array.shape[1]) : (array.shape[0], array.shape[1], array.shape[2])
        if let g = grid, g != (h, w) { throw DKLError.data("a \(h)×\(w) map; the first was \(g.0)×\(g.1)", file: array.name) }
        grid = (h, w)
        guard h * w > 0, k > 0 else { throw DKLError.data("the array is empty", file: array.name) }
        var frames = Array(0..<k)
        if array.rank == 3, let list = a.string("frames") {
            frames = try OptionList.ints(list, option: "frames", range: -k...(k - 1),
                                         what: "frames of \(array.name): 0 to \(k - 1), or negative from the end").map { $0 < 0 ? k + $0 : $0 }
        }
        if let v = frameValues, array.rank == 3, v.count != k {
            throw DKLError.data("--frame-values holds \(v.count) values for \(k) frames", file: array.name)
        }
        for f in frames {
            let values = try array.readBlock(start: array.rank == 2 ? [0, 0] : [f, 0, 0], count: array.rank == 2 ? [h, w] : [1, h, w])
            var panel = MapPanel(values: values)
            if !titles.isEmpty { panel.title = titles.removeFirst() } else if array.rank == 3 {
                let format = a.string("frame-title") ?? (frameValues == nil ? "frame %k" : "%v points")
                let v = frameValues.map { Ticks.format($0[f]) } ?? ""
                panel.title = format.replacingOccurrences(of: "%v", with: v).replacingOccurrences(of: "%k", with: String(f))
            }
            if !points.isEmpty {
                let n = array.rank == 3 ? frameValues.map { max(0, min(points.count, Int($0[f].rounded()))) } ?? points.count : points.count
                panel.points = Array(points.prefix(n))
                panel.pointValues = steps.map { Array($0.prefix(n)) }
            }
            panels.append(panel)
        }
    }
    let (h, w) = grid!
    if let bad = points.firstIndex(where: { $0.0 < 0 || $0.0 >= h || $0.1 < 0 || $0.1 >= w }) {
        throw DKLError.data("the point (\(points[bad].0), \(points[bad].1)) is outside the \(h)×\(w) map", file: a.string("points")!, record: bad + 1)
    }
    var figure = MapFigure(height: h, width: w, panels: panels)
    figure.title = a.string("title"); figure.colorLabel = a.string("label"); figure.range = colorRange
    figure.columns = columns
    figure.ownScales = a.flag("own-scales")
    figure.xLabel = a.string("xlabel"); figure.yLabel = a.string("ylabel")
    figure.xExtent = axes?.x; figure.yExtent = axes?.y
    if steps != nil { figure.pointsLabel = "step" }
    try figure.write(out)
}

func scatter(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(2...2)
    let out = try outputPath(a)
    guard let xf = a.string("x"), let yf = a.string("y") else { throw DKLError.usage("scatter needs --x FIELD and --y FIELD") }
    let colorRange = try range(a)
    let colorField = a.string("color")
    let colorMap = a.string("color-map")
    if colorField != nil && colorMap != nil { throw DKLError.usage("give --color or --color-map, not both") }
    let c = try StreamColumns(path: a.positionals[1], columns: [xf, yf] + (colorField.map { [$0] } ?? []) + (colorMap != nil ? ["y", "x"] : []))
    guard c.count > 0 else { throw DKLError.data("the stream holds no record", file: c.name) }
    var plot = Scatter(x: c.values[0], y: c.values[1])
    plot.title = a.string("title"); plot.xLabel = a.string("xlabel") ?? xf; plot.yLabel = a.string("ylabel") ?? yf
    plot.colorLabel = a.string("label") ?? colorField
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
    plot.range = colorRange
    plot.radius = c.count > 5000 ? 2 : 3
    if let colorField {
        if a.flag("categorical") || c.integral[2] {
            let values = c.values[2]
            guard values.allSatisfy({ $0 >= 0 && $0 < 1000 && $0 == $0.rounded() }) else {
                throw DKLError.data("the categories of '\(colorField)' must be whole numbers from 0 to 999", file: c.name)
            }
            plot.categories = values.map { Int($0) }
            let base = colorField.split(separator: "[").first.map(String.init) ?? colorField
            if let names = a.string("names") {
                plot.categoryNames = names.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            } else if case .array(let items)? = c.header.attrs[base + "s"] {
                plot.categoryNames = items.compactMap(\.stringValue)
            }
        } else {
            plot.values = c.values[2]
        }
    }
    try plot.write(out)
}

func line(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(2...64)
    let out = try outputPath(a)
    let inputs = Array(a.positionals.dropFirst())
    // An input is a stream (--y against --x), or a 1-D array (its values against 1, 2, …:
    // a model file's loss per epoch, say).
    func isArray(_ spec: String) -> Bool { ArrayFile.isArrayFile(ArrayFile.split(spec).0) }
    let yf = a.string("y")
    if yf == nil, let stream = inputs.first(where: { !isArray($0) }) { throw DKLError.usage("line needs --y FIELD for the stream \(stream)") }
    let xf = a.string("x") ?? "#"
    let best = a.string("best-so-far")
    guard best == nil || best == "max" || best == "min" else { throw DKLError.usage("--best-so-far must be max or min") }
    if best != nil && a.flag("cumulative") { throw DKLError.usage("give --best-so-far or --cumulative, not both") }
    var names = a.strings("name")
    var series: [LinePlot.Series] = []
    for path in inputs {
        var x: [Double], y: [Double]
        if isArray(path) {
            let array = try ArrayFile.open(path)
            try array.requireRank([1], "a curve (one value per point)")
            y = try array.readAll()
            x = (1...max(y.count, 1)).prefix(y.count).map(Double.init)
        } else {
            let c: StreamColumns = try StreamColumns(path: path, columns: [xf, yf!])
            (x, y) = (c.values[0], c.values[1])
        }
        if let best {
            var running = Double.nan
            for i in y.indices where y[i].isFinite {
                running = running.isNaN ? y[i] : (best == "max" ? max(running, y[i]) : min(running, y[i]))
                y[i] = running
            }
        }
        if a.flag("cumulative") {
            var sum = 0.0
            for i in y.indices where y[i].isFinite { sum += y[i]; y[i] = sum }
        }
        let label = names.isEmpty ? (path as NSString).lastPathComponent : names.removeFirst()
        series.append(LinePlot.Series(label: label, x: x, y: y))
    }
    var plot = LinePlot(series: series)
    plot.title = a.string("title")
    let yName = yf ?? "value"
    plot.xLabel = a.string("xlabel") ?? (xf == "#" ? (yf == nil ? "point" : "record") : xf)
    plot.yLabel = a.string("ylabel") ?? (best != nil ? "\(yName), best so far" : a.flag("cumulative") ? "\(yName), running sum" : yName)
    plot.logY = a.flag("log-y"); plot.markers = a.flag("markers")
    try plot.write(out)
}

ToolMain.run(command) { inv in
    switch inv.args.positionals.first {
    case "map": try map(inv)
    case "scatter": try scatter(inv)
    case "line": try line(inv)
    case nil: throw DKLError.usage("name a figure: map, scatter or line")
    case let other?: throw DKLError.usage("unknown figure '\(other)' (map, scatter or line)")
    }
}
