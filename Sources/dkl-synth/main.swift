import DKLCore
import DKLData
import DKLImaging
import DKLCommandLine

// dkl-synth: writes the toolkit's synthetic data sets: the plasmonic-particle STEM-EELS
// set it ships in share/, the lecture's field trajectories and the cards.
let command = Command(
    name: "dkl-synth",
    usage: ["[options] [plasmon] DIR", "trajectories [options]", "cards [options]"],
    summary: """
        plasmon: write a synthetic STEM-EELS data set of metal nanoparticles into DIR:
        image.npy (the HAADF-like structural image, float32 H×W) and spectra.h5 (/spectra
        float32 H×W×E, /energy in eV, /image, /truth/edge_band and /truth/gap_band:
        noise-free band integrals).
        trajectories: a stream of field histories A·exp(α·t)·sin(ω·t) + B, t = linspace(0,
        D, T), with A, α, ω, B drawn uniformly from [0, 0.75], [−2.75, 2.75], [2π, 8π/3],
        [−0.5, 0.5]: records {id, A, alpha, omega, B, field[T]}.
        cards: a stream of card-suit glyphs (clubs, spades, hearts, diamonds) drawn
        procedurally, rotated by an angle uniform in ±--rotation degrees and sheared by one
        in ±--shear degrees: records {id, suit (0-3 in that order), angle, shear, image[H,W]}
        with intensities in [0, 1].
        The same seed gives the same output.
        """,
    options: [
        Option("size", "s", value: "HxW", help: "grid size (plasmon, default 64x64) or image size (cards, default 48x48)"),
        Option("channels", "E", value: "N", help: "plasmon: energy channels from 0.5 to 4.5 eV (default 96)"),
        Option("particles", "p", value: "N", help: "plasmon: number of particles (default 14)"),
        Option("count", "n", value: "N", help: "trajectories, cards: number of records (default 7500, 4000)"),
        Option("steps", "T", value: "T", help: "trajectories: time points (default 900)"),
        Option("duration", value: "D", help: "trajectories: times are linspace(0, D, T) (default 1)"),
        Option("rotation", value: "DEG", help: "cards: angles uniform in [-DEG, DEG] (default 120)"),
        Option("shear", value: "DEG", help: "cards: shears uniform in [-DEG, DEG] (default 20)"),
        Option("suits", value: "LIST", help: "cards: comma-separated suits to draw from (default clubs,spades,hearts,diamonds)"),
        Option("grid", value: "AxB", help: "cards: lay A·B cards out on an A×B grid (fields y, x), for the tools that explore a grid"),
        Option.seed,
    ] + Option.streamOutput
)

/// A size option HxW with both sides in `range`.
func size(_ a: Arguments, default d: String, range: ClosedRange<Int>) throws -> [Int] {
    try OptionList.ints(a.string("size") ?? d, option: "size", separator: "x", count: 2...2, range: range, what: "HxW")
}

func writeTrajectories(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(1...1)
    let count = try a.int("count", default: 7500, range: 1...10_000_000)
    let steps = try a.int("steps", default: 900, range: 1...1_000_000)
    let duration = try a.double("duration", default: 1)
    guard duration.isFinite && duration > 0 else { throw DKLError.usage("--duration must be positive") }
    let schema = try Schema([Field("id", .i64), Field("A", .f64), Field("alpha", .f64), Field("omega", .f64), Field("B", .f64),
                             Field("field", .f32, shape: [steps])])
    let attrs: JSON = ["set": "trajectories", "formula": "A*exp(alpha*t)*sin(omega*t)+B", "steps": .number(Double(steps)),
                       "duration": .number(duration)]
    var g = Xoshiro(seed: try a.seed())
    try writeStream(inv, schema, attrs, count: count, what: "trajectories") { i, rec in
        let t = Trajectory(&g)
        rec.set(0, int: i)
        rec.set(1, t.amplitude); rec.set(2, t.alpha); rec.set(3, t.omega); rec.set(4, t.offset)
        rec.set(5, t.values(steps: steps, duration: duration))
    }
}

/// Writes `count` records filled in order by `fill`, with progress and ^C checks.
func writeStream(_ inv: Invocation, _ schema: Schema, _ attrs: JSON, count: Int, what: String,
                 _ fill: (Int, inout RecordBuilder) throws -> Void) throws {
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
    let progress = Progress(tool: command.name, what: what, total: count, enabled: inv.showsProgress)
    var rec = RecordBuilder(schema)
    for i in 0..<count {
        try fill(i, &rec)
        try out.writer.write(rec.bytes)
        if i % 100 == 99 { progress.update(i + 1); try Interrupts.check() }
    }
    try out.commit()
    progress.finish(count)
}

