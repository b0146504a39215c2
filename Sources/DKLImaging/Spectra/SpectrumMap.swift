import Foundation
import DKLCore
import DKLData

/// What turns one measured item (a spectrum, or a 4D-STEM diffraction pattern) into scalar
/// fields: spectral binning then the bound scalarizers (of spectra, or of patterns).
/// Used by dkl-scalarize, dkl-train --spectra and dkl-explore's oracles alike.
public struct SpectrumScalarizers: Sendable {
    public let bound: [Scalarizer.Bound]
    public let binning: Int
    /// The detector's rail or maximum count: an item with any value of this magnitude or
    /// more (an overloaded ADC, a lock-in at its limit) is flagged 4, its fields kept.
    public var saturation: Double?
    /// The detector's counting noise: with it every field NAME has a field NAME_var after all
    /// the values, its variance propagated from the spectrum's own counts (`variances`).
    public var noise: CountNoise?

    public init(bound: [Scalarizer.Bound], binning: Int = 1) {
        self.bound = bound; self.binning = binning
    }

    /// The output fields, in order.
    public var fieldNames: [String] {
        let names = bound.flatMap(\.scalarizer.fieldNames)
        return noise == nil ? names : names + names.map { $0 + "_var" }
    }

    /// Flag bits of `evaluate`.
    public static let flagNaN: UInt8 = 1, flagFit: UInt8 = 2, flagSaturated: UInt8 = 4

    /// The fields of one item, and its flags (1: NaN in the data, 2: a fit failed, 4: a
    /// value at the saturation level).
    public func evaluate(_ raw: UnsafeBufferPointer<Double>) -> (values: [Double], flags: UInt8) {
        var saturated: UInt8 = 0
        if let saturation, raw.contains(where: { abs($0) >= saturation }) { saturated = SpectrumScalarizers.flagSaturated }
        let s = binning > 1 ? SpectralBinning.bin(Array(raw), binning) : Array(raw)
        var values: [Double] = [], flags: UInt8 = saturated
        s.withUnsafeBufferPointer { sp in
            for b in bound { let (x, f) = b.evaluate(sp); values += x; flags |= f }
            if let noise {
                let n = noise.binned(binning)
                for b in bound { values += b.variances(sp, noise: n) }
            }
        }
        return (values, flags)
    }

    /// `count` items of `width` values laid out one after another, in parallel.
    public func evaluate(_ values: [Double], count: Int, width: Int) -> [(values: [Double], flags: UInt8)] {
        var results = [(values: [Double], flags: UInt8)](repeating: ([], 0), count: count)
        values.withUnsafeBufferPointer { v in
            results.withUnsafeMutableBufferPointer { res in
                let (vp, rp) = (SharedBuffer(v), SharedBuffer(res))
                Parallel.forEachPart(count, minimumRows: 16) { _, range in
                    for k in range { rp[k] = evaluate(UnsafeBufferPointer(rebasing: vp.buffer[(k * width)..<((k + 1) * width)])) }
                }
            }
        }
        return results
    }

    /// Field `column` at every pixel of an H×W×item cube where it is finite and flagged
    /// clean, keyed by `Positions.key(y, x)`: the targets a model trains on.
    public func targets(of cube: ArraySource, column: Int) throws -> [Int64: Double] {
        var out = [Int64: Double]()
        try forEachRow(of: cube) { y, results in
            for (x, r) in results.enumerated() where r.flags == 0 && r.values[column].isFinite { out[Positions.key(y, x)] = r.values[column] }
        }
        return out
    }

    /// Every item of an H×W×item cube, one image row at a time: `body(y, results of row y)`.
    /// Interruptible between rows.
    public func forEachRow(of cube: ArraySource, _ body: (Int, [(values: [Double], flags: UInt8)]) throws -> Void) throws {
        let (h, w) = (cube.shape[0], cube.shape[1])
        let item = Array(cube.shape.dropFirst(2))
        let width = item.reduce(1, *)
        for y in 0..<h {
            try Interrupts.check()
            let row = try cube.readBlock(start: [y, 0] + item.map { _ in 0 }, count: [1, w] + item)
            try body(y, evaluate(row, count: w, width: width))
        }
    }
}

/// The `--saturation LEVEL` option: a positive finite magnitude.
public enum SaturationLevel {
    public static func parse(_ text: String) throws -> Double {
        guard let v = Double(text), v.isFinite, v > 0 else {
            throw DKLError.usage("--saturation needs a positive finite level (the detector's maximum count or rail), not '\(text)'")
        }
        return v
    }
}
