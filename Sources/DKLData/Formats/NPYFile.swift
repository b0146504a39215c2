import Foundation
import DKLCore

/// An NPY file, memory-mapped: blocks are gathered straight from the mapping, so one
/// spectrum or diffraction pattern of a multi-gigabyte cube touches only its own pages.
public final class NPYFile: ArraySource {
    public let name: String
    public let header: NPYHeader
    public var shape: [Int] { header.shape }
    public var attributes: JSON { .object([]) }
    let mapping: FileMapping

    public init(path: String) throws {
        name = path
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { throw DKLError.data("is a directory", file: path) }
            if st.st_size == 0 { throw DKLError.data("empty file (expected NPY)", file: path) }
            if st.st_size < 10 { throw DKLError.data("NPY header is truncated", file: path) }
        }
        mapping = try FileMapping(path: path, minimum: 10, what: "an NPY file")
        do {
            header = try NPYHeader.parse(mapping.bytes)
        } catch let e as DKLError {
            throw e.located(file: path)
        }
        let need = header.dataOffset + header.count * header.itemSize
        if mapping.size < need {
            throw DKLError.data("file is truncated: shape \(header.shape) needs \(need) bytes, the file has \(mapping.size)", file: path)
        }
    }

    /// Byte strides of the logical (C-order) dimensions in the file.
    var strides: [Int] {
        var s = [Int](repeating: header.itemSize, count: shape.count)
        if header.fortranOrder {
            for d in stride(from: 1, to: shape.count, by: 1) { s[d] = s[d - 1] * shape[d - 1] }
        } else {
            for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        }
        return s
    }

    @inline(__always)
    func element(_ p: UnsafeRawPointer) -> Double {
        let h = header
        switch (h.kind, h.itemSize) {
        case (.float, 4):
            let bits = p.loadUnaligned(as: UInt32.self)
            return Double(Float(bitPattern: h.bigEndian ? bits.byteSwapped : bits))
        case (.float, 8):
            let bits = p.loadUnaligned(as: UInt64.self)
            return Double(bitPattern: h.bigEndian ? bits.byteSwapped : bits)
        case (.int, 1): return Double(p.loadUnaligned(as: Int8.self))
        case (.int, 2): let v = p.loadUnaligned(as: Int16.self); return Double(h.bigEndian ? v.byteSwapped : v)
        case (.int, 4): let v = p.loadUnaligned(as: Int32.self); return Double(h.bigEndian ? v.byteSwapped : v)
        case (.int, 8): let v = p.loadUnaligned(as: Int64.self); return Double(h.bigEndian ? v.byteSwapped : v)
        case (.uint, 1): return Double(p.loadUnaligned(as: UInt8.self))
        case (.uint, 2): let v = p.loadUnaligned(as: UInt16.self); return Double(h.bigEndian ? v.byteSwapped : v)
        case (.uint, 4): let v = p.loadUnaligned(as: UInt32.self); return Double(h.bigEndian ? v.byteSwapped : v)
        case (.uint, 8): let v = p.loadUnaligned(as: UInt64.self); return Double(h.bigEndian ? v.byteSwapped : v)
        case (.bool, _): return p.load(as: UInt8.self) != 0 ? 1 : 0
        default: return .nan
        }
    }

    /// Visits the block's elements in C order, handing each one's file pointer to `body`.
    func gather(start: [Int], count: [Int], _ body: (Int, UnsafeRawPointer) -> Void) throws {
        try checkBlock(start: start, count: count)
        StridedArray.visit(mapping.base + header.dataOffset, strides: strides, start: start, count: count, body)
        mapping.didRead(bytes: StridedArray.footprint(strides: strides, count: count, elementSize: header.itemSize))
    }

    public func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        try StridedArray.read(count.reduce(1, *), { try gather(start: start, count: count, $0) }) { element($0) }
    }

    public func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        let n = count.reduce(1, *)
        if header.kind == .float, header.itemSize == 4, !header.bigEndian {
            return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) { $0.loadUnaligned(as: Float.self) }
        }
        return try StridedArray.read(n, { try gather(start: start, count: count, $0) }) { Float(element($0)) }
    }

    /// Writes a C-order little-endian NPY file atomically.
    public static func write(_ path: String, shape: [Int], values: ArrayValues) throws {
        guard shape.reduce(1, *) == values.count else {
            throw DKLError.data("internal: shape \(shape) does not hold \(values.count) values", file: path)
        }
        let (kind, size) = values.npy
        let header = NPYHeader(kind: kind, itemSize: size, shape: shape)
        let f = try AtomicFile(path: path)
        do {
            try f.writer.write(header.encoded())
            try values.withBytes { try f.writer.write($0) }
            try f.commit()
        } catch { f.abort(); throw error }
    }
}
