import Foundation
import DKLCore

/// A Gatan DigitalMicrograph file, DM3 or DM4, memory-mapped: its tag tree read whole
/// (every size checked against the file before use), its images as arrays whose values
/// are read from the mapping when asked.
///
/// The format: a header (version 3 or 4, the file's size, the byte order of the values),
/// then a tree of tag groups. A group holds tags, each a group or a value described by a
/// list of type codes (a number, a UTF-16 string, a struct of numbers, an array of numbers
/// or structs). Structure is big-endian; values are in the header's byte order. DM4 widens
/// the counts to 64 bits and gives every tag its size. The images are the groups of
/// `ImageList` (the first is the file's thumbnail), each with `ImageData` (`Data`,
/// `DataType`, `Dimensions` fastest first, `Calibrations`) and `ImageTags`.
public final class DMFile {
    public let path: String
    /// 3 or 4.
    public let version: Int
    /// The tag tree as JSON (large arrays summarized as {"array": type, "count": n}).
    public let tags: JSON
    /// The file's images, thumbnail excluded.
    public let images: [DMImage]

    public init(path: String) throws {
        self.path = path
        let mapping = try FileMapping(path: path, minimum: 16, what: "a DigitalMicrograph file")
        do {
            var parser = DMParser(bytes: mapping.bytes)
            version = try parser.header()
            let root = try parser.group(depth: 0)
            tags = root.json
            images = try DMFile.images(in: root, file: path, mapping: mapping, parser: parser)
        } catch let e as DKLError {
            throw e.located(file: path)
        }
    }

    /// Whether the file starts as a DM3 or DM4 file does (version 3 or 4, big-endian).
    public static func sniff(_ head: [UInt8]) -> Bool {
        guard head.count >= 4 else { return false }
        return head[0] == 0 && head[1] == 0 && head[2] == 0 && (head[3] == 3 || head[3] == 4)
    }

    /// The image chosen by `selector`: an index among the images (0 is the first after the
    /// thumbnail), or a name; without one, the file's only image.
    public func image(_ selector: String?) throws -> DMImage {
        guard !images.isEmpty else { throw DKLError.data("the file holds no image", file: path) }
        guard let selector else {
            if images.count == 1 { return images[0] }
            throw DKLError.data("the file holds \(images.count) images; name one as FILE:INDEX or FILE:NAME (\(listing()))", file: path)
        }
        if let k = Int(selector) {
            guard images.indices.contains(k) else { throw DKLError.data("no image \(k): \(listing())", file: path) }
            return images[k]
        }
        let named = images.filter { $0.title == selector }
        guard named.count == 1 else {
            throw DKLError.data(named.isEmpty ? "no image named '\(selector)': \(listing())" : "\(named.count) images are named '\(selector)'", file: path)
        }
        return named[0]
    }

    func listing() -> String {
        images.enumerated().map { "\($0): '\($1.title)' \($1.shape.map(String.init).joined(separator: "×"))" }.joined(separator: ", ")
    }

    static func images(in root: DMTag, file: String, mapping: FileMapping, parser: DMParser) throws -> [DMImage] {
        guard case .group(let list)? = root["ImageList"] else { return [] }
        let all = list.map(\.1)
        // The first image of a file with several is the thumbnail DigitalMicrograph draws.
        let kept = all.count > 1 ? Array(all.dropFirst()) : all
        return try kept.enumerated().map { k, tag in
            try locating(file: file) {
                try DMImage(tag: tag, index: k, file: file, mapping: mapping, littleEndian: parser.littleEndian, version: parser.version)
            }
        }
    }
}

/// One image of a DM file, as an array in the toolkit's order: a spectrum (E), an image
/// (H, W), a spectrum image (H, W, E), a stack (K, H, W) or 4-D data (H, W, KY, KX); its
/// calibrations in `axes` and `attributes`.
public final class DMImage: ArraySource {
    public let name: String
    public let title: String
    public private(set) var shape: [Int]
    public let attributes: JSON
    /// Per dimension of `shape`: name, size, scale, offset (the value of index 0), units.
    public let axes: [DMAxis]
    /// "values", "image", "spectrum image", "stack" or "4-D".
    public let kind: String
    /// The values, in the mapped file.
    let array: MappedArray

