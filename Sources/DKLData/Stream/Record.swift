/// Typed access to one packed record. Indices are field indices in the schema.
import DKLCore

public struct RecordView {
    public let bytes: UnsafeRawBufferPointer
    public let schema: Schema

    public init(_ bytes: UnsafeRawBufferPointer, _ schema: Schema) { self.bytes = bytes; self.schema = schema }

    /// Element `i` of field `field` as a Double (integers converted).
    @inline(__always)
    public func double(_ field: Int, _ i: Int = 0) -> Double {
        let f = schema.fields[field]
        return RecordView.load(bytes, f.dtype, f.offset + i * f.dtype.size)
    }

    /// Element `i` of field `field` as an Int (floats truncated toward zero; NaN gives 0).
    @inline(__always)
    public func int(_ field: Int, _ i: Int = 0) -> Int {
        let f = schema.fields[field]
        let o = f.offset + i * f.dtype.size
        switch f.dtype {
        case .i8: return Int(bytes.loadUnaligned(fromByteOffset: o, as: Int8.self))
        case .i16: return Int(bytes.loadUnaligned(fromByteOffset: o, as: Int16.self))
        case .i32: return Int(bytes.loadUnaligned(fromByteOffset: o, as: Int32.self))
        case .i64: return Int(bytes.loadUnaligned(fromByteOffset: o, as: Int64.self))
        case .u8: return Int(bytes.loadUnaligned(fromByteOffset: o, as: UInt8.self))
        case .u16: return Int(bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))
        case .u32: return Int(bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self))
        case .u64: return Int(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))
        default:
            let d = RecordView.load(bytes, f.dtype, o)
            return d.isFinite && abs(d) < 9e18 ? Int(d) : 0
        }
    }

    /// All elements of field `field`, row-major, as Doubles.
    public func doubles(_ field: Int) -> [Double] {
        let f = schema.fields[field]
        return (0..<f.count).map { RecordView.load(bytes, f.dtype, f.offset + $0 * f.dtype.size) }
    }

    /// All elements of field `field`, row-major, as Floats.
    public func floats(_ field: Int) -> [Float] {
        let f = schema.fields[field]
        if f.dtype == .f32 {
            return [Float](unsafeUninitializedCapacity: f.count) { buf, n in
                UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[f.offset..<(f.offset + f.byteSize)]))
                n = f.count
            }
        }
        return (0..<f.count).map { Float(RecordView.load(bytes, f.dtype, f.offset + $0 * f.dtype.size)) }
    }

    /// The text of a string field.
    public func string(_ field: Int) -> String {
        let f = schema.fields[field]
        let s = bytes[f.offset..<(f.offset + f.width)]
        let end = s.firstIndex(of: 0) ?? s.endIndex
        return String(decoding: s[s.startIndex..<end], as: UTF8.self)
    }

    @inline(__always)
    static func load(_ b: UnsafeRawBufferPointer, _ t: DType, _ o: Int) -> Double {
        switch t {
        case .f32: return Double(b.loadUnaligned(fromByteOffset: o, as: Float.self))
        case .f64: return b.loadUnaligned(fromByteOffset: o, as: Double.self)
        case .i8: return Double(b.loadUnaligned(fromByteOffset: o, as: Int8.self))
        case .i16: return Double(b.loadUnaligned(fromByteOffset: o, as: Int16.self))
        case .i32: return Double(b.loadUnaligned(fromByteOffset: o, as: Int32.self))
        case .i64: return Double(b.loadUnaligned(fromByteOffset: o, as: Int64.self))
        case .u8: return Double(b.loadUnaligned(fromByteOffset: o, as: UInt8.self))
        case .u16: return Double(b.loadUnaligned(fromByteOffset: o, as: UInt16.self))
        case .u32: return Double(b.loadUnaligned(fromByteOffset: o, as: UInt32.self))
        case .u64: return Double(b.loadUnaligned(fromByteOffset: o, as: UInt64.self))
        case .string: return .nan
        }
    }

    /// Checks the record against its schema: no NaN in fields that forbid it.
    public func validate() throws {
        for (fi, f) in schema.fields.enumerated() where f.dtype.isFloat && !f.allowsNaN {
            for i in 0..<f.count where double(fi, i).isNaN {
                throw DKLError.data("NaN in field '\(f.name)', which does not allow NaN")
            }
        }
    }
}

/// Builds one packed record field by field.
public struct RecordBuilder {
    public let schema: Schema
    public private(set) var bytes: [UInt8]

