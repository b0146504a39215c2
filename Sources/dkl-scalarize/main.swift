import Foundation
import DKLCore
import DKLData
import DKLImaging
import DKLCommandLine

// dkl-scalarize: spectra (a spectrum image, a 4D-STEM cube, or a stream of spectra) to the
// scalar properties a DKL model learns, one record {y, x, <fields>, flags} per position.
let command = Command(
    name: "dkl-scalarize",
    usage: ["-S SPEC [-S SPEC...] [options] SPECTRA", "--com [options] CUBE4D"],
    summary: """
        Turn every spectrum of SPECTRA (an H×W×E spectrum image in NPY or HDF5, or a stream
        of records with y, x and a spectrum field; '-' is stdin) into scalars, one record
        {y, x, <fields>, flags} per position, rows then columns (or in the stream's order).
        Each -S gives fields: integral:LO:HI, mean:LO:HI, max:LO:HI, ratio:LO1:HI1:LO2:HI2
        (of band integrals), peak:LO:HI (energy of the maximum, sub-channel), prominence:LO:HI,
        fit:gauss|lorentz:LO:HI (peak on a linear background: NAME_centre, _height, _fwhm,
        _area, _r2); bands in eV; NAME=SPEC names the field. --com gives the centre of mass of
        the diffraction patterns of a 4D-STEM cube H×W×ky×kx (com_x, com_y, com_magnitude,
        com_angle). A spectrum with NaN, or a failed fit, gives NaN fields and a nonzero flags.
        """,
    options: [
        Option("scalarizer", "S", value: "[NAME=]SPEC", repeatable: true, help: "a scalarizer (repeatable), see above"),
        Option("energy", value: "START:STEP|FILE", help: "the energy axis in eV (default: from the file or the stream's header)"),
        Option("bin", value: "K", help: "average K adjacent channels first (default 1)"),
        Option("field", value: "NAME", help: "the spectrum field of a stream input (default spectrum)"),
        Option("com", help: "centre of mass of 4D-STEM diffraction patterns"),
        Option("centre", value: "KY,KX", help: "reference centre for --com (default: the centre of mass of the mean pattern)"),
        Option("mask", value: "ARRAY", help: "detector pixels counted by --com: a ky×kx array, nonzero = counted"),
        Option("radius", value: "R", help: "count only detector pixels within R of the centre (--com)"),
        Option.threads,
    ] + Option.streamOutput
)

