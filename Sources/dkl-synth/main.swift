import DKLCore
import DKLData
import DKLImaging
import DKLCommandLine

// dkl-synth: writes the toolkit's synthetic data sets: the plasmonic-particle STEM-EELS
// set it ships in share/, the lecture's field trajectories and the cards.
let command = Command(
    name: "dkl-synth",
    usage: ["[options] [plasmon] DIR", "4dstem [options] DIR", "trajectories [options]", "cards [options]"],
    summary: """
        plasmon: write a synthetic STEM-EELS data set of metal nanoparticles into DIR:
        image.npy (the HAADF-like structural image, float32 H×W) and spectra.h5 (/spectra
        float32 H×W×E, /energy in eV, /image, /truth/edge_band and /truth/gap_band:
        noise-free band integrals).
        4dstem: write a synthetic 4D-STEM data set into DIR: a square lattice of atomic
        columns (a share of them heavier) scanned by a probe: image.npy (the HAADF image,
        float32 H×W), cube.h5 (a Berkeley EMD group /4dstem: data float32 H×W×ky×kx, each
        pattern a bright-field disc deflected by the columns' field plus the electrons
        scattered out of it, summing to 1; its axes in nm and mrad) and truth.h5 (/com_y,
        /com_x, /com_magnitude: the patterns' centre of mass about the optical axis in
        detector pixels; /potential).
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
        Option("size", "s", value: "HxW", help: "grid size (plasmon, default 64x64; 4dstem, 48x48) or image size (cards, default 48x48)"),
        Option("channels", "E", value: "N", help: "plasmon: energy channels from 0.5 to 4.5 eV (default 96)"),
        Option("particles", "p", value: "N", help: "plasmon: number of particles (default 14)"),
        Option("detector", "k", value: "K", help: "4dstem: the patterns' side in detector pixels (default 32)"),
        Option("spacing", value: "A", help: "4dstem: the lattice spacing in scan pixels (default 6)"),
        Option("heavy", value: "P", help: "4dstem: the share of heavier columns (default 0.1)"),
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
    try write(inv, try SyntheticStream.trajectories(count: count, steps: steps, duration: duration, seed: try a.seed()))
}

/// Writes the set's records to the output, with progress.
func write(_ inv: Invocation, _ set: SyntheticStream) throws {
    let out = try inv.openOutput(StreamHeader(schema: set.schema, attrs: set.attributes))
    try set.write(to: out.writer, progress: Progress(tool: command.name, what: set.what, total: set.count, enabled: inv.showsProgress))
    try out.commit()
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
        suits = try OptionList.items(list, ",").map { name in
            guard let s = Card.Suit.allCases.first(where: { $0.name == name }) else { throw DKLError.usage("unknown suit '\(name)' (clubs, spades, hearts, diamonds)") }
            return s
        }
        if suits.isEmpty { throw DKLError.usage("--suits is empty") }
    }
    let grid = try a.string("grid").map { spec -> (Int, Int) in
        let v = try OptionList.ints(spec.lowercased(), option: "grid", separator: "x", count: 2...2, range: 1...10_000_000, what: "AxB, e.g. 50x50")
        guard v[0] * v[1] <= 10_000_000 else { throw DKLError.usage("--grid \(spec) makes more than 10,000,000 cards") }
        if a.string("count") != nil { throw DKLError.usage("--grid sets the number of cards: give no --count") }
        return (v[0], v[1])
    }
    try write(inv, try SyntheticStream.cards(size: dims, count: count, grid: grid, rotation: rotation, shear: shear, suits: suits, seed: try a.seed()))
}

func writePlasmon(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(a.positionals.first == "plasmon" ? 2...2 : 1...1)
    let dims = try size(a, default: "64x64", range: 4...4096)
    let channels = try a.int("channels", default: 96, range: 8...4096)
    let count = try a.int("particles", default: 14, range: 0...10_000)
    var scene = PlasmonScene(height: dims[0], width: dims[1], channels: channels, particles: count, seed: try a.seed())
    try scene.write(to: a.positionals.last!, argv: Array(inv.argv.dropFirst()),
                    progress: Progress(tool: command.name, what: "rows", total: dims[0], enabled: inv.showsProgress))
}

func write4DSTEM(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(2...2)
    let dims = try size(a, default: "48x48", range: 4...1024)
    let k = try a.int("detector", default: 32, range: 8...512)
    guard dims[0] * dims[1] * k * k <= 1 << 30 else { throw DKLError.usage("--size and --detector make more than 2^30 values (4 GiB)") }
    let spacing = try a.double("spacing", default: 6), heavy = try a.double("heavy", default: 0.1)
    guard spacing.isFinite, spacing >= 2, spacing <= 100 else { throw DKLError.usage("--spacing must be from 2 to 100 pixels") }
    guard heavy.isFinite, (0...1).contains(heavy) else { throw DKLError.usage("--heavy must be from 0 to 1") }
    let scene = DiffractionScene(height: dims[0], width: dims[1], detector: k, spacing: spacing, heavy: heavy, seed: try a.seed())
    try scene.write(to: a.positionals[1], argv: Array(inv.argv.dropFirst()),
                    progress: Progress(tool: command.name, what: "rows", total: dims[0], enabled: inv.showsProgress))
}

let modes = ModeOptions([("plasmon", ["size", "channels", "particles"]),
                         ("4dstem", ["size", "detector", "spacing", "heavy"]),
                         ("trajectories", ["count", "steps", "duration", "output", "ndjson", "binary", "no-provenance"]),
                         ("cards", ["size", "count", "rotation", "shear", "suits", "grid", "output", "ndjson", "binary", "no-provenance"])],
                        shared: ["seed"])

ToolMain.run(command) { inv in
    let mode = ["trajectories", "cards", "4dstem"].contains(inv.args.positionals.first ?? "") ? inv.args.positionals[0] : "plasmon"
    try modes.check(inv.args, mode: mode)
    switch mode {
    case "trajectories": try writeTrajectories(inv)
    case "cards": try writeCards(inv)
    case "4dstem": try write4DSTEM(inv)
    default: try writePlasmon(inv)
    }
}
