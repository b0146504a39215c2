import Foundation
import DKLCore
import DKLData
import DKLImaging
import DKLCommandLine

// dkl-patches: cut a structural image into square patches, one record {y, x, patch} per
// centre, the inputs of dkl-train and dkl-predict.
let command = Command(
    name: "dkl-patches",
    usage: ["[options] IMAGE...", "--spectra CUBE --band LO:HI [--band LO:HI...] [options] [IMAGE...]"],
    summary: """
        Cut W×W patches around pixel centres of a structural image (NPY or HDF5, H×W) and
        write one record {y, x, patch} per centre, rows then columns. Several images of the
        same grid are stacked as channels (patch C×W×W), as are the C planes of an H×W×C
        array (with -w 1: the vector at every pixel, such as a field history) and bands of
        a spectrum image averaged into images (--spectra, --band). Odd windows are centred
        on their pixel;
        even windows are too, by sampling the image between pixels (or, with --even shift,
        half a pixel off, as atomai cuts them). Patches that touch a NaN pixel are left out.
        """,
    options: [
        Option("window", "w", value: "W", help: "patch side in pixels (default 16)"),
        Option("stride", "s", value: "S", help: "step between centres (default 1)"),
        Option("border", value: "skip|reflect", help: "skip centres whose window leaves the image (default), or mirror the image"),
        Option("even", value: "interpolate|shift", help: "centring of even windows (default interpolate)"),
        Option("normalize", "N", value: "MODE", help: "none, minmax (default: each channel to [0,1] over the image), zscore, patch-minmax, patch-zscore"),
        Option("coords", value: "FILE", help: "only these centres: an array K×2 of (y, x) or a stream with fields y and x"),
        Option("keep-nan", help: "write patches that touch NaN pixels instead of leaving them out"),
        Option("spectra", value: "CUBE", help: "a spectrum image H×W×E whose bands (--band) become channels"),
        Option("band", value: "LO:HI", repeatable: true, help: "an energy band (in the axis's unit) averaged into a channel (repeatable)"),
        Option("energy", value: "START:STEP|FILE", help: "the spectra's energy axis in the file's unit, eV unless it says (default: from the file)"),
    ] + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    let window = try a.int("window", default: 16, range: 1...1024)
    let stride = try a.int("stride", default: 1, range: 1...1_000_000)
    guard let border = PatchExtractor.Border(rawValue: a.string("border") ?? "skip") else { throw DKLError.usage("--border must be skip or reflect") }
    let even = try PatchExtractor.EvenWindow.named(a.string("even")), norm = try PatchExtractor.Normalization.named(a.string("normalize"))
    let bands = try a.strings("band").map(EnergyAxis.band)
    if a.string("spectra") == nil && !bands.isEmpty { throw DKLError.usage("--band needs --spectra") }
    if a.string("spectra") != nil && bands.isEmpty { throw DKLError.usage("--spectra needs at least one --band") }
    if a.positionals.isEmpty && a.string("spectra") == nil { throw DKLError.usage("missing input") }

    // The channels: each image, then each band of the spectrum image.
    var channels: [[Float]] = [], names: [JSON] = []
    var grid: (Int, Int)?
    var pixelSize: PixelSize?
    func add(_ values: [Float], _ shape: [Int], _ name: String, named: Bool = true) throws {
        if let g = grid, g != (shape[0], shape[1]) {
            throw DKLError.data("the grid \(shape[0])×\(shape[1]) differs from the first input's \(g.0)×\(g.1)", file: name)
        }
        grid = (shape[0], shape[1])
        channels.append(values)
        if named { names.append(.string(name)) }
    }
    for path in a.positionals {
        let image = try ArrayFile.open(path)
        try image.requireRank([2, 3, 4], "a structural image H×W, or H×W×C with channels")
        pixelSize = pixelSize ?? PixelSize(attributes: image.attributes)
        let values = try locating(file: path) { try image.readAllFloats() }
        if image.rank == 2 { try add(values, image.shape, image.name); continue }
        // H×W×C: C channels (an image's colours, or a vector at every pixel); H×W×A×B: A·B.
        let (n, c) = (image.shape[0] * image.shape[1], image.shape.dropFirst(2).reduce(1, *))
        for k in 0..<c { try add((0..<n).map { values[$0 * c + k] }, image.shape, "\(image.name) (\(c) channels)", named: k == 0) }
    }
    if let spec = a.string("spectra") {
        let cube = try ArrayFile.open(spec)
        try cube.requireRank([3], "a spectrum image H×W×E")
        pixelSize = pixelSize ?? PixelSize(attributes: cube.attributes)
        let axis = try EnergyAxis.resolve(option: a.string("energy"), source: cube, channels: cube.shape[2])
        for band in bands {
            let picked = try locating(file: cube.name) { try axis.channels(in: band) }
            let image = try locating(file: cube.name) { try BandImage.mean(of: cube, channels: picked) }
            try add(image, Array(cube.shape.prefix(2)), "\(cube.name) \(band.lowerBound):\(band.upperBound) eV")
        }
    }
    let (h, w) = grid!
    let cutter = try locating(file: a.positionals.first ?? a.string("spectra")!) {
        try PatchExtractor(channels: channels, height: h, width: w, window: window, border: border, even: even, normalization: norm)
    }

    var centres: [(Int, Int)]
    if let path = a.string("coords") {
        centres = try Positions.readCoordinates(path)
        for (k, c) in centres.enumerated() where !cutter.fits(y: c.0, x: c.1) {
            let inside = c.0 >= 0 && c.0 < h && c.1 >= 0 && c.1 < w
            throw DKLError.data(inside ? "the \(window)×\(window) window of (\(c.0), \(c.1)) leaves the \(h)×\(w) image (use --border reflect)"
                                       : "(\(c.0), \(c.1)) is outside the \(h)×\(w) image", file: path, record: k + 1)
        }
    } else {
        let (ys, xs) = cutter.centreRange(stride: stride)
        centres = ys.flatMap { y in xs.map { (y, $0) } }
    }

    let shape = cutter.channels == 1 ? [window, window] : [cutter.channels, window, window]
    let keepNaN = a.flag("keep-nan")
    let schema = try Schema([Field("y", .i32), Field("x", .i32), Field("patch", .f32, shape: shape, allowsNaN: keepNaN)])
    let attrs: JSON = .object([
        ("image", JSON([h, w])), ("window", .number(Double(window))), ("stride", .number(Double(stride))),
        ("border", .string(border.rawValue)), ("even", .string(even.rawValue)), ("normalize", .string(norm.rawValue)),
        ("channels", .array(names)),
        ("normalize_offset", JSON.array(cutter.offset.map { .number($0) })), ("normalize_scale", JSON.array(cutter.scale.map { .number($0) })),
    ] + (pixelSize?.attributes ?? []))
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
    let progress = Progress(tool: command.name, what: "patches", total: centres.count, enabled: inv.showsProgress)
    let size = schema.recordSize, n = cutter.patchSize
    let batch = 1024
    var buffer = [UInt8](repeating: 0, count: size * batch)
    var patch = [Float](repeating: 0, count: n)
    var inBatch = 0, skipped = 0, done = 0
    let patchOffset = schema.fields[2].offset
    for (y, x) in centres {
        let finite = patch.withUnsafeMutableBufferPointer { cutter.cut(y: y, x: x, into: $0.baseAddress!) }
        done += 1
        if !finite && !keepNaN { skipped += 1; continue }
        buffer.withUnsafeMutableBytes { raw in
            let rec = raw.baseAddress! + inBatch * size
            rec.storeBytes(of: Int32(y).littleEndian, toByteOffset: schema.fields[0].offset, as: Int32.self)
            rec.storeBytes(of: Int32(x).littleEndian, toByteOffset: schema.fields[1].offset, as: Int32.self)
            patch.withUnsafeBytes { p in (rec + patchOffset).copyMemory(from: p.baseAddress!, byteCount: n * 4) }
        }
        inBatch += 1
        if inBatch == batch {
            try buffer.withUnsafeBytes { try out.writer.write(records: $0, count: inBatch) }
            inBatch = 0
            progress.update(done)
            try Interrupts.check()
        }
    }
    try buffer.withUnsafeBytes { try out.writer.write(records: UnsafeRawBufferPointer(rebasing: $0[0..<(inBatch * size)]), count: inBatch) }
    try out.commit()
    progress.finish(done)
    if skipped > 0 { inv.note("left out \(skipped) of \(centres.count) patches that touch NaN pixels (--keep-nan writes them)") }
}
