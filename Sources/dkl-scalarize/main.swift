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
        for a bias sweep); NAME=SPEC names the field. --com gives the centre of mass of
        the diffraction patterns of a 4D-STEM cube H×W×ky×kx (com_x, com_y, com_magnitude,
        com_angle). A spectrum with NaN, or a failed fit, gives NaN fields and a nonzero flags;
        --saturation flags spectra that reach the detector's limit.
        """,
    options: [
        Option("scalarizer", "S", value: "[NAME=]SPEC", repeatable: true, help: "a scalarizer (repeatable), see above"),
        Option("energy", value: "START:STEP|FILE", help: "the energy axis in the file's unit, eV unless it says (default: from the file or the stream's header)"),
        Option("bin", value: "K", help: "average K adjacent channels first (default 1)"),
        Option("saturation", value: "LEVEL", help: "flag (4) every spectrum or pattern with a value of magnitude LEVEL or more: the ADC's maximum count, a lock-in's rail"),
        Option("field", value: "NAME", help: "the spectrum field of a stream input (default spectrum)"),
        Option("com", help: "centre of mass of 4D-STEM diffraction patterns"),
        Option("centre", value: "KY,KX", help: "reference centre for --com (default: the centre of mass of the mean pattern)"),
        Option("mask", value: "ARRAY", help: "detector pixels counted by --com: a ky×kx array, nonzero = counted"),
        Option("radius", value: "R", help: "count only detector pixels within R of the centre (--com)"),
        Option.threads,
    ] + Option.streamOutput
)

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
    let input = try SpectrumSource.open(path, field: a.string("field") ?? "spectrum", itemRank: com ? 2 : 1)
    let (item, sourceName) = (input.item, input.name)

    // Spectral scalarizers bound to the (binned) energy axis.
    var bound: [Scalarizer.Bound] = []
    var attrs: [(String, JSON)] = [("source", .string(sourceName))] + (input.pixelSize?.attributes ?? [])
    if !com {
        let channels = item[0]
        guard channels / factor >= 1 else { throw DKLError.usage("--bin \(factor) leaves no channel of \(channels)") }
        let unbinned = try input.energyAxis(option: a.string("energy"), channels: channels)
        let axis = EnergyAxis(values: SpectralBinning.bin(unbinned.values, factor), unit: unbinned.unit)
        bound = try specs.map { s in try locating(file: sourceName) { try s.bind(axis) } }
        attrs.append(("energy_range", JSON.array([axis.values.first!, axis.values.last!].map { .number($0) })))
        attrs.append(("energy_unit", .string(axis.unit)))
        attrs.append(("bin", .number(Double(factor))))
        attrs.append(("scalarizers", JSON.array(a.strings("scalarizer").map { .string($0) })))
    }

    // --com: mask and reference centre.
    var centreOfMass: CentreOfMass?
    if com {
        let (ky, kx) = (item[0], item[1])
        var mask = try a.string("mask").map { try CentreOfMass.loadMask($0, height: ky, width: kx) }
        let centre: (y: Double, x: Double)
        if let c = a.string("centre") {
            let v = try OptionList.doubles(c, option: "centre", count: 2...2, what: "KY,KX")
            centre = (v[0], v[1])
        } else {
            guard case let .array(cube) = input else { throw DKLError.usage("--com on a stream needs --centre KY,KX") }
            centre = try CentreOfMass.reference(cube, mask: mask)
        }
        if let r = a.string("radius") {
            guard let radius = Double(r), radius > 0, radius.isFinite else { throw DKLError.usage("--radius must be a positive number of detector pixels") }
            let disc = CentreOfMass.disc(height: ky, width: kx, centre: centre, radius: radius)
            mask = mask.map { zip($0, disc).map { $0 && $1 } } ?? disc
        }
        centreOfMass = CentreOfMass(height: ky, width: kx, centre: centre, mask: mask)
        attrs.append(("com_centre", JSON.array([centre.y, centre.x].map { .number($0) })))
    }

    var scalarizers = centreOfMass.map { SpectrumScalarizers(centreOfMass: $0) } ?? SpectrumScalarizers(bound: bound, binning: factor)
    scalarizers.saturation = try a.string("saturation").map { try SaturationLevel.parse($0) }
    if let level = scalarizers.saturation { attrs.append(("saturation", .number(level))) }
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
