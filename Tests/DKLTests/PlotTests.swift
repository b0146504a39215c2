import DKL
import Foundation
import TestSupport
import XCTest

/// PNG files decoded by Python's zlib and struct (an independent reader), and the colormap.
final class PlotTests: XCTestCase {
    func testPNGDecodesToTheSamePixels() throws {
        let dir = TempDir()
        // 300×250 so that the image data spans several stored deflate blocks.
        let (w, h) = (300, 250)
        let rgb = (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 3) }
        try PNG.write(dir.file("a.png"), width: w, height: h, rgb: rgb)
        try Data(rgb).write(to: URL(fileURLWithPath: dir.file("a.raw")))
        let out = try Tools.python("""
            import struct, zlib
            b = open('a.png', 'rb').read()
            assert b[:8] == bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            pos, chunks = 8, {}
            while pos < len(b):
                n, = struct.unpack('>I', b[pos:pos + 4]); t = b[pos + 4:pos + 8]; d = b[pos + 8:pos + 8 + n]
                crc, = struct.unpack('>I', b[pos + 8 + n:pos + 12 + n])
                assert crc == zlib.crc32(t + d), t
                chunks[t] = chunks.get(t, b'') + d; pos += 12 + n
            w, h, depth, kind = struct.unpack('>IIBB', chunks[b'IHDR'][:10])
            raw = zlib.decompress(chunks[b'IDAT'])
            rows = [raw[y * (3 * w + 1):(y + 1) * (3 * w + 1)] for y in range(h)]
            assert all(r[0] == 0 for r in rows)
            print(w, h, depth, kind, b''.join(r[1:] for r in rows) == open('a.raw', 'rb').read())
            """, cwd: dir.path)
        XCTAssertEqual(out, "300 250 8 2 True\n")
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

    func testHeatmapDrawsValuesPointsAndColorbar() {
        var map = Heatmap(values: [0, 1, .nan, 0.5], height: 2, width: 2)
        map.points = [(1, 1)]
        let image = map.render()
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.rgb[((y * image.width + x) * 3)..<((y * image.width + x) * 3 + 3)]) }
        // 2×2 grid scaled by 256: the top-left cell is the minimum's colour, the NaN cell grey.
        let c0 = Colormap.color(0), c1 = Colormap.color(1)
        XCTAssertEqual(pixel(8 + 10, 8 + 10), [c0.0, c0.1, c0.2])
        XCTAssertEqual(pixel(8 + 256 + 10, 8 + 10), [c1.0, c1.1, c1.2])
        XCTAssertEqual(pixel(8 + 10, 8 + 256 + 10), [220, 220, 220])
        // The point at (1, 1): a red square with a black outline around the cell's centre.
        XCTAssertEqual(pixel(8 + 256 + 128, 8 + 256 + 128), [255, 0, 0])
        // The colorbar's top is the maximum's colour.
        XCTAssertEqual(pixel(8 + 512 + 8 + 4, 8), [c1.0, c1.1, c1.2])
    }
}
