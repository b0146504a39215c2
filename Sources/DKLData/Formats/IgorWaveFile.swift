import Foundation
import DKLCore

/// An Igor Pro binary wave (`.ibw`, version 5), as Asylum Research AFMs save their scans:
/// one numeric wave of up to four dimensions, with each dimension's scale, offset, unit
/// and labels, and a note of `Key: value` lines (the instrument's settings).
///
/// The format: a 64-byte header (the version, a checksum that makes the 16-bit words of the
/// two headers sum to zero, the sizes of the sections after the data), a 320-byte wave
/// header (point count, number type, dimensions, scales, short units), the data in Igor's
/// column-major order (the first dimension fastest), then the formula, the note, the long
/// units and the dimension labels. The byte order is the writer's: the version number
/// tells it.
///
/// Signals: when the last dimension is labelled element by element (Asylum's channels:
/// `HeightRetrace`, `Amplitude1Retrace`, …), each of its elements is a signal, chosen as
/// `FILE:NAME` or `FILE:INDEX`: an image of a scan is (row, column) = (Igor's q, p), one
/// scan line per row, the first line first. An unlabelled wave is one signal: values (p),
/// an image (q, p), or a spectrum image (q, p, r) whose last dimension is the spectral axis.
public final class IgorWave {
    public let path: String
    /// The wave's name, as Igor knew it.
    public let waveName: String
    public let note: String
    let mapping: FileMapping
    let littleEndian: Bool
    let type: ElementType
    let dataOffset: Int
    /// Sizes, scales (value per index), offsets (the value of index 0) and units, Igor's
    /// dimensions in Igor's order.
    let dims: [Int], scales: [Double], offsets: [Double], units: [String]
    let dataUnits: String
    /// Each dimension's labels: its own, then one per element (empty when unlabelled).
    let labels: [[String]]

    static let headerBytes = 64 + 320

    /// Whether `head` (at least 2 bytes) starts as a version-5 binary wave, in either byte
    /// order; `IgorWave.init` then checks the headers' checksum.
    static func sniff(_ head: [UInt8]) -> Bool {
        head.count >= 2 && ((head[0] == 5 && head[1] == 0) || (head[0] == 0 && head[1] == 5))
    }

