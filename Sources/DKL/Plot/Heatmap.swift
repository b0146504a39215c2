import Foundation

/// A perceptually ordered colormap built in CIELAB: lightness rises linearly from 18 to 94
/// while the hue turns from violet-blue through teal to yellow (the path of viridis-like
/// maps), so equal steps in value are equal steps in perceived lightness and the map reads
/// the same in grey. The chroma is lowered where the colour would leave sRGB, so that
/// no channel is clipped and the lightness stays exact.
public enum Colormap {
    public static let table: [(UInt8, UInt8, UInt8)] = (0..<256).map { i in
        let t = Double(i) / 255
        let l = 18 + 76 * t
        let hue = (285 - 190 * t) * .pi / 180     // 285° (violet-blue) → 95° (yellow)
        var chroma = 38 + 30 * t * t
        while chroma > 0 && !inGamut(l, chroma * cos(hue), chroma * sin(hue)) { chroma -= 0.5 }
        return lab(l, chroma * cos(hue), chroma * sin(hue))
    }

    /// The colour of t ∈ [0, 1].
    public static func color(_ t: Double) -> (UInt8, UInt8, UInt8) {
        table[Int((min(max(t.isFinite ? t : 0, 0), 1) * 255).rounded())]
    }

    /// CIELAB (D65) to linear sRGB.
    static func linear(_ l: Double, _ a: Double, _ b: Double) -> (Double, Double, Double) {
        let fy = (l + 16) / 116, fx = fy + a / 500, fz = fy - b / 200
        func finv(_ f: Double) -> Double { f > 6.0 / 29 ? f * f * f : 3 * (6.0 / 29) * (6.0 / 29) * (f - 4.0 / 29) }
        let (x, y, z) = (0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz))
        return (3.2404542 * x - 1.5371385 * y - 0.4985314 * z, -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
                0.0556434 * x - 0.2040259 * y + 1.0572252 * z)
    }

    static func inGamut(_ l: Double, _ a: Double, _ b: Double) -> Bool {
        let (r, g, bl) = linear(l, a, b)
        return [r, g, bl].allSatisfy { $0 >= 0 && $0 <= 1 }
    }

    /// CIELAB (D65) to 8-bit sRGB.
    static func lab(_ l: Double, _ a: Double, _ b: Double) -> (UInt8, UInt8, UInt8) {
        let (r, g, bl) = linear(l, a, b)
        func gamma(_ c: Double) -> UInt8 {
            let v = c <= 0.0031308 ? 12.92 * c : 1.055 * pow(max(c, 0), 1 / 2.4) - 0.055
            return UInt8((min(max(v, 0), 1) * 255).rounded())
        }
        return (gamma(r), gamma(g), gamma(bl))
    }
}

/// A heatmap image of a grid of values (NaN drawn light grey), scaled up by whole pixels,
/// with a colorbar labelled with its minimum and maximum, and optional points drawn as
/// outlined squares coloured from white (first) to red (last).
public struct Heatmap {
    public var values: [Double]
    public var height: Int, width: Int
    /// (y, x) in grid pixels, in order (e.g. the order they were measured).
    public var points: [(Int, Int)] = []

    public init(values: [Double], height: Int, width: Int) {
        precondition(values.count == height * width)
        self.values = values; self.height = height; self.width = width
    }

    public func render() -> (width: Int, height: Int, rgb: [UInt8]) {
        let finite = values.filter(\.isFinite)
        let (lo, hi) = (finite.min() ?? 0, finite.max() ?? 1)
        let span = hi > lo ? hi - lo : 1
        let scale = max(1, 512 / max(height, width))
        let (mapW, mapH) = (width * scale, height * scale)
        let margin = 8, barW = 16, labelW = 7 * 4 * 2 + 8
        let outW = margin + mapW + margin + barW + 6 + labelW, outH = margin + mapH + margin
        var rgb = [UInt8](repeating: 255, count: outW * outH * 3)
        func put(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, x < outW, y >= 0, y < outH else { return }
            let i = (y * outW + x) * 3
            rgb[i] = c.0; rgb[i + 1] = c.1; rgb[i + 2] = c.2
        }
        for gy in 0..<height {
            for gx in 0..<width {
                let v = values[gy * width + gx]
                let c = v.isFinite ? Colormap.color((v - lo) / span) : (220, 220, 220)
                for dy in 0..<scale { for dx in 0..<scale { put(margin + gx * scale + dx, margin + gy * scale + dy, c) } }
            }
        }
        // Points: outlined squares, white → red by order.
        let half = max(2, min(scale / 2 + 1, 5))
        for (k, p) in points.enumerated() {
            let t = points.count > 1 ? Double(k) / Double(points.count - 1) : 1
            let fill = (UInt8(255), UInt8((255 * (1 - t)).rounded()), UInt8((255 * (1 - t)).rounded()))
            let cx = margin + p.1 * scale + scale / 2, cy = margin + p.0 * scale + scale / 2
            for dy in -half...half {
                for dx in -half...half {
                    put(cx + dx, cy + dy, abs(dx) == half || abs(dy) == half ? (0, 0, 0) : fill)
                }
            }
        }
        // The colorbar, top = maximum, with its two labels.
        let barX = margin + mapW + margin
        for y in 0..<mapH {
            let c = Colormap.color(1 - Double(y) / Double(max(mapH - 1, 1)))
            for x in 0..<barW { put(barX + x, margin + y, c) }
        }
        Glyphs.draw(Glyphs.format(hi), x: barX + barW + 6, y: margin, scale: 2, put: put)
        Glyphs.draw(Glyphs.format(lo), x: barX + barW + 6, y: margin + mapH - 10, scale: 2, put: put)
        return (outW, outH, rgb)
    }

    public func write(_ path: String) throws {
        let image = render()
        try PNG.write(path, width: image.width, height: image.height, rgb: image.rgb)
    }
}

/// A 3×5 pixel font for the colorbar's numbers.
enum Glyphs {
    static let font: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], "e": [0, 7, 7, 4, 7], "+": [0, 2, 7, 2, 0],
    ]

    /// Four significant digits, exponent form outside [1e-3, 1e4).
    static func format(_ v: Double) -> String {
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e4) { return String(format: "%.2e", v) }
        return String(format: "%.4g", v)
    }

    static func draw(_ text: String, x: Int, y: Int, scale: Int, put: (Int, Int, (UInt8, UInt8, UInt8)) -> Void) {
        for (i, ch) in text.enumerated() {
            guard let rows = font[ch] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<3 where bits & (4 >> c) != 0 {
                    for dy in 0..<scale { for dx in 0..<scale { put(x + (i * 4 + c) * scale + dx, y + r * scale + dy, (0, 0, 0)) } }
                }
            }
        }
    }
}
