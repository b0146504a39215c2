import Foundation
import DKLCore

/// A Nanonis grid spectroscopy file (`.3ds`): a spectrum of every channel at every point
/// of a grid, with per-point parameters (the tip's X, Y and Z before the sweep).
///
/// The format: a text header of `key=value` lines (values with spaces in double quotes)
/// closed by `:HEADER_END:`, then big-endian float32 data, point after point along a line
/// and line after line: at each point its parameters (`# Parameters (4 byte)` of them: the
/// `Fixed parameters`, then the `Experiment parameters`), then each channel's `Points`
/// values. `Grid dim="X x Y"` gives the points per line and the lines; `Grid settings` the
/// centre, width, height (m) and angle (°); `Sweep Signal` the swept quantity and its unit.
///
/// Signals, chosen by name as `FILE:NAME` (the name without its unit, or with it) or by
/// index: each channel as a (line, point, sweep) spectrum image whose energy axis is the
/// sweep (`Current`, `LockinX`, `Current [bwd]`), then each parameter as a (line, point)
/// image (`Z` is the topography on the grid).
public final class NanonisGrid {
    public let path: String
    /// The header's items in file order.
    public let header: [(key: String, value: String)]
    let mapping: FileMapping
    let lines: Int, pointsPerLine: Int, sweepPoints: Int
    let channels: [String]
    let parameters: [String]
    let dataOffset: Int
    /// The sweep's first and last values and its signal's name and unit.
    let sweep: (start: Double, end: Double, name: String, unit: String)
    let pixel: (width: Double, height: Double)

    /// Whether `head` starts as a grid file's header does.
    static func sniff(_ head: [UInt8]) -> Bool { head.starts(with: Array("Grid dim=".utf8)) }

