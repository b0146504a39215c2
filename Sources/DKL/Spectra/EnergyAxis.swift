import Foundation

/// The energy (eV) of every channel of a spectrum image, so that bands are given in eV
/// and never in channels.
public struct EnergyAxis: Sendable, Equatable {
    public var values: [Double]

    public init(values: [Double]) { self.values = values }
    public init(start: Double, step: Double, count: Int) { values = (0..<count).map { start + step * Double($0) } }

    /// The axis for the last dimension (`channels` long) of `source`, from the first of:
    /// `option` (`START:STEP` in eV, or an array file of energies); the dataset's attributes
    /// `energy_start_eV` and `energy_step_eV` (as dkl-synth writes them); a dataset
    /// `energy` beside it in the same HDF5 file.
    public static func resolve(option: String?, source: ArraySource, channels: Int) throws -> EnergyAxis {
        if let option {
            let parts = option.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count == 2, let start = Double(parts[0]), let step = Double(parts[1]) {
                guard start.isFinite, step.isFinite, step != 0 else { throw DKLError.usage("--energy START:STEP needs finite numbers and a nonzero step") }
                return EnergyAxis(start: start, step: step, count: channels)
            }
            let file = try ArrayFile.open(option)
            let v = try file.readAll()
            guard v.count == channels else {
                throw DKLError.data("the energy axis has \(v.count) values but the spectra have \(channels) channels", file: file.name)
            }
            guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the energy axis holds NaN or infinity", file: file.name) }
            return EnergyAxis(values: v)
        }
        if let start = source.attributes["energy_start_eV"]?.doubleValue, let step = source.attributes["energy_step_eV"]?.doubleValue {
            return EnergyAxis(start: start, step: step, count: channels)
        }
        let (path, dataset) = ArrayFile.split(source.name)
        if let dataset, ArrayFile.isHDF5Name(path) || HDF5File.isHDF5(path) {
            let sibling = (dataset as NSString).deletingLastPathComponent
            let spec = path + ":" + (sibling == "/" || sibling.isEmpty ? "" : sibling) + "/energy"
            if let file = try? ArrayFile.open(spec), file.count == channels {
                return EnergyAxis(values: try file.readAll())
            }
        }
        throw DKLError.data("no energy axis: give --energy START:STEP (eV) or --energy FILE", file: source.name)
    }

    /// Parses `LO:HI` (eV).
    public static func band(_ text: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lo = Double(parts[0]), let hi = Double(parts[1]), lo.isFinite, hi.isFinite, lo <= hi else {
            throw DKLError.usage("a band must be LO:HI in eV with LO ≤ HI, not '\(text)'")
        }
        return lo...hi
    }

    /// The channels whose energy lies in `band` (ends included); throws when there are none.
    public func channels(in band: ClosedRange<Double>) throws -> [Int] {
        let c = values.indices.filter { band.contains(values[$0]) }
        guard !c.isEmpty else {
            let (lo, hi) = (values.min() ?? 0, values.max() ?? 0)
            throw DKLError.data(String(format: "no channel lies in %g–%g eV (the spectra cover %g–%g eV)", band.lowerBound, band.upperBound, lo, hi))
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