    init(tag: DMTag, index: Int, file: String, mapping: FileMapping, littleEndian: Bool, version: Int) throws {
        guard case .array(let ref)? = tag["ImageData"]?["Data"] else { throw DKLError.data("image \(index) has no ImageData.Data array") }
        guard let typeCode = tag["ImageData"]?["DataType"]?.number, let dims = tag["ImageData"]?["Dimensions"]?.list?.map({ $0.number }) else {
            throw DKLError.data("image \(index) has no DataType or Dimensions")
        }
        let dataType = typeCode.isFinite ? Int(max(min(typeCode, 1e9), -1e9)) : -1
        // How a pixel is stored: a number of Data's type, a complex pair (read as its
        // modulus), or four bytes B, G, R, A (read as three channels R, G, B).
        let pixel: DMPixel
        switch dataType {
        case 3: pixel = .complex(.float32)
        case 13: pixel = .complex(.float64)
        case 5, 27, 28: throw DKLError.data("image \(index) holds packed complex values (an FFT in DigitalMicrograph's packed layout), which the toolkit does not read (convert it to a complex image)")
        case 8, 23: pixel = .rgb
        default: pixel = .number(ref.type)
        }
        var sizes: [Int] = []
        for d in dims {
            guard let d, d >= 1, d <= 1e12, d == d.rounded() else { throw DKLError.data("image \(index) has a damaged dimension list") }
            sizes.append(Int(d))
        }
        guard (1...4).contains(sizes.count) else { throw DKLError.data("image \(index) has \(sizes.count) dimensions (1 to 4 are read)") }
        if case .rgb = pixel, sizes.count != 2 { throw DKLError.data("image \(index) is an RGB array of \(sizes.count) dimensions (RGB images of 2 are read)") }
        let declared = try ArrayShape.validate(sizes, elementBytes: pixel.bytes, file: file)
        guard declared.bytes == ref.count * ref.type.size else {
            throw DKLError.data("image \(index): dimensions \(sizes) of \(pixel.bytes)-byte pixels do not fill the \(ref.count * ref.type.size) bytes stored")
        }
        title = tag["Name"]?.text ?? ""
        name = "\(file):\(index)"
        // The calibrations, fastest dimension first as the dimensions are.
        let cal = tag["ImageData"]?["Calibrations"]?["Dimension"]?.list ?? []
        var raw: [DMAxis] = sizes.enumerated().map { d, n in
            let c = d < cal.count ? cal[d] : nil
            let scale = c?["Scale"]?.number ?? 1, origin = c?["Origin"]?.number ?? 0
            return DMAxis(name: "", size: n, scale: scale.isFinite && scale != 0 ? scale : 1,
                          offset: origin.isFinite && scale.isFinite ? -origin * scale : 0, units: c?["Units"]?.text ?? "")
        }
        // A spectrum image is stored as energy planes (x fastest, then y, then E): it is
        // read as (y, x, E). Other data is read in the reverse of the stored order.
        let format = tag["ImageTags"]?["Meta Data"]?["Format"]?.text?.lowercased() ?? ""
        let signal = tag["ImageTags"]?["Meta Data"]?["Signal"]?.text?.lowercased() ?? ""
        let spectrumImage = sizes.count == 3 && (format.contains("spectrum image") || ["eels", "eds", "cl"].contains(signal) || raw[2].units == "eV")
        var byteStrides = [pixel.bytes]
        for n in sizes.dropLast() { byteStrides.append(byteStrides.last! * n) }
        let order = spectrumImage ? [1, 0, 2] : Array((0..<sizes.count).reversed())
        shape = order.map { sizes[$0] }
        let names = sizes.count == 1 ? ["E"] : sizes.count == 2 ? ["y", "x"] : spectrumImage ? ["y", "x", "E"] : sizes.count == 3 ? ["frame", "y", "x"] : ["y", "x", "ky", "kx"]
        for (k, d) in order.enumerated() { raw[d].name = names[k] }
        axes = order.map { raw[$0] }
        kind = pixel == .rgb ? "RGB image" : ArraySignal.kind(rank: sizes.count, spectrumImage: spectrumImage)
        var attrs: [(String, JSON)] = [
            ("format", .string("DigitalMicrograph DM\(version)")), ("title", .string(title)),
            ("axes", .array(axes.map(\.json))),
        ]
        if let energy = axes.last, EnergyUnits.isEnergy(energy.units), sizes.count != 2, !(sizes.count == 3 && !spectrumImage) {
            attrs += [("energy_start", .number(energy.offset)), ("energy_step", .number(energy.scale)), ("energy_unit", .string(energy.units))]
        }
        if sizes.count >= 2, let x = axes.first(where: { $0.name == "x" }), !x.units.isEmpty {
            attrs += [("pixel_size", .number(x.scale)), ("pixel_unit", .string(x.units))]
        }
        switch pixel {
        case .complex: attrs.append(("complex", "modulus"))
        case .rgb: attrs.append(("channels", JSON(["R", "G", "B"])))
        case .number: break
        }
        if let meta = tag["ImageTags"]?.json { attrs.append(("tags", meta)) }
        attributes = .object(attrs)
        var strides = order.map { byteStrides[$0] }
        switch pixel {
        case let .number(type):
            array = try MappedArray(name: name, mapping: mapping, offset: ref.offset, type: type, littleEndian: littleEndian,
                                    shape: shape, strides: strides, attributes: attributes)
        case let .complex(part):
            array = try MappedArray(name: name, mapping: mapping, offset: ref.offset, type: part, littleEndian: littleEndian,
                                    shape: shape, strides: strides, attributes: attributes, complexModulus: true)
        case .rgb:
            // (y, x, channel): R is the pixel's third byte, G its second, B its first.
            shape.append(3)
            strides.append(-1)
            array = try MappedArray(name: name, mapping: mapping, offset: ref.offset + 2, type: .uint8, littleEndian: littleEndian,
                                    shape: shape, strides: strides, attributes: attributes)
        }
    }

