import Foundation
import DKLCore

/// A Thermo Fisher Velox EMD file (HDF5): its signals by detector, with their calibrations.
///
/// Velox keeps each signal in a group named by a GUID: `/Data/Image/<guid>` holds `Data`
/// (rows × columns × frames) and `Metadata` (one column of bytes per frame, each a JSON
/// document: the detector in `BinaryResult.Detector`, the pixel size in
/// `BinaryResult.PixelSize`, the microscope's state); `/Data/SpectrumStream/<guid>` holds
/// an X-ray spectrum image as a stream of 16-bit values, each the channel of one counted
/// photon, 65535 closing each pixel of the raster (rows, then frames), with
/// `AcquisitionSettings` (a JSON string: the channel count) and `Metadata` (the
/// analytical detectors' dispersion and energy offset).
///
/// The signals, in file order: every image as its detector's name (`HAADF`: the mean of
/// its frames, an image), with `HAADF-frames` (frame × y × x) when it has several; every
/// spectrum stream as `EDS` (`EDS-2`, … when there are several), summed over its frames
/// into a y × x × channel spectrum image read by blocks of rows, never whole.
public final class VeloxFile {
    public let path: String
    let file: HDF5File
    let signals: [Signal]

    struct Signal {
        enum Content { case image(HDF5Dataset, frames: Bool), stream(group: String, data: HDF5Dataset) }
        var name: String
        var detector: String
        var content: Content
        var metadata: JSON
        var group: String
    }

    /// Whether `file` is laid out as Velox writes: a group under `/Data/Image` or
    /// `/Data/SpectrumStream` with `Data` and `Metadata`.
    static func isVelox(_ file: HDF5File) -> Bool {
        !signalGroups(file).isEmpty
    }

    static func signalGroups(_ file: HDF5File) -> [(kind: String, group: String)] {
        let groups = file.objects().groups
        return groups.compactMap { g in
            for kind in ["Image", "SpectrumStream"] where PathName.directory(g) == "/Data/\(kind)" {
                if file.kind(g + "/Data") == 1 && file.kind(g + "/Metadata") == 1 { return (kind, g) }
            }
            return nil
        }
    }

    init(file: HDF5File) throws {
        self.file = file
        path = file.path
        var signals: [Signal] = []
        var streams = 0
        for (kind, group) in VeloxFile.signalGroups(file) {
            let data = try HDF5Dataset(file: file, path: group + "/Data")
            let metadata = try VeloxFile.metadata(file, group)
            let detector = metadata["BinaryResult"]?["Detector"]?.stringValue ?? ""
            if kind == "Image" {
                guard data.rank == 3 || data.rank == 2, !data.shape.contains(0) else {
                    throw DKLError.data("Velox image \(group)/Data has shape \(data.shape), not rows × columns × frames", file: path)
                }
                var name = detector.isEmpty ? "image" : detector
                let same = signals.filter { $0.detector == detector && !$0.name.hasSuffix("-frames") }.count
                if same > 0 { name += "-\(same + 1)" }
                signals.append(Signal(name: name, detector: detector, content: .image(data, frames: false), metadata: metadata, group: group))
                if data.rank == 3 && data.shape[2] > 1 {
                    signals.append(Signal(name: name + "-frames", detector: detector, content: .image(data, frames: true), metadata: metadata, group: group))
                }
            } else {
                streams += 1
                let name = streams == 1 ? "EDS" : "EDS-\(streams)"
                signals.append(Signal(name: name, detector: detector, content: .stream(group: group, data: data), metadata: metadata, group: group))
            }
        }
        self.signals = signals
    }

