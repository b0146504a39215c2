import CHDF5
import Foundation
import DKLCore

/// An HDF5 file opened for reading through libhdf5. This file and `HDF5Writer.swift`
/// are the only ones that see the C API.
public final class HDF5File {
    public let path: String
    let id: hid_t

    public init(path: String) throws {
        self.path = path
        guard HDF5File.isHDF5(path) else { throw DKLError.data("not an HDF5 file", file: path) }
        try locating(file: path) { try HDF5File.setUp() }
        // Its metadata read first in a child process (isolated.h): libhdf5 trusts it.
        switch dkl_h5_probe_isolated(path, 10_000) {
        case 0: break
        case -3: throw DKLError.data("cannot start a process to check the file (\(String(cString: strerror(errno))))", file: path)
        default: throw DKLError.data("damaged: libhdf5 crashes or hangs reading it (tried in a child process)", file: path)
        }
        id = dkl_p_H5Fopen()(path, dkl_h5f_acc_rdonly(), dkl_h5p_default())
        if id < 0 { throw DKLError.data("cannot open the HDF5 file", file: path) }
    }

    deinit { dkl_p_H5Fclose()(id) }

    /// The library loaded (lazy.h: a tool that reads no HDF5 file never loads it), its
    /// version checked, opened and its error printing silenced, once per process (a static
    /// let's initializer runs once, whichever thread gets there first); nil, or why it
    /// cannot be used. It does not close itself at exit: a file whose close failed (a full
    /// disk) made that segfault, and every file written is closed by its writer before the
    /// tool exits.
    private static let unavailable: String? = {
        var reason = [CChar](repeating: 0, count: 512)
        if dkl_h5_load(&reason, reason.count) != 0 { return String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        dkl_p_H5open()(); dkl_h5_silence()
        return nil
    }()
    static func setUp() throws {
        if let why = unavailable { throw DKLError.data(why) }
    }

    /// Whether the file holds HDF5's signature where the format puts it: at byte 0, or
    /// after a user block at 512, 1024, 2048... bytes (read here, without the library).
    public static func isHDF5(_ path: String) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        var offset = 0
        while offset + 8 <= Int(st.st_size) {
            var bytes = [UInt8](repeating: 0, count: 8)
            guard pread(fd, &bytes, 8, off_t(offset)) == 8 else { return false }
            if bytes == signature { return true }
            offset = offset == 0 ? 512 : 2 * offset
        }
        return false
    }

    /// Paths of every dataset (`/group/name`) and group, in name order.
    public func objects() -> (datasets: [String], groups: [String]) {
        final class Box { var datasets: [String] = []; var groups: [String] = [] }
        let box = Box()
        let cb: dkl_h5_name_cb = { name, kind, ctx in
            let b = Unmanaged<Box>.fromOpaque(ctx!).takeUnretainedValue()
            let n = "/" + String(cString: name!)
            if kind == 1 { b.datasets.append(n) } else if n != "/." { b.groups.append(n) }
        }
        _ = dkl_h5_visit(id, cb, Unmanaged.passUnretained(box).toOpaque())
        return (box.datasets, box.groups)
    }

    public var datasetPaths: [String] { objects().datasets }

    /// 1 dataset, 0 group, -1 nothing at `path`.
    public func kind(_ path: String) -> Int32 { dkl_h5_object_kind(id, path) }

    /// The dataset at `path`; with no path, the file's only dataset or the main dataset
    /// of an EMD (1.0 or emdfile), NSID or USID file.
    public func dataset(_ path: String?) throws -> ArraySource {
        guard let p = path else { return try mainDataset() }
        // A HyperSpy signal by its title (or index).
        if !p.hasPrefix("/"), let signal = try hyperspySignal(named: p) { return try calibrated(HDF5Dataset(file: self, path: signal)) }
        let full = p.hasPrefix("/") ? p : "/" + p
        switch kind(full) {
        case 1: return try calibrated(HDF5Dataset(file: self, path: full))
        case 0:
            // A group: EMD/emdfile groups hold their array as 'data'.
            if kind(full + "/data") == 1 { return try calibrated(HDF5Dataset(file: self, path: full + "/data")) }
            throw DKLError.data("'\(full)' is a group, not a dataset (datasets: \(listing()))", file: path)
        default:
            // A channel of a USID or NSID file, by its quantity (HeightRetrace).
            if !p.hasPrefix("/") {
                let mains = try mainDatasets()
                let named = mains.filter { $0.quantity == p }
                if named.count == 1 { return try open(named[0]) }
                if named.count > 1 { throw DKLError.data("\(named.count) channels measure '\(p)'; name one by its path (\(named.map(\.path).joined(separator: ", ")))", file: self.path) }
                if !mains.isEmpty { throw DKLError.data("no channel or dataset '\(p)' (channels: \(mains.map(\.quantity).joined(separator: ", ")))", file: self.path) }
            }
            throw DKLError.data("dataset '\(full)' not found (datasets: \(listing()))", file: self.path)
        }
    }

