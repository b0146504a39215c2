import Foundation
import DKLCore

/// A GP's hyperparameters in their natural (positive) units.
public struct GPParameters: Equatable, Sendable {
    public var lengthscales: [Double]
    public var outputscale: Double
    public var noise: Double
    public var mean: Double

    public init(lengthscales: [Double], outputscale: Double, noise: Double, mean: Double = 0) {
        self.lengthscales = lengthscales; self.outputscale = outputscale; self.noise = noise; self.mean = mean
    }

    public var dimension: Int { lengthscales.count }
}

/// How hyperparameters are kept positive while optimized: θ = softplus(raw) + floor.
public struct GPConstraints: Equatable, Sendable {
    public var lengthscaleFloor = 1e-6
    public var outputscaleFloor = 1e-6
    public var noiseFloor = 1e-4
    public init(lengthscaleFloor: Double = 1e-6, outputscaleFloor: Double = 1e-6, noiseFloor: Double = 1e-4) {
        self.lengthscaleFloor = lengthscaleFloor; self.outputscaleFloor = outputscaleFloor; self.noiseFloor = noiseFloor
    }

    /// The raw vector [ℓ…, s, σ², c] (1×(d+3)) for `p`.
    public func raw(_ p: GPParameters) -> Matrix {
        Matrix(row: p.lengthscales.map { Activations.softplusInverse(max($0 - lengthscaleFloor, 1e-12)) }
            + [Activations.softplusInverse(max(p.outputscale - outputscaleFloor, 1e-12)),
               Activations.softplusInverse(max(p.noise - noiseFloor, 1e-12)), p.mean])
    }

    /// The parameters a raw vector stands for.
    public func parameters(_ raw: Matrix) -> GPParameters {
        let d = raw.count - 3
        return GPParameters(lengthscales: (0..<d).map { Activations.softplus(raw.data[$0]) + lengthscaleFloor },
                            outputscale: Activations.softplus(raw.data[d]) + outputscaleFloor,
                            noise: Activations.softplus(raw.data[d + 1]) + noiseFloor, mean: raw.data[d + 2])
    }

    /// The same map on a tape: raw (1×(d+3)) → [ℓ…, s, σ², c].
    public func parameters(_ raw: Var) -> Var {
        let d = raw.cols - 3
        let t = raw.tape
        let floors = t.constant(Matrix(row: [Double](repeating: lengthscaleFloor, count: d) + [outputscaleFloor, noiseFloor]))
        return (raw.columns(0..<(d + 2)).softplus() + floors).concatColumns(raw.columns((d + 2)..<(d + 3)))
    }
}

/// Gamma(α, β) priors (rate β) on hyperparameters, for MAP training; nil means none.
public struct GPPriors: Equatable, Sendable {
    public struct Gamma: Equatable, Sendable {
        public var shape: Double, rate: Double
        public init(shape: Double, rate: Double) { self.shape = shape; self.rate = rate }
        /// −log p(θ) up to a constant, and its derivative.
        func negativeLog(_ x: Double) -> (Double, Double) { (-(shape - 1) * log(x) + rate * x, -(shape - 1) / x + rate) }
    }
    public var lengthscale: Gamma?
    public var outputscale: Gamma?
    public var noise: Gamma?
    public init(lengthscale: Gamma? = nil, outputscale: Gamma? = nil, noise: Gamma? = nil) {
        self.lengthscale = lengthscale; self.outputscale = outputscale; self.noise = noise
    }
    public static let none = GPPriors()
}