    /// The JSON document of the first frame's column of `group/Metadata`.
    static func metadata(_ file: HDF5File, _ group: String) throws -> JSON {
        let ds = try HDF5Dataset(file: file, path: group + "/Metadata")
        guard (1...2).contains(ds.rank), let n = ds.shape.first, n > 0, n <= 1 << 24 else {
            throw DKLError.data("Velox metadata \(group)/Metadata has shape \(ds.shape), not bytes × frames", file: file.path)
        }
        let column = ds.rank == 2 ? try ds.readBlockFloats(start: [0, 0], count: [n, 1]) : try ds.readAllFloats()
        var bytes = column.map { UInt8(clamping: Int(exactly: $0.rounded()) ?? 0) }
        while bytes.last == 0 { bytes.removeLast() }
        do {
            return try bytes.withUnsafeBufferPointer { try JSONParser.parseDocument($0) }
        } catch let e as JSONParser.Failure {
            throw DKLError.data("Velox metadata \(group)/Metadata is not JSON (\(e))", file: file.path)
        }
    }

    /// The signal chosen by `selector` (an index, a name as listed, or a detector's name);
    /// without one, the file's only signal.
    public func signal(_ selector: String?) throws -> ArraySource {
        let primary = signals.indices.filter { !signals[$0].name.hasSuffix("-frames") }
        guard !signals.isEmpty else { throw DKLError.data("the Velox file holds no image or spectrum stream", file: path) }
        let k: Int
        if let selector {
            if let i = Int(selector) {
                guard signals.indices.contains(i) else { throw DKLError.data("no signal \(i) (\(listing()))", file: path) }
                k = i
            } else if let i = signals.firstIndex(where: { $0.name.lowercased() == selector.lowercased() }) {
                k = i
            } else {
                let byDetector = primary.filter { signals[$0].detector.lowercased() == selector.lowercased() }
                guard byDetector.count == 1 else {
                    throw DKLError.data(byDetector.isEmpty ? "no signal named '\(selector)' (\(listing()))" : "\(byDetector.count) signals come from detector '\(selector)' (\(listing()))", file: path)
                }
                k = byDetector[0]
            }
        } else {
            guard primary.count == 1 else {
                throw DKLError.data("the file holds \(primary.count) signals; name one as FILE:NAME (\(listing()))", file: path)
            }
            k = primary[0]
        }
        return try open(signals[k])
    }

    func listing() -> String {
        signals.enumerated().map { "\($0): \($1.name)" }.joined(separator: ", ")
    }

    func open(_ s: Signal) throws -> ArraySource {
        let name = "\(path):\(s.name)"
        switch s.content {
        case let .image(data, frames):
            return try VeloxImage(name: name, data: data, frames: frames, attributes: attributes(s, data: data))
        case let .stream(group, data):
            return try locating(file: path) { try VeloxSpectrumImage(name: name, file: self, group: group, data: data, signal: s, attributes: { try self.attributes(s, data: data, stream: $0) }) }
        }
    }

    /// Every signal as `dkl-cat --list` shows it (a spectrum stream is scanned for its
    /// frames and shape).
    func list() throws -> [ArraySignal] {
        try signals.map { s in
            let a = try open(s)
            let axes = a.attributes["axes"]?.arrayValue ?? []
            let kind = ArraySignal.kind(rank: a.rank, spectrumImage: { if case .stream = s.content { return true }; return false }())
            return ArraySignal(spec: "\(path):\(s.name)", name: s.detector, kind: kind, shape: a.shape, axes: axes)
        }
    }

    /// A length in metres as nm or µm (pixels of 1 µm or more in µm), with its unit.
    static func length(_ metres: Double, unit: String) -> (Double, String) {
        guard unit == "m" else { return (metres, unit) }
        return abs(metres) >= 1e-6 ? (metres * 1e6, "µm") : (metres * 1e9, "nm")
    }

    static func number(_ j: JSON?) -> Double? {
        if let d = j?.doubleValue { return d }
        if let s = j?.stringValue, let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite { return d }
        return nil
    }

