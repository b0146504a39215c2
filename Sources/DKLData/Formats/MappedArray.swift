import Foundation
import Synchronization
import DKLCore

/// A file mapped read-only into memory, unmapped when the last array reading from it is
/// gone. The readers of binary instrument files (DigitalMicrograph, Nanonis grids, Igor
/// waves) parse their headers from it and read their arrays through it.
final class FileMapping {
    let base: UnsafeRawPointer
    let size: Int

    /// Maps `path`; a file shorter than `minimum` bytes is refused as "not `what`".
    init(path: String, minimum: Int, what: String) throws {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw DKLError.data(String(cString: strerror(errno)), file: path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); throw DKLError.data(String(cString: strerror(errno)), file: path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { close(fd); throw DKLError.data("not a regular file", file: path) }
        size = Int(st.st_size)
        guard size >= minimum else { close(fd); throw DKLError.data("not \(what) (the file is too short for its header)", file: path) }
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            close(fd)
            throw DKLError.data("cannot map the file: \(String(cString: strerror(errno)))", file: path)
        }
        base = UnsafeRawPointer(m)
        self.fd = fd
        self.path = path
    }

    /// The open file, for reads that copy instead of mapping (StridedArray.visitCopying).
    let fd: Int32
    let path: String

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size); close(fd) }

    /// Copies `count` bytes from `offset` into `buffer` (pread), or says why it cannot.
    func copy(_ offset: Int, _ count: Int, into buffer: UnsafeMutableRawPointer) throws {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw DKLError.data(n == 0 ? "the file was cut while it was being read" : "cannot read: \(String(cString: strerror(errno)))", file: path)
        }
    }

    /// Bytes of pages read since the mapping's pages were last given back.
    private let touched = Mutex(0)
    /// How many bytes of a file's pages a process keeps mapped before giving them back, and
    /// the file size from which planes are copied rather than mapped: 128 MiB, or the
    /// environment's DKL_MAP_BUDGET (bytes, at least 4096) for a tighter memory limit.
    static let residentBudget: Int = {
        guard let text = ProcessInfo.processInfo.environment["DKL_MAP_BUDGET"], let v = Int(text), v > 0 else { return 128 << 20 }
        return max(v, 4096)
    }()

    /// Notes that a block's walk touched about `bytes` of pages: past the budget, the
    /// mapping's pages are given back to the kernel (MADV_DONTNEED: the page cache keeps
    /// them, the process's resident set does not), so that a file far larger than memory
    /// is read, block after block, in a bounded resident set. Mappings smaller than the
    /// budget are left alone.
    func didRead(bytes: Int) {
        guard size > FileMapping.residentBudget else { return }
        let release = touched.withLock { t -> Bool in
            t = t > Int.max - bytes ? Int.max : t + bytes
            if t < FileMapping.residentBudget { return false }
            t = 0
            return true
        }
        if release { madvise(UnsafeMutableRawPointer(mutating: base), size, MADV_DONTNEED) }
    }
}

/// The numeric element types of binary files, decoded in either byte order.
enum ElementType: Sendable, Equatable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64, bool

    var size: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    var name: String {
        switch self {
        case .bool: return "bool"
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .int16: return "int16"
        case .uint16: return "uint16"
        case .int32: return "int32"
        case .uint32: return "uint32"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float32: return "float32"
        case .float64: return "float64"
        }
    }

    /// The number at `p`, in the given byte order.
    @inline(__always)
    func decode(_ p: UnsafeRawPointer, littleEndian: Bool) -> Double {
        func u16() -> UInt16 { let v = p.loadUnaligned(as: UInt16.self); return littleEndian ? UInt16(littleEndian: v) : UInt16(bigEndian: v) }
        func u32() -> UInt32 { let v = p.loadUnaligned(as: UInt32.self); return littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v) }
        func u64() -> UInt64 { let v = p.loadUnaligned(as: UInt64.self); return littleEndian ? UInt64(littleEndian: v) : UInt64(bigEndian: v) }
        switch self {
        case .int16: return Double(Int16(bitPattern: u16()))
        case .uint16: return Double(u16())
        case .int32: return Double(Int32(bitPattern: u32()))
        case .uint32: return Double(u32())
        case .float32: return Double(Float(bitPattern: u32()))
        case .float64: return Double(bitPattern: u64())
        case .bool: return p.load(as: UInt8.self) != 0 ? 1 : 0
        case .int8: return Double(p.load(as: Int8.self))
        case .uint8: return Double(p.load(as: UInt8.self))
        case .int64: return Double(Int64(bitPattern: u64()))
        case .uint64: return Double(u64())
        }
    }

    /// A float32 at `p` as a Float, in the given byte order (no detour through Double).
    @inline(__always)
    static func float32(_ p: UnsafeRawPointer, littleEndian: Bool) -> Float {
        let v = p.loadUnaligned(as: UInt32.self)
        return Float(bitPattern: littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v))
    }
}