    public func readBlock(start: [Int], count: [Int]) throws -> [Double] { try array.readBlock(start: start, count: count) }
    public func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] { try array.readBlockFloats(start: start, count: count) }
}

/// How a DigitalMicrograph image stores a pixel.
enum DMPixel: Equatable {
    case number(ElementType)
    /// Real and imaginary parts of this type.
    case complex(ElementType)
    /// Four bytes: blue, green, red, alpha.
    case rgb

    var bytes: Int {
        switch self {
        case let .number(t): return t.size
        case let .complex(t): return 2 * t.size
        case .rgb: return 4
        }
    }
}

/// The units of a spectral axis (an energy loss or an X-ray energy, a bias sweep).
public enum EnergyUnits {
    public static let all = ["eV", "keV", "meV", "V", "mV"]
    public static func isEnergy(_ units: String) -> Bool { all.contains(units) }
}

/// One calibrated dimension: value(i) = offset + scale · i, in `units`.
public struct DMAxis: Sendable, Equatable {
    public var name: String
    public var size: Int
    public var scale: Double
    public var offset: Double
    public var units: String
    public var json: JSON { ["name": .string(name), "size": .number(Double(size)), "scale": .number(scale), "offset": .number(offset), "units": .string(units)] }
}

/// A node of the tag tree.
indirect enum DMTag {
    /// Tags in file order; unnamed ones (list entries) have the name "".
    case group([(String, DMTag)])
    case number(Double)
    case string(String)
    /// Numbers or structs of numbers; `values` holds the first (at most) 4,096 numbers.
    case array(DMParser.ArrayRef)
    case structure([Double])

    subscript(_ name: String) -> DMTag? {
        guard case .group(let tags) = self else { return nil }
        return tags.first { $0.0 == name }?.1
    }

    var number: Double? { if case .number(let v) = self { return v }; return nil }
    var list: [DMTag]? { if case .group(let tags) = self { return tags.map(\.1) }; return nil }
    /// A string, or an array of UTF-16 code units (as DigitalMicrograph stores names).
    var text: String? {
        switch self {
        case .string(let s): return s
        case .array(let a) where a.type == .uint16 && a.count <= 4096: return String(decoding: a.values.map { UInt16(clamping: Int(exactly: $0) ?? 0) }, as: UTF16.self)
        default: return nil
        }
    }
    var json: JSON {
        switch self {
        case .group(let tags):
            if !tags.isEmpty && tags.allSatisfy({ $0.0.isEmpty }) { return .array(tags.map { $0.1.json }) }
            return .object(tags.enumerated().map { k, t in (t.0.isEmpty ? "#\(k)" : t.0, t.1.json) })
        case .number(let v): return .number(v)
        case .string(let s): return .string(s)
        case .array(let a):
            if let t = text, a.count <= 256 { return .string(t) }
            if a.count <= 64 && a.fields == 1 { return .array(a.values.map { .number($0) }) }
            return ["array": .string(a.type.name), "count": .number(Double(a.count))]
        case .structure(let v): return .array(v.map { .number($0) })
        }
    }
}

