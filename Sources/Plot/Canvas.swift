import Foundation
import DKLCore
import DKLData

/// An 8-bit sRGB colour.
public struct RGB: Equatable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let white = RGB(255, 255, 255), black = RGB(0, 0, 0), grey = RGB(128, 128, 128)
    public static let lightGrey = RGB(220, 220, 220), nan = RGB(205, 205, 205)

    /// The colour of `#rrggbb`.
    public init?(hex: String) {
        let s = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard s.count == 6, let v = UInt32(s, radix: 16) else { return nil }
        self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
    }
}

/// A white image to draw on: rectangles, lines, markers and text in the plots' font.
/// Everything outside the image is clipped.
public struct Canvas {
    public let width: Int, height: Int
    public private(set) var rgb: [UInt8]

    public init(width: Int, height: Int, background: RGB = .white) {
        self.width = width; self.height = height
        rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { rgb[3 * i] = background.r; rgb[3 * i + 1] = background.g; rgb[3 * i + 2] = background.b }
    }

    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(rgb[i], rgb[i + 1], rgb[i + 2])
    }

    public mutating func put(_ x: Int, _ y: Int, _ c: RGB) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = (y * width + x) * 3
        rgb[i] = c.r; rgb[i + 1] = c.g; rgb[i + 2] = c.b
    }

    /// The rectangle [x, x+w) × [y, y+h).
    public mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: RGB) {
        for yy in max(0, y)..<max(max(0, y), min(height, y + h)) {
            for xx in max(0, x)..<max(max(0, x), min(width, x + w)) { put(xx, yy, c) }
        }
    }

    /// The outline of [x, x+w) × [y, y+h), one pixel wide.
    public mutating func frame(x: Int, y: Int, w: Int, h: Int, _ c: RGB) {
        fill(x: x, y: y, w: w, h: 1, c); fill(x: x, y: y + h - 1, w: w, h: 1, c)
        fill(x: x, y: y, w: 1, h: h, c); fill(x: x + w - 1, y: y, w: 1, h: h, c)
    }

    /// A line from (x0, y0) to (x1, y1) (Bresenham), `thickness` pixels wide.
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: RGB, thickness: Int = 1) {
        var (x, y) = (x0, y0)
        let dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            for oy in lo...hi { for ox in lo...hi { put(x + ox, y + oy, c) } }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A disc of radius r centred on (cx, cy), with a one-pixel outline when given.
    public mutating func disc(_ cx: Int, _ cy: Int, radius r: Int, _ c: RGB, outline: RGB? = nil) {
        let outer = Double(r) + 0.5
        for dy in -r...r {
            for dx in -r...r {
                let d = (Double(dx * dx + dy * dy)).squareRoot()
                guard d <= outer else { continue }
                put(cx + dx, cy + dy, outline != nil && d > outer - 1.2 ? outline! : c)
            }
        }
    }

    public enum Anchor { case left, centre, right }

    /// `text` with its top at y, placed by `anchor` at x; `vertical` turns it a quarter
    /// turn anticlockwise (reading upwards), centred on (x, y) then.
    public mutating func text(_ text: String, x: Int, y: Int, scale: Int = 2, anchor: Anchor = .left, color: RGB = .black,
                              vertical: Bool = false) {
        let w = Font.width(text, scale: scale)
        let start: Int
        switch anchor {
        case .left: start = 0
        case .centre: start = -w / 2
        case .right: start = -w
        }
        for (i, ch) in text.enumerated() {
            for (r, bits) in Font.rows(ch).enumerated() {
                for col in 0..<5 where bits & (16 >> col) != 0 {
                    let u = start + (i * Font.advance + col) * scale, v = r * scale   // along and across the text
                    for a in 0..<scale {
                        for b in 0..<scale {
                            if vertical { put(x + v + b - Font.lineHeight * scale / 2, y - (u + a)) } else { put(x + u + a, y + v + b) }
                        }
                    }
                }
            }
        }
        func put(_ px: Int, _ py: Int) { self.put(px, py, color) }
    }

    /// The width a figure needs for `title` (0 for none).
    public static func titleWidth(_ title: String?) -> Int { title.map { Font.width($0, scale: 2) + 24 } ?? 0 }

    /// A title centred at the top.
    public mutating func title(_ text: String) { self.text(text, x: width / 2, y: 10, anchor: .centre) }

    public func write(_ path: String) throws { try PNG.write(path, width: width, height: height, rgb: rgb) }
}
