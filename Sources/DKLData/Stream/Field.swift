/// One named field of a stream record: its element type, its shape (empty for a
/// scalar) and its place in the packed binary record.
import DKLCore

public struct Field: Equatable, Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Byte width of a `string` field (ignored for numbers).
    public var width: Int
    /// False when the field must never hold NaN (checked by readers of NDJSON and by `--check`).
    public var allowsNaN: Bool
    /// Byte offset in the binary record (set by `Schema`).
    public internal(set) var offset: Int = 0

    public init(_ name: String, _ dtype: DType, shape: [Int] = [], width: Int = 0, allowsNaN: Bool = true) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.width = dtype == .string ? width : 0
        self.allowsNaN = allowsNaN
    }

    /// Number of elements (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    /// Bytes in a binary record.
    public var byteSize: Int { dtype == .string ? width * count : dtype.size * count }

    /// The field as it is written in a header: `{"name":"patch","dtype":"f32","shape":[16,16]}`.
    public var json: JSON {
        var o: JSON = ["name": .string(name), "dtype": .string(dtype.rawValue), "shape": JSON(shape)]
        if dtype == .string { o.set("width", .number(Double(width))) }
        if !allowsNaN { o.set("nan", false) }
        return o
    }

    /// A human-readable declaration: `patch f32[16,16]`, `label string(32)`.
    public var declaration: String {
        let dims = shape.isEmpty ? "" : "[" + shape.map(String.init).joined(separator: ",") + "]"
        let type = dtype == .string ? "string(\(width))" : dtype.rawValue
        return "\(name) \(type)\(dims)"
    }
}