    func listing() -> String {
        let d = datasetPaths
        return d.isEmpty ? "none" : d.prefix(12).joined(separator: ", ") + (d.count > 12 ? ", …" : "")
    }

    func mainDataset() throws -> ArraySource {
        let (datasets, groups) = objects()
        if datasets.count == 1 { return try calibrated(HDF5Dataset(file: self, path: datasets[0])) }
        // HyperSpy: one signal, or one named by its title.
        let signals = hyperspySignals()
        if signals.count == 1 { return try calibrated(HDF5Dataset(file: self, path: signals[0].path)) }
        if signals.count > 1 {
            throw DKLError.data("the file holds \(signals.count) HyperSpy signals; name one as FILE:TITLE (\(signals.map(\.title).joined(separator: ", ")))", file: path)
        }
        if datasets.isEmpty { throw DKLError.data("the file has no dataset", file: path) }
        // EMD 1.0 (emd_group_type = 1) and emdfile (emd_group_type = 'array') groups.
        let emd = try groups.filter { g in
            guard let t = try attributes(at: g)["emd_group_type"] else { return false }
            return (t.intValue == 1 || t.stringValue == "array") && kind(g + "/data") == 1
        }
        if emd.count == 1 { return try calibrated(HDF5Dataset(file: self, path: emd[0] + "/data")) }
        // NSID and USID main datasets: one, or one named by its quantity.
        let mains = try mainDatasets()
        if mains.count == 1 { return try open(mains[0]) }
        if mains.count > 1 {
            throw DKLError.data("the file holds \(mains.count) channels; name one as FILE:QUANTITY (\(mains.map(\.quantity).joined(separator: ", ")))", file: path)
        }
        throw DKLError.data("the file has \(datasets.count) datasets; name one as FILE:/path (datasets: \(listing()))", file: path)
    }

    /// The text of the string dataset at `path` (its first element; variable- or
    /// fixed-length), or nil when there is no such dataset or it holds no string.
    public func string(at path: String) -> String? {
        guard kind(path) == 1 else { return nil }
        let ds = dkl_h5dopen(id, path)
        if ds < 0 { return nil }
        defer { dkl_p_H5Dclose()(ds) }
        let type = dkl_p_H5Dget_type()(ds)
        defer { dkl_p_H5Tclose()(type) }
        let space = dkl_p_H5Dget_space()(ds)
        defer { dkl_p_H5Sclose()(space) }
        let n = Int(dkl_p_H5Sget_simple_extent_npoints()(space))
        // The child process of init read string datasets of at most 16 elements.
        guard dkl_p_H5Tget_class()(type) == H5T_STRING, (1...16).contains(n) else { return nil }
        return HDF5File.strings(type: type, space: space, count: n) { mem, buf in
            dkl_p_H5Dread()(ds, mem, dkl_h5s_all(), dkl_h5s_all(), dkl_h5p_default(), buf)
        }?.first
    }