    public init(path: String) throws {
        self.path = path
        mapping = try FileMapping(path: path, minimum: IgorWave.headerBytes, what: "an Igor binary wave")
        let b = mapping.bytes
        littleEndian = b[0] != 0
        let le = littleEndian
        func i16(_ at: Int) -> Int { Int(Int16(truncatingIfNeeded: Int(ElementType.int16.decode(b.baseAddress! + at, littleEndian: le)))) }
        func i32(_ at: Int) -> Int { Int(ElementType.int32.decode(b.baseAddress! + at, littleEndian: le)) }
        func f64(_ at: Int) -> Double { ElementType.float64.decode(b.baseAddress! + at, littleEndian: le) }
        func text(_ range: Range<Int>) -> String {
            let bytes = Array(b[range].prefix { $0 != 0 })
            // Asylum writes its notes in Windows-1252 ('°C'): Latin-1 when not UTF-8.
            return String(bytes: bytes, encoding: .utf8) ?? String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
        let version = i16(0)
        guard version == 5 else {
            throw DKLError.data(version >= 1 && version <= 3 ? "an Igor binary wave of version \(version); only version 5 (Igor Pro 3 and later) is read" : "not an Igor binary wave (version \(version))", file: path)
        }
        var sum = 0
        for k in stride(from: 0, to: IgorWave.headerBytes, by: 2) { sum &+= i16(k) }
        guard sum & 0xFFFF == 0 else { throw DKLError.data("damaged: the Igor wave headers' checksum does not add up", file: path) }
        let waveBytes = i32(4), formulaSize = i32(8), noteSize = i32(12), dataEUnitsSize = i32(16)
        let dimEUnitsSizes = (0..<4).map { i32(20 + 4 * $0) }, dimLabelsSizes = (0..<4).map { i32(36 + 4 * $0) }
        let w = 64
        let npnts = i32(w + 12), typeCode = i16(w + 16)
        waveName = text((w + 28)..<(w + 60))
        let nDim = (0..<4).map { i32(w + 68 + 4 * $0) }
        let sfA = (0..<4).map { f64(w + 84 + 8 * $0) }, sfB = (0..<4).map { f64(w + 116 + 8 * $0) }
        var shortUnits = (0..<4).map { text((w + 152 + 4 * $0)..<(w + 156 + 4 * $0)) }
        var dataUnits = text((w + 148)..<(w + 152))
        guard typeCode & 1 == 0 else { throw DKLError.data("the wave holds complex values, which the toolkit does not read (save the modulus or the parts)", file: path) }
        let unsigned = typeCode & 0x40 != 0
        switch typeCode & ~0x40 {
        case 2 where !unsigned: type = .float32
        case 4 where !unsigned: type = .float64
        case 8: type = unsigned ? .uint8 : .int8
        case 0x10: type = unsigned ? .uint16 : .int16
        case 0x20: type = unsigned ? .uint32 : .int32
        case 0x80: type = unsigned ? .uint64 : .int64
        case 0: throw DKLError.data("the wave holds text, not numbers", file: path)
        default: throw DKLError.data("damaged: unknown Igor number type \(typeCode)", file: path)
        }
        // Dimensions up to the first of size 0; their product is the point count.
        let rank = nDim.firstIndex(of: 0) ?? 4
        guard rank >= 1, nDim.allSatisfy({ $0 >= 0 }), nDim[rank...].allSatisfy({ $0 == 0 }) else {
            throw DKLError.data("damaged: the wave's dimensions are \(nDim)", file: path)
        }
        guard rank <= 3 else { throw DKLError.data("a 4-D wave (\(nDim.map(String.init).joined(separator: "×"))); waves of 1 to 3 dimensions are read", file: path) }
        let declared = try ArrayShape.validate(Array(nDim[..<rank]), elementBytes: type.size, file: path)
        guard declared.count == npnts else { throw DKLError.data("damaged: the wave's dimensions \(Array(nDim[..<rank])) do not hold its \(npnts) points", file: path) }
        guard waveBytes >= 320 + declared.bytes, waveBytes <= b.count - 64 else {
            throw DKLError.data("truncated or damaged: the wave's \(npnts) \(type.name) values need \(declared.bytes) bytes after its headers; the file holds \(b.count - IgorWave.headerBytes)", file: path)
        }
        dataOffset = IgorWave.headerBytes
        // The sections after the data, each checked against the file before it is read.
        var at = 64 + waveBytes
        func section(_ size: Int, _ what: String) throws -> Range<Int> {
            guard size >= 0, size <= b.count - at else { throw DKLError.data("truncated or damaged: the wave's \(what) (\(size) bytes at byte \(at)) runs past the end", file: path) }
            defer { at += size }
            return at..<(at + size)
        }
        _ = try section(formulaSize, "formula")
        let noteRange = try section(noteSize, "note")
        let noteBytes = Array(b[noteRange])
        note = String(bytes: noteBytes, encoding: .utf8) ?? String(String.UnicodeScalarView(noteBytes.map { Unicode.Scalar($0) }))
        let long = try section(dataEUnitsSize, "data units")
        if !long.isEmpty { dataUnits = text(long) }
        for d in 0..<4 {
            let r = try section(dimEUnitsSizes[d], "units of dimension \(d)")
            if !r.isEmpty { shortUnits[d] = text(r) }
        }
        var labels: [[String]] = []
        for d in 0..<4 {
            let r = try section(dimLabelsSizes[d], "labels of dimension \(d)")
            guard d < rank, !r.isEmpty else { labels.append([]); continue }
            // Labels are fixed-width (32 bytes, 256 since Igor Pro 8), one for the dimension then one per element.
            let entries = nDim[d] + 1
            guard r.count % entries == 0, [32, 256].contains(r.count / entries) else {
                throw DKLError.data("damaged: \(r.count) bytes of labels for dimension \(d) of \(nDim[d]) elements", file: path)
            }
            let width = r.count / entries
            labels.append((0..<entries).map { text((r.lowerBound + $0 * width)..<(r.lowerBound + ($0 + 1) * width)) })
        }
        self.labels = labels
        dims = Array(nDim[..<rank])
        scales = Array(sfA[..<rank]).map { $0.isFinite && $0 != 0 ? $0 : 1 }
        offsets = Array(sfB[..<rank]).map { $0.isFinite ? $0 : 0 }
        units = Array(shortUnits[..<rank])
        self.dataUnits = dataUnits
    }

    /// The channels: the element labels of the last dimension, when it has them.
    public var channels: [String] {
        guard dims.count >= 2 else { return [] }
        let last = labels[dims.count - 1]
        guard last.count == dims[dims.count - 1] + 1, last.dropFirst().contains(where: { !$0.isEmpty }) else { return [] }
        return last.dropFirst().enumerated().map { $1.isEmpty ? "channel \($0)" : $1 }
    }

    func listing() -> String { channels.enumerated().map { "\($0): \($1)" }.joined(separator: ", ") }

    /// The signal chosen by `selector`: a channel by name or index, or the whole wave.
    public func signal(_ selector: String?) throws -> ArraySource {
        let names = channels
        if names.isEmpty {
            if let selector { throw DKLError.data("the wave '\(waveName)' has no channels; remove ':\(selector)'", file: path) }
            return try open(channel: nil)
        }
        guard let selector else {
            if names.count == 1 { return try open(channel: 0) }
            throw DKLError.data("the wave holds \(names.count) channels; name one as FILE:NAME (\(listing()))", file: path)
        }
        guard let k = Int(selector).flatMap({ names.indices.contains($0) ? $0 : nil }) ?? names.firstIndex(of: selector) else {
            throw DKLError.data("no channel '\(selector)' (\(listing()))", file: path)
        }
        return try open(channel: k)
    }

    /// The Key: value lines of the note, as JSON (numbers where they are numbers).
    public var noteTags: JSON {
        var members: [(String, JSON)] = []
        for line in note.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !members.contains(where: { $0.0 == key }) else { continue }
            if let v = Double(value), v.isFinite { members.append((key, .number(v))) } else { members.append((key, .string(value))) }
        }
        return .object(members)
    }

