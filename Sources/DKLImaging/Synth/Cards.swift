import Foundation
import DKLCore
import DKLData

/// The cards data set: the four suits' glyphs drawn procedurally (no font files), rotated
/// and sheared, rendered with 4×4 supersampling to intensities in [0, 1].
///
/// Glyphs live in [−1, 1]² with y up: the heart is the region (X² + Y² − 1)³ ≤ X²·Y³ scaled
/// into the box; the spade is that heart upside down on a stem; the club three discs on a
/// stem; the diamond a rhombus of half-width 0.5 and half-height 0.8; all scaled by
/// `glyphScale` in the image. A card of angle θ and
/// shear γ shows the glyph, its centre of mass at the image's centre, at
/// p′ = R(θ)·[1 tan γ; 0 1]·p (θ counterclockwise).
public enum Card {
    public enum Suit: Int, Sendable, CaseIterable {
        case clubs, spades, hearts, diamonds
        public var name: String { String(describing: self) }
    }

    static func heart(_ x: Double, _ y: Double) -> Bool {
        let (u, v) = (x / 0.62, y / 0.62 + 0.15)
        let a = u * u + v * v - 1
        return a * a * a <= u * u * v * v * v
    }

    static func stem(_ x: Double, _ y: Double) -> Bool {
        // A flared foot: widens from 0.06 at y = −0.2 to 0.3 at y = −0.85.
        guard y <= -0.2 && y >= -0.85 else { return false }
        let half = 0.06 + 0.24 * (-0.2 - y) / 0.65
        return abs(x) <= half
    }

    /// Whether the point (x, y) of the upright glyph is inked.
    public static func inside(_ suit: Suit, _ x: Double, _ y: Double) -> Bool {
        switch suit {
        case .hearts: return heart(x, y)
        case .diamonds: return abs(x) / 0.5 + abs(y) / 0.8 <= 1
        case .spades: return heart(x, -(y - 0.12)) || stem(x, y)
        case .clubs:
            func disc(_ cx: Double, _ cy: Double) -> Bool { (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 0.3 * 0.3 }
            return disc(0, 0.42) || disc(-0.33, -0.08) || disc(0.33, -0.08) || (x * x + (y + 0.02) * (y + 0.02) <= 0.22 * 0.22) || stem(x, y)
        }
    }

    /// Each upright glyph's centre of mass, which is put at the image's centre (so that a
    /// rotation about the centre turns the glyph in place).
    public static let centroids: [(Double, Double)] = Suit.allCases.map { suit in
        var (sx, sy, n) = (0.0, 0.0, 0)
        let steps = 400
        for i in 0..<steps {
            for j in 0..<steps {
                let (x, y) = (-1 + 2 * (Double(j) + 0.5) / Double(steps), -1 + 2 * (Double(i) + 0.5) / Double(steps))
                if inside(suit, x, y) { sx += x; sy += y; n += 1 }
            }
        }
        return n > 0 ? (sx / Double(n), sy / Double(n)) : (0, 0)
    }

    /// The glyph's size in the image: small enough that no rotation or shear cuts it.
    public static let glyphScale = 0.78

    /// The H×W image (row-major, row 0 at the top) of `suit` at `angle` and `shear` degrees.
    public static func render(_ suit: Suit, angle: Double, shear: Double, height: Int, width: Int) -> [Float] {
        let th = angle * Double.pi / 180, t = tan(shear * Double.pi / 180)
        let (c, s) = (cos(th), sin(th))
        let sub = 4
        let (cx, cy) = centroids[suit.rawValue]
        var out = [Float](repeating: 0, count: height * width)
        for row in 0..<height {
            for col in 0..<width {
                var hits = 0
                for a in 0..<sub {
                    for b in 0..<sub {
                        // The sample's place in [−1, 1]², y up.
                        let xp = -1 + 2 * (Double(col) + (Double(b) + 0.5) / Double(sub)) / Double(width)
                        let yp = 1 - 2 * (Double(row) + (Double(a) + 0.5) / Double(sub)) / Double(height)
                        // Undo the rotation, then the shear.
                        let (xr, yr) = (c * xp + s * yp, -s * xp + c * yp)
                        if inside(suit, (xr - t * yr) / glyphScale + cx, yr / glyphScale + cy) { hits += 1 }
                    }
                }
                out[row * width + col] = Float(hits) / Float(sub * sub)
            }
        }
        return out
    }
}
