import Foundation
import DKLCore

/// Shot noise at a dose: a measurement whose value v (a spectrum channel, a detector pixel)
/// stands for v·D counts is measured as Poisson(v·D)/D. The noise of point (y, x) is
/// seeded by (seed, y, x, repeat), so that a run continued after a kill, a replay and a
/// digital twin draw the same noise for the same point whatever the order of measuring.
public struct ShotNoise: Sendable {
    /// Counts per unit value (electrons per pattern or counts per spectrum, per unit of the
    /// stored intensity).
    public let dose: Double
    public let seed: UInt64

    public init(dose: Double, seed: UInt64) { self.dose = dose; self.seed = seed }

    /// The measurement `values` of pixel (y, x) at this dose (the `repeat`th time it is measured).
    public func resample(_ values: [Double], y: Int, x: Int, repeat n: Int = 0, dwell: Double = 1) -> [Double] {
        var rng = Xoshiro(seed: seed ^ (UInt64(truncatingIfNeeded: y) &* 0x9E37_79B9_7F4A_7C15)
                          ^ (UInt64(truncatingIfNeeded: x) &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(truncatingIfNeeded: n) &* 0x1656_67B1_9E37_79F9))
        let d = dose * dwell
        return values.map { Poisson.sample(max($0, 0) * d, &rng) / d }
    }
}

/// Poisson counts: exact (Knuth's product of uniforms) up to a mean of 30, the normal
/// approximation with continuity correction above it.
public enum Poisson {
    public static func sample(_ lambda: Double, _ rng: inout Xoshiro) -> Double {
        guard lambda > 0, lambda.isFinite else { return 0 }
        if lambda <= 30 {
            let limit = exp(-lambda)
            var k = 0.0, p = rng.uniform()
            while p > limit { k += 1; p *= rng.uniform() }
            return k
        }
        return max(0, (lambda + lambda.squareRoot() * rng.normal()).rounded())
    }
}
