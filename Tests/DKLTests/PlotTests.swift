import DKL
import Foundation
import TestSupport
import XCTest

/// PNG files decoded by Python's zlib (an independent reader), the colormap, the font,
/// ticks, and what the figures draw where.
final class PlotTests: XCTestCase {
    func testPNGDecodesToTheSamePixels() throws {
        let dir = TempDir()
        let (w, h) = (300, 250)
        let rgb = (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 3) }
        try PNG.write(dir.file("a.png"), width: w, height: h, rgb: rgb)
        let image = try PNGReader.read(dir.file("a.png"))
        XCTAssertEqual([image.width, image.height], [w, h])
        XCTAssertEqual(image.pixels.flatMap { $0 }, rgb)
    }

    func testPNGOfAFlatImageIsSmall() throws {
        let dir = TempDir()
        try PNG.write(dir.file("a.png"), width: 800, height: 600, rgb: [UInt8](repeating: 200, count: 800 * 600 * 3))
        let size = try FileManager.default.attributesOfItem(atPath: dir.file("a.png"))[.size] as! Int
        XCTAssertLessThan(size, 5000)
        XCTAssertEqual(try PNGReader.read(dir.file("a.png")).at(799, 599), [200, 200, 200])
    }

    /// Lightness (relative luminance) rises along the colormap: it reads in order, also in
    /// grey (neighbouring entries may tie, or dip within 8-bit rounding).
    func testColormapLightnessIsMonotone() {
        func luminance(_ c: (UInt8, UInt8, UInt8)) -> Double {
            func lin(_ v: UInt8) -> Double { let s = Double(v) / 255; return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4) }
            return 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
        }
        let l = Colormap.table.map(luminance)
        for i in 1..<l.count { XCTAssertGreaterThanOrEqual(l[i], l[i - 1] - 0.002, "entry \(i)") }
        for i in stride(from: 4, to: l.count, by: 4) { XCTAssertGreaterThan(l[i], l[i - 4], "entry \(i)") }
        XCTAssertLessThan(l[0], 0.05)
        XCTAssertGreaterThan(l[255], 0.75)
    }

    func testTicksAreRoundAndInside() {
        assertClose(Ticks.nice(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1.0], rtol: 0, atol: 1e-12)
        assertClose(Ticks.nice(-3.7, 12.1, count: 4), [0, 5, 10], rtol: 0, atol: 1e-12)
        assertClose(Ticks.nice(0, 63, count: 3), [0, 20, 40, 60], rtol: 0, atol: 1e-12)
        assertClose(Ticks.nice(0.0012, 0.0049, count: 3), [0.002, 0.003, 0.004], rtol: 0, atol: 1e-15)
        XCTAssertEqual(Ticks.labels([0, 0.2, 0.4]), ["0.0", "0.2", "0.4"])
        XCTAssertEqual(Ticks.labels([0, 50, 100]), ["0", "50", "100"])
        XCTAssertEqual(Ticks.labels([0, 2e-4, 4e-4]), ["0.0e+00", "2.0e-04", "4.0e-04"])
        XCTAssertEqual(Ticks.nice(2, 2), [2])
    }

    /// Every printable ASCII character has its own glyph, inside the 5-pixel width.
    func testFontCoversPrintableASCII() {
        var seen = Set<[UInt8]>()
        for code in 32...126 {
            let c = Character(UnicodeScalar(UInt8(code)))
            var c1 = Canvas(width: 20, height: 30)
            c1.text(String(c), x: 2, y: 2, scale: 1)
            let ink = (0..<(20 * 30)).filter { c1.pixel($0 % 20, $0 / 20) == .black }
            if c == " " { XCTAssertTrue(ink.isEmpty); continue }
            XCTAssertFalse(ink.isEmpty, "'\(c)'")
            XCTAssertTrue(ink.allSatisfy { $0 % 20 >= 2 && $0 % 20 < 7 && $0 / 20 >= 2 && $0 / 20 < 11 }, "'\(c)' leaves its cell")
            let rows = (0..<9).map { r in UInt8((0..<5).reduce(0) { $0 << 1 | (c1.pixel(2 + $1, 2 + r) == .black ? 1 : 0) }) }
            XCTAssertTrue(seen.insert(rows).inserted, "'\(c)' looks like another character")
        }
        // Vertical text reads upwards: the first character is at the bottom.
        var v = Canvas(width: 40, height: 60)
        v.text("1.", x: 20, y: 30, scale: 1, anchor: .centre, vertical: true)
        let ink = (0..<(40 * 60)).filter { v.pixel($0 % 40, $0 / 40) == .black }.map { ($0 % 40, $0 / 40) }
        let one = ink.filter { $0.1 > 30 }, dot = ink.filter { $0.1 < 30 }
        XCTAssertGreaterThan(one.count, dot.count)   // '1' (7 pixels tall, 9 ink) below the dot (4)
        XCTAssertEqual(dot.count, 4)
    }

    /// A 2×3 map: each cell is drawn in the colour of its value on the common scale, in its
    /// place; NaN in grey; the points as discs from the first's colour to the last's.
    func testMapDrawsEachCellInPlaceAndColour() {
        let values: [Double] = [0, 1, 2, 3, .nan, 5]
        let map = MapFigure(height: 2, width: 3, panels: [MapPanel(values: values, points: [(0, 0), (1, 2)])])
        let c = map.render()
        var centres: [Int: (Double, Double)] = [:]
        for (k, v) in values.enumerated() {
            let colour = v.isFinite ? Colormap.rgb(v / 5) : RGB.nan
            var n = 0, sx = 0.0, sy = 0.0
            for y in 0..<c.height { for x in 0..<c.width where c.pixel(x, y) == colour { n += 1; sx += Double(x); sy += Double(y) } }
            // 160×160 pixels a cell (480 / 3), less the point's disc where there is one.
            XCTAssertGreaterThan(n, 150 * 150, "cell \(k)")
            centres[k] = (sx / Double(n), sy / Double(n))
        }
        XCTAssertEqual(centres[1]!.0 - centres[0]!.0, 160, accuracy: 3)
        XCTAssertEqual(centres[2]!.0 - centres[1]!.0, 160, accuracy: 1)
        XCTAssertEqual(centres[3]!.1 - centres[0]!.1, 160, accuracy: 3)
        XCTAssertEqual(centres[3]!.0, centres[0]!.0, accuracy: 3)
        // The discs: the first point light, the last dark red, each at its cell's centre.
        for (k, colour, cell) in [(0, Colormap.order(0), 0), (1, Colormap.order(1), 5)] {
            var n = 0, sx = 0.0, sy = 0.0
            let cx = centres[cell]!.0, cy = centres[cell]!.1
            for y in 0..<c.height { for x in 0..<c.width where c.pixel(x, y) == colour && abs(Double(x) - cx) < 30 && abs(Double(y) - cy) < 30 { n += 1; sx += Double(x); sy += Double(y) } }
            XCTAssertGreaterThan(n, 20, "point \(k)")
            XCTAssertEqual(sx / Double(n), cx, accuracy: 2, "point \(k)")
            XCTAssertEqual(sy / Double(n), cy, accuracy: 2, "point \(k)")
        }
    }

    /// A line from (0, 0) to (10, 1) passes through the pixel of (5, 0.5).
    func testLinePlotDrawsThroughItsPoints() {
        var plot = LinePlot(series: [LinePlot.Series(label: "a", x: [0, 10], y: [0, 1])])
        plot.xLabel = "x"; plot.yLabel = "y"
        let c = plot.render()
        let blue = Colormap.categories[0]
        // Find the plot frame: the axes' rectangle is 560×360; the curve's ends are its corners
        // (less the 5% pad of y).
        // Without the legend's swatch, on the right.
        let inked = (0..<(c.width * c.height)).filter { c.pixel($0 % c.width, $0 / c.width) == blue && $0 % c.width < c.width - 60 }
            .map { ($0 % c.width, $0 / c.width) }
        let xs = inked.map(\.0), ys = inked.map(\.1)
        let (x0, x1) = (xs.min()!, xs.max()!)
        XCTAssertEqual(x1 - x0, 559, accuracy: 2)
        let mid = inked.filter { abs($0.0 - (x0 + x1) / 2) <= 1 }.map { Double($0.1) }
        let yTop = Double(ys.min()!), yBottom = Double(inked.filter { $0.0 == x0 }.map(\.1).max()!)
        XCTAssertEqual(mid.reduce(0, +) / Double(mid.count), (yTop + yBottom) / 2, accuracy: 3)
    }
}
