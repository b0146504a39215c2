import CHDF5
import Foundation
import DKLCore

/// Writes a new HDF5 file atomically: everything goes to a temporary file that
/// `commit()` renames into place. Large datasets are chunked and compressed.
public final class HDF5Writer {
    public let path: String
    let tempPath: String
    /// The file the temporary is renamed to: `path`, or a symlink's final target.
    let target: String
    var id: hid_t
    let lcpl: hid_t
    var closed = false
    var openRows: [Rows] = []

    /// Datasets of at least this many bytes are chunked and gzip-compressed (level 4, shuffle).
    public static let compressAbove = 1 << 16

    public init(path: String) throws {
        try locating(file: path) { try HDF5File.setUp() }
        self.path = path
        (tempPath, target) = try AtomicFile.temporaryPath(for: path)
        id = dkl_p_H5Fcreate()(tempPath, dkl_h5f_acc_excl(), dkl_h5p_default(), dkl_h5p_default())
        if id < 0 { throw HDF5Writer.failure("cannot create the HDF5 file", path: path) }
        Interrupts.register(tempPath: tempPath)
        lcpl = dkl_p_H5Pcreate()(dkl_h5p_link_create())
        dkl_p_H5Pset_create_intermediate_group()(lcpl, 1)
    }

    deinit { abort() }

    /// Writes a dataset (intermediate groups are created); large ones are compressed unless
    /// `compress` is false (network weights and optimizer moments barely compress, and a
    /// checkpoint written during training should cost little).
    public func write(_ dataset: String, shape: [Int], values: ArrayValues, compress: Bool = true) throws {
        guard shape.reduce(1, *) == values.count else {
            throw DKLError.data("internal: shape \(shape) does not hold \(values.count) values", file: path)
        }
        let ds = try create(dataset, shape: shape, like: values, compress: compress)
        defer { dkl_p_H5Dclose()(ds) }
        let status = values.withBytes { dkl_p_H5Dwrite()(ds, HDF5Writer.types(values).memory, dkl_h5s_all(), dkl_h5s_all(), dkl_h5p_default(), $0.baseAddress) }
        if status < 0 { throw failure("cannot write dataset '\(dataset)'") }
    }

    /// The file's and memory's HDF5 types and the element size of `values`' kind.
    static func types(_ values: ArrayValues) -> (file: hid_t, memory: hid_t, size: Int) {
        switch values {
        case .float: return (dkl_h5t_ieee_f32le(), dkl_h5t_native_float(), 4)
        case .double: return (dkl_h5t_ieee_f64le(), dkl_h5t_native_double(), 8)
        case .int32: return (dkl_h5t_std_i32le(), dkl_h5t_native_int32(), 4)
        case .int64: return (dkl_h5t_std_i64le(), dkl_h5t_native_int64(), 8)
        case .uint8: return (dkl_h5t_std_u8le(), dkl_h5t_native_uint8(), 1)
        }
    }

    /// Creates a dataset of `shape` with the element type of `like` (its values unused);
    /// the caller closes it.
    func create(_ dataset: String, shape: [Int], like values: ArrayValues, compress: Bool) throws -> hid_t {
        let (fileType, _, size) = HDF5Writer.types(values)
        var dims = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? dkl_p_H5Screate()(H5S_SCALAR) : dkl_p_H5Screate_simple()(Int32(shape.count), &dims, nil)
        defer { dkl_p_H5Sclose()(space) }
        let dcpl = dkl_p_H5Pcreate()(dkl_h5p_dataset_create())
        defer { dkl_p_H5Pclose()(dcpl) }
        dkl_p_H5Pset_obj_track_times()(dcpl, false)   // no timestamps: the same data gives the same bytes
        try group(PathName.directory(dataset))
        if compress, !shape.isEmpty, shape.reduce(1, *) * size >= HDF5Writer.compressAbove {
            var chunk = HDF5Writer.chunkShape(shape, itemSize: size).map { hsize_t($0) }
            dkl_p_H5Pset_chunk()(dcpl, Int32(shape.count), &chunk)
            dkl_p_H5Pset_shuffle()(dcpl)
            dkl_p_H5Pset_deflate()(dcpl, 4)
        }
        let ds = dkl_h5dcreate(id, dataset, fileType, space, lcpl, dcpl)
        if ds < 0 { throw failure("cannot create dataset '\(dataset)' (does it exist already?)") }
        return ds
    }

