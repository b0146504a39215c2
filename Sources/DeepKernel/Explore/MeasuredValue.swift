import Foundation
import DKLCore
import DKLData
import DKLImaging

/// The value an active experiment learns from each measurement: the scalarizer's field
/// `column` of the spectrum, with the energy axis bound at the first measurement (from the
/// oracle's file, or `energy` for an instrument program); without a scalarizer the
/// measurement is the value itself (a map's, or a program's one number).
public final class MeasuredValue {
    public let scalarizer: Scalarizer?
    public let column: Int
    let energy: String?
    let detector: DetectorOptions
    let source: ArraySource?
    let oracle: Oracle?
    let program: String
    var bound: Scalarizer.Bound?
    /// The detector's counting noise, for each value's variance (`variance`).
    public var noise: CountNoise?

    /// - Parameters: `target`: the scalarizer's field (default its first); `energy` and
    ///   `detector`: the options that bind it (--energy; --centre, --mask, --radius);
    ///   `source`: the oracle's file, when measurements are read from one; `oracle`: what
    ///   measures, for the shape of its answers; `program`: what answers, for messages.
    public init(scalarizer: Scalarizer?, target: String?, energy: String?, detector: DetectorOptions, source: ArraySource?,
                oracle: Oracle?, program: String) throws {
        self.scalarizer = scalarizer; self.energy = energy; self.detector = detector; self.source = source; self.oracle = oracle; self.program = program
        guard let scalarizer else { column = 0; return }
        let name = target ?? scalarizer.fieldNames[0]
        guard let c = scalarizer.fieldNames.firstIndex(of: name) else { throw DKLError.usage("--target must be one of \(scalarizer.fieldNames.joined(separator: ", "))") }
        column = c
    }

    /// The learnt field's name ("value" without a scalarizer).
    public var name: String { scalarizer?.fieldNames[column] ?? "value" }

    public func callAsFunction(_ spectrum: [Double]) throws -> Double {
        guard let scalarizer else {
            guard spectrum.count == 1 else { throw DKLError.data("\(program) answered \(spectrum.count) values: give the property with -S SPEC") }
            return spectrum[0]
        }
        if bound == nil, scalarizer.isPattern {
            // A diffraction pattern: the oracle's item shape (ky, kx), the detector from the options.
            let shape = oracle?.itemShape ?? []
            let item = shape.count == 2 ? shape : []
            guard item.reduce(1, *) == spectrum.count, item.count == 2 else {
                throw DKLError.data("\(program) answered \(spectrum.count) values, not a diffraction pattern ky×kx, for \(scalarizer.name)")
            }
            let geometry = try ItemGeometry.resolve(for: [scalarizer], item: item, cube: source, attributes: [(oracle as? InstrumentOracle)?.attributes ?? .object([])], energy: energy,
                                                    detector: detector, name: source?.name ?? program)
            bound = try scalarizer.bind(geometry)
        }
        if bound == nil {
            let axis: EnergyAxis
            if let source {
                axis = try EnergyAxis.resolve(option: energy, source: source, channels: spectrum.count)
            } else if let instrument = oracle as? InstrumentOracle, energy != nil || instrument.attributes["energy_unit"] != nil
                        || instrument.attributes["energy_start_eV"] != nil || instrument.attributes["energy_values"] != nil {
                // The instrument's hello calibrates its spectra (--energy overrides).
                axis = try EnergyAxis.resolve(option: energy, attributes: [instrument.attributes], sibling: nil, channels: spectrum.count, name: program)
            } else {
                guard let energy else { throw DKLError.usage("the instrument's spectra need the energy axis: --energy START:STEP|FILE") }
                axis = try EnergyAxis.resolve(option: energy, attributes: [], sibling: nil, channels: spectrum.count, name: "--energy")
            }
            bound = try scalarizer.bind(axis)
        }
        return spectrum.withUnsafeBufferPointer { bound!.evaluate($0).values[column] }
    }

    /// The variance of the value learnt from `spectrum` under `noise`, from its own counts
    /// (NaN without a scalarizer, or where it is not propagated; see `Scalarizer.Bound.variances`).
    public func variance(_ spectrum: [Double]) throws -> Double {
        guard let noise, scalarizer != nil else { return .nan }
        if bound == nil { _ = try self(spectrum) }
        return spectrum.withUnsafeBufferPointer { bound!.variances($0, noise: noise)[column] }
    }
}

extension ExperimentPlan {
    /// A budget N (points) or P% (of `candidates`, at least one).
    public static func budget(_ text: String, candidates: Int) throws -> Int {
        if text.hasSuffix("%"), let p = Double(text.dropLast()), p > 0, p <= 100 { return max(1, Int((p / 100 * Double(candidates)).rounded(.down))) }
        if let n = Int(text), n >= 1 { return n }
        throw DKLError.usage("--budget must be a count, a percentage like 5% or a beam time like 90s, 30min or 2h")
    }
}