/// An array laid out in a mapped file with byte strides per dimension (any order, any
/// byte order), read by blocks straight from the mapping.
final class MappedArray: ArraySource {
    let name: String
    let shape: [Int]
    let attributes: JSON
    let mapping: FileMapping
    let data: UnsafeRawPointer
    let type: ElementType
    let littleEndian: Bool
    /// Byte strides of the dimensions of `shape`.
    let strides: [Int]
    /// Each element is a complex pair of `type` (real, imaginary), read as its modulus.
    let complexModulus: Bool

    /// The array whose element `index` is at `offset + Σ index[d]·strides[d]`; every element
    /// must lie inside the mapping (checked here, once).
    init(name: String, mapping: FileMapping, offset: Int, type: ElementType, littleEndian: Bool,
         shape: [Int], strides: [Int], attributes: JSON, complexModulus: Bool = false) throws {
        precondition(shape.count == strides.count)
        var lowest = offset, highest = offset
        for (n, s) in zip(shape, strides) where n > 0 {
            let (span, overflow) = (n - 1).multipliedReportingOverflow(by: s)
            guard !overflow else { throw DKLError.data("declared shape \(shape) is too large", file: name) }
            if span < 0 { lowest += span } else { highest += span }
        }
        let element = complexModulus ? 2 * type.size : type.size
        guard shape.contains(0) || (lowest >= 0 && highest <= mapping.size - element) else {
            throw DKLError.data("truncated or damaged: the array \(shape) needs bytes \(lowest)..<\(highest + element), the file has \(mapping.size)", file: name)
        }
        self.complexModulus = complexModulus
        self.name = name
        self.mapping = mapping
        self.data = mapping.base + offset
        self.type = type
        self.littleEndian = littleEndian
        self.shape = shape
        self.strides = strides
        self.attributes = attributes
    }

    /// Visits the block's elements, each with its place in the block's C order: from the
    /// mapping, or, for a large file read across planes (a spectrum image stored as energy
    /// planes), copied a run at a time, which keeps the resident set small (mapping them
    /// would map whole large pages of every plane for each row).
    func gather(start: [Int], count: [Int], _ body: (Int, UnsafeRawPointer) -> Void) throws {
        try checkBlock(start: start, count: count)
        let element = complexModulus ? 2 * type.size : type.size
        if mapping.size > FileMapping.residentBudget,
           try StridedArray.visitCopying(mapping, offset: data - mapping.base, strides: strides, start: start, count: count, elementSize: element, body) {
            return
        }
        StridedArray.visit(data, strides: strides, start: start, count: count, body)
        mapping.didRead(bytes: StridedArray.footprint(strides: strides, count: count, elementSize: element))
    }

    func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        let (type, littleEndian) = (self.type, self.littleEndian)
        if complexModulus {
            return try StridedArray.read(count.reduce(1, *), { try gather(start: start, count: count, $0) }) {
                hypot(type.decode($0, littleEndian: littleEndian), type.decode($0 + type.size, littleEndian: littleEndian))
            }
        }
        let n = count.reduce(1, *)
        // The common types without a switch per element.
        switch type {
        case .float32: return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) { Double(ElementType.float32($0, littleEndian: littleEndian)) }
        case .uint16:
            return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) {
                let v = $0.loadUnaligned(as: UInt16.self)
                return Double(littleEndian ? UInt16(littleEndian: v) : UInt16(bigEndian: v))
            }
        default: return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) { type.decode($0, littleEndian: littleEndian) }
        }
    }

    func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        let n = count.reduce(1, *)
        let (type, littleEndian) = (self.type, self.littleEndian)
        if complexModulus { return try readBlock(start: start, count: count).map { Float($0) } }
        if type == .float32 {
            return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) { ElementType.float32($0, littleEndian: littleEndian) }
        }
        return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) { Float(type.decode($0, littleEndian: littleEndian)) }
    }
}

/// An array held in memory (a text file's table, a small file read whole), sliced by blocks.
final class MemoryArray: ArraySource {
    let name: String
    let shape: [Int]
    let attributes: JSON
    let values: [Double]

    init(name: String, shape: [Int], values: [Double], attributes: JSON) {
        precondition(shape.reduce(1, *) == values.count)
        self.name = name
        self.shape = shape
        self.values = values
        self.attributes = attributes
    }

    func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        try checkBlock(start: start, count: count)
        if count.contains(0) { return [] }
        return USIDMain.slice(values, shape: shape, start: start, count: count)
    }

    func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        try readBlock(start: start, count: count).map { Float($0) }
    }
}
