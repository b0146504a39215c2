import Foundation
import DKLCore
import DKLData

/// The lecture's family of field histories, E(t) = A·exp(α·t)·sin(ω·t) + B on T times
/// linspace(0, D, T) (the same formula and time axis as `ferrosim --field-y`), with the
/// parameters drawn uniformly from A ∈ [0, 0.75], α ∈ [−2.75, 2.75], ω ∈ [2π, 8π/3],
/// B ∈ [−0.5, 0.5].
public struct Trajectory: Sendable, Equatable {
    public var amplitude: Double
    public var alpha: Double
    public var omega: Double
    public var offset: Double

    public static let amplitudeRange = 0.0...0.75
    public static let alphaRange = -2.75...2.75
    public static let omegaRange = (2 * Double.pi)...(8 * Double.pi / 3)
    public static let offsetRange = -0.5...0.5

    public init(amplitude: Double, alpha: Double, omega: Double, offset: Double) {
        self.amplitude = amplitude; self.alpha = alpha; self.omega = omega; self.offset = offset
    }

    /// A draw from the family.
    public init(_ g: inout Xoshiro) {
        func draw(_ r: ClosedRange<Double>) -> Double { r.lowerBound + (r.upperBound - r.lowerBound) * g.uniform() }
        self.init(amplitude: draw(Self.amplitudeRange), alpha: draw(Self.alphaRange), omega: draw(Self.omegaRange), offset: draw(Self.offsetRange))
    }

    /// The field at T times linspace(0, duration, T).
    public func values(steps: Int, duration: Double = 1) -> [Double] {
        (0..<steps).map { i in
            let t = steps == 1 ? 0 : duration * Double(i) / Double(steps - 1)
            return amplitude * Foundation.exp(alpha * t) * Foundation.sin(omega * t) + offset
        }
    }
}