    /// A dataset written a block of rows at a time (its first dimension), in order: for
    /// outputs too large to hold in memory (a sweep's maps and series). Every row must be
    /// written before `commit()`; the dataset is closed with the file.
    public final class Rows {
        let writer: HDF5Writer
        let name: String
        let ds: hid_t
        let shape: [Int]
        let memoryType: hid_t
        /// The rows written so far.
        public private(set) var written = 0
        var open = true

        init(writer: HDF5Writer, name: String, ds: hid_t, shape: [Int], memoryType: hid_t) {
            self.writer = writer; self.name = name; self.ds = ds; self.shape = shape; self.memoryType = memoryType
        }

        /// Writes the next rows: `values` holds a whole number of rows (of shape[1...]).
        public func append(_ values: ArrayValues) throws {
            let row = shape.dropFirst().reduce(1, *)
            guard open, row > 0, values.count % row == 0, written + values.count / row <= shape[0] else {
                throw DKLError.data("internal: \(values.count) values do not continue dataset '\(name)' \(shape) at row \(written)", file: writer.path)
            }
            let rows = values.count / row
            guard rows > 0 else { return }
            let fileSpace = dkl_p_H5Dget_space()(ds)
            defer { dkl_p_H5Sclose()(fileSpace) }
            var start = [hsize_t(written)] + shape.dropFirst().map { _ in hsize_t(0) }
            var count = [hsize_t(rows)] + shape.dropFirst().map { hsize_t($0) }
            dkl_p_H5Sselect_hyperslab()(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
            let memSpace = dkl_p_H5Screate_simple()(Int32(count.count), &count, nil)
            defer { dkl_p_H5Sclose()(memSpace) }
            let status = values.withBytes { dkl_p_H5Dwrite()(ds, memoryType, memSpace, fileSpace, dkl_h5p_default(), $0.baseAddress) }
            if status < 0 { throw writer.failure("cannot write dataset '\(name)'") }
            written += rows
        }

        func close() {
            guard open else { return }
            open = false
            dkl_p_H5Dclose()(ds)
        }
    }

    /// Creates a dataset of `shape` (rows first) to be written by `Rows.append`, with the
    /// element type of `like`.
    public func rows(_ dataset: String, shape: [Int], like: ArrayValues, compress: Bool = true) throws -> Rows {
        guard !shape.isEmpty else { throw DKLError.data("internal: dataset '\(dataset)' needs rows", file: path) }
        let ds = try create(dataset, shape: shape, like: like, compress: compress)
        let r = Rows(writer: self, name: dataset, ds: ds, shape: shape, memoryType: HDF5Writer.types(like).memory)
        openRows.append(r)
        return r
    }

    /// A chunk of at most about 256 KiB that keeps the trailing dimensions whole (one
    /// spectrum or pattern is never split) and tiles the leading ones, so per-position
    /// reads decompress little.
    static func chunkShape(_ shape: [Int], itemSize: Int) -> [Int] {
        var chunk = shape
        let lead = min(2, shape.count)
        while chunk.reduce(1, *) * itemSize > 1 << 18 {
            guard let d = (0..<lead).filter({ chunk[$0] > 1 }).max(by: { chunk[$0] < chunk[$1] }) else { break }
            chunk[d] = (chunk[d] + 1) / 2
        }
        return chunk
    }

    /// Creates a group (and its parents).
    public func group(_ path: String) throws {
        if path.isEmpty || path == "/" || dkl_h5_object_kind(id, path) == 0 { return }
        try group(PathName.directory(path))
        let gcpl = dkl_p_H5Pcreate()(dkl_h5p_group_create())
        defer { dkl_p_H5Pclose()(gcpl) }
        dkl_p_H5Pset_obj_track_times()(gcpl, false)
        let g = dkl_h5gcreate(id, path, lcpl, gcpl)
        if g < 0 { throw failure("cannot create group '\(path)'") }
        dkl_p_H5Gclose()(g)
    }

    /// Sets an attribute on the object at `objectPath` from a JSON number, string,
    /// boolean or array of numbers or of strings; other values are stored as JSON text.
    public func setAttribute(_ objectPath: String, _ name: String, _ value: JSON) throws {
        let obj = dkl_h5oopen(id, objectPath)
        if obj < 0 { throw DKLError.data("no object '\(objectPath)' for attribute '\(name)'", file: path) }
        defer { dkl_p_H5Oclose()(obj) }
        if dkl_p_H5Aexists()(obj, name) > 0 { dkl_p_H5Adelete()(obj, name) }
        switch value {
        case let .number(d): try numbers(obj, name, [d], scalar: true)
        case let .bool(b): try numbers(obj, name, [b ? 1 : 0], scalar: true)
        case let .string(s): try strings(obj, name, [s], scalar: true)
        case let .array(items) where !items.isEmpty && items.allSatisfy({ $0.doubleValue != nil }):
            try numbers(obj, name, items.map { $0.doubleValue! }, scalar: false)
        case let .array(items) where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
            try strings(obj, name, items.map { $0.stringValue! }, scalar: false)
        default: try strings(obj, name, [value.text], scalar: true)
        }
    }

