/// The element types a stream field may have. Binary records store them little-endian.
import DKLCore

public enum DType: String, CaseIterable, Sendable {
    case f32, f64, i8, i16, i32, i64, u8, u16, u32, u64
    /// Fixed-width UTF-8 text, NUL-padded to the field's `width` bytes (numpy `S<width>`).
    case string

    /// Bytes per element (for `string`, per byte of width).
    public var size: Int {
        switch self {
        case .i8, .u8, .string: return 1
        case .i16, .u16: return 2
        case .f32, .i32, .u32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    public var isFloat: Bool { self == .f32 || self == .f64 }
    public var isInteger: Bool { !isFloat && self != .string }

    /// The numpy dtype string of one element (`string` needs the width: `S<width>`).
    public var numpy: String {
        switch self {
        case .f32: return "<f4"
        case .f64: return "<f8"
        case .i8: return "i1"
        case .i16: return "<i2"
        case .i32: return "<i4"
        case .i64: return "<i8"
        case .u8: return "u1"
        case .u16: return "<u2"
        case .u32: return "<u4"
        case .u64: return "<u8"
        case .string: return "S"
        }
    }

    /// The inclusive range of an integer type, as Doubles (for checking values read from text).
    var integerRange: ClosedRange<Double> {
        switch self {
        case .i8: return -128...127
        case .i16: return -32768...32767
        case .i32: return -2147483648...2147483647
        case .i64: return -9223372036854775808...9223372036854774784
        case .u8: return 0...255
        case .u16: return 0...65535
        case .u32: return 0...4294967295
        case .u64: return 0...18446744073709549568
        default: return -Double.infinity...Double.infinity
        }
    }
}