    func open(channel: Int?) throws -> ArraySource {
        // Igor dimensions kept by the signal, in the toolkit's order.
        let kept = channel == nil ? dims.count : dims.count - 1
        let order: [Int]
        switch kept {
        case 1: order = [0]
        case 2: order = [1, 0]
        default: order = [1, 0, 2]
        }
        var byteStrides = [type.size]
        for n in dims.dropLast() { byteStrides.append(byteStrides.last! * n) }
        let axisNames = kept == 1 ? ["E"] : kept == 2 ? ["y", "x"] : ["y", "x", "E"]
        let axes: [JSON] = order.enumerated().map { k, d in
            ["name": .string(axisNames[k]), "size": .number(Double(dims[d])), "scale": .number(scales[d]), "offset": .number(offsets[d]), "units": .string(units[d])]
        }
        let name = channel.map { channels[$0] } ?? waveName
        var attrs: [(String, JSON)] = [("format", "Igor binary wave"), ("wave", .string(waveName)), ("title", .string(name)),
                                      ("units", .string(dataUnits)), ("axes", .array(axes))]
        if kept != 2, let e = order.last {
            attrs += [("energy_start", .number(offsets[e])), ("energy_step", .number(scales[e])), ("energy_unit", .string(units[e]))]
        }
        if kept >= 2, !units[0].isEmpty { attrs += [("pixel_size", .number(scales[0])), ("pixel_unit", .string(units[0]))] }
        attrs.append(("tags", noteTags))
        let offset = dataOffset + (channel ?? 0) * byteStrides[dims.count - 1]
        return try MappedArray(name: "\(path):\(name)", mapping: mapping, offset: offset, type: type, littleEndian: littleEndian,
                               shape: order.map { dims[$0] }, strides: order.map { byteStrides[$0] }, attributes: .object(attrs))
    }

    /// Every signal, for `dkl-cat --list`.
    func list() throws -> [ArraySignal] {
        let names = channels
        return try (names.isEmpty ? [nil] : names.indices.map { Optional($0) }).map { k in
            let a = try open(channel: k)
            return ArraySignal(spec: k.map { "\(path):\(names[$0])" } ?? path, name: k.map { names[$0] } ?? waveName,
                               kind: ArraySignal.kind(rank: a.rank), shape: a.shape, axes: a.attributes["axes"]?.arrayValue ?? [])
        }
    }
}