    /// Format, detector, axes with their calibrations, pixel size, frames, and the
    /// microscope's state from the metadata.
    func attributes(_ s: Signal, data: HDF5Dataset, stream: VeloxSpectrumImage.Layout? = nil) throws -> JSON {
        let br = s.metadata["BinaryResult"]
        let unit = br?["PixelUnitX"]?.stringValue ?? ""
        var spatial: [DMAxis] = []
        let (rows, cols) = stream.map { ($0.rows, $0.columns) } ?? (data.shape[0], data.shape[1])
        for (axis, n, key) in [("y", rows, "height"), ("x", cols, "width")] {
            let raw = VeloxFile.number(br?["PixelSize"]?[key])
            let off = VeloxFile.number(br?["Offset"]?[axis]) ?? 0
            if let raw, raw > 0, !unit.isEmpty {
                let (scale, u) = VeloxFile.length(raw, unit: unit)
                spatial.append(DMAxis(name: axis, size: n, scale: scale, offset: VeloxFile.length(off, unit: unit).0, units: u))
            } else {
                spatial.append(DMAxis(name: axis, size: n, scale: 1, offset: 0, units: ""))
            }
        }
        var axes = spatial
        var attrs: [(String, JSON)] = [("format", .string("Velox EMD")), ("detector", .string(s.detector)), ("group", .string(s.group))]
        switch s.content {
        case let .image(_, frames):
            let f = data.rank == 3 ? data.shape[2] : 1
            if frames { axes.insert(DMAxis(name: "frame", size: f, scale: 1, offset: 0, units: ""), at: 0) }
            attrs.append(("frames", .number(Double(f))))
            if !frames && f > 1 { attrs.append(("frames_combined", .string("mean"))) }
        case .stream:
            guard let stream else { break }
            axes.append(DMAxis(name: "E", size: stream.channels, scale: stream.energyStep, offset: stream.energyStart, units: stream.energyUnit))
            attrs += [("frames", .number(Double(stream.frames))), ("frames_combined", .string("sum")), ("counts", .number(Double(stream.counts)))]
            if !stream.energyUnit.isEmpty {
                attrs += [("energy_start", .number(stream.energyStart)), ("energy_step", .number(stream.energyStep)), ("energy_unit", .string(stream.energyUnit))]
            }
        }
        attrs.insert(("axes", .array(axes.map(\.json))), at: 2)
        if let x = spatial.last, !x.units.isEmpty { attrs += [("pixel_size", .number(x.scale)), ("pixel_unit", .string(x.units))] }
        var tags: [(String, JSON)] = []
        for key in ["Instrument", "Acquisition", "Optics", "Scan", "Stage", "BinaryResult"] {
            if let v = s.metadata[key] { tags.append((key, v)) }
        }
        if let dets = s.metadata["Detectors"]?.objectValue {
            let mine = dets.filter { $0.1["DetectorName"]?.stringValue.map { !s.detector.isEmpty && $0.hasPrefix(s.detector) } ?? false }
            if !mine.isEmpty { tags.append(("Detectors", .object(mine))) }
        }
        attrs.append(("tags", .object(tags)))
        return .object(attrs)
    }
}

/// A Velox image: the mean of its frames (rows × columns), or its frames (frame × rows ×
/// columns).
final class VeloxImage: ArraySource {
    let name: String
    let shape: [Int]
    let attributes: JSON
    let data: HDF5Dataset
    let frames: Bool
    let frameCount: Int

    init(name: String, data: HDF5Dataset, frames: Bool, attributes: JSON) throws {
        self.name = name
        self.data = data
        self.frames = frames
        self.attributes = attributes
        frameCount = data.rank == 3 ? data.shape[2] : 1
        shape = frames ? [frameCount, data.shape[0], data.shape[1]] : [data.shape[0], data.shape[1]]
    }