/// Reads the header and the tag tree from the mapped bytes, checking every count and size
/// against what is left of the file.
struct DMParser {
    /// DigitalMicrograph's codes of the number types.
    static func simple(_ code: UInt64) -> ElementType? {
        switch code {
        case 2: return .int16
        case 3: return .int32
        case 4: return .uint16
        case 5: return .uint32
        case 6: return .float32
        case 7: return .float64
        case 8: return .bool
        case 9: return .int8
        case 10: return .uint8
        case 11: return .int64
        case 12: return .uint64
        default: return nil
        }
    }

    /// An array in the file: `count` elements of `fields` numbers of `type` at `offset`.
    struct ArrayRef {
        let offset: Int
        let count: Int
        let fields: Int
        let type: ElementType
        /// The first numbers (at most 4,096), for small arrays read as metadata.
        let values: [Double]
    }

    let bytes: UnsafeRawBufferPointer
    var pos = 0
    var version = 3
    var littleEndian = true
    var tagCount = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var left: Int { bytes.count - pos }

    mutating func need(_ n: Int, _ what: String) throws {
        guard n >= 0, n <= left else { throw DKLError.data("truncated or damaged: \(what) at byte \(pos) needs \(n) bytes, \(left) are left") }
    }

    /// A big-endian unsigned integer of `width` bytes.
    mutating func be(_ width: Int, _ what: String) throws -> UInt64 {
        try need(width, what)
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[pos + i]) }
        pos += width
        return v
    }

    /// A count (DM3: 32 bits, DM4: 64), at most `limit`.
    mutating func count(_ what: String, limit: Int) throws -> Int {
        let v = try be(version == 4 ? 8 : 4, what)
        guard v <= UInt64(limit) else { throw DKLError.data("damaged: \(what) of \(v) at byte \(pos) (at most \(limit) fit in the file)") }
        return Int(v)
    }

    mutating func header() throws -> Int {
        let v = try be(4, "the version")
        guard v == 3 || v == 4 else { throw DKLError.data("not a DigitalMicrograph file (version \(v), expected 3 or 4)") }
        version = Int(v)
        _ = try be(version == 4 ? 8 : 4, "the file size")
        let order = try be(4, "the byte order")
        guard order <= 1 else { throw DKLError.data("damaged: byte order \(order) (expected 0 or 1)") }
        littleEndian = order == 1
        return version
    }

    /// A tag group: sorted and open flags, then its tags.
    mutating func group(depth: Int) throws -> DMTag {
        guard depth < 64 else { throw DKLError.data("damaged: tag groups nested more than 64 deep at byte \(pos)") }
        _ = try be(2, "a tag group's flags")
        let n = try count("a tag group's number of tags", limit: left / 3)
        var tags: [(String, DMTag)] = []
        for _ in 0..<n {
            tagCount += 1
            guard tagCount <= 10_000_000 else { throw DKLError.data("damaged: more than 10,000,000 tags") }
            let kind = try be(1, "a tag's kind")
            let nameLength = Int(try be(2, "a tag's name length"))
            try need(nameLength, "a tag's name")
            // Tag names are Latin-1 ("Emission Current (µA)").
            let name = String(String.UnicodeScalarView(bytes[pos..<(pos + nameLength)].map { Unicode.Scalar($0) }))
            pos += nameLength
            if version == 4 { _ = try be(8, "a tag's size") }
            switch kind {
            case 20: tags.append((name, try group(depth: depth + 1)))
            case 21: tags.append((name, try value()))
            default: throw DKLError.data("damaged: a tag of kind \(kind) at byte \(pos - nameLength - 3) (expected 20 or 21)")
            }
        }
        return .group(tags)
    }

    /// A value tag: "%%%%", its type codes, its data.
    mutating func value() throws -> DMTag {
        try need(4, "a value tag's mark")
        guard bytes[pos] == 0x25, bytes[pos + 1] == 0x25, bytes[pos + 2] == 0x25, bytes[pos + 3] == 0x25 else {
            throw DKLError.data("damaged: a value tag at byte \(pos) without its '%%%%' mark")
        }
        pos += 4
        let n = try count("a value's number of type codes", limit: min(left / 4, 1 << 16))
        var info: [UInt64] = []
        for _ in 0..<n { info.append(try be(version == 4 ? 8 : 4, "a type code")) }
        guard let first = info.first else { throw DKLError.data("damaged: a value without a type at byte \(pos)") }
        func simple(_ code: UInt64) throws -> ElementType {
            guard let s = DMParser.simple(code) else { throw DKLError.data("damaged: unknown value type \(code) at byte \(pos)") }
            return s
        }
        switch first {
        case 18:   // a string of UTF-16 units
            guard info.count == 2, info[1] <= UInt64(left / 2) else { throw DKLError.data("damaged: a string tag at byte \(pos)") }
            let units = try (0..<Int(info[1])).map { _ in UInt16(try number(.uint16)) }
            return .string(String(decoding: units, as: UTF16.self))
        case 15:   // a struct: name length, field count, then (name length, type) per field
            guard info.count >= 3, info[2] <= 1 << 12, info.count == 3 + 2 * Int(info[2]) else { throw DKLError.data("damaged: a struct tag at byte \(pos)") }
            let types = try (0..<Int(info[2])).map { try simple(info[4 + 2 * $0]) }
            return .structure(try types.map { try number($0) })
        case 20:   // an array of numbers, or of structs
            guard info.count >= 3 else { throw DKLError.data("damaged: an array tag at byte \(pos)") }
            var types: [ElementType]
            if info[1] == 15 {
                guard info.count >= 5, info[3] <= 1 << 12, info.count == 5 + 2 * Int(info[3]) else { throw DKLError.data("damaged: an array of structs at byte \(pos)") }
                types = try (0..<Int(info[3])).map { try simple(info[5 + 2 * $0]) }
            } else {
                guard info.count == 3 else { throw DKLError.data("damaged: an array tag at byte \(pos)") }
                types = [try simple(info[1])]
            }
            guard !types.isEmpty else { throw DKLError.data("damaged: an array of empty structs at byte \(pos)") }
            let elementBytes = types.map(\.size).reduce(0, +)
            let count = info.last!
            guard count <= UInt64(left / elementBytes) else {
                throw DKLError.data("truncated or damaged: an array of \(count) values at byte \(pos) needs \(count) × \(elementBytes) bytes, \(left) are left")
            }
            let start = pos
            let uniform = Set(types).count == 1
            var values: [Double] = []
            if uniform {
                let shown = min(Int(count) * types.count, 4096)
                for _ in 0..<shown { values.append(try number(types[0])) }
            }
            pos = start + Int(count) * elementBytes
            return .array(ArrayRef(offset: start, count: Int(count) * types.count, fields: types.count, type: uniform ? types[0] : .uint8, values: values))
        default:
            guard info.count == 1 else { throw DKLError.data("damaged: a number tag with \(info.count) type codes at byte \(pos)") }
            return .number(try number(try simple(first)))
        }
    }

    /// One number of `type`, in the values' byte order.
    mutating func number(_ type: ElementType) throws -> Double {
        try need(type.size, "a value")
        let p = bytes.baseAddress! + pos
        pos += type.size
        return type.decode(p, littleEndian: littleEndian)
    }
}
