/// The header of an NPY file (format versions 1.0, 2.0 and 3.0): element type, byte
/// order, memory order and shape.
import DKLCore

public struct NPYHeader: Equatable, Sendable {
    public enum Kind: Character, Sendable { case float = "f", int = "i", uint = "u", bool = "b" }
    public var kind: Kind
    public var itemSize: Int
    public var bigEndian: Bool
    public var fortranOrder: Bool
    public var shape: [Int]
    /// Offset of the first data byte.
    public var dataOffset: Int
    public var version: Int

    public var count: Int { shape.reduce(1, *) }
    public var descr: String { (itemSize == 1 ? "|" : bigEndian ? ">" : "<") + String(kind.rawValue) + String(itemSize) }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    static let supported: Set<String> = ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]

    public init(kind: Kind, itemSize: Int, bigEndian: Bool = false, fortranOrder: Bool = false, shape: [Int]) {
        self.kind = kind; self.itemSize = itemSize; self.bigEndian = bigEndian
        self.fortranOrder = fortranOrder; self.shape = shape; self.dataOffset = 0; self.version = 1
    }

    /// Parses the header at the start of `bytes` (at least the first 12 bytes plus the header).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> NPYHeader {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw DKLError.data("not an NPY file (bad magic)") }
        let major = Int(bytes[6])
        let lenSize: Int
        switch major {
        case 1: lenSize = 2
        case 2, 3: lenSize = 4
        default: throw DKLError.data("unsupported NPY format version \(major).\(bytes[7])")
        }
        guard bytes.count >= 8 + lenSize else { throw DKLError.data("NPY header is truncated") }
        var hlen = 0
        for i in 0..<lenSize { hlen |= Int(bytes[8 + i]) << (8 * i) }
        let start = 8 + lenSize
        guard hlen <= 1 << 24, bytes.count >= start + hlen else { throw DKLError.data("NPY header is truncated") }
        let text = String(decoding: bytes[start..<(start + hlen)], as: UTF8.self)
        var h = try parseDict(text)
        h.dataOffset = start + hlen
        h.version = major
        return h
    }

    /// Parses the Python literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    static func parseDict(_ text: String) throws -> NPYHeader {
        var lexer = PyLiteralLexer(Array(text.utf8))
        guard case .dict(let d)? = try? lexer.value() else { throw DKLError.data("NPY header is not a Python dict: \"\(DKLError.oneLine(String(text.prefix(60))))\(text.count > 60 ? "…" : "")\"")
        }
        guard case .string(let descr)? = d["descr"] else {
            throw DKLError.data("unsupported NPY dtype (a structured dtype, or no 'descr')")
        }
        guard case .bool(let fortran)? = d["fortran_order"] else { throw DKLError.data("NPY header has no 'fortran_order'") }
        guard case .tuple(let shape)? = d["shape"], shape.allSatisfy({ $0 >= 0 }) else { throw DKLError.data("NPY header has no valid 'shape'") }
        var chars = Array(descr)
        var big = false
        if let c = chars.first, "<>|=".contains(c) { big = c == ">"; chars.removeFirst() }
        let code = String(chars)
        guard supported.contains(code), let kind = Kind(rawValue: chars[0]), let size = Int(String(chars.dropFirst())) else {
            throw DKLError.data("unsupported NPY dtype '\(descr)' (supported: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)")
        }
        _ = try ArrayShape.validate(shape, elementBytes: size, file: nil)   // the file's size is checked against it by the reader
        return NPYHeader(kind: kind, itemSize: size, bigEndian: big && size > 1, fortranOrder: fortran, shape: shape)
    }

    /// The bytes of a version 1.0 header (2.0 when longer than 65535 bytes), padded to 64.
    public func encoded() -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        var lenSize = 2
        var major: UInt8 = 1
        if dict.utf8.count + 11 > 65535 { lenSize = 4; major = 2 }
        let base = 8 + lenSize
        while (base + dict.utf8.count + 1) % 64 != 0 { dict += " " }
        dict += "\n"
        var out = NPYHeader.magic + [major, 0]
        let n = dict.utf8.count
        for i in 0..<lenSize { out.append(UInt8((n >> (8 * i)) & 0xFF)) }
        out += Array(dict.utf8)
        return out
    }
}

/// Just enough of Python's literal syntax for NPY headers.
struct PyLiteralLexer {
    enum Value { case string(String), bool(Bool), int(Int), tuple([Int]), dict([String: Value]), none }
    let b: [UInt8]
    var p = 0
    init(_ b: [UInt8]) { self.b = b }

    struct Bad: Error {}

    mutating func space() { while p < b.count, b[p] == 0x20 || b[p] == 0x0A || b[p] == 0x09 || b[p] == 0x0D { p += 1 } }

    mutating func value() throws -> Value {
        space()
        guard p < b.count else { throw Bad() }
        switch b[p] {
        case UInt8(ascii: "{"):
            p += 1
            var d: [String: Value] = [:]
            while true {
                space()
                if p < b.count, b[p] == UInt8(ascii: "}") { p += 1; return .dict(d) }
                guard case .string(let k) = try value() else { throw Bad() }
                space()
                guard p < b.count, b[p] == UInt8(ascii: ":") else { throw Bad() }
                p += 1
                d[k] = try value()
                space()
                if p < b.count, b[p] == UInt8(ascii: ",") { p += 1 }
            }
        case UInt8(ascii: "("):
            p += 1
            var items: [Int] = []
            while true {
                space()
                if p < b.count, b[p] == UInt8(ascii: ")") { p += 1; return .tuple(items) }
                guard case .int(let v) = try value() else { throw Bad() }
                items.append(v)
                space()
                if p < b.count, b[p] == UInt8(ascii: ",") { p += 1 }
            }
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            let q = b[p]
            p += 1
            let s = p
            while p < b.count, b[p] != q { p += 1 }
            guard p < b.count else { throw Bad() }
            p += 1
            return .string(String(decoding: b[s..<(p - 1)], as: UTF8.self))
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            var v = 0
            while p < b.count, b[p] >= 0x30, b[p] <= 0x39 {
                let r = v.multipliedReportingOverflow(by: 10)
                guard !r.overflow else { throw Bad() }
                v = r.partialValue + Int(b[p] - 0x30)
                p += 1
            }
            if p < b.count, b[p] == UInt8(ascii: "L") { p += 1 }
            return .int(v)
        case UInt8(ascii: "["):
            // A structured dtype's field list: skipped here, reported by the caller.
            var depth = 0
            repeat {
                if b[p] == UInt8(ascii: "[") { depth += 1 } else if b[p] == UInt8(ascii: "]") { depth -= 1 }
                p += 1
            } while p < b.count && depth > 0
            return .none
        default:
            for (word, val) in [("True", Value.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let w = Array(word.utf8)
                if p + w.count <= b.count, Array(b[p..<(p + w.count)]) == w { p += w.count; return val }
            }
            throw Bad()
        }
    }
}
