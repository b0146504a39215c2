import Foundation
import DKLCore

/// The instrument protocol (dkl-instrument(7)): the toolkit writes one JSON request per
/// line on the instrument program's standard input and reads one JSON response per line on
/// its standard output; a measurement's values come in the response (`values`) or as a
/// binary payload of `bytes` bytes right after its line (`dtype`, little-endian, C order).
///
///     → {"op":"hello","protocol":1}           ← {"ok":true,"protocol":1,"name":"…","shape":[E],"attrs":{"energy_start":…}}
///     → {"op":"measure","y":3,"x":7}          ← {"ok":true,"shape":[E],"values":[…],"y":3,"x":7,"meta":{…}}
///                                             ← {"ok":true,"shape":[ky,kx],"dtype":"f4","bytes":N} + N bytes
///     → {"op":"image"}                        ← an image, as a measurement
///     → {"op":"bye"}                          ← {"ok":true}, then the program exits
///     any request                             ← {"ok":false,"error":"…"}
public enum InstrumentProtocol {
    public static let version = 1

    /// The element types of a binary payload.
    public static let dtypes: [String: ElementSize] = ["f4": .init(4, float: true), "f8": .init(8, float: true), "u1": .init(1), "u2": .init(2),
                                                       "u4": .init(4), "i1": .init(1, signed: true), "i2": .init(2, signed: true), "i4": .init(4, signed: true)]

    public struct ElementSize: Sendable {
        public let bytes: Int, float: Bool, signed: Bool
        init(_ bytes: Int, float: Bool = false, signed: Bool = false) { self.bytes = bytes; self.float = float; self.signed = signed }
    }

    /// A response: whether it succeeded, its error, and a measurement's shape, values and metadata.
    public struct Response: Sendable {
        public var ok: Bool
        public var error: String?
        public var shape: [Int]?
        public var values: [Double]?
        /// How many payload bytes follow the line, and their type.
        public var payload: (bytes: Int, dtype: String)?
        public var json: JSON
    }

    /// The attributes a hello may carry for the measurements' calibration (their energy
    /// axis, the detector's axes), from an array's attributes.
    public static func calibration(_ attributes: JSON) -> JSON {
        let keys = ["energy_start", "energy_step", "energy_unit", "energy_values", "energy_start_eV", "energy_step_eV", "axes"]
        guard case let .object(members) = attributes else { return .object([]) }
        return .object(members.filter { keys.contains($0.0) })
    }

    /// Parses a response line (the payload, if any, is read after it by the caller).
    public static func parse(_ line: String) throws -> Response {
        let j: JSON
        do { j = try JSONParser.parse(line) } catch { throw DKLError.data("the response is not JSON: '\(DKLError.oneLine(String(line.prefix(80))))'") }
        guard case .object = j, let ok = j["ok"], case let .bool(success) = ok else {
            throw DKLError.data("the response has no \"ok\": '\(DKLError.oneLine(String(line.prefix(80))))'")
        }
        var r = Response(ok: success, error: j["error"]?.stringValue, json: j)
        if let s = j["shape"]?.arrayValue {
            let dims = s.compactMap { $0.intValue }
            guard dims.count == s.count, dims.allSatisfy({ $0 >= 1 }), dims.count <= 4 else { throw DKLError.data("the response's shape \(s.map { $0.text }) is not a list of sizes") }
            r.shape = dims
        }
        if let v = j["values"]?.arrayValue {
            let d = v.map { $0.doubleValue ?? .nan }
            r.values = d
        }
        if let b = j["bytes"] {
            guard let n = b.intValue, n >= 0, n <= 1 << 30 else { throw DKLError.data("the response's \"bytes\" is not a size up to 1 GiB") }
            let dtype = j["dtype"]?.stringValue ?? "f8"
            guard let size = dtypes[dtype] else { throw DKLError.data("the response's dtype '\(dtype)' is not one of \(dtypes.keys.sorted().joined(separator: ", "))") }
            if let shape = r.shape, shape.reduce(1, *) * size.bytes != n {
                throw DKLError.data("the response's \(n) bytes do not hold its shape \(shape) of \(dtype)")
            }
            r.payload = (n, dtype)
        }
        return r
    }

    /// The values of a payload of `dtype`.
    public static func decode(_ bytes: [UInt8], dtype: String) -> [Double] {
        guard let size = dtypes[dtype] else { return [] }
        return bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / size.bytes)).map { k -> Double in
                let p = raw.baseAddress! + k * size.bytes
                switch (size.bytes, size.float, size.signed) {
                case (4, true, _): return Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
                case (8, true, _): return Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
                case (1, _, false): return Double(p.load(as: UInt8.self))
                case (1, _, true): return Double(p.load(as: Int8.self))
                case (2, _, false): return Double(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
                case (2, _, true): return Double(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
                case (4, _, false): return Double(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
                default: return Double(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
                }
            }
        }
    }
}