    func numbers(_ obj: hid_t, _ name: String, _ v: [Double], scalar: Bool) throws {
        var n = hsize_t(v.count)
        let space = scalar ? dkl_p_H5Screate()(H5S_SCALAR) : dkl_p_H5Screate_simple()(1, &n, nil)
        defer { dkl_p_H5Sclose()(space) }
        let a = dkl_h5acreate(obj, name, dkl_h5t_ieee_f64le(), space)
        if a < 0 { throw failure("cannot create attribute '\(name)'") }
        defer { dkl_p_H5Aclose()(a) }
        var vv = v
        if dkl_p_H5Awrite()(a, dkl_h5t_native_double(), &vv) < 0 { throw failure("cannot write attribute '\(name)'") }
    }

    /// Fixed-length UTF-8 strings (the longest sets the size): they are stored in the
    /// attribute itself, not in the global heap that variable-length ones need.
    func strings(_ obj: hid_t, _ name: String, _ v: [String], scalar: Bool) throws {
        let utf8 = v.map { Array($0.utf8) }
        let size = max(1, utf8.map(\.count).max() ?? 1)
        let type = dkl_p_H5Tcopy()(dkl_h5t_c_s1())
        defer { dkl_p_H5Tclose()(type) }
        dkl_p_H5Tset_size()(type, size)
        dkl_p_H5Tset_strpad()(type, H5T_STR_NULLPAD)
        dkl_p_H5Tset_cset()(type, H5T_CSET_UTF8)
        var n = hsize_t(v.count)
        let space = scalar ? dkl_p_H5Screate()(H5S_SCALAR) : dkl_p_H5Screate_simple()(1, &n, nil)
        defer { dkl_p_H5Sclose()(space) }
        let a = dkl_h5acreate(obj, name, type, space)
        if a < 0 { throw failure("cannot create attribute '\(name)'") }
        defer { dkl_p_H5Aclose()(a) }
        var buf = [UInt8](repeating: 0, count: size * v.count)
        for (i, s) in utf8.enumerated() { buf.replaceSubrange((i * size)..<(i * size + s.count), with: s) }
        if dkl_p_H5Awrite()(a, type, &buf) < 0 { throw failure("cannot write attribute '\(name)'") }
    }

    /// Closes the file and renames it into place.
    public func commit() throws {
        guard !closed else { return }
        for r in openRows where r.written != r.shape[0] {
            abort()
            throw DKLError.data("internal: dataset '\(r.name)' has \(r.written) of its \(r.shape[0]) rows", file: path)
        }
        openRows.forEach { $0.close() }
        closed = true
        dkl_p_H5Pclose()(lcpl)
        let status = dkl_p_H5Fclose()(id)
        if status < 0 {
            unlink(tempPath)
            Interrupts.unregister(tempPath: tempPath)
            throw failure("cannot finish the HDF5 file")
        }
        Interrupts.unregister(tempPath: tempPath)
        try AtomicFile.commitRename(temp: tempPath, to: target, name: path)
    }

    /// The error for a failed libhdf5 call: what failed, and the system's reason when
    /// the library recorded one ("no space left on device").
    func failure(_ what: String) -> DKLError { HDF5Writer.failure(what, path: path) }

    static func failure(_ what: String, path: String) -> DKLError {
        var reason = [UInt8](repeating: 0, count: 256)
        let found = reason.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { dkl_h5_system_reason($0.baseAddress, $0.count) }
        }
        guard found == 1 else { return DKLError.data(what, file: path) }
        let text = String(decoding: reason.prefix { $0 != 0 }, as: UTF8.self)
        return DKLError.data("\(what): \(text.lowercased())", file: path)
    }

    /// Closes and removes the temporary file.
    public func abort() {
        guard !closed else { return }
        openRows.forEach { $0.close() }
        closed = true
        dkl_p_H5Pclose()(lcpl)
        dkl_p_H5Fclose()(id)
        unlink(tempPath)
        Interrupts.unregister(tempPath: tempPath)
    }
}