    func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        try checkBlock(start: start, count: count)
        if frames {
            // Stored (y, x, frame): read the block, then put frames first.
            let (f0, nf, y0, ny, x0, nx) = (start[0], count[0], start[1], count[1], start[2], count[2])
            let raw = try data.rank == 3 ? data.readBlock(start: [y0, x0, f0], count: [ny, nx, nf]) : data.readBlock(start: [y0, x0], count: [ny, nx])
            var out = [Double](repeating: 0, count: raw.count)
            for y in 0..<ny { for x in 0..<nx { for f in 0..<nf { out[(f * ny + y) * nx + x] = raw[(y * nx + x) * nf + f] } } }
            return out
        }
        let (y0, ny, x0, nx) = (start[0], count[0], start[1], count[1])
        if data.rank == 2 { return try data.readBlock(start: [y0, x0], count: [ny, nx]) }
        let f = frameCount
        let raw = try data.readBlock(start: [y0, x0, 0], count: [ny, nx, f])
        var out = [Double](repeating: 0, count: ny * nx)
        for p in 0..<(ny * nx) {
            var s = 0.0
            for k in 0..<f { s += raw[p * f + k] }
            out[p] = s / Double(f)
        }
        return out
    }

    func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        try readBlock(start: start, count: count).map { Float($0) }
    }
}

/// A Velox spectrum stream as a dense y × x × channel array, summed over frames. The
/// stream is scanned once when opened (checking every value) for where each row of each
/// frame begins; a block of rows is then decoded from those parts of the stream only.
final class VeloxSpectrumImage: ArraySource {
    let name: String
    let shape: [Int]
    var attributes: JSON = .object([])
    let data: HDF5Dataset
    let layout: Layout
    /// The stream offset where row r of the frames' rows (frame · rows + y) begins.
    let rowStart: [Int]

    struct Layout {
        var rows: Int, columns: Int, channels: Int, frames: Int, counts: Int
        var energyStart: Double, energyStep: Double, energyUnit: String
    }

    static let separator: Float = 65535
    static let piece = 1 << 20

