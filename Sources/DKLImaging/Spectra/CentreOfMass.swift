import Foundation
import DKLCore
import DKLData

/// The centre of mass of a 4D-STEM diffraction pattern (ky×kx) relative to a reference
/// centre: the beam's deflection, which measures in-plane fields.
///
///     x = Σ P·(kx − cx) / Σ P,   y = Σ P·(ky − cy) / Σ P
///
/// in pixels of the detector, over the pixels of an optional mask; magnitude √(x² + y²) and
/// angle atan2(y, x) in degrees.
public struct CentreOfMass: Sendable {
    public let height: Int, width: Int
    public var centre: (y: Double, x: Double)
    /// Detector pixels that count (all when nil), row-major ky×kx.
    public var mask: [Bool]?

    public init(height: Int, width: Int, centre: (y: Double, x: Double), mask: [Bool]? = nil) {
        precondition(mask == nil || mask!.count == height * width)
        self.height = height; self.width = width; self.centre = centre; self.mask = mask
    }

    public static let fieldNames = ["x", "y", "magnitude", "angle"]

    /// The raw centre of mass (ky, kx) of a pattern, or nil when its total is not positive.
    public static func raw(_ p: UnsafeBufferPointer<Double>, height: Int, width: Int, mask: [Bool]?) -> (y: Double, x: Double)? {
        var total = 0.0, sy = 0.0, sx = 0.0
        for r in 0..<height {
            for c in 0..<width {
                let i = r * width + c
                if let mask, !mask[i] { continue }
                total += p[i]; sy += p[i] * Double(r); sx += p[i] * Double(c)
            }
        }
        guard total > 0, total.isFinite else { return nil }
        return (sy / total, sx / total)
    }

    /// [x, y, magnitude, angle] for one pattern; NaNs and flag 1 when it holds NaN, 2 when its
    /// total under the mask is not positive.
    public func evaluate(_ p: UnsafeBufferPointer<Double>) -> (values: [Double], flags: UInt8) {
        let nan = [Double](repeating: .nan, count: 4)
        for v in p where !v.isFinite { return (nan, 1) }
        guard let (cy, cx) = CentreOfMass.raw(p, height: height, width: width, mask: mask) else { return (nan, 2) }
        let (y, x) = (cy - centre.y, cx - centre.x)
        return ([x, y, (x * x + y * y).squareRoot(), atan2(y, x) * 180 / .pi], 0)
    }
}
