import Foundation
import DKLCore
import DKLData

/// The centre of mass of a 4D-STEM diffraction pattern (ky×kx) relative to a reference
/// centre: the beam's deflection, which measures in-plane fields.
///
///     x = Σ P·(kx − cx) / Σ P,   y = Σ P·(ky − cy) / Σ P
///
/// in pixels of the detector, over the pixels of an optional mask; magnitude √(x² + y²) and
/// angle atan2(y, x) in degrees. The scalarizers com, com_x, com_y and com_angle evaluate it
/// (Scalarizer.bind(Detector)); here are the raw centre, the mean pattern, the reference
/// centre, masks and discs.
public enum CentreOfMass {
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
}