    init(name: String, file: VeloxFile, group: String, data: HDF5Dataset, signal: VeloxFile.Signal, attributes: (Layout) throws -> JSON) throws {
        self.name = name
        self.data = data
        guard data.rank == 1 || (data.rank == 2 && data.shape[1] == 1) else {
            throw DKLError.data("Velox spectrum stream \(group)/Data has shape \(data.shape), not one column", file: file.path)
        }
        let settings: JSON
        do {
            guard let text = file.file.string(at: group + "/AcquisitionSettings") else {
                throw DKLError.data("Velox spectrum stream \(group) has no AcquisitionSettings", file: file.path)
            }
            settings = try JSONParser.parse(text)
        } catch let e as JSONParser.Failure {
            throw DKLError.data("Velox AcquisitionSettings of \(group) is not JSON (\(e))", file: file.path)
        }
        if let enc = settings["StreamEncoding"]?.stringValue ?? settings["encoding"]?.stringValue, enc != "uint16" {
            throw DKLError.data("Velox spectrum stream \(group) is encoded as '\(enc)'; uint16 streams are read", file: file.path)
        }
        guard let channels = VeloxFile.number(settings["bincount"]).flatMap({ Int(exactly: $0) }), (1...65535).contains(channels) else {
            throw DKLError.data("Velox spectrum stream \(group) gives no channel count (bincount) between 1 and 65535", file: file.path)
        }
        // The raster: the file's images' rows × columns (acquired with the spectra), else
        // the stream's own raster definition.
        var raster: (Int, Int)?
        var imageFrames: Int?
        for s in file.signals {
            if case let .image(d, _) = s.content { raster = (d.shape[0], d.shape[1]); imageFrames = d.rank == 3 ? d.shape[2] : 1; break }
        }
        if raster == nil, let r = settings["RasterScanDefinition"],
           let w = VeloxFile.number(r["Width"]).flatMap({ Int(exactly: $0) }), let h = VeloxFile.number(r["Height"]).flatMap({ Int(exactly: $0) }) {
            raster = (h, w)
        }
        guard let (rows, columns) = raster, rows > 0, columns > 0, rows <= 1 << 20, columns <= 1 << 20 else {
            throw DKLError.data("Velox spectrum stream \(group): no image or raster definition gives its rows and columns", file: file.path)
        }
        // The energy axis: the analytical detectors' dispersion and offset (eV), in keV.
        var start = 0.0, step = 0.0, unit = ""
        if let dets = signal.metadata["Detectors"]?.objectValue {
            for (_, d) in dets where d["DetectorType"]?.stringValue == "AnalyticalDetector" {
                if let disp = VeloxFile.number(d["Dispersion"]), disp > 0, let off = VeloxFile.number(d["OffsetEnergy"]) {
                    (start, step, unit) = (off / 1000, disp / 1000, "keV")
                    break
                }
            }
        }
        // One pass over the stream: every value a channel or the separator; the offset at
        // which each row of each frame begins.
        let total = data.shape[0]
        var starts = [0]
        var pixel = 0, counts = 0, trailing = false
        var offset = 0
        while offset < total {
            try Interrupts.check()
            let n = min(VeloxSpectrumImage.piece, total - offset)
            let values = try data.rank == 2 ? data.readBlockFloats(start: [offset, 0], count: [n, 1]) : data.readBlockFloats(start: [offset], count: [n])
            for (i, v) in values.enumerated() {
                if v == VeloxSpectrumImage.separator {
                    pixel += 1
                    trailing = false
                    if pixel % columns == 0 { starts.append(offset + i + 1) }
                } else {
                    guard v >= 0, v < Float(channels) else {
                        throw DKLError.data("Velox spectrum stream \(group): value \(v) at entry \(offset + i) is neither a channel below \(channels) nor the pixel separator 65535 (damaged stream)", file: file.path)
                    }
                    counts += 1
                    trailing = true
                }
            }
            offset += n
        }
        // The pixels the stream reaches (the last one may lack its separator), in whole frames.
        let reached = pixel + (trailing ? 1 : 0)
        let frames = max(1, (reached + rows * columns - 1) / (rows * columns))
        // A stream of more frames than the image acquired with it is not on the image's
        // raster: decoding it there would place the counts wrongly.
        if let f = imageFrames, frames > f {
            throw DKLError.data("Velox spectrum stream \(group) holds \(reached) pixels, more than the \(f) frame\(f == 1 ? "" : "s") of \(rows) × \(columns) of the image acquired with it", file: file.path)
        }
        // Rows that the stream never reached begin (and end) at its end.
        while starts.count < frames * rows + 1 { starts.append(total) }
        rowStart = starts
        layout = Layout(rows: rows, columns: columns, channels: channels, frames: frames, counts: counts, energyStart: start, energyStep: step, energyUnit: unit)
        shape = [rows, columns, channels]
        self.attributes = try attributes(layout)
    }

    func readBlock(start: [Int], count: [Int]) throws -> [Double] {
        try checkBlock(start: start, count: count)
        let (y0, ny, x0, nx, e0, ne) = (start[0], count[0], start[1], count[1], start[2], count[2])
        var out = [Double](repeating: 0, count: ny * nx * ne)
        if out.isEmpty { return out }
        let rows = layout.rows
        for f in 0..<layout.frames {
            let first = rowStart[f * rows + y0], end = rowStart[min(f * rows + y0 + ny, rowStart.count - 1)]
            var at = first, y = 0, x = 0
            while at < end {
                try Interrupts.check()
                let n = min(VeloxSpectrumImage.piece, end - at)
                let values = try data.rank == 2 ? data.readBlockFloats(start: [at, 0], count: [n, 1]) : data.readBlockFloats(start: [at], count: [n])
                for v in values {
                    if v == VeloxSpectrumImage.separator {
                        x += 1
                        if x == layout.columns { x = 0; y += 1 }
                    } else if x >= x0, x < x0 + nx, y < ny {
                        let e = Int(v) - e0
                        if e >= 0 && e < ne { out[(y * nx + (x - x0)) * ne + e] += 1 }
                    }
                }
                at += n
            }
        }
        return out
    }

    func readBlockFloats(start: [Int], count: [Int]) throws -> [Float] {
        try readBlock(start: start, count: count).map { Float($0) }
    }
}
