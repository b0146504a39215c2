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
        Turn every spectrum of SPECTRA (an H×W×E spectrum image in any file dkl-formats(5)
        lists, or a stream of records with y, x and a spectrum field; '-' is stdin) into
        scalars, one record {y, x, <fields>, flags} per position, rows then columns (or in
        the stream's order).
        Each -S gives fields: integral:LO:HI, mean:LO:HI, max:LO:HI, ratio:LO1:HI1:LO2:HI2
        (of band integrals), peak:LO:HI (energy of the maximum, sub-channel), prominence:LO:HI,
        fit:gauss|lorentz:LO:HI (peak on a linear background: NAME_centre, _height, _fwhm,
        _area, _r2), edge:PRE_LO:PRE_HI:LO:HI (an EELS edge's integral above a power-law
        background fitted over the pre-edge window), edgeratio:PRE:…:LO:HI:PRE2:…:LO2:HI2 (the
        first edge over the second); bands in the energy axis's unit (eV, keV for Velox EDS, V
        for a bias sweep); NAME=SPEC names the field. The diffraction patterns of a 4D-STEM
        cube H×W×ky×kx (or a stream of patterns) take com (the centre of mass's deflection
        from --centre; com_x, com_y, com_angle), bf:R (a virtual bright field), adf:R_IN:R_OUT
        (an annular dark field) and dpc[:R_IN:R_OUT] (a four-quadrant detector: NAME_x,
        NAME_y), radii in detector pixels or, in a calibrated file, '40mrad'; --com gives com_x,
        com_y, com_magnitude and com_angle. An item with NaN, or a failed fit, gives NaN
        fields and a nonzero flags; --saturation flags items that reach the detector's limit.
        """,
    options: [
        Option("scalarizer", "S", value: "[NAME=]SPEC", repeatable: true, help: "a scalarizer (repeatable), see above"),
        Option("energy", value: "START:STEP|FILE", help: "the energy axis in the file's unit, eV unless it says (default: from the file or the stream's header)"),
        Option("bin", value: "K", help: "average K adjacent channels first (default 1)"),
        Option("counts", value: "GAIN[:OFFSET[:READ]]|dark:E0:E1", help: "the detector counts (value = GAIN·counts + OFFSET, read noise sd READ; or estimated, the offset and read noise from the dark region E0–E1): add NAME_var, each value's variance from the spectrum's own counts"),
        Option("saturation", value: "LEVEL", help: "flag (4) every spectrum or pattern with a value of magnitude LEVEL or more: the ADC's maximum count, a lock-in's rail"),
        Option("field", value: "NAME", help: "the spectrum field of a stream input (default spectrum)"),
        Option("com", help: "centre of mass of 4D-STEM diffraction patterns"),
        Option.threads,
    ] + Option.detector() + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(1...1)
    let path = a.positionals[0]
    let com = a.flag("com")
    var specs = try a.strings("scalarizer").map(Scalarizer.parse)
    if com && !specs.isEmpty { throw DKLError.usage("--com and -S do not mix: run dkl-scalarize once for each") }
    if !com && specs.isEmpty { throw DKLError.usage("give at least one -S SPEC (or --com for a 4D-STEM cube)") }
    // --com: the centre of mass's four fields.
    if com { specs = try ["com_x", "com_y", "com_magnitude", "com_angle"].map(Scalarizer.parse) }
    let patterns = specs.contains(where: \.isPattern)
    let factor = try a.int("bin", default: 1, range: 1...4096)
    if patterns && factor > 1 { throw DKLError.usage("--bin goes with spectra, not diffraction patterns") }
    let detector = try DetectorOptions(centre: a.string("centre"), mask: a.string("mask"), radius: a.string("radius"))
    let names = specs.flatMap(\.fieldNames)
    if Set(names).count != names.count { throw DKLError.usage("two scalarizers give the same field name; name them with NAME=SPEC") }

    // The input and the shape of one item (a spectrum [E] or a pattern [ky, kx]).
    let input = try SpectrumSource.open(path, field: a.string("field") ?? (patterns ? "pattern" : "spectrum"), itemRank: patterns ? 2 : 1,
                                        alternatives: a.string("field") == nil && patterns ? ["spectrum"] : [])
    let sourceName = input.name

    // The scalarizers bound to the (binned) energy axis, or to the detector.
    var bound: [Scalarizer.Bound] = []
    var attrs: [(String, JSON)] = [("source", .string(sourceName))] + (input.pixelSize?.attributes ?? [])
    var energies: [Double]?
    switch try locating(file: sourceName, { try input.geometry(for: specs, energy: a.string("energy"), detector: detector) }) {
    case let .spectrum(unbinned):
        energies = unbinned.values
        let channels = unbinned.values.count
        guard channels / factor >= 1 else { throw DKLError.usage("--bin \(factor) leaves no channel of \(channels)") }
        let axis = EnergyAxis(values: SpectralBinning.bin(unbinned.values, factor), unit: unbinned.unit)
        bound = try specs.map { s in try locating(file: sourceName) { try s.bind(axis) } }
        attrs.append(("energy_range", JSON.array([axis.values.first!, axis.values.last!].map { .number($0) })))
        attrs.append(("energy_unit", .string(axis.unit)))
        attrs.append(("bin", .number(Double(factor))))
    case let .pattern(d):
        bound = try specs.map { s in try locating(file: sourceName) { try s.bind(d) } }
        attrs.append(("com_centre", JSON.array([d.centre.y, d.centre.x].map { .number($0) })))
        if let m = d.mradPerPixel { attrs.append(("mrad_per_pixel", .number(m))) }
    }
    attrs.append(("scalarizers", JSON.array((com ? ["com_x", "com_y", "com_magnitude", "com_angle"] : a.strings("scalarizer")).map { .string($0) })))

    var scalarizers = SpectrumScalarizers(bound: bound, binning: factor)
    scalarizers.saturation = try a.string("saturation").map { try SaturationLevel.parse($0) }
    if let level = scalarizers.saturation { attrs.append(("saturation", .number(level))) }
    if let c = a.string("counts") {
        if let region = try CountNoise.darkRegion(c) {
            guard case let .array(cube) = input, let energies else { throw DKLError.usage("--counts dark:E0:E1 needs a spectrum image (an array file)") }
            let noise = try CountNoise.estimated(from: cube, energies: energies, dark: region)
            inv.note("the counts estimated from the dark region \(region.lowerBound)…\(region.upperBound): gain \(noise.gain), offset \(noise.offset), read noise \(noise.read)")
            scalarizers.noise = noise
            attrs.append(("counts", .string(noise.text)))
        } else {
            scalarizers.noise = try CountNoise.parse(c)
            attrs.append(("counts", .string(c)))
        }
    }
    let fieldNames = scalarizers.fieldNames
    let schema = try Schema([Field("y", .i32), Field("x", .i32)] + fieldNames.map { Field($0, .f64) } + [Field("flags", .u8)])
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: .object(attrs)))
    let slots = schema.slots   // looked up once: every record sets every field
    let slot = (y: slots["y"]!, x: slots["x"]!, values: fieldNames.map { slots[$0]! }, flags: slots["flags"]!)
    var flagged = 0, done = 0
    let rows: Int? = if case let .array(cube) = input { cube.shape[0] } else { nil }
    let progress = Progress(tool: command.name, what: rows == nil ? "records" : "rows", total: rows, enabled: inv.showsProgress)
    try input.scalarize(scalarizers, progress: progress) { coords, results in
        for (k, (y, x)) in coords.enumerated() {
            var rec = RecordBuilder(schema)
            rec.set(slot.y, int: y); rec.set(slot.x, int: x)
            for (i, v) in zip(slot.values, results[k].0) { rec.set(i, v) }
            rec.set(slot.flags, int: Int(results[k].1))
            if results[k].1 != 0 { flagged += 1 }
            try out.writer.write(rec.bytes)
        }
        done += coords.count
    }
    try out.commit()
    if flagged > 0 {
        let why = scalarizers.saturation == nil ? "NaN in the spectrum, or a failed fit" : "NaN in the spectrum, a failed fit, or a saturated detector"
        inv.note("\(flagged) of \(done) records are flagged (\(why))")
    }
}
