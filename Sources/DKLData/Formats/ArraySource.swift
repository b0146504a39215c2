import Foundation
import DKLCore

/// A numeric array in a file (an NPY file or an HDF5 dataset), read whole or by blocks
/// without reading the rest of the file.
public protocol ArraySource: AnyObject {
    /// The file name and, for HDF5, the dataset path: `cube.h5:/data`.
    var name: String { get }
    var shape: [Int] { get }
    /// Attributes stored with the array (HDF5 attributes; none for NPY).
    var attributes: JSON { get }
    /// The block `start[i] ..< start[i] + count[i]` in C order as Doubles.
    func readBlock(start: [Int], count: [Int]) throws -> [Double]
    /// The block as Floats.
    func readBlockFloats(start: [Int], count: [Int]) throws -> [Float]
}

extension ArraySource {
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    public func readAll() throws -> [Double] { try readBlock(start: shape.map { _ in 0 }, count: shape) }
    public func readAllFloats() throws -> [Float] { try readBlockFloats(start: shape.map { _ in 0 }, count: shape) }

    /// The sub-array at the leading indices `index` (e.g. one spectrum `[y, x]` of a
    /// (y, x, E) cube, one diffraction pattern of a (y, x, ky, kx) cube).
    public func read(at index: [Int]) throws -> [Double] {
        try readBlock(start: index + shape.dropFirst(index.count).map { _ in 0 },
                      count: index.map { _ in 1 } + shape.dropFirst(index.count))
    }

    public func readFloats(at index: [Int]) throws -> [Float] {
        try readBlockFloats(start: index + shape.dropFirst(index.count).map { _ in 0 },
                            count: index.map { _ in 1 } + shape.dropFirst(index.count))
    }

    /// Checks a block request against the shape.
    func checkBlock(start: [Int], count: [Int]) throws {
        guard start.count == shape.count, count.count == shape.count else {
            throw DKLError.data("a block of rank \(start.count) was asked of an array of rank \(shape.count)", file: name)
        }
        for d in 0..<shape.count where start[d] < 0 || count[d] < 0 || start[d] + count[d] > shape[d] {
            throw DKLError.data("block \(start)+\(count) is outside the array's shape \(shape)", file: name)
        }
    }

    /// Requires the array's rank to be one of `ranks`.
    public func requireRank(_ ranks: [Int], _ what: String) throws {
        guard ranks.contains(rank) else {
            let list = ranks.count > 2 ? ranks.dropLast().map(String.init).joined(separator: ", ") + " or \(ranks.last!)" : ranks.map(String.init).joined(separator: " or ")
            throw DKLError.data("expected \(what) (rank \(list)), found shape \(shape)", file: name)
        }
        // An image, a cube or a stack with an empty dimension holds nothing to work on.
        if shape.contains(0) {
            throw DKLError.data("expected \(what), found the empty shape \(shape.map(String.init).joined(separator: "×"))", file: name)
        }
    }
}

/// Opens arrays by name: `file.npy`, `file.h5` (its only dataset, or the main dataset of an
/// EMD, NSID, USID or HyperSpy file), `file.h5:/group/dataset`, `file.h5:QUANTITY` (an NSID
/// or USID channel), `file.hspy:TITLE`, a DigitalMicrograph file `file.dm3`
/// (its only image) or `file.dm4:1`, `file.dm3:HAADF` (an image by index or by name), a
/// Velox file's signal `file.emd:HAADF`, `file.emd:EDS`, a Nanonis grid's channel or
/// parameter `grid.3ds:LockinX`, `grid.3ds:Z`, a Nanonis spectrum's `point.dat:Current`, an
/// Igor wave's channel `scan.ibw:HeightRetrace` (dkl-formats(5)).
public enum ArrayFile {
    public static func open(_ spec: String) throws -> ArraySource {
        let (path, dataset) = split(spec)
        guard FileManager.default.fileExists(atPath: path) else {
            throw DKLError.data("no such file", file: path)
        }
        let kind = try sniff(path)
        switch kind {
        case .npy:
            if let d = dataset { throw DKLError.data("an NPY file holds one array; remove ':\(d)'", file: path) }
            return try NPYFile(path: path)
        case .hdf5:
            let f = try HDF5File(path: path)
            if !(dataset?.hasPrefix("/") ?? false), VeloxFile.isVelox(f) { return try VeloxFile(file: f).signal(dataset) }
            return try f.dataset(dataset)
        case .dm:
            return try DMFile(path: path).image(dataset)
        case .nanonisGrid:
            return try NanonisGrid(path: path).signal(dataset)
        case .nanonisSpectrum:
            return try NanonisSpectrum(path: path).signal(dataset)
        case .igor:
            return try IgorWave(path: path).signal(dataset)
        }
    }

