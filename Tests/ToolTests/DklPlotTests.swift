import DKL
import Foundation
import TestSupport
import XCTest

/// dkl-plot's PNG files decoded in Python: each value drawn in its colour and place, points
/// by their order, categories in their own colours, curves through their points; bad input.
final class DklPlotTests: XCTestCase {
    func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

    /// A 2×3 map: each value's colour covers its 160×160 cell, in place; NaN is grey.
    func testMapDrawsEveryCell() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('a.npy', np.array([[0, 1, 2], [3, np.nan, 5]]))", cwd: dir.path)
        try Tools.expect(0, "dkl-plot", ["map", "-o", "a.png", "--title", "six cells", "--label", "v", "a.npy"], cwd: dir.path)
        let image = try PNGReader.read(dir.file("a.png"))
        var at: [(Double, Double)] = []
        for (k, v) in [0.0, 1, 2, 3, .nan, 5].enumerated() {
            let c = v.isFinite ? Colormap.rgb(v / 5) : RGB.nan
            let found = image.find([c.r, c.g, c.b])
            XCTAssertGreaterThanOrEqual(found.count, 160 * 160, "cell \(k)")
            at.append((found.x, found.y))
        }
        for k in [1, 2, 5] { XCTAssertEqual(at[k].0 - at[k - 1].0, 160, accuracy: 12, "cell \(k)") }
        for k in 3...5 { XCTAssertEqual(at[k].1 - at[k - 3].1, 160, accuracy: 12, "cell \(k)") }
        // --range clips: 0…2 puts 2, 3 and 5 at the top colour.
        try Tools.expect(0, "dkl-plot", ["map", "-o", "b.png", "--range", "0:2", "a.npy"], cwd: dir.path)
        let top = Colormap.rgb(1)
        XCTAssertGreaterThanOrEqual(try PNGReader.read(dir.file("b.png")).find([top.r, top.g, top.b]).count, 3 * 160 * 160)
    }

    /// A scale bar from the array's pixel size: on the real STS grid's topography (30 points
    /// of 5/30 nm, drawn 16 screen pixels each) a 1 nm bar is 6 points, 96 screen pixels,
    /// white on a black box in the map's lower right corner; --pixel-size sets it, and the
    /// pixel size reaches a map exported by dkl-cat from dkl-scalarize's stream.
    /// hist: the counts per bin are numpy's on the same range, and the density integrates to one.
    func testHistogramCountsAreNumpys() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import json, numpy as np
            rng = np.random.default_rng(7)
            for name, v in (("a", rng.normal(size=500)), ("b", 0.5 + 0.3 * rng.normal(size=200))):
                with open(name + '.ndjson', 'w') as f:
                    f.write(json.dumps({"dkl_stream": 1, "fields": [{"name": "v", "dtype": "f64", "shape": []}], "attrs": {}}) + "\\n")
                    for x in v: f.write(json.dumps({"v": float(x)}) + "\\n")
            """, cwd: dir.path)
        let want = try Tools.python("""
            import json, numpy as np
            vs = [np.array([json.loads(l)['v'] for l in open(n + '.ndjson').read().splitlines()[1:]]) for n in 'ab']
            both = np.concatenate(vs)
            for v in vs: print(' '.join(str(c) for c in np.histogram(v, bins=12, range=(both.min(), both.max()))[0]))
            """, cwd: dir.path).split(separator: "\n").map { $0.split(separator: " ").map { Int($0)! } }
        let h = try LinePlot.histogram([dir.file("a.ndjson"), dir.file("b.ndjson")], field: "v", bins: 12, names: [], marks: [0])
        XCTAssertEqual(h.counts, want)
        for s in h.plot.series.prefix(2) {
            var area = 0.0
            for k in stride(from: 1, to: s.x.count - 1, by: 2) { area += s.y[k] * (s.x[k + 1] - s.x[k]) }
            XCTAssertEqual(area, 1, accuracy: 1e-12)
        }
        XCTAssertEqual(h.plot.series.last?.label, "v = 0")
        try Tools.expect(0, "dkl-plot", ["hist", "-o", "h.png", "--x", "v", "--mark", "0", "a.ndjson", "b.ndjson"], cwd: dir.path)
        XCTAssertGreaterThan(try PNGReader.read(dir.file("h.png")).width, 500)
        try Tools.expect(64, "dkl-plot", ["hist", "-o", "h.png", "a.ndjson"], cwd: dir.path)
        // line: several fields of one stream, a curve each.
        let two = try LinePlot.fromInputs([dir.file("a.ndjson")], x: "#", y: "v,v", transform: .none, names: [])
        XCTAssertEqual(two.series.map(\.label), ["v", "v"])
        XCTAssertEqual(two.series[0].y.count, 500)
        try Tools.expect(64, "dkl-plot", ["hist", "-o", "h.png", "--x", "v", "--mark", "x", "a.ndjson"], cwd: dir.path)
    }

    func testScaleBarFromThePixelSize() throws {
        let dir = TempDir()
        let grid = Tools.root + "/Tests/Fixtures/spm/STS_grid_lockin.3ds"
        try Tools.expect(0, "dkl-plot", ["map", "-o", "none.png", "--no-scale-bar", grid + ":Z"], cwd: dir.path)
        /// The longest horizontal run of white pixels that the figure without a scale bar
        /// does not have, and where the figures differ (the lowest and rightmost fraction).
        func bar(_ png: String, without: String = "none.png") throws -> (length: Int, top: Double, left: Double) {
            let image = try PNGReader.read(dir.file(png)), none = try PNGReader.read(dir.file(without))
            XCTAssertEqual(image.width, none.width)
            var (longest, top, left) = (0, image.height, image.width)
            for y in 0..<image.height {
                var run = 0
                for x in 0..<image.width {
                    let differs = image.at(x, y) != none.at(x, y)
                    if differs { top = min(top, y); left = min(left, x) }
                    run = differs && image.at(x, y) == [255, 255, 255] ? run + 1 : 0
                    longest = max(longest, run)
                }
            }
            return (longest, Double(top) / Double(image.height), Double(left) / Double(image.width))
        }
        try Tools.expect(0, "dkl-plot", ["map", "-o", "z.png", grid + ":Z"], cwd: dir.path)
        let z = try bar("z.png")
        XCTAssertEqual(z.length, 96)
        XCTAssertGreaterThan(z.top, 0.8, "in the map's lower part")
        XCTAssertGreaterThan(z.left, 0.5, "in the map's right part")
        // 0.5 nm pixels: at most 3.75 nm, a 2 nm bar of 4 points, 64 screen pixels.
        try Tools.expect(0, "dkl-plot", ["map", "-o", "half.png", "--pixel-size", "0.5nm", grid + ":Z"], cwd: dir.path)
        XCTAssertEqual(try bar("half.png").length, 64)
        try Tools.expect(0, "dkl-scalarize", ["-S", "didv=mean:-0.02:0.02", grid + ":LockinX", "-o", "d.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-cat", ["--export", "d.h5", "--field", "didv", "d.dkl"], cwd: dir.path)
        try Tools.expect(0, "dkl-plot", ["map", "-o", "d.png", "d.h5"], cwd: dir.path)
        try Tools.expect(0, "dkl-plot", ["map", "-o", "d0.png", "--no-scale-bar", "d.h5"], cwd: dir.path)
        XCTAssertEqual(try bar("d.png", without: "d0.png").length, 96)
        let bad = try Tools.expect(64, "dkl-plot", ["map", "-o", "x.png", "--pixel-size", "0.5parsec", grid + ":Z"], cwd: dir.path)
        XCTAssertTrue(bad.err.contains("a pixel size is a positive number and a length unit"), bad.report)
        XCTAssertEqual(PixelSize.bar(mostMetres: 1.25e-9)?.label, "1 nm")
        XCTAssertEqual(PixelSize.bar(mostMetres: 3.9e-6)?.label, "2 μm")
        XCTAssertEqual(PixelSize.bar(mostMetres: 7e-10)?.label, "500 pm")
    }

    /// Frames of a K×H×W array with --frame-values: each panel shows the first v points of
    /// the trace, coloured by their order over the most any panel shows.
    func testFramesShowThePointsMeasuredSoFar() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import h5py, numpy as np
            with h5py.File('m.h5', 'w') as f:
                f['mean'] = np.arange(3 * 8 * 8, dtype=float).reshape(3, 8, 8); f['points'] = np.array([1.0, 2, 3])
            """, cwd: dir.path)
        try write("""
            {"dkl_stream":1,"fields":[{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]}]}
            {"y":1,"x":1}
            {"y":6,"x":2}
            {"y":3,"x":5}

            """, dir.file("t.ndjson"))
        try Tools.expect(0, "dkl-plot", ["map", "-o", "f.png", "--frames", "0,-1", "--frame-values", "m.h5:/points", "--points", "t.ndjson", "m.h5:/mean"],
                         cwd: dir.path)
        let image = try PNGReader.read(dir.file("f.png"))
        let first = Colormap.order(0), middle = Colormap.order(0.5), last = Colormap.order(1)
        // In the panels only: the scale of the order on the right holds these colours too.
        let panels = image.width - 150
        let n0 = image.find([first.r, first.g, first.b], below: panels), n1 = image.find([middle.r, middle.g, middle.b], below: panels)
        let n2 = image.find([last.r, last.g, last.b], below: panels)
        // Two discs of the first point (one per panel), one each of the others, all of one size.
        XCTAssertGreaterThan(n2.count, 10)
        XCTAssertEqual(n1.count, n2.count)
        XCTAssertEqual(n0.count, 2 * n2.count)
        // The last point (3, 5) lies right of and above the middle one (6, 2) in the second panel.
        XCTAssertGreaterThan(n2.x, n1.x)
        XCTAssertLessThan(n2.y, n1.y)
        // A trace's steps colour its points: a batch of two at step 1 shares one colour.
        try write("""
            {"dkl_stream":1,"fields":[{"name":"step","dtype":"i32","shape":[]},{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]}]}
            {"step":0,"y":1,"x":1}
            {"step":1,"y":6,"x":2}
            {"step":1,"y":3,"x":5}
            {"step":3,"y":6,"x":6}

            """, dir.file("s.ndjson"))
        try Tools.expect(0, "dkl-plot", ["map", "-o", "s.png", "--frames", "0", "--points", "s.ndjson", "m.h5:/mean"], cwd: dir.path)
        let byStep = try PNGReader.read(dir.file("s.png"))
        let third = Colormap.order(1.0 / 3)
        XCTAssertEqual(byStep.find([third.r, third.g, third.b], below: byStep.width - 150).count, 2 * n2.count, "two discs of step 1")
        try Tools.expect(0, "dkl-plot", ["map", "-o", "o.png", "--frames", "0", "--points", "s.ndjson", "--points-by", "order", "m.h5:/mean"], cwd: dir.path)
        let byOrder = try PNGReader.read(dir.file("o.png"))
        XCTAssertEqual(byOrder.find([third.r, third.g, third.b], below: byOrder.width - 150).count, n2.count, "one disc, the second point")
        // Coloured by another field (a trace's beam time): the point at the field's middle
        // value takes the scale's middle colour; a stop record (step −1) is no point; the
        // path joins the points in order with black lines (none without --path).
        try write("""
            {"dkl_stream":1,"fields":[{"name":"step","dtype":"i32","shape":[]},{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]},{"name":"beam_clock","dtype":"f64","shape":[]}]}
            {"step":0,"y":1,"x":1,"beam_clock":2}
            {"step":1,"y":6,"x":1,"beam_clock":4}
            {"step":2,"y":6,"x":6,"beam_clock":10}
            {"step":-1,"y":-1,"x":-1,"beam_clock":null}

            """, dir.file("b.ndjson"))
        try Tools.expect(0, "dkl-plot", ["map", "-o", "b.png", "--frames", "0", "--points", "b.ndjson", "--points-by", "beam_clock", "m.h5:/mean"], cwd: dir.path)
        let byClock = try PNGReader.read(dir.file("b.png"))
        let quarter = Colormap.order(0.25)
        XCTAssertEqual(byClock.find([quarter.r, quarter.g, quarter.b], below: byClock.width - 150).count, n2.count, "the point at 4 s of 2 to 10")
        try Tools.expect(0, "dkl-plot", ["map", "-o", "p.png", "--frames", "0", "--points", "b.ndjson", "--points-by", "beam_clock", "--path", "m.h5:/mean"],
                         cwd: dir.path)
        let path = try PNGReader.read(dir.file("p.png"))
        let black = path.find([0, 0, 0], below: path.width - 150).count, none = byClock.find([0, 0, 0], below: byClock.width - 150).count
        XCTAssertGreaterThan(black, none + 100, "two segments about 5 cells long each")
        for (args, message) in [(["--points-by", "clock"], "no field 'clock'"), (["--path"], "--path goes with --points")] {
            let bad = try Tools.run("dkl-plot", ["map", "-o", "x.png", "--frames", "0"] + (args == ["--path"] ? [] : ["--points", "b.ndjson"]) + args + ["m.h5:/mean"],
                                    cwd: dir.path)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.err.contains(message), bad.err)
            XCTAssertFalse(dir.exists("x.png"))
        }
        // A frame that is not there.
        let r = try Tools.run("dkl-plot", ["map", "-o", "g.png", "--frames", "5", "m.h5:/mean"], cwd: dir.path)
        XCTAssertEqual(r.status, 64, r.report)
        XCTAssertTrue(r.err.contains("--frames: item 1 of '5' is 5, outside") && r.err.contains("frames of m.h5:/mean"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("g.png")))
    }

    /// Scatter: categories in the palette's colours, in place; a value on the colormap.
    func testScatterColoursByCategoryOrValue() throws {
        let dir = TempDir()
        var lines = [#"{"dkl_stream":1,"fields":[{"name":"z","dtype":"f64","shape":[2]},{"name":"suit","dtype":"i32","shape":[]},{"name":"angle","dtype":"f64","shape":[]}],"attrs":{"suits":["clubs","diamonds","hearts"]}}"#]
        for i in 0..<30 { lines.append(#"{"z":[\#(i % 3),\#(Double(i) / 30)],"suit":\#(i % 3),"angle":\#(Double(i))}"#) }
        try write(lines.joined(separator: "\n") + "\n", dir.file("s.ndjson"))
        try Tools.expect(0, "dkl-plot", ["scatter", "-o", "c.png", "--x", "z[0]", "--y", "z[1]", "--color", "suit", "s.ndjson"], cwd: dir.path)
        let image = try PNGReader.read(dir.file("c.png"))
        let xs = (0..<3).map { k -> Double in
            let c = Colormap.categories[k]
            let f = image.find([c.r, c.g, c.b])
            XCTAssertGreaterThan(f.count, 10 * 20, "suit \(k)")   // ten discs and the legend's
            return f.x
        }
        XCTAssertLessThan(xs[0], xs[1])
        XCTAssertLessThan(xs[1], xs[2])
        try Tools.expect(0, "dkl-plot", ["scatter", "-o", "v.png", "--x", "z[0]", "--y", "z[1]", "--color", "angle", "s.ndjson"], cwd: dir.path)
        let v = try PNGReader.read(dir.file("v.png"))
        let hi = Colormap.rgb(1), lo = Colormap.rgb(0)
        // The largest angle (29: z = (2, 0.967)) is drawn at the top right in the top colour.
        let top = v.find([hi.r, hi.g, hi.b]), bottom = v.find([lo.r, lo.g, lo.b])
        XCTAssertLessThan(top.y, bottom.y)
        // --color-map: each record coloured by a map at its (y, x): here the map is the
        // angle again, so the figure is the same.
        _ = try Tools.python("import numpy as np; np.save('angle.npy', np.arange(30.0).reshape(1, 30))", cwd: dir.path)
        var withPlace = [#"{"dkl_stream":1,"fields":[{"name":"z","dtype":"f64","shape":[2]},{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]}]}"#]
        for i in 0..<30 { withPlace.append(#"{"z":[\#(i % 3),\#(Double(i) / 30)],"y":0,"x":\#(i)}"#) }
        try write(withPlace.joined(separator: "\n") + "\n", dir.file("p.ndjson"))
        try Tools.expect(0, "dkl-plot", ["scatter", "-o", "m.png", "--x", "z[0]", "--y", "z[1]", "--color-map", "angle.npy", "--label", "angle", "p.ndjson"], cwd: dir.path)
        XCTAssertEqual(try PNGReader.read(dir.file("m.png")).pixels, v.pixels)
        // An array field needs an element.
        let r = try Tools.run("dkl-plot", ["scatter", "-o", "w.png", "--x", "z", "--y", "angle", "s.ndjson"], cwd: dir.path)
        XCTAssertEqual(r.status, 64, r.report)
        XCTAssertTrue(r.err.contains("name one element, e.g. 'z[0]'"), r.err)
    }

    /// --best-so-far max draws a curve that never falls; without it, the dip shows.
    func testLineBestSoFar() throws {
        let dir = TempDir()
        let values = [1.0, 3, 2, 5, 4, 4.5]
        try write(#"{"dkl_stream":1,"fields":[{"name":"value","dtype":"f64","shape":[]}]}"# + "\n" + values.map { #"{"value":\#($0)}"# }.joined(separator: "\n") + "\n",
                  dir.file("t.ndjson"))
        func tops(_ args: [String]) throws -> [Int] {
            try Tools.expect(0, "dkl-plot", ["line", "-o", "l.png", "--y", "value"] + args + ["t.ndjson"], cwd: dir.path)
            let image = try PNGReader.read(dir.file("l.png"))
            let c = Colormap.categories[0]
            // The highest pixel of the curve in each column (left of the legend).
            return (0..<(image.width - 120)).compactMap { x in (0..<image.height).first { image.at(x, $0) == [c.r, c.g, c.b] } }
        }
        let best = try tops(["--best-so-far", "max"])
        XCTAssertGreaterThan(best.count, 500)
        XCTAssertTrue(zip(best, best.dropFirst()).allSatisfy { $0.1 <= $0.0 }, "a running maximum never falls")
        let raw = try tops([])
        XCTAssertFalse(zip(raw, raw.dropFirst()).allSatisfy { $0.1 <= $0.0 })
        // A 1-D array is a curve against 1, 2, …: the same figure as the stream's.
        _ = try Tools.python("import numpy as np; np.save('v.npy', np.array([1.0, 3, 2, 5, 4, 4.5]))", cwd: dir.path)
        try Tools.expect(0, "dkl-plot", ["line", "-o", "s.png", "--y", "value", "--xlabel", "n", "--name", "v", "t.ndjson"], cwd: dir.path)
        try Tools.expect(0, "dkl-plot", ["line", "-o", "a.png", "--xlabel", "n", "--name", "v", "v.npy"], cwd: dir.path)
        XCTAssertEqual(try PNGReader.read(dir.file("a.png")).pixels, try PNGReader.read(dir.file("s.png")).pixels)
        let r = try Tools.expect(64, "dkl-plot", ["line", "-o", "b.png", "v.npy", "t.ndjson"], cwd: dir.path)
        XCTAssertTrue(r.err.contains("line needs --y FIELD for the stream t.ndjson"), r.err)
    }

    /// Values at the ends of the floating-point range, infinities and NaN draw (off the
    /// axes where they must) instead of trapping in a pixel's Int conversion.
    func testExtremeValuesDraw() throws {
        let dir = TempDir()
        _ = try Tools.python("""
            import numpy as np
            np.save('wide.npy', np.array([-1e308, 1e308, 0, 1])); np.save('inf.npy', np.array([np.inf, 1, 2]))
            np.save('m.npy', np.array([[np.inf, -np.inf], [1e308, -1e308]])); np.save('frames.npy', np.zeros((3, 4, 4)))
            np.save('nan.npy', np.array([np.nan, 1, 2]))
            """, cwd: dir.path)
        try write(#"{"dkl_stream":1,"fields":[{"name":"a","dtype":"f64","shape":[]},{"name":"b","dtype":"f64","shape":[]}]}"# + "\n{\"a\":-1e308,\"b\":1e308}\n{\"a\":1e308,\"b\":-1e308}\n{\"a\":1,\"b\":null}\n",
                  dir.file("s.ndjson"))
        try write(#"{"dkl_stream":1,"fields":[{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]}]}"# + "\n{\"y\":1,\"x\":1}\n{\"y\":2,\"x\":0}\n",
                  dir.file("t.ndjson"))
        for args in [["line", "wide.npy"], ["line", "inf.npy"], ["line", "--log-y", "wide.npy"], ["map", "m.npy"],
                     ["map", "--frame-values", "nan.npy", "--points", "t.ndjson", "frames.npy"],
                     ["scatter", "--x", "a", "--y", "b", "s.ndjson"], ["scatter", "--x", "a", "--y", "b", "--color", "a", "s.ndjson"]] {
            try Tools.expect(0, "dkl-plot", [args[0], "-o", "a.png"] + args.dropFirst(), cwd: dir.path)
            XCTAssertEqual(Array(try dir.read("a.png").prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(args)")
        }
    }

    func testBadInput() throws {
        let dir = TempDir()
        _ = try Tools.python("import numpy as np; np.save('v.npy', np.arange(4.0)); np.save('m.npy', np.zeros((4, 4))); np.save('neg.npy', -np.ones(5)); np.save('f.npy', np.zeros((3, 4, 4)))", cwd: dir.path)
        try write(#"{"dkl_stream":1,"fields":[{"name":"y","dtype":"i32","shape":[]},{"name":"x","dtype":"i32","shape":[]}]}"# + "\n{\"y\":1,\"x\":1}\n{\"y\":9,\"x\":0}\n",
                  dir.file("t.ndjson"))
        let cases: [([String], Int32, String)] = [
            ([], 64, "dkl-plot: error: name a figure: map, scatter, line or hist"),
            (["pie", "-o", "a.png"], 64, "dkl-plot: error: unknown figure 'pie' (map, scatter, line or hist)"),
            (["map", "m.npy"], 64, "dkl-plot: error: give the PNG file with -o OUT.png"),
            (["map", "-o", "a.png", "v.npy"], 1, "dkl-plot: v.npy:"),
            (["map", "-o", "a.png", "missing.npy"], 1, "missing.npy"),
            (["map", "-o", "a.png", "--points", "t.ndjson", "m.npy"], 1, "dkl-plot: t.ndjson:2: the point (9, 0) is outside the 4×4 map"),
            (["map", "-o", "a.png", "--range", "3:1", "m.npy"], 64, "--range must be LO:HI with LO < HI"),
            (["line", "-o", "a.png", "--y", "value", "t.ndjson"], 1, "dkl-plot: t.ndjson:header: no field 'value' (it has y, x)"),
            (["line", "-o", "a.png", "--y", "y", "--best-so-far", "top", "t.ndjson"], 64, "--best-so-far must be max or min"),
            (["scatter", "-o", "a.png", "--x", "y", "t.ndjson"], 64, "scatter needs --x FIELD and --y FIELD"),
            (["line", "-o", "a.png", "--log-y", "neg.npy"], 1, "dkl-plot: no curve has a positive value to draw on a logarithmic axis (--log-y)"),
            (["map", "-o", "a.png", "--frames", "", "f.npy"], 64, "dkl-plot: error: --frames: item 1 of '' is '', not an integer"),
        ]
        try write(#"{"dkl_stream":1,"fields":[{"name":"y","dtype":"f64","shape":[]},{"name":"x","dtype":"f64","shape":[]}]}"# + "\n{\"y\":1,\"x\":1}\n{\"y\":1e300,\"x\":0}\n",
                  dir.file("far.ndjson"))
        for (args, status, message) in cases + [
            (["map", "-o", "a.png", "--points", "far.ndjson", "m.npy"], 1, "dkl-plot: far.ndjson:2: points must be whole pixels, found (1e+300, 0.0)")] {
            let r = try Tools.run("dkl-plot", args, cwd: dir.path)
            XCTAssertEqual(r.status, status, r.report)
            XCTAssertFalse(r.signaled, r.report)
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
            // One message; a usage error adds the usage lines.
            XCTAssertEqual(r.err.split(separator: "\n").filter { $0.hasPrefix("dkl-plot:") }.count, 1, r.report)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("a.png")), "\(args)")
        }
    }
}