    public init(_ schema: Schema) {
        self.schema = schema
        bytes = [UInt8](repeating: 0, count: schema.recordSize)
    }

    /// Sets element `i` of field `field` from a Double (converted to the field's dtype;
    /// integers are rounded to nearest and clamped to the type's range).
    @inline(__always)
    public mutating func set(_ field: Int, _ value: Double, at i: Int = 0) {
        let f = schema.fields[field]
        let o = f.offset + i * f.dtype.size
        bytes.withUnsafeMutableBytes { b in
            switch f.dtype {
            case .f32: b.storeBytes(of: Float(value), toByteOffset: o, as: Float.self)
            case .f64: b.storeBytes(of: value, toByteOffset: o, as: Double.self)
            case .string: break
            default:
                let r = f.dtype.integerRange
                let v = value.isNaN ? 0 : min(max(value.rounded(), r.lowerBound), r.upperBound)
                switch f.dtype {
                case .i8: b.storeBytes(of: Int8(v), toByteOffset: o, as: Int8.self)
                case .i16: b.storeBytes(of: Int16(v), toByteOffset: o, as: Int16.self)
                case .i32: b.storeBytes(of: Int32(v), toByteOffset: o, as: Int32.self)
                case .i64: b.storeBytes(of: Int64(v), toByteOffset: o, as: Int64.self)
                case .u8: b.storeBytes(of: UInt8(v), toByteOffset: o, as: UInt8.self)
                case .u16: b.storeBytes(of: UInt16(v), toByteOffset: o, as: UInt16.self)
                case .u32: b.storeBytes(of: UInt32(v), toByteOffset: o, as: UInt32.self)
                default: b.storeBytes(of: UInt64(v), toByteOffset: o, as: UInt64.self)
                }
            }
        }
    }

    /// Sets an integer element exactly.
    public mutating func set(_ field: Int, int value: Int, at i: Int = 0) {
        let f = schema.fields[field]
        let o = f.offset + i * f.dtype.size
        bytes.withUnsafeMutableBytes { b in
            switch f.dtype {
            case .i64: b.storeBytes(of: Int64(value), toByteOffset: o, as: Int64.self)
            case .u64: b.storeBytes(of: UInt64(truncatingIfNeeded: value), toByteOffset: o, as: UInt64.self)
            default: break
            }
        }
        if f.dtype != .i64 && f.dtype != .u64 { set(field, Double(value), at: i) }
    }

    /// Sets every element of field `field` from `values` (row-major).
    public mutating func set(_ field: Int, _ values: [Double]) {
        for (i, v) in values.prefix(schema.fields[field].count).enumerated() { set(field, v, at: i) }
    }

    /// Sets every element of an f32 field from `values`; other dtypes are converted.
    public mutating func set(_ field: Int, floats values: UnsafeBufferPointer<Float>) {
        let f = schema.fields[field]
        if f.dtype == .f32 {
            let n = min(values.count, f.count)
            bytes.withUnsafeMutableBytes { b in
                (b.baseAddress! + f.offset).copyMemory(from: values.baseAddress!, byteCount: n * 4)
            }
        } else {
            for (i, v) in values.prefix(f.count).enumerated() { set(field, Double(v), at: i) }
        }
    }

    /// Sets a string field (truncated to its width at a character boundary).
    public mutating func set(_ field: Int, string: String) {
        let f = schema.fields[field]
        var utf8: [UInt8] = []
        for scalar in string.unicodeScalars {
            let b = Array(String(scalar).utf8)
            if utf8.count + b.count > f.width { break }
            utf8 += b
        }
        for i in 0..<f.width { bytes[f.offset + i] = i < utf8.count ? utf8[i] : 0 }
    }
}

/// Fields set by name (`name` must be a field of the builder's schema), so that code filling
/// a record does not depend on the fields' order. Each call looks the name up; loops over
/// many records take `schema.slots` once instead.
extension RecordBuilder {
    @inline(__always) func slot(_ name: String) -> Int {
        guard let i = schema.index(of: name) else { preconditionFailure("RecordBuilder: no field '\(name)' in the schema") }
        return i
    }
    public mutating func set(_ name: String, _ value: Double) { set(slot(name), value) }
    public mutating func set(_ name: String, int value: Int) { set(slot(name), int: value) }
    public mutating func set(_ name: String, _ values: [Double]) { set(slot(name), values) }
    public mutating func set(_ name: String, floats values: UnsafeBufferPointer<Float>) { set(slot(name), floats: values) }
}
