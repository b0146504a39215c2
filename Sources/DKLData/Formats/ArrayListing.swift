import Foundation
import DKLCore

/// One array of a file, as `dkl-cat --list` shows it: how to open it, its name, what it
/// is, its shape and, where the file says, each dimension's calibration.
public struct ArraySignal: Sendable {
    /// What `ArrayFile.open` takes to open it: `FILE`, `FILE:/path`, `FILE:INDEX`.
    public var spec: String
    public var name: String
    public var kind: String
    public var shape: [Int]
    /// Per dimension: name, size, scale, offset, units (empty when the file has none).
    public var axes: [JSON]

    /// One line of the listing: the spec, the name, the kind, the shape and the calibrated
    /// dimensions (`E 350+0.5·i eV`).
    public var row: [String] {
        let calibrated = axes.compactMap { a -> String? in
            guard let units = a["units"]?.stringValue, !units.isEmpty else { return nil }
            let name = a["name"]?.stringValue ?? ""
            // An axis of uneven steps (a triangle wave of voltages) by its values.
            if let v = a["values"]?.arrayValue?.compactMap(\.doubleValue), let lo = v.min(), let hi = v.max() {
                return "\(name) \(v.count) values in [\(Ticks4.format(lo)), \(Ticks4.format(hi))] \(units)"
            }
            let (o, s) = (a["offset"]?.doubleValue ?? 0, a["scale"]?.doubleValue ?? 1)
            return "\(name) \(Ticks4.format(o))\(s < 0 ? "" : "+")\(Ticks4.format(s))·i \(units)"
        }
        return [spec, name.isEmpty ? "-" : name, kind, shape.map(String.init).joined(separator: "×"), calibrated.isEmpty ? "-" : calibrated.joined(separator: ", ")]
    }

    public var json: JSON {
        ["spec": .string(spec), "name": .string(name), "kind": .string(kind), "shape": JSON(shape), "axes": .array(axes)]
    }

    /// The signals as an aligned table under a heading line.
    public static func table(_ signals: [ArraySignal]) -> String {
        let rows = [["signal", "name", "kind", "shape", "calibration"]] + signals.map(\.row)
        let widths = (0..<5).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { r in
            r.enumerated().map { c, v in c == 4 ? v : v + String(repeating: " ", count: widths[c] - v.count) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// What an array of `rank` holds, in the toolkit's reading of its dimensions.
    static func kind(rank: Int, spectrumImage: Bool = true) -> String {
        switch rank {
        case 0: return "value"
        case 1: return "values"
        case 2: return "image"
        case 3: return spectrumImage ? "spectrum image" : "stack"
        case 4: return "4-D"
        default: return "rank \(rank)"
        }
    }
}

/// Four significant digits, for the listing (Plot has its own tick formats).
enum Ticks4 {
    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        return String(format: "%.4g", v)
    }
}

extension ArrayFile {
    /// Every array of the file at `path`: an NPY file's one, an HDF5 file's numeric
    /// datasets, a DigitalMicrograph file's images.
    public static func list(_ path: String) throws -> [ArraySignal] {
        guard FileManager.default.fileExists(atPath: path) else { throw DKLError.data("no such file", file: path) }
        switch try sniff(path) {
        case .npy:
            let a = try NPYFile(path: path)
            return [ArraySignal(spec: path, name: "", kind: ArraySignal.kind(rank: a.rank), shape: a.shape, axes: [])]
        case .hdf5:
            let f = try HDF5File(path: path)
            if VeloxFile.isVelox(f) { return try VeloxFile(file: f).list() }
            // The channels of an NSID or USID file by quantity, then every other numeric
            // dataset but the calibration vectors and index tables.
            let mains = try f.mainDatasets()
            let channels = try mains.map { m in
                let a = try f.open(m)
                let unique = mains.filter { $0.quantity == m.quantity }.count == 1
                return ArraySignal(spec: unique ? "\(path):\(m.quantity)" : "\(path):\(m.path)", name: m.quantity,
                                   kind: "\(m.layout) \(ArraySignal.kind(rank: a.rank))", shape: a.shape, axes: a.attributes["axes"]?.arrayValue ?? [])
            }
            // HyperSpy signals by title; their metadata and axes are not arrays to list.
            let spy = try f.hyperspySignals().map { s in
                let a = try f.dataset(s.path)
                return ArraySignal(spec: "\(path):\(s.title)", name: s.title, kind: "HyperSpy \(ArraySignal.kind(rank: a.rank))", shape: a.shape,
                                   axes: a.attributes["axes"]?.arrayValue ?? [])
            }
            let skip = Set(mains.map(\.path))
            let others: [ArraySignal] = try f.datasetPaths.compactMap { d in
                guard !skip.contains(d), !(d.hasPrefix("/Experiments/") && !spy.isEmpty), let ds = try? f.dataset(d) else { return nil }
                let attrs = try f.attributes(at: d)
                let dir = PathName.directory(d)
                if attrs["CLASS"]?.stringValue == "DIMENSION_SCALE" { return nil }
                if (d.hasSuffix("_Indices") || d.hasSuffix("_Values")) && f.usidGroup(of: d) != nil { return nil }
                if PathName.base(d).hasPrefix("dim"), try f.attributes(at: dir)["emd_group_type"] != nil { return nil }
                return ArraySignal(spec: "\(path):\(d)", name: PathName.base(d), kind: ArraySignal.kind(rank: ds.rank), shape: ds.shape,
                                   axes: ds.attributes["axes"]?.arrayValue ?? [])
            }
            return spy + channels + others
        case .dm:
            let f = try DMFile(path: path)
            return f.images.enumerated().map { k, image in
                ArraySignal(spec: "\(path):\(k)", name: image.title, kind: image.kind, shape: image.shape, axes: image.axes.map(\.json))
            }
        case .nanonisGrid:
            return try NanonisGrid(path: path).list()
        case .nanonisSpectrum:
            return try NanonisSpectrum(path: path).list()
        case .igor:
            return try IgorWave(path: path).list()
        }
    }
}
