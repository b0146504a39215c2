import Foundation
import DKLCore
import DKLData

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

    /// The colour of t ∈ [0, 1] as an RGB.
    public static func rgb(_ t: Double) -> RGB {
        let c = color(t)
        return RGB(c.0, c.1, c.2)
    }

    /// The colour of the k-th of an ordered set of points: light orange (first) to dark red
    /// (last), so that the order reads on any colour of the map underneath.
    public static func order(_ t: Double) -> RGB {
        let u = min(max(t.isFinite ? t : 1, 0), 1)
        func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * u).rounded()) }
        return RGB(mix(255, 128), mix(236, 0), mix(160, 38))
    }

    /// Colours for categories that colour-blind readers tell apart (Okabe and Ito's
    /// palette, without its yellow, which is too light on white).
    public static let categories: [RGB] = ["0072B2", "D55E00", "009E73", "CC79A7", "E69F00", "56B4E9", "000000"].map { RGB(hex: $0)! }

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
