import Foundation
import DKLCore
import DKLData
import Plot
import DKLCommandLine

/// dkl-plot's figures from its arguments: a map, a scatter plot, curves, histograms; each
/// reads its options first (a usage error before any file is read), then its inputs, and
/// writes the PNG.
public enum Figures {
    static func outputPath(_ a: Arguments) throws -> String {
        guard let o = a.string("output") else { throw DKLError.usage("give the PNG file with -o OUT.png") }
        return o
    }

    static func range(_ a: Arguments) throws -> (Double, Double)? { try a.string("range").map { try OptionList.interval($0, option: "range") } }

    public static func map(_ inv: Invocation) throws {
        let a = inv.args
        try inv.expectPositionals(2...1000)
        let out = try outputPath(a)
        // The options first: a usage error before any file is read.
        let (colorRange, axes) = (try range(a), try a.string("extent").map { try OptionList.extent($0, option: "extent") })
        let columns = try a.int("columns", default: 4, range: 1...64)
        let pixelSize = try a.string("pixel-size").map { try PixelSize(parsing: $0) }
        if pixelSize != nil && a.flag("no-scale-bar") { throw DKLError.usage("give --pixel-size or --no-scale-bar, not both") }
        if a.flag("own-scales") && colorRange != nil { throw DKLError.usage("give --range or --own-scales, not both") }
        let frameValues = try a.string("frame-values").map { try ArrayFile.open($0).readAll() }
        let by = a.string("points-by") ?? "step"
        if by.isEmpty { throw DKLError.usage("--points-by must be order or a field of the points' stream (step, beam_clock, ...)") }
        if a.string("points") == nil, let o = ["points-by", "path"].first(where: { a.string($0) != nil || a.flag($0) }) { throw DKLError.usage("--\(o) goes with --points") }
        let points = try a.string("points").map { try TracePoints($0, by: by == "order" ? nil : by) } ?? TracePoints()
        var figure = try MapFigure.fromArrays(Array(a.positionals.dropFirst()), frames: a.string("frames"), frameValues: frameValues,
                                              frameTitle: a.string("frame-title"), panelTitles: a.strings("panel-title"), points: points)
        figure.title = a.string("title"); figure.colorLabel = a.string("label"); figure.range = colorRange
        figure.columns = columns
        figure.drawsPath = a.flag("path")
        figure.ownScales = a.flag("own-scales")
        figure.xLabel = a.string("xlabel"); figure.yLabel = a.string("ylabel")
        figure.xExtent = axes?.x; figure.yExtent = axes?.y
        if let pixelSize { figure.metresPerPixel = pixelSize.metres }
        if a.flag("no-scale-bar") { figure.metresPerPixel = nil }
        try figure.write(out)
    }

    public static func scatter(_ inv: Invocation) throws {
        let a = inv.args
        try inv.expectPositionals(2...2)
        let out = try outputPath(a)
        guard let xf = a.string("x"), let yf = a.string("y") else { throw DKLError.usage("scatter needs --x FIELD and --y FIELD") }
        let colorRange = try range(a)
        if a.string("color") != nil && a.string("color-map") != nil { throw DKLError.usage("give --color or --color-map, not both") }
        var plot = try Scatter.fromStream(a.positionals[1], x: xf, y: yf, color: a.string("color"), colorMap: a.string("color-map"), categorical: a.flag("categorical"),
                                          names: a.string("names").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
        plot.title = a.string("title"); plot.xLabel = a.string("xlabel") ?? xf; plot.yLabel = a.string("ylabel") ?? yf
        plot.colorLabel = a.string("label") ?? plot.colorLabel
        plot.range = colorRange
        try plot.write(out)
    }

    public static func line(_ inv: Invocation) throws {
        let a = inv.args
        try inv.expectPositionals(2...64)
        let out = try outputPath(a)
        let inputs = Array(a.positionals.dropFirst())
        let best = a.string("best-so-far")
        guard best == nil || best == "max" || best == "min" else { throw DKLError.usage("--best-so-far must be max or min") }
        if best != nil && a.flag("cumulative") { throw DKLError.usage("give --best-so-far or --cumulative, not both") }
        if a.string("y") == nil, let stream = inputs.first(where: { !ArrayFile.isArrayFile(ArrayFile.split($0).0) }) {
            throw DKLError.usage("line needs --y FIELD for the stream \(stream)")
        }
        var plot = try LinePlot.fromInputs(inputs, x: a.string("x") ?? "#", y: a.string("y"),
                                           transform: best.flatMap(LinePlot.Transform.init(rawValue:)) ?? (a.flag("cumulative") ? .cumulative : .none),
                                           names: a.strings("name"))
        plot.title = a.string("title")
        plot.xLabel = a.string("xlabel") ?? plot.xLabel
        plot.yLabel = a.string("ylabel") ?? plot.yLabel
        plot.logY = a.flag("log-y"); plot.markers = a.flag("markers")
        try plot.write(out)
    }

    public static func hist(_ inv: Invocation) throws {
        let a = inv.args
        try inv.expectPositionals(2...64)
        let out = try outputPath(a)
        guard let field = a.string("x") else { throw DKLError.usage("hist needs --x FIELD") }
        let bins = try a.int("bins", default: 30, range: 1...10_000)
        let marks = try a.strings("mark").map { m -> Double in
            guard let v = Double(m), v.isFinite else { throw DKLError.usage("--mark must be a number, not '\(m)'") }
            return v
        }
        var plot = try LinePlot.histogram(Array(a.positionals.dropFirst()), field: field, bins: bins, names: a.strings("name"), marks: marks).plot
        plot.title = a.string("title")
        plot.xLabel = a.string("xlabel") ?? plot.xLabel
        plot.yLabel = a.string("ylabel") ?? plot.yLabel
        try plot.write(out)
    }
}
