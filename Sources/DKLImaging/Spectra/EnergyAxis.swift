import Foundation
import DKLCore
import DKLData

/// The energy of every channel of a spectrum image in the file's unit (eV for EELS, keV
/// for EDS, V for a tunnelling bias sweep), so that bands are given in that unit and never
/// in channels.
public struct EnergyAxis: Sendable, Equatable {
    public var values: [Double]
    /// "eV" unless the file says otherwise.
    public var unit: String

    public init(values: [Double], unit: String = "eV") { self.values = values; self.unit = unit }
    public init(start: Double, step: Double, count: Int, unit: String = "eV") {
        values = (0..<count).map { start + step * Double($0) }
        self.unit = unit
    }

    /// The axis for the last dimension (`channels` long) of `source`, from the first of:
    /// `option` (`START:STEP` in the file's unit, or an array file of energies); the
    /// dataset's attributes `energy_start`, `energy_step` and `energy_unit` (as the readers of
    /// instrument files give them) or `energy_start_eV` and `energy_step_eV` (as dkl-synth
    /// writes them); a dataset `energy` beside it in the same HDF5 file.
    public static func resolve(option: String?, source: ArraySource, channels: Int) throws -> EnergyAxis {
        var sibling: String?
        let (path, dataset) = ArrayFile.split(source.name)
        if let dataset, HDF5File.isHDF5(path) {
            let dir = PathName.directory(dataset)
            sibling = path + ":" + (dir == "/" ? "" : dir) + "/energy"
        }
        return try resolve(option: option, attributes: [source.attributes], sibling: sibling, channels: channels, name: source.name)
    }

    /// The same for a stream: its header's attributes, or those of the array it was
    /// imported from (`source_attrs`, as dkl-cat --import records them).
    public static func resolve(option: String?, header: StreamHeader, channels: Int, name: String) throws -> EnergyAxis {
        try resolve(option: option, attributes: [header.attrs, header.attrs["source_attrs"] ?? .null], sibling: nil, channels: channels, name: name)
    }

    /// From `option`, then the first of `attributes` with an energy start and step, then
    /// the array `sibling`; `name` is the data's, for messages. The unit is the
    /// attributes' even when `option` gives the values.
    public static func resolve(option: String?, attributes: [JSON], sibling: String?, channels: Int, name: String) throws -> EnergyAxis {
        let unit = attributes.lazy.compactMap { $0["energy_unit"]?.stringValue }.first { !$0.isEmpty } ?? "eV"
        if let option {
            let parts = option.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, let start = Double(parts[0]), let step = Double(parts[1]) {
                guard start.isFinite, step.isFinite, step != 0 else { throw DKLError.usage("--energy START:STEP needs finite numbers and a nonzero step") }
                return EnergyAxis(start: start, step: step, count: channels, unit: unit)
            }
            let file = try ArrayFile.open(option)
            let v = try file.readAll()
            guard v.count == channels else {
                throw DKLError.data("the energy axis has \(v.count) values but the spectra have \(channels) channels", file: file.name)
            }
            guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the energy axis holds NaN or infinity", file: file.name) }
            return EnergyAxis(values: v, unit: unit)
        }
        for attrs in attributes {
            // An axis given value by value (a Nanonis spectrum's sweep column).
            if let list = attrs["energy_values"]?.arrayValue {
                let v = list.compactMap(\.doubleValue)
                guard v.count == list.count, v.allSatisfy(\.isFinite) else { throw DKLError.data("the energy axis ('energy_values') holds a value that is not a finite number", file: name) }
                guard v.count == channels else { throw DKLError.data("the energy axis has \(v.count) values but the spectra have \(channels) channels", file: name) }
                return EnergyAxis(values: v, unit: attrs["energy_unit"]?.stringValue ?? "eV")
            }
            if let start = attrs["energy_start"]?.doubleValue, let step = attrs["energy_step"]?.doubleValue, start.isFinite, step.isFinite, step != 0 {
                return EnergyAxis(start: start, step: step, count: channels, unit: attrs["energy_unit"]?.stringValue ?? "eV")
            }
            if let start = attrs["energy_start_eV"]?.doubleValue, let step = attrs["energy_step_eV"]?.doubleValue {
                return EnergyAxis(start: start, step: step, count: channels)
            }
        }
        if let sibling, let file = try? ArrayFile.open(sibling), file.count == channels {
            return EnergyAxis(values: try file.readAll(), unit: unit)
        }
        throw DKLError.data("no energy axis: give --energy START:STEP or --energy FILE", file: name)
    }

    /// Parses `LO:HI` (in the axis's unit).
    public static func band(_ text: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Double(parts[0]), let hi = Double(parts[1]), lo.isFinite, hi.isFinite, lo <= hi else {
            throw DKLError.usage("a band must be LO:HI in the energy axis's unit with LO ≤ HI, not '\(text)'")
        }
        return lo...hi
    }

    /// The channels whose energy lies in `band` (ends included, to a millionth of a step, so
    /// that an axis rebuilt from a start and a step keeps its end channels); throws when there
    /// are none.
    public func channels(in band: ClosedRange<Double>) throws -> [Int] {
        let step = values.count > 1 ? abs(values[values.count - 1] - values[0]) / Double(values.count - 1) : 0
        let slack = 1e-6 * step
        let c = values.indices.filter { values[$0] >= band.lowerBound - slack && values[$0] <= band.upperBound + slack }
        guard !c.isEmpty else {
            let (lo, hi) = (values.min() ?? 0, values.max() ?? 0)
            throw DKLError.data(String(format: "no channel lies in %g–%g", band.lowerBound, band.upperBound) + " \(unit) (the spectra cover "
                + String(format: "%g–%g", lo, hi) + " \(unit))")
        }
        return c
    }
}

/// A structural image made from a spectrum image (H×W×E): the mean over an energy band of
/// every pixel's spectrum, read one image row at a time.
public enum BandImage {
    public static func mean(of source: ArraySource, channels: [Int]) throws -> [Float] {
        try source.requireRank([3], "a spectrum image H×W×E")
        let (h, w, e) = (source.shape[0], source.shape[1], source.shape[2])
        var out = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            try Interrupts.check()
            let row = try source.readBlockFloats(start: [y, 0, 0], count: [1, w, e])
            for x in 0..<w {
                var s = 0.0
                for c in channels { s += Double(row[x * e + c]) }
                out[y * w + x] = Float(s / Double(channels.count))
            }
        }
        return out
    }
}
