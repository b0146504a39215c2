import Foundation
import DKLCore
import DKLData
import Plot
import DKLCommandLine
import PlotOptions

// dkl-plot: PNG figures from the tools' arrays and streams — maps, scatter plots, curves.
let command = Command(
    name: "dkl-plot",
    usage: ["map -o OUT.png [options] ARRAY...", "scatter -o OUT.png --x FIELD --y FIELD [--color FIELD] [options] STREAM",
            "line -o OUT.png --y FIELD [--x FIELD] [options] STREAM...", "line -o OUT.png [options] CURVE...",
            "hist -o OUT.png --x FIELD [--bins N] [--mark X] [options] STREAM..."],
    summary: """
        map: heatmaps of H×W arrays (any file of dkl-formats(5)), or of the frames of a K×H×W
        array, side by side on one colour scale, with a colorbar, and the points of a
        trace (y, x in order) drawn over them coloured from first to last, and a scale bar
        when the pixel size is known (the array's pixel_size, or --pixel-size).
        scatter: one point per record at (--x, --y), coloured by --color: a value on the
        colormap with a colorbar, or a category (an integer field, or --categorical) with a
        legend; e.g. latent means coloured by suit or angle.
        line: one curve per stream, --y against --x (default '#', the record number), such
        as the best value so far against the points measured; or per 1-D array (a model
        file's FILE.h5:/loss/train, say), its values against 1, 2, ….
        hist: the density of --x's values, one step curve per stream on common bins (the
        posterior draws of a parameter from dkl-fit --draws, say), with vertical lines at
        --mark values (the value a simulator was given).
        A field is FIELD, FIELD[i] (element i of an array field) or '#'. The colormap is
        perceptually uniform (its lightness rises evenly, so it also reads in grey); NaN
        is drawn grey. PNG files are written whole or not at all.
        """,
    options: [
        Option("output", "o", value: "OUT.png", help: "the PNG file to write"),
        Option("bins", value: "N", help: "hist: the number of bins (default 30)"),
        Option("mark", value: "X", repeatable: true, help: "hist: a vertical line at X (repeatable)"),
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
        Option("points-by", value: "FIELD|order", help: "map: colour the points by a field (default step, a trace's, when there is one; beam_clock for the beam time) or their order"),
        Option("path", help: "map: join the points in their order (the probe's path)"),
        Option("columns", value: "N", help: "map: panels per row (default 4)"),
        Option("own-scales", help: "map: each panel on its own colour scale with its own colorbar"),
        Option("pixel-size", value: "SIZE", help: "map: one pixel's size with its unit (0.5nm, 19.6nm, 2e-10m) for the scale bar (default: the array's pixel_size)"),
        Option("no-scale-bar", help: "map: draw no scale bar (default: one when the pixel size is known)"),
        Option("x", value: "FIELD", help: "scatter, line: the x coordinate (line: default '#'); hist: the field counted"),
        Option("y", value: "FIELD", help: "scatter, line: the y coordinate (line: several fields A,B,... of one stream, a curve each)"),
        Option("color", value: "FIELD", help: "scatter: colour points by this field"),
        Option("color-map", value: "ARRAY", help: "scatter: colour each record by this H×W map at its (y, x)"),
        Option("categorical", help: "scatter: the colour field holds categories (default: when it is an integer field)"),
        Option("names", value: "A,B,...", help: "scatter: the categories' names (default: the header's FIELDs attribute, else 0, 1, …)"),
        Option("name", value: "TEXT", repeatable: true, help: "line, hist: the next stream's legend (repeatable; default its file name)"),
        Option("best-so-far", value: "max|min", help: "line: draw the running maximum (or minimum) of --y"),
        Option("cumulative", help: "line: draw the running sum of --y (hits found so far, say)"),
        Option("log-y", help: "line: a logarithmic y axis"),
        Option("markers", help: "line: dots at the points too"),
    ]
)

let modes = ModeOptions([("map", ["label", "extent", "range", "frames", "frame-values", "frame-title", "panel-title", "points", "points-by", "path", "columns", "own-scales", "pixel-size", "no-scale-bar"]),
                         ("scatter", ["label", "range", "x", "y", "color", "color-map", "categorical", "names"]),
                         ("line", ["x", "y", "name", "best-so-far", "cumulative", "log-y", "markers"]),
                         ("hist", ["x", "name", "bins", "mark"])],
                        shared: ["output", "title", "xlabel", "ylabel"])

ToolMain.run(command) { inv in
    let figure = inv.args.positionals.first
    if let figure, ["map", "scatter", "line", "hist"].contains(figure) { try modes.check(inv.args, mode: figure) }
    switch figure {
    case "map": try Figures.map(inv)
    case "scatter": try Figures.scatter(inv)
    case "line": try Figures.line(inv)
    case "hist": try Figures.hist(inv)
    case nil: throw DKLError.usage("name a figure: map, scatter, line or hist")
    case let other?: throw DKLError.usage("unknown figure '\(other)' (map, scatter, line or hist)")
    }
}
