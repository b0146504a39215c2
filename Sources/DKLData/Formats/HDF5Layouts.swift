import Foundation
import DKLCore

/// The microscopy layouts of HDF5 files: pycroscopy's NSID and USID main datasets (the
/// channels of a measurement, chosen by their quantity), and the calibrations that NSID,
/// USID and Berkeley EMD files keep beside their arrays, turned into the attributes the
/// toolkit reads (`axes`, `energy_start`/`energy_step`/`energy_unit` or `energy_values`,
/// `pixel_size`/`pixel_unit`).
extension HDF5File {
    /// A main dataset of an NSID or USID file.
    public struct MainDataset: Sendable {
        public var path: String
        /// What it measures (`HeightRetrace`, `Piezoresponse`); the dataset's name when the file does not say.
        public var quantity: String
        /// "NSID" or "USID".
        public var layout: String
        /// USID: the group holding its Position_Indices.
        var group: String
    }

    /// The NSID (`main_data_name`) and USID (`quantity` with `Position_Indices` in its
    /// group or an enclosing one) main datasets, in path order.
    public func mainDatasets() throws -> [MainDataset] {
        var mains: [MainDataset] = []
        for d in datasetPaths where !d.hasSuffix("_Indices") && !d.hasSuffix("_Values") {
            let attrs = try attributes(at: d)
            let quantity = attrs["quantity"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? PathName.base(d)
            if attrs["main_data_name"] != nil {
                mains.append(MainDataset(path: d, quantity: quantity, layout: "NSID", group: PathName.directory(d)))
            } else if attrs["quantity"] != nil, let group = usidGroup(of: d) {
                mains.append(MainDataset(path: d, quantity: quantity, layout: "USID", group: group))
            }
        }
        return mains
    }

    /// The group holding `Position_Indices` for the dataset at `path`: its own, or the
    /// nearest enclosing one.
    func usidGroup(of path: String) -> String? {
        var dir = PathName.directory(path)
        while true {
            if kind((dir == "/" ? "" : dir) + "/Position_Indices") == 1 { return dir }
            if dir == "/" || dir.isEmpty { return nil }
            dir = PathName.directory(dir)
        }
    }

    /// A main dataset as an array: NSID as stored, with its dimensions' calibrations; USID
    /// reshaped to its positions × spectroscopic values.
    public func open(_ main: MainDataset) throws -> ArraySource {
        if main.layout == "USID" { return try USIDMain(file: self, path: main.path, group: main.group) }
        return try calibrated(HDF5Dataset(file: self, path: main.path))
    }

    /// The signals of a HyperSpy file (`.hspy`): each `/Experiments/TITLE/data`, in file order.
    public func hyperspySignals() -> [(title: String, path: String)] {
        guard kind("/Experiments") == 0 else { return [] }
        return objects().datasets.compactMap { d in
            let dir = PathName.directory(d)
            guard PathName.base(d) == "data", PathName.directory(dir) == "/Experiments" else { return nil }
            return (PathName.base(dir), d)
        }
    }

    /// The data path of the HyperSpy signal titled `name` (or of index `name`); nil when
    /// the file has no HyperSpy signals or none answers to it.
    func hyperspySignal(named name: String) throws -> String? {
        let signals = hyperspySignals()
        guard !signals.isEmpty, kind("/" + name) == -1 else { return nil }
        if let k = Int(name), signals.indices.contains(k) { return signals[k].path }
        let named = signals.filter { $0.title == name }
        if named.count == 1 { return named[0].path }
        throw DKLError.data("no HyperSpy signal '\(name)' (\(signals.map(\.title).joined(separator: ", ")))", file: path)
    }

    /// A HyperSpy signal's axes (`axis-0` … beside its data, in the data's order): name,
    /// units, and offset and scale (UniformDataAxis) or values (DataAxis); whether its last
    /// axis is its one signal axis (not navigated).
    func hyperspyAxes(_ group: String, rank: Int, shape: [Int]) throws -> (axes: [JSON], spectral: Bool)? {
        var axes: [JSON] = []
        var signalAxes: [Int] = []
        for d in 0..<rank {
            let g = group + "/axis-\(d)"
            guard kind(g) == 0 else { return nil }
            let a = try attributes(at: g)
            func text(_ key: String) -> String { a[key]?.stringValue.flatMap { $0 == "_None_" ? nil : $0 } ?? "" }
            let (name, units) = (text("name"), text("units"))
            if a["navigate"]?.doubleValue == 0 { signalAxes.append(d) }
            if kind(g + "/axis") == 1, let v = try? HDF5Dataset(file: self, path: g + "/axis"), v.rank == 1, v.shape[0] == shape[d] {
                axes.append(HDF5Axes.axis(name: name, values: try v.readAll(), units: units))
            } else if let offset = a["offset"]?.doubleValue, let scale = a["scale"]?.doubleValue {
                axes.append(HDF5Axes.axis(name: name, values: (0..<shape[d]).map { offset + scale * Double($0) }, units: units))
            } else {
                axes.append(HDF5Axes.axis(name: name, values: (0..<shape[d]).map(Double.init), units: ""))
            }
        }
        return (axes, signalAxes == [rank - 1])
    }

    /// The dataset with its layout's calibrations in its attributes: a HyperSpy signal's
    /// axes, an NSID dataset's
    /// dimension scales (named by DIMENSION_LABELS, beside it), a Berkeley EMD group's
    /// `dim1`…`dimN` vectors (with `name` and `units`).
    func calibrated(_ ds: HDF5Dataset) throws -> HDF5Dataset {
        let path = String(ds.name.dropFirst(self.path.count + 1))
        let dir = PathName.directory(path)
        let prefix = dir == "/" ? "" : dir
        var vectors: [(name: String, path: String)] = []
        var spectral = false
        if PathName.base(path) == "data", PathName.directory(dir) == "/Experiments",
           let (axes, signal) = try hyperspyAxes(dir, rank: ds.rank, shape: ds.shape) {
            let units = axes.last?["units"]?.stringValue ?? ""
            ds.attributes = HDF5Axes.merge(ds.attributes, axes: axes, spectral: signal || (EnergyUnits.isEnergy(units) && ds.rank != 2))
            return ds
        }
        if let labels = ds.attributes["DIMENSION_LABELS"].map(HDF5Axes.strings), labels.count == ds.rank {
            vectors = labels.map { ($0, prefix + "/" + $0) }
            let type = ds.attributes["data_type"]?.stringValue?.uppercased() ?? ""
            spectral = type.contains("SPECTR")
        } else if ds.rank > 0, PathName.base(path) == "data", try attributes(at: dir)["emd_group_type"] != nil {
            let first = kind(prefix + "/dim1") == 1 ? 1 : 0
            vectors = (0..<ds.rank).map { ("", prefix + "/dim\($0 + first)") }
        }
        guard !vectors.isEmpty else { return ds }
        var axes: [JSON] = []
        for (d, v) in vectors.enumerated() {
            guard kind(v.path) == 1, let vector = try? HDF5Dataset(file: self, path: v.path), vector.rank == 1, vector.shape[0] == ds.shape[d] else {
                return ds   // not the calibrations this layout keeps: the array as it is
            }
            let attrs = vector.attributes
            let name = attrs["name"]?.stringValue ?? v.name
            if d == ds.rank - 1, attrs["dimension_type"]?.stringValue?.uppercased() == "SPECTRAL" { spectral = true }
            axes.append(HDF5Axes.axis(name: name, values: try vector.readAll(), units: attrs["units"]?.stringValue ?? ""))
        }
        if let units = axes.last?["units"]?.stringValue, EnergyUnits.isEnergy(units), ds.rank != 2 { spectral = true }
        ds.attributes = HDF5Axes.merge(ds.attributes, axes: axes, spectral: spectral)
        return ds
    }
}

/// Calibrated axes from the vectors of values files keep per dimension.
enum HDF5Axes {
    /// An axis: its size, first value (offset), mean step (scale) and units; `values` too
    /// when the steps are not even.
    static func axis(name: String, values v: [Double], units: String) -> JSON {
        let n = v.count
        let offset = v.first ?? 0
        let scale = n > 1 ? (v[n - 1] - v[0]) / Double(n - 1) : 1
        var members: [(String, JSON)] = [("name", .string(name)), ("size", .number(Double(n))),
                                         ("scale", .number(scale.isFinite && scale != 0 ? scale : 1)), ("offset", .number(offset.isFinite ? offset : 0)), ("units", .string(units))]
        if !even(v) { members.append(("values", .array(v.map { .number($0) }))) }
        return .object(members)
    }