/// Where the spectra come from: an array (read one image row at a time) or a stream.
enum Input {
    case array(ArraySource)
    case stream(StreamReader, field: Int)
}

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    let path = a.positionals[0]
    let com = a.flag("com")
    let specs = try a.strings("scalarizer").map(Scalarizer.parse)
    if com && !specs.isEmpty { throw DKLError.usage("--com and -S do not mix: run dkl-scalarize once for each") }
    if !com && specs.isEmpty { throw DKLError.usage("give at least one -S SPEC (or --com for a 4D-STEM cube)") }
    if !com, a.string("centre") != nil || a.string("mask") != nil || a.string("radius") != nil {
        throw DKLError.usage("--centre, --mask and --radius go with --com")
    }
    let factor = try a.int("bin", default: 1, range: 1...4096)
    let names = specs.flatMap(\.fieldNames)
    if Set(names).count != names.count { throw DKLError.usage("two scalarizers give the same field name; name them with NAME=SPEC") }

    // The input and the shape of one item (a spectrum [E] or a pattern [ky, kx]).
    let input: Input, item: [Int], sourceName: String
    if path != "-" && ArrayFile.isArrayFile(ArrayFile.split(path).0) {
        let cube = try ArrayFile.open(path)
        try cube.requireRank(com ? [4] : [3], com ? "a 4D-STEM cube H×W×ky×kx" : "a spectrum image H×W×E")
        input = .array(cube); item = Array(cube.shape.dropFirst(2)); sourceName = cube.name
    } else {
        if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let reader = try StreamReader(path: path)
        let fname = a.string("field") ?? "spectrum"
        guard reader.schema.index(of: "y") != nil, reader.schema.index(of: "x") != nil else {
            throw DKLError.data("the stream has no fields y and x", file: reader.name, location: "header")
        }
        guard let f = reader.schema.index(of: fname) else { throw DKLError.data("the stream has no field '\(fname)' (--field)", file: reader.name, location: "header") }
        let shape = reader.schema.fields[f].shape
        guard shape.count == (com ? 2 : 1) else {
            throw DKLError.data("field '\(fname)' has shape \(shape); \(com ? "--com needs patterns [ky, kx]" : "spectra need shape [E]")", file: reader.name, location: "header")
        }
        input = .stream(reader, field: f); item = shape; sourceName = reader.name
    }

    // Spectral scalarizers bound to the (binned) energy axis.
    var bound: [Scalarizer.Bound] = []
    var attrs: [(String, JSON)] = [("source", .string(sourceName))]
    if !com {
        let channels = item[0]
        guard channels / factor >= 1 else { throw DKLError.usage("--bin \(factor) leaves no channel of \(channels)") }
        var axis: EnergyAxis
        switch input {
        case let .array(cube): axis = try EnergyAxis.resolve(option: a.string("energy"), source: cube, channels: channels)
        case let .stream(r, _): axis = try EnergyAxis.resolve(option: a.string("energy"), header: r.header, channels: channels, name: r.name)
        }
        axis = EnergyAxis(values: SpectralBinning.bin(axis.values, factor))
        bound = try specs.map { s in try locating(file: sourceName) { try s.bind(axis) } }
        attrs.append(("energy_eV", JSON.array([axis.values.first!, axis.values.last!].map { .number($0) })))
        attrs.append(("bin", .number(Double(factor))))
        attrs.append(("scalarizers", JSON.array(a.strings("scalarizer").map { .string($0) })))
    }

    // --com: mask and reference centre.
    var centreOfMass: CentreOfMass?
    if com {
        let (ky, kx) = (item[0], item[1])
        var mask: [Bool]?
        if let m = a.string("mask") {
            let arr = try ArrayFile.open(m)
            guard arr.shape == [ky, kx] else { throw DKLError.data("the mask has shape \(arr.shape) but the patterns are \(ky)×\(kx)", file: m) }
            mask = try arr.readAll().map { $0 != 0 }
        }
        var centre: (y: Double, x: Double)
        if let c = a.string("centre") {
            let v = try OptionList.doubles(c, option: "centre", count: 2...2, what: "KY,KX")
            centre = (v[0], v[1])
        } else {
            guard case let .array(cube) = input else { throw DKLError.usage("--com on a stream needs --centre KY,KX") }
            // The mean pattern, one image row at a time.
            var mean = [Double](repeating: 0, count: ky * kx)
            for y in 0..<cube.shape[0] {
                try Interrupts.check()
                let row = try cube.readBlock(start: [y, 0, 0, 0], count: [1, cube.shape[1], ky, kx])
                for (i, v) in row.enumerated() where v.isFinite { mean[i % (ky * kx)] += v }
            }
            guard let c = mean.withUnsafeBufferPointer({ CentreOfMass.raw($0, height: ky, width: kx, mask: mask) }) else {
                throw DKLError.data("the mean diffraction pattern has no positive intensity", file: cube.name)
            }
            centre = c
        }
        if let r = a.string("radius") {
            guard let radius = Double(r), radius > 0 else { throw DKLError.usage("--radius must be a positive number of detector pixels") }
            let disc = (0..<(ky * kx)).map { i -> Bool in
                let (dy, dx) = (Double(i / kx) - centre.y, Double(i % kx) - centre.x)
                return dy * dy + dx * dx <= radius * radius
            }
            mask = mask.map { zip($0, disc).map { $0 && $1 } } ?? disc
        }
        centreOfMass = CentreOfMass(height: ky, width: kx, centre: centre, mask: mask)
        attrs.append(("com_centre", JSON.array([centre.y, centre.x].map { .number($0) })))
    }

    let scalarizers = centreOfMass.map { SpectrumScalarizers(centreOfMass: $0) } ?? SpectrumScalarizers(bound: bound, binning: factor)
    let fieldNames = scalarizers.fieldNames
    let schema = try Schema([Field("y", .i32), Field("x", .i32)] + fieldNames.map { Field($0, .f64) } + [Field("flags", .u8)])
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: .object(attrs)))
    let width = item.reduce(1, *)
    var flagged = 0, done = 0
    func emit(_ coords: [(Int, Int)], _ results: [(values: [Double], flags: UInt8)]) throws {
        for (k, (y, x)) in coords.enumerated() {
            var rec = RecordBuilder(schema)
            rec.set(0, int: y); rec.set(1, int: x)
            for (i, v) in results[k].0.enumerated() { rec.set(2 + i, v) }
            rec.set(2 + fieldNames.count, int: Int(results[k].1))
            if results[k].1 != 0 { flagged += 1 }
            try out.writer.write(rec.bytes)
        }
        done += coords.count
    }

    switch input {
    case let .array(cube):
        let (h, w) = (cube.shape[0], cube.shape[1])
        let progress = Progress(tool: command.name, what: "rows", total: h, enabled: inv.showsProgress)
        try scalarizers.forEachRow(of: cube) { y, results in
            try emit((0..<w).map { (y, $0) }, results)
            progress.update(y + 1)
        }
        progress.finish(h)
    case let .stream(reader, f):
        let (iy, ix) = (reader.schema.index(of: "y")!, reader.schema.index(of: "x")!)
        let progress = Progress(tool: command.name, what: "records", total: nil, enabled: inv.showsProgress)
        while let batch = try reader.nextBatch(maxRecords: 1024) {
            try Interrupts.check()
            var values = [Double](), coords: [(Int, Int)] = []
            values.reserveCapacity(batch.count * width)
            for i in 0..<batch.count {
                let r = RecordView(batch.record(i), reader.schema)
                coords.append((r.int(iy), r.int(ix)))
                values += r.doubles(f)
            }
            try emit(coords, scalarizers.evaluate(values, count: batch.count, width: width))
            progress.update(done)
        }
        progress.finish(done)
    }
    try out.commit()
    if flagged > 0 { inv.note("\(flagged) of \(done) records are flagged (NaN in the spectrum, or a failed fit): their fields are NaN") }
}