    public init(path: String) throws {
        self.path = path
        mapping = try FileMapping(path: path, minimum: 12, what: "a Nanonis grid file")
        let bytes = mapping.bytes
        // The header is text of a few kilobytes; it is looked for in the first megabyte.
        let end = Array(":HEADER_END:".utf8)
        let limit = min(bytes.count, 1 << 20)
        guard let h = NanonisGrid.find(end, in: bytes, before: limit) else {
            throw DKLError.data("not a Nanonis grid file: no ':HEADER_END:' in its first \(limit) bytes", file: path)
        }
        var offset = h + end.count
        // The header's last line ends with CR LF (older files: LF).
        if offset < bytes.count, bytes[offset] == 0x0D { offset += 1 }
        if offset < bytes.count, bytes[offset] == 0x0A { offset += 1 }
        dataOffset = offset
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<h]), as: UTF8.self)
        var items: [(String, String)] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: eq)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
            items.append((String(line[..<eq]), value))
        }
        header = items
        func item(_ key: String) throws -> String {
            guard let v = items.first(where: { $0.0 == key })?.1 else { throw DKLError.data("the Nanonis header has no '\(key)'", file: path) }
            return v
        }
        func count(_ key: String, _ text: String, most: Int) throws -> Int {
            guard let v = Int(text.trimmingCharacters(in: .whitespaces)), v >= 1, v <= most else {
                throw DKLError.data("the Nanonis header's '\(key)' is '\(text)', not a count from 1 to \(most)", file: path)
            }
            return v
        }
        let dims = try item("Grid dim").split(separator: "x").map { String($0) }
        guard dims.count == 2 else { throw DKLError.data("the Nanonis header's 'Grid dim' is not 'POINTS x LINES'", file: path) }
        pointsPerLine = try count("Grid dim", dims[0], most: 1 << 20)
        lines = try count("Grid dim", dims[1], most: 1 << 20)
        sweepPoints = try count("Points", try item("Points"), most: 1 << 24)
        let parameterCount = try count("# Parameters (4 byte)", try item("# Parameters (4 byte)"), most: 1 << 12)
        channels = try item("Channels").split(separator: ";").map { String($0) }
        guard !channels.isEmpty, channels.count <= 1 << 12 else { throw DKLError.data("the Nanonis header lists no channel", file: path) }
        let names = ["Fixed parameters", "Experiment parameters"].flatMap { k in
            (items.first { $0.0 == k }?.1 ?? "").split(separator: ";").map { String($0) }
        }
        // Unnamed parameters keep their place.
        parameters = (0..<parameterCount).map { $0 < names.count ? names[$0] : "parameter \($0)" }
        if let size = items.first(where: { $0.0 == "Experiment size (bytes)" })?.1, let v = Int(size), v != channels.count * sweepPoints * 4 {
            throw DKLError.data("the Nanonis header's experiment size (\(v) bytes) is not \(channels.count) channels × \(sweepPoints) points × 4 bytes", file: path)
        }
        // Every point whole in the file, before anything is read.
        let pointBytes = (parameterCount + channels.count * sweepPoints) * 4
        let declared = try ArrayShape.validate([lines, pointsPerLine, pointBytes / 4], elementBytes: 4, file: path)
        let stored = bytes.count - dataOffset
        guard stored >= declared.bytes else {
            let whole = stored / pointBytes
            throw DKLError.data("truncated: the grid of \(pointsPerLine) × \(lines) points needs \(declared.bytes) bytes of data, the file holds \(stored) (\(whole) whole points: an interrupted grid?)", file: path)
        }
        // The sweep's range: the fixed parameters 'Sweep Start' and 'Sweep End' of the first point.
        let signal = (items.first { $0.0 == "Sweep Signal" }?.1 ?? "")
        let (sweepName, sweepUnit) = NanonisGrid.unit(of: signal)
        let (base, parameterNames) = (mapping.base + offset, parameters)
        func parameter(_ name: String, at point: Int) -> Double? {
            guard let k = parameterNames.firstIndex(of: name) else { return nil }
            return Double(ElementType.float32(base + point * pointBytes + 4 * k, littleEndian: false))
        }
        let start = parameter("Sweep Start", at: 0) ?? 0, stop = parameter("Sweep End", at: 0) ?? Double(sweepPoints - 1)
        guard start.isFinite, stop.isFinite else { throw DKLError.data("the first point's sweep runs from \(start) to \(stop)", file: path) }
        sweep = (start, stop, sweepName.isEmpty ? "sweep" : sweepName, sweepUnit)
        // Grid settings: centre x, centre y, width, height, angle.
        let settings = (items.first { $0.0 == "Grid settings" }?.1 ?? "").split(separator: ";").compactMap { Double($0) }
        if settings.count >= 4, settings[2].isFinite, settings[3].isFinite, settings[2] > 0, settings[3] > 0 {
            pixel = (settings[2] / Double(pointsPerLine), settings[3] / Double(lines))
        } else {
            pixel = (0, 0)
        }
    }

    static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, before limit: Int) -> Int? {
        guard limit >= needle.count else { return nil }
        for i in 0...(limit - needle.count) where bytes[i] == needle[0] {
            if (1..<needle.count).allSatisfy({ bytes[i + $0] == needle[$0] }) { return i }
        }
        return nil
    }

    /// "LockinX (V)" → ("LockinX", "V"); "Current [bwd] (A)" → ("Current [bwd]", "A").
    static func unit(of name: String) -> (String, String) {
        guard name.hasSuffix(")"), let open = name.lastIndex(of: "(") else { return (name, "") }
        let unit = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
        return (String(name[..<open]).trimmingCharacters(in: .whitespaces), unit)
    }

    /// The signals' names: the channels, then the parameters (a parameter named as a
    /// channel is told apart by " (parameter)").
    var signalNames: [String] {
        let c = channels.map { NanonisGrid.unit(of: $0).0 }
        return c + parameters.map { p in
            let n = NanonisGrid.unit(of: p).0
            return c.contains(n) ? n + " (parameter)" : n
        }
    }

    func listing() -> String { signalNames.enumerated().map { "\($0): \($1)" }.joined(separator: ", ") }

    /// The signal chosen by `selector` (a name, with or without its unit, or an index).
    public func signal(_ selector: String?) throws -> ArraySource {
        guard let selector else {
            throw DKLError.data("a Nanonis grid holds \(signalNames.count) signals; name one as FILE:NAME (\(listing()))", file: path)
        }
        let full = channels + parameters
        let k = Int(selector).flatMap { signalNames.indices.contains($0) ? $0 : nil }
            ?? signalNames.firstIndex(of: selector) ?? full.firstIndex(of: selector)
        guard let k else { throw DKLError.data("no signal '\(selector)' (\(listing()))", file: path) }
        return try open(k)
    }

    func open(_ k: Int) throws -> ArraySource {
        let name = "\(path):\(signalNames[k])"
        let pointBytes = (parameters.count + channels.count * sweepPoints) * 4
        let (y, x): (JSON, JSON) = (["name": "y", "size": .number(Double(lines)), "scale": .number(pixel.height), "offset": 0, "units": .string(pixel.height > 0 ? "m" : "")],
                                    ["name": "x", "size": .number(Double(pointsPerLine)), "scale": .number(pixel.width), "offset": 0, "units": .string(pixel.width > 0 ? "m" : "")])
        var attrs: [(String, JSON)] = [("format", "Nanonis grid (3ds)")]
        if pixel.width > 0 { attrs += [("pixel_size", .number(pixel.width)), ("pixel_unit", "m")] }
        if k < channels.count {
            let (channel, unit) = NanonisGrid.unit(of: channels[k])
            let step = sweepPoints > 1 ? (sweep.end - sweep.start) / Double(sweepPoints - 1) : 1
            let e: JSON = ["name": .string(sweep.name), "size": .number(Double(sweepPoints)), "scale": .number(step), "offset": .number(sweep.start), "units": .string(sweep.unit)]
            attrs += [("channel", .string(channel)), ("units", .string(unit)), ("axes", .array([y, x, e])),
                      ("energy_start", .number(sweep.start)), ("energy_step", .number(step)), ("energy_unit", .string(sweep.unit)),
                      ("sweep_signal", .string(sweep.name))]
            attrs.append(("header", headerJSON))
            return try MappedArray(name: name, mapping: mapping, offset: dataOffset + (parameters.count + k * sweepPoints) * 4, type: .float32,
                                   littleEndian: false, shape: [lines, pointsPerLine, sweepPoints],
                                   strides: [pointsPerLine * pointBytes, pointBytes, 4], attributes: .object(attrs))
        }
        let p = k - channels.count
        let (parameter, unit) = NanonisGrid.unit(of: parameters[p])
        attrs += [("parameter", .string(parameter)), ("units", .string(unit)), ("axes", .array([y, x])), ("header", headerJSON)]
        return try MappedArray(name: name, mapping: mapping, offset: dataOffset + p * 4, type: .float32, littleEndian: false,
                               shape: [lines, pointsPerLine], strides: [pointsPerLine * pointBytes, pointBytes], attributes: .object(attrs))
    }

    var headerJSON: JSON { .object(header.map { ($0.key, .string($0.value)) }) }

    /// Every signal, for `dkl-cat --list`.
    func list() throws -> [ArraySignal] {
        try signalNames.indices.map { k in
            let a = try open(k)
            return ArraySignal(spec: "\(path):\(signalNames[k])", name: signalNames[k], kind: ArraySignal.kind(rank: a.rank),
                               shape: a.shape, axes: a.attributes["axes"]?.arrayValue ?? [])
        }
    }
}