    /// Whether the values step evenly (to a millionth of the range).
    static func even(_ v: [Double]) -> Bool {
        guard v.count > 2, let first = v.first, let last = v.last else { return true }
        let step = (last - first) / Double(v.count - 1)
        let tolerance = 1e-6 * max(abs(last - first), .leastNormalMagnitude)
        return v.enumerated().allSatisfy { abs($1 - (first + step * Double($0))) <= tolerance }
    }

    /// A JSON string or array of strings as strings.
    static func strings(_ j: JSON?) -> [String] {
        if let s = j?.stringValue { return [s] }
        return j?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// `attributes` with `axes` and what follows from them: the spectral axis (the last,
    /// when `spectral`) as energy_start/step/unit (even steps) or energy_values (uneven,
    /// monotonic), and the pixel size from the axis named x.
    static func merge(_ attributes: JSON, axes: [JSON], spectral: Bool) -> JSON {
        guard case .object(var members) = attributes else { return attributes }
        members.removeAll { ["axes", "energy_start", "energy_step", "energy_unit", "energy_values", "pixel_size", "pixel_unit"].contains($0.0) }
        members.append(("axes", .array(axes)))
        if spectral, let e = axes.last, let units = e["units"]?.stringValue {
            if let values = e["values"]?.arrayValue?.compactMap(\.doubleValue) {
                let rising = zip(values, values.dropFirst()).allSatisfy { $0 < $1 }, falling = zip(values, values.dropFirst()).allSatisfy { $0 > $1 }
                if rising || falling { members += [("energy_values", .array(values.map { .number($0) })), ("energy_unit", .string(units))] }
            } else if let start = e["offset"]?.doubleValue, let step = e["scale"]?.doubleValue {
                members += [("energy_start", .number(start)), ("energy_step", .number(step)), ("energy_unit", .string(units))]
            }
        }
        if let x = axes.first(where: { $0["name"]?.stringValue?.lowercased() == "x" }), let units = x["units"]?.stringValue, !units.isEmpty, let scale = x["scale"]?.doubleValue {
            members += [("pixel_size", .number(scale)), ("pixel_unit", .string(units))]
        }
        return .object(members)
    }
}