    /// The `count` strings of a dataset's or an attribute's string `type` (variable- or
    /// fixed-length, each up to its first NUL), read by `read(memoryType, buffer)`.
    static func strings(type: hid_t, space: hid_t, count n: Int, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
        if dkl_p_H5Tis_variable_str()(type) > 0 {
            let mem = dkl_p_H5Tcopy()(dkl_h5t_c_s1())
            defer { dkl_p_H5Tclose()(mem) }
            dkl_p_H5Tset_size()(mem, dkl_h5t_variable())
            dkl_p_H5Tset_cset()(mem, dkl_p_H5Tget_cset()(type))
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            guard ptrs.withUnsafeMutableBytes({ read(mem, $0.baseAddress!) }) >= 0 else { return nil }
            let strings = ptrs.map { $0.map { String(cString: $0) } ?? "" }
            dkl_p_H5Dvlen_reclaim()(mem, space, dkl_h5p_default(), &ptrs)
            return strings
        }
        let size = dkl_p_H5Tget_size()(type)
        guard size > 0, size < 1 << 20 else { return nil }
        var buf = [UInt8](repeating: 0, count: size * n)
        guard buf.withUnsafeMutableBytes({ read(type, $0.baseAddress!) }) >= 0 else { return nil }
        return (0..<n).map { i in
            let s = buf[(i * size)..<((i + 1) * size)]
            return String(decoding: s.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// Attributes of the object at `path` as a JSON object (numbers, strings, arrays);
    /// attributes of other types are left out. Throws when the file is damaged where
    /// they are stored.
    public func attributes(at path: String) throws -> JSON {
        let obj = dkl_h5oopen(id, path)
        if obj < 0 { return .object([]) }
        defer { dkl_p_H5Oclose()(obj) }
        return try HDF5File.attributes(of: obj, file: self.path)
    }

    static func attributes(of obj: hid_t, file: String) throws -> JSON {
        final class Box { var names: [String] = [] }
        let box = Box()
        let cb: dkl_h5_name_cb = { name, _, ctx in
            Unmanaged<Box>.fromOpaque(ctx!).takeUnretainedValue().names.append(String(cString: name!))
        }
        _ = dkl_h5_attributes(obj, cb, Unmanaged.passUnretained(box).toOpaque())
        var members: [(String, JSON)] = []
        for n in box.names {
            if let v = try readAttribute(obj, n, file: file) { members.append((n, v)) }
        }
        return .object(members)
    }

    static func readAttribute(_ obj: hid_t, _ name: String, file: String) throws -> JSON? {
        let a = dkl_h5aopen(obj, name)
        if a < 0 { return nil }
        defer { dkl_p_H5Aclose()(a) }
        let type = dkl_p_H5Aget_type()(a)
        defer { dkl_p_H5Tclose()(type) }
        let space = dkl_p_H5Aget_space()(a)
        defer { dkl_p_H5Sclose()(space) }
        let n = Int(dkl_p_H5Sget_simple_extent_npoints()(space))
        let scalar = dkl_p_H5Sget_simple_extent_ndims()(space) == 0
        guard n >= 0, n <= 1 << 20 else { return nil }
        switch dkl_p_H5Tget_class()(type) {
        case H5T_INTEGER, H5T_FLOAT:
            var v = [Double](repeating: 0, count: max(n, 1))
            guard dkl_p_H5Aread()(a, dkl_h5t_native_double(), &v) >= 0 else { return nil }
            return scalar || n == 1 ? .number(v[0]) : .array(v.prefix(n).map { .number($0) })
        case H5T_ENUM:
            // h5py's booleans (an enum of FALSE and TRUE over int8): the stored integers,
            // read without conversion in the file's byte order.
            let size = dkl_p_H5Tget_size()(type)
            guard (1...8).contains(size) else { return nil }
            var raw = [UInt8](repeating: 0, count: size * max(n, 1))
            guard dkl_p_H5Aread()(a, type, &raw) >= 0 else { return nil }
            let little = dkl_p_H5Tget_order()(type) != H5T_ORDER_BE
            let v = (0..<max(n, 1)).map { k -> Double in
                let bytes = raw[(k * size)..<((k + 1) * size)]
                var u: UInt64 = 0
                for (i, b) in (little ? Array(bytes) : bytes.reversed()).enumerated() { u |= UInt64(b) << (8 * UInt64(i)) }
                let shift = UInt64(64 - 8 * size)
                return Double(Int64(bitPattern: u << shift) >> Int64(shift))
            }
            return scalar || n == 1 ? .number(v[0]) : .array(v.map { .number($0) })
        case H5T_STRING:
            guard let strings = HDF5File.strings(type: type, space: space, count: max(n, 1), read: { dkl_p_H5Aread()(a, $0, $1) }) else { return nil }
            return scalar || n == 1 ? .string(strings[0]) : JSON(strings)
        default:
            return nil
        }
    }
}

/// One dataset of an `HDF5File`, read whole or by hyperslab.
public final class HDF5Dataset: ArraySource {
    public let name: String
    public let shape: [Int]
    /// The dataset's attributes, with the calibrations its layout gives (HDF5File.calibrated).
    public internal(set) var attributes: JSON
    let file: HDF5File
    let id: hid_t

    init(file: HDF5File, path: String) throws {
        self.file = file
        self.name = "\(file.path):\(path)"
        id = dkl_h5dopen(file.id, path)
        if id < 0 { throw DKLError.data("cannot open dataset '\(path)'", file: file.path) }
        let type = dkl_p_H5Dget_type()(id)
        let cls = dkl_p_H5Tget_class()(type)
        let elementBytes = Int(dkl_p_H5Tget_size()(type))
        dkl_p_H5Tclose()(type)
        guard cls == H5T_INTEGER || cls == H5T_FLOAT else {
            dkl_p_H5Dclose()(id)
            throw DKLError.data("dataset '\(path)' is not numeric (integer or float)", file: file.path)
        }
        let space = dkl_p_H5Dget_space()(id)
        defer { dkl_p_H5Sclose()(space) }
        let rank = Int(dkl_p_H5Sget_simple_extent_ndims()(space))
        guard (0...32).contains(rank) else {
            dkl_p_H5Dclose()(id)
            throw DKLError.data("dataset '\(path)' has rank \(rank)", file: file.path)
        }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        dkl_p_H5Sget_simple_extent_dims()(space, &dims, nil)
        // The declared shape against what the file stores, before anything is read.
        let plist = dkl_p_H5Dget_create_plist()(id)
        let contiguous = dkl_p_H5Pget_layout()(plist) == H5D_CONTIGUOUS
        dkl_p_H5Pclose()(plist)
        do {
            let declared = try ArrayShape.validate(Array(dims.prefix(rank)), elementBytes: elementBytes, file: "\(file.path):\(path)")
            try ArrayShape.checkStorage(bytes: declared.bytes, stored: Int(clamping: dkl_p_H5Dget_storage_size()(id)), contiguous: contiguous,
                                        shape: declared.shape, file: "\(file.path):\(path)")
            shape = declared.shape
        } catch {
            dkl_p_H5Dclose()(id)
            throw error
        }
        do { attributes = try HDF5File.attributes(of: id, file: file.path) } catch { dkl_p_H5Dclose()(id); throw error }
    }

    deinit { dkl_p_H5Dclose()(id) }

    func read(start: [Int], count: [Int], memType: hid_t, into buf: UnsafeMutableRawPointer) throws {
        try checkBlock(start: start, count: count)
        if count.contains(0) { return }
        let fileSpace = dkl_p_H5Dget_space()(id)
        defer { dkl_p_H5Sclose()(fileSpace) }
        var st = start.map { hsize_t($0) }
        var ct = count.map { hsize_t($0) }
        var status: herr_t
        if shape.isEmpty {
            status = dkl_p_H5Dread()(id, memType, dkl_h5s_all(), dkl_h5s_all(), dkl_h5p_default(), buf)
        } else {
            _ = dkl_h5s_select_set_hyperslab(fileSpace, &st, &ct)
            let memSpace = dkl_p_H5Screate_simple()(Int32(count.count), &ct, nil)
            defer { dkl_p_H5Sclose()(memSpace) }
            status = dkl_p_H5Dread()(id, memType, memSpace, fileSpace, dkl_h5p_default(), buf)
        }
        if status < 0 { throw DKLError.data("cannot read block \(start)+\(count) (damaged file or missing filter?)", file: name) }
    }

    public func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        var out = [Double](repeating: 0, count: count.reduce(1, *))
        try out.withUnsafeMutableBytes { try read(start: start, count: count, memType: dkl_h5t_native_double(), into: $0.baseAddress!) }
        return out
    }

    public func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        var out = [Float](repeating: 0, count: count.reduce(1, *))
        try out.withUnsafeMutableBytes { try read(start: start, count: count, memType: dkl_h5t_native_float(), into: $0.baseAddress!) }
        return out
    }
}

/// A USID main dataset (positions × spectroscopic values) seen as an N-D array: the
/// position dimensions (from `Position_Indices`, slowest first) then the spectroscopic ones.
final class USIDMain: ArraySource {
    let main: HDF5Dataset
    let name: String
    let shape: [Int]
    let attributes: JSON