/// A Nanonis point spectrum (`.dat`): a header of tab-separated `key value` lines, then
/// `[DATA]`, a line of column names with units, and one line of numbers per sweep value.
/// The first column is the sweep: every other column is a signal (`FILE:Current`,
/// `FILE:Current [bwd]`), a spectrum whose energy axis is the first column's values.
public final class NanonisSpectrum {
    public let path: String
    public let header: [(key: String, value: String)]
    let columns: [String]
    /// The table, one array per column.
    let values: [[Double]]

    /// Whether `head` starts as a point spectrum's header does.
    static func sniff(_ head: [UInt8]) -> Bool { head.starts(with: Array("Experiment\t".utf8)) }

    /// The largest text file read whole (point spectra are kilobytes to megabytes).
    static let largest = 1 << 30

    public init(path: String) throws {
        self.path = path
        let mapping = try FileMapping(path: path, minimum: 11, what: "a Nanonis spectrum file")
        guard mapping.size <= NanonisSpectrum.largest else { throw DKLError.data("a Nanonis text file of \(mapping.size) bytes (at most \(NanonisSpectrum.largest) are read)", file: path) }
        let text = String(decoding: mapping.bytes, as: UTF8.self)
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let data = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "[DATA]" }) else {
            throw DKLError.data("not a Nanonis spectrum file: no '[DATA]' line", file: path)
        }
        header = lines[..<data].compactMap { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard let key = parts.first, !key.isEmpty else { return nil }
            return (String(key), parts.count > 1 ? String(parts[1]) : "")
        }
        guard data + 1 < lines.count else { throw DKLError.data("the Nanonis spectrum has no column names after '[DATA]'", file: path) }
        columns = lines[data + 1].split(separator: "\t").map { String($0) }
        guard columns.count >= 2 else { throw DKLError.data("the Nanonis spectrum has \(columns.count) column; a sweep and a signal are needed", file: path) }
        lines = Array(lines[(data + 2)...])
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        var table = [[Double]](repeating: [], count: columns.count)
        for (r, line) in lines.enumerated() {
            let fields = line.split(separator: "\t")
            guard fields.count == columns.count else {
                throw DKLError.data("line \(data + 3 + r) has \(fields.count) values, the table has \(columns.count) columns", file: path)
            }
            for (c, f) in fields.enumerated() {
                guard let v = Double(f.trimmingCharacters(in: .whitespaces)) else {
                    throw DKLError.data("line \(data + 3 + r), column '\(columns[c])': '\(DKLError.oneLine(String(f.prefix(40))))' is not a number", file: path)
                }
                table[c].append(v)
            }
        }
        guard !table[0].isEmpty else { throw DKLError.data("the Nanonis spectrum's table is empty", file: path) }
        guard table[0].allSatisfy(\.isFinite) else { throw DKLError.data("the sweep column '\(columns[0])' holds NaN or infinity", file: path) }
        values = table
    }

    var signalNames: [String] { columns.dropFirst().map { NanonisGrid.unit(of: $0).0 } }

    func listing() -> String { signalNames.enumerated().map { "\($0): \($1)" }.joined(separator: ", ") }

    public func signal(_ selector: String?) throws -> ArraySource {
        let names = signalNames
        let k: Int?
        if let selector {
            k = Int(selector).flatMap { names.indices.contains($0) ? $0 : nil } ?? names.firstIndex(of: selector) ?? columns.dropFirst().firstIndex(of: selector).map { $0 - 1 }
        } else {
            k = names.count == 1 ? 0 : nil
        }
        guard let k else {
            throw DKLError.data(selector.map { "no signal '\($0)' (\(listing()))" } ?? "a Nanonis spectrum holds \(names.count) signals; name one as FILE:NAME (\(listing()))", file: path)
        }
        return open(k)
    }

    func open(_ k: Int) -> ArraySource {
        let (sweepName, sweepUnit) = NanonisGrid.unit(of: columns[0])
        let (channel, unit) = NanonisGrid.unit(of: columns[k + 1])
        let e = values[0]
        let step = e.count > 1 ? (e.last! - e[0]) / Double(e.count - 1) : 1
        let axis: JSON = ["name": .string(sweepName), "size": .number(Double(e.count)), "scale": .number(step), "offset": .number(e[0]), "units": .string(sweepUnit)]
        let attrs: JSON = .object([
            ("format", "Nanonis spectrum (dat)"), ("channel", .string(channel)), ("units", .string(unit)), ("axes", .array([axis])),
            ("energy_values", .array(e.map { .number($0) })), ("energy_unit", .string(sweepUnit)), ("sweep_signal", .string(sweepName)),
            ("header", .object(header.map { ($0.key, .string($0.value)) })),
        ])
        return MemoryArray(name: "\(path):\(signalNames[k])", shape: [e.count], values: values[k + 1], attributes: attrs)
    }

    func list() -> [ArraySignal] {
        signalNames.indices.map { k in
            let a = open(k)
            return ArraySignal(spec: "\(path):\(signalNames[k])", name: signalNames[k], kind: "spectrum", shape: a.shape, axes: a.attributes["axes"]?.arrayValue ?? [])
        }
    }
}