func writeCards(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(1...1)
    let dims = try size(a, default: "48x48", range: 4...1024)
    let count = try a.int("count", default: 4000, range: 1...10_000_000)
    let rotation = try a.double("rotation", default: 120), shear = try a.double("shear", default: 20)
    guard rotation.isFinite, rotation >= 0, rotation <= 180 else { throw DKLError.usage("--rotation must be from 0 to 180 degrees") }
    guard shear.isFinite, shear >= 0, shear < 60 else { throw DKLError.usage("--shear must be from 0 to below 60 degrees") }
    var suits: [Card.Suit] = Card.Suit.allCases
    if let list = a.string("suits") {
        suits = try list.split(separator: ",").map { name in
            guard let s = Card.Suit.allCases.first(where: { $0.name == name }) else {
                throw DKLError.usage("unknown suit '\(name)' (clubs, spades, hearts, diamonds)")
            }
            return s
        }
        if suits.isEmpty { throw DKLError.usage("--suits is empty") }
    }
    // On a grid, card i sits at (i / B, i mod B).
    let grid = try a.string("grid").map { spec -> (Int, Int) in
        let v = try OptionList.ints(spec.lowercased(), option: "grid", separator: "x", count: 2...2, range: 1...10_000_000, what: "AxB, e.g. 50x50")
        guard v[0] * v[1] <= 10_000_000 else { throw DKLError.usage("--grid \(spec) makes more than 10,000,000 cards") }
        if a.string("count") != nil { throw DKLError.usage("--grid sets the number of cards: give no --count") }
        return (v[0], v[1])
    }
    let total = grid.map { $0.0 * $0.1 } ?? count
    var fields = [Field("id", .i64)]
    if grid != nil { fields += [Field("y", .i32), Field("x", .i32)] }
    fields += [Field("suit", .i32), Field("angle", .f64), Field("shear", .f64), Field("image", .f32, shape: dims)]
    let schema = try Schema(fields)
    var attrs: JSON = ["set": "cards", "suits": JSON(Card.Suit.allCases.map(\.name)), "rotation": .number(rotation), "shear": .number(shear),
                       "angle_units": "degrees, counterclockwise"]
    if let grid { attrs.set("grid", JSON([grid.0, grid.1])) }
    let first = grid == nil ? 1 : 3   // the field suit
    var g = Xoshiro(seed: try a.seed())
    try writeStream(inv, schema, attrs, count: total, what: "cards") { i, rec in
        let suit = suits[Int(g.uniform() * Double(suits.count))]
        let angle = rotation * (2 * g.uniform() - 1), sh = shear * (2 * g.uniform() - 1)
        let image = Card.render(suit, angle: angle, shear: sh, height: dims[0], width: dims[1])
        rec.set(0, int: i)
        if let grid { rec.set(1, int: i / grid.1); rec.set(2, int: i % grid.1) }
        rec.set(first, int: suit.rawValue); rec.set(first + 1, angle); rec.set(first + 2, sh)
        image.withUnsafeBufferPointer { rec.set(first + 3, floats: $0) }
    }
}

func writePlasmon(_ inv: Invocation) throws {
    let a = inv.args
    if a.positionals.first == "plasmon" {
        try inv.expectPositionals(2...2)
    } else {
        try inv.expectPositionals(1...1)
    }
    let dir = a.positionals.last!
    let dims = try size(a, default: "64x64", range: 4...4096)
    let channels = try a.int("channels", default: 96, range: 8...4096)
    let count = try a.int("particles", default: 14, range: 0...10_000)
    var scene = PlasmonScene(height: dims[0], width: dims[1], channels: channels, particles: count, seed: try a.seed())
    try FileSystem.makeDirectory(dir)

    let image = scene.image()
    let progress = Progress(tool: command.name, what: "rows", total: dims[0], enabled: inv.showsProgress)
    var spectra = [Float](); spectra.reserveCapacity(dims[0] * dims[1] * channels)
    var edge = [Double](), gap = [Double]()
    let edgeBand = scene.energy.map { $0 >= 2.3 && $0 <= 3.1 }, gapBand = scene.energy.map { $0 >= 1.35 && $0 <= 2.05 }
    let dE = scene.energy[1] - scene.energy[0]
    for y in 0..<dims[0] {
        for x in 0..<dims[1] {
            let s = scene.spectrum(y: y, x: x)
            spectra += s.noisy
            edge.append(dE * zip(s.clean, edgeBand).filter(\.1).map(\.0).reduce(0, +))
            gap.append(dE * zip(s.clean, gapBand).filter(\.1).map(\.0).reduce(0, +))
        }
        progress.update(y + 1)
    }
    try NPYFile.write(dir + "/image.npy", shape: dims, values: .float(image))
    let w = try HDF5Writer(path: dir + "/spectra.h5")
    do {
        try w.write("/spectra", shape: dims + [channels], values: .float(spectra))
        try w.write("/energy", shape: [channels], values: .double(scene.energy))
        try w.write("/image", shape: dims, values: .float(image))
        try w.write("/truth/edge_band", shape: dims, values: .double(edge))
        try w.write("/truth/gap_band", shape: dims, values: .double(gap))
        try w.setAttribute("/spectra", "energy_start_eV", .number(scene.energy[0]))
        try w.setAttribute("/spectra", "energy_step_eV", .number(dE))
        try w.setAttribute("/spectra", "units", "counts (arb.)")
        try w.setAttribute("/truth/edge_band", "band_eV", [2.3, 3.1])
        try w.setAttribute("/truth/gap_band", "band_eV", [1.35, 2.05])
        try w.setAttribute("/", "generator", .string("dkl-synth \(DKLVersion.string)"))
        try w.setAttribute("/", "argv", JSON(Array(inv.argv.dropFirst())))
        try w.commit()
    } catch { w.abort(); throw error }
    progress.finish(dims[0])
}

ToolMain.run(command) { inv in
    let a = inv.args
    switch a.positionals.first {
    case "trajectories": try writeTrajectories(inv)
    case "cards": try writeCards(inv)
    default: try writePlasmon(inv)
    }
}