    /// The main dataset at `path`, whose ancillary datasets are in `group` (its own group
    /// or an enclosing one, which a measurement's channels share).
    init(file: HDF5File, path: String, group: String) throws {
        main = try HDF5Dataset(file: file, path: path)
        name = main.name
        let parent = group
        /// Per dimension an index table spans, slowest-varying first (writers differ in the
        /// column order they use): its row or column in the table, its stride and size.
        func dims(_ ds: String) throws -> [(column: Int, stride: Int, size: Int)] {
            let idx = try HDF5Dataset(file: file, path: parent + "/" + ds)
            let v = try idx.readAll()
            // Every index counts grid points: a whole number below the table's length.
            let limit = Double(max(idx.shape.first ?? 0, idx.shape.last ?? 0))
            if let bad = v.firstIndex(where: { !($0 >= 0 && $0 < limit && $0.rounded() == $0) }) {
                throw DKLError.data("USID \(ds) holds \(v[bad]) at entry \(bad), not an index below \(Int(limit))", file: file.path)
            }
            guard idx.rank == 2 else { return [(0, 1, Int(v.max() ?? 0) + 1)] }
            // Position_Indices is (points, dims); Spectroscopic_Indices is (dims, points).
            let pointsFirst = ds == "Position_Indices"
            let (points, nd) = pointsFirst ? (idx.shape[0], idx.shape[1]) : (idx.shape[1], idx.shape[0])
            func at(_ k: Int, _ d: Int) -> Int { Int(v[pointsFirst ? k * nd + d : d * points + k]) }
            var dimsFound: [(column: Int, stride: Int, size: Int)] = []
            for d in 0..<nd {
                let size = (0..<points).map { at($0, d) }.max().map { $0 + 1 } ?? 1
                let stride = (0..<points).first { at($0, d) != 0 } ?? points
                dimsFound.append((d, stride, size))
            }
            dimsFound.sort { $0.stride > $1.stride }
            // The table must enumerate the grid in row-major order over those dimensions.
            for k in 0..<points {
                for dim in dimsFound where at(k, dim.column) != (k / max(dim.stride, 1)) % dim.size {
                    throw DKLError.data("USID \(ds) does not enumerate a regular grid", file: file.path)
                }
            }
            return dimsFound
        }
        let pos = try dims("Position_Indices")
        let spec = file.kind(parent + "/Spectroscopic_Indices") == 1 ? try dims("Spectroscopic_Indices") : [(0, 1, main.shape.last ?? 1)]
        let (posSizes, specSizes) = (pos.map(\.size), spec.map(\.size))
        guard main.rank == 2, posSizes.reduce(1, *) == main.shape[0], specSizes.reduce(1, *) == main.shape[1] else {
            throw DKLError.data("USID dataset shape \(main.shape) does not match its indices \(posSizes) × \(specSizes)", file: name)
        }
        // The calibrations: each dimension's values along its own index, from the Values tables.
        func axes(_ ds: String, _ found: [(column: Int, stride: Int, size: Int)], pointsFirst: Bool) throws -> [JSON] {
            guard file.kind(parent + "/" + ds) == 1 else { return found.map { HDF5Axes.axis(name: "", values: (0..<$0.size).map(Double.init), units: "") } }
            let table = try HDF5Dataset(file: file, path: parent + "/" + ds)
            let values = try table.readAll()
            let attrs = try file.attributes(at: parent + "/" + ds)
            let labels = HDF5Axes.strings(attrs["labels"]), units = HDF5Axes.strings(attrs["units"])
            guard table.rank == 2 else { return found.map { HDF5Axes.axis(name: labels.first ?? "", values: Array(values.prefix($0.size)), units: units.first ?? "") } }
            let (rows, columns) = (table.shape[0], table.shape[1])
            return found.map { d in
                let v = (0..<d.size).map { j -> Double in
                    let k = j * d.stride
                    let at = pointsFirst ? k * columns + d.column : d.column * columns + k
                    return at < rows * columns ? values[at] : Double(j)
                }
                return HDF5Axes.axis(name: d.column < labels.count ? labels[d.column] : "", values: v, units: d.column < units.count ? units[d.column] : "")
            }
        }
        var posAxes = try axes("Position_Values", pos, pointsFirst: true)
        var specAxes = try axes("Spectroscopic_Values", spec, pointsFirst: false)
        // A single spectroscopic value (an image) or a single position (one spectrum) is no dimension.
        var (p, sp) = (posSizes, specSizes)
        if sp.allSatisfy({ $0 == 1 }) && !p.isEmpty { sp = []; specAxes = [] }
        if p.allSatisfy({ $0 == 1 }) && !sp.isEmpty { p = []; posAxes = [] }
        shape = p + sp
        attributes = HDF5Axes.merge(main.attributes, axes: posAxes + specAxes, spectral: !sp.isEmpty)
    }

    var cached: [Double]?

    /// USID files are read whole once (they are modest), then sliced.
    func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        try checkBlock(start: start, count: count)
        if cached == nil { cached = try main.readAll() }
        return USIDMain.slice(cached!, shape: shape, start: start, count: count)
    }

    func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        try readBlock(start: start, count: count).map { Float($0) }
    }

    static func slice(_ a: [Double], shape: [Int], start: [Int], count: [Int]) -> [Double] {
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        var out: [Double] = []
        out.reserveCapacity(count.reduce(1, *))
        var idx = start
        while true {
            var o = 0
            for d in 0..<shape.count { o += idx[d] * strides[d] }
            out.append(a[o])
            var d = shape.count - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < start[d] + count[d] { break }
                idx[d] = start[d]
                d -= 1
            }
            if d < 0 { return out }
        }
    }
}