    enum Kind { case npy, hdf5, dm, nanonisGrid, nanonisSpectrum, igor }

    /// The formats read, as messages name them.
    static let formats = "NPY, HDF5, DM3/DM4, Nanonis 3ds/dat or Igor ibw"

    /// Whether `path` is an NPY or HDF5 file (and not, say, a dkl stream).
    public static func isArrayFile(_ path: String) -> Bool { (try? sniff(path)) != nil }

    static func sniff(_ path: String) throws -> Kind {
        let r = try ByteReader(path: path, bufferSize: 4096)
        _ = try r.fill(16)
        let head = Array(r.bytes.prefix(16))
        let b = Array(head.prefix(8))
        if b.starts(with: NPYHeader.magic) { return .npy }
        if b == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] || HDF5File.isHDF5(path) { return .hdf5 }
        if DMFile.sniff(b) { return .dm }
        if NanonisGrid.sniff(head) { return .nanonisGrid }
        if NanonisSpectrum.sniff(head) { return .nanonisSpectrum }
        if IgorWave.sniff(b) { return .igor }
        if b.isEmpty { throw DKLError.data("empty file (expected \(formats))", file: path) }
        throw DKLError.data("not an \(formats) file", file: path)
    }

    /// Splits `file.h5:/path` into the file and the dataset path. A name that exists as a
    /// file is taken whole.
    public static func split(_ spec: String) -> (String, String?) {
        if FileManager.default.fileExists(atPath: spec) { return (spec, nil) }
        if let i = spec.lastIndex(of: ":") {
            let file = String(spec[..<i])
            let ds = String(spec[spec.index(after: i)...])
            if !file.isEmpty { return (file, ds.isEmpty ? nil : ds) }
        }
        return (spec, nil)
    }

    public static func isHDF5Name(_ path: String) -> Bool {
        let l = path.lowercased()
        return [".h5", ".hdf5", ".hdf", ".emd", ".nxs", ".he5", ".hspy"].contains { l.hasSuffix($0) }
    }

    /// Writes an array to `spec` (NPY, or HDF5 for `.h5`-like names, dataset path after ':',
    /// default `/data`), atomically. Floats are stored as f4, Doubles as f8.
    public static func write(_ spec: String, shape: [Int], values: ArrayValues, attributes: JSON = .object([])) throws {
        let (path, dataset) = splitForWriting(spec)
        if isHDF5Name(path) {
            let w = try HDF5Writer(path: path)
            do {
                let ds = dataset ?? "/data"
                try w.write(ds, shape: shape, values: values)
                if case let .object(members) = attributes { for (k, v) in members { try w.setAttribute(ds, k, v) } }
                try w.commit()
            } catch { w.abort(); throw error }
        } else {
            if dataset != nil { throw DKLError.usage("an NPY file holds one array; remove ':\(dataset!)' from '\(spec)'") }
            try NPYFile.write(path, shape: shape, values: values)
        }
    }

    static func splitForWriting(_ spec: String) -> (String, String?) {
        if let r = spec.range(of: ":", options: .backwards), isHDF5Name(String(spec[..<r.lowerBound])) {
            let ds = String(spec[r.upperBound...])
            return (String(spec[..<r.lowerBound]), ds.isEmpty ? nil : ds)
        }
        return (spec, nil)
    }
}

/// Values to write, with their element type.
public enum ArrayValues {
    case float([Float])
    case double([Double])
    case int32([Int32])
    case int64([Int64])
    case uint8([UInt8])

    public var count: Int {
        switch self {
        case let .float(v): return v.count
        case let .double(v): return v.count
        case let .int32(v): return v.count
        case let .int64(v): return v.count
        case let .uint8(v): return v.count
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case let .float(v): return try v.withUnsafeBytes(body)
        case let .double(v): return try v.withUnsafeBytes(body)
        case let .int32(v): return try v.withUnsafeBytes(body)
        case let .int64(v): return try v.withUnsafeBytes(body)
        case let .uint8(v): return try v.withUnsafeBytes(body)
        }
    }

    var npy: (NPYHeader.Kind, Int) {
        switch self {
        case .float: return (.float, 4)
        case .double: return (.float, 8)
        case .int32: return (.int, 4)
        case .int64: return (.int, 8)
        case .uint8: return (.uint, 1)
        }
    }
}

