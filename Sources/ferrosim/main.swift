import Foundation
import DKLCore
import DKLData
import FerroSim
import DKLCommandLine

// ferrosim: the FerroSIM lattice ferroelectric under applied-field histories, one output
// record per history (from options, an array, or a stream of histories).
let command = Command(
    name: "ferrosim",
    usage: ["[options]", "--histories STREAM [options]"],
    summary: """
        Simulate FerroSIM, a square lattice of polarization vectors with a Landau energy,
        nearest-neighbour coupling, depolarization and random-field defects, exactly as the
        original integrates it (explicit Euler on a time vector). Each field history gives
        one record {id, px, py, p_abs, sum_abs_curl, curl_over_p, diverged}: the final mean
        polarization, Σ|curl| and FerroSim_Env's reward. Fields are in units of Ec.
        --sweep runs one history at every point of a grid of Hamiltonian parameters instead
        (records {id, [y, x,] PARAMETER…, …}).
        """,
    options: [
        Option("model", value: "compat|clean", help: "compat: exactly as the original integrates (default); clean: the lecture's gradient flow"),
        Option("size", "n", value: "N", help: "lattice side (default 20)"),
        Option("steps", "T", value: "T", help: "time points of a history given by options (default 900)"),
        Option("duration", value: "D", help: "times are linspace(0, D, T) (default 1)"),
        Option("mode", "m", value: "MODE", help: "tetragonal (default), rhombohedral, squareelectric, uniaxial"),
        Option("landau", value: "A1,A2[,A3]", help: "Landau coefficients (default: the mode's)"),
        Option("gamma", value: "G", help: "relaxation rate γ (default 1)"),
        Option("k", value: "K", help: "coupling constant (default 1)"),
        Option("dep-alpha", value: "A", help: "depolarization (default 0)"),
        Option("r", value: "R", help: "neighbours are the sites within distance R, from 1 to min(64, N) (default 1.1: the nearest four)"),
        Option("k-file", value: "ARRAY", help: "coupling per site (N or n×n values)"),
        Option("dep-alpha-file", value: "ARRAY", help: "depolarization per site (N or n×n values)"),
        Option("defects", value: "COUNT", help: "random-field defects at COUNT random sites (default 0)"),
        Option("defect-field", value: "MX,MY,SX,SY", help: "defect field mean and spread in Ec (default 0,0,1,1)"),
        Option("defects-file", value: "ARRAY", help: "per-site defect field (N×2 or n×n×2), in Ec"),
        Option("init", value: "STATE", help: "random (default), remanent, or an array n×n×2"),
        Option("init-scale", value: "S", help: "standard deviation of the random initial state (default 0.3)"),
        Option("field-y", "E", value: "A,alpha,omega,B", help: "E_y = A·exp(alpha·t)·sin(omega·t) + B (default 0)"),
        Option("field-x", value: "A,alpha,omega,B", help: "E_x, the same way (default 0)"),
        Option("field-file", value: "ARRAY", help: "the field history: T values (E_y) or T×2 (E_x, E_y)"),
        Option("histories", value: "STREAM", help: "many histories: records with a field 'field' [T] (E_y) or [T,2]"),
        Option("sweep", value: "NAME=LO:HI:N", repeatable: true,
               help: "a grid of parameters (k, dep-alpha, gamma, a1, a2, a3), N values each; two make an N1×N2 grid {y, x}"),
        Option("equilibrate", value: "N", help: "append N steps holding the last field value"),
        Option("stochastic", help: "update a random quarter of the sites per step (seeded), as the original's default"),
        Option("sites-file", value: "ARRAY", help: "replay the sites to update: row t-2 lists those of step t (T-2 rows)"),
        Option("checkpoint", value: "FILE", help: "log finished histories to FILE; run the same command again to resume"),
        Option("maps", value: "FILE.h5", help: "also write the final px, py and curl maps of every history"),
        Option("series", value: "FILE.h5", help: "also write mean px, py and Σ|curl| at every step of every history (compat)"),
        Option.seed, Option.threads, Option.shard,
    ] + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(0...0)
    let sweep = try ParameterSweep.parse(a.strings("sweep"))
    if !sweep.axes.isEmpty && a.string("histories") != nil { throw DKLError.usage("--sweep runs one history over a grid of parameters: give no --histories") }
    for (file, name) in [("k-file", "k"), ("dep-alpha-file", "dep-alpha")] where a.string(file) != nil {
        if sweep.axes.contains(where: { $0.name == name }) { throw DKLError.usage("--sweep sets \(name) at every site: give no --\(file)") }
    }
    let n = try a.int("size", default: 20, range: 2...4096)
    guard let mode = FerroModel.Mode(rawValue: a.string("mode") ?? "tetragonal") else {
        throw DKLError.usage("--mode must be tetragonal, rhombohedral, squareelectric or uniaxial")
    }
    var model = FerroModel(n: n, mode: mode, gamma: try a.double("gamma", default: 1), k: try a.double("k", default: 1),
                           depAlpha: try a.double("dep-alpha", default: 0))
    model.neighbourRadius = try a.double("r", default: 1.1)
    guard model.neighbourRadius >= 1, model.neighbourRadius <= Double(min(64, n)) else {
        throw DKLError.usage("--r must be from 1 (the nearest neighbours) to \(min(64, n)) (the lattice side, at most 64)")
    }
    if let l = a.string("landau") {
        let v = try OptionList.doubles(l, option: "landau", count: 2...3, what: "A1,A2 or A1,A2,A3")
        model.alpha = (v[0], v[1], v.count == 3 ? v[2] : 0)
    }
    if let f = a.string("k-file") { model.k = try model.loadSiteValues(f) }
    if let f = a.string("dep-alpha-file") { model.depAlpha = try model.loadSiteValues(f) }
    guard ["compat", "clean"].contains(a.string("model") ?? "compat") else { throw DKLError.usage("--model must be compat or clean") }
    let clean = a.string("model") == "clean"
    if clean && a.string("series") != nil { throw DKLError.usage("--series is available with --model compat") }
    let seed = try a.seed()
    var rng = Xoshiro(seed: seed)
    if let f = a.string("defects-file") {
        try model.loadDefects(f)
    } else if let c = try a.optionalInt("defects", range: 0...(n * n)), c > 0 {
        model.placeDefects(c, field: try OptionList.doubles(a.string("defect-field") ?? "0,0,1,1", option: "defect-field", count: 4...4, what: "MX,MY,SX,SY"),
                           using: &rng)
    }
    let initial: Polarization
    switch a.string("init") ?? "random" {
    case "random": initial = .random(sites: n * n, scale: try a.double("init-scale", default: 0.3), using: &rng)
    case "remanent": initial = Polarization(sites: n * n, value: model.remanentState)
    case let file: initial = try .load(file, n: n)
    }

    // The histories: from a stream (with grid positions when its records have them), an
    // array, or the options; or one history at every point of the sweep.
    let shard = try a.shard()
    var job: FerroRun
    if let path = a.string("histories") {
        let (histories, positions) = try FieldHistory.readStream(path, shard: shard)
        job = FerroRun(model: model, initial: initial, histories: histories, positions: positions)
    } else {
        let field: FieldPairs
        if let f = a.string("field-file") {
            field = try FieldHistory.load(f)
        } else {
            let t = FieldHistory.linspace(try a.int("steps", default: 900, range: 2...10_000_000), duration: 1)
            let ey = try a.string("field-y").map { try FieldHistory.parse($0, option: "field-y", times: t) } ?? t.map { _ in 0 }
            let ex = try a.string("field-x").map { try FieldHistory.parse($0, option: "field-x", times: t) } ?? t.map { _ in 0 }
            field = Array(zip(ex, ey))
        }
        job = FerroRun(model: model, initial: initial, histories: [(0, field)])
        if !sweep.axes.isEmpty { job.sweep(sweep, field: field, shard: shard) }
    }
    job.duration = try a.double("duration", default: 1)
    job.equilibrate = try a.int("equilibrate", default: 0, range: 0...10_000_000)
    job.stochastic = a.flag("stochastic")
    job.seed = seed
    job.clean = clean
    if let f = a.string("sites-file") {
        guard !job.stochastic, !clean else { throw DKLError.usage("--sites-file replays the original's choices: give it without --stochastic and --model clean") }
        job.replay = try FieldHistory.loadSites(f, sites: n * n)
    }

    let header = StreamHeader(schema: try job.schema(), attrs: job.attributes)
    var checkpoint: Checkpoint?
    if let path = a.string("checkpoint") {
        if a.string("maps") != nil || a.string("series") != nil { throw DKLError.usage("--checkpoint keeps the records only; give --maps and --series without it") }
        let skip: Set<String> = ["output", "checkpoint", "threads", "quiet", "progress", "ndjson", "binary", "no-provenance"]
        checkpoint = try Checkpoint(path: path, header: header, signature: command.signature(of: Array(inv.argv.dropFirst()), skipping: skip))
        Interrupts.deferExit = true
    }
    let out = try inv.openOutput(header)
    let arrays = try FerroOutput(maps: a.string("maps"), series: a.string("series"), count: job.histories.count, n: n)
    defer { arrays.abort() }
    let progress = Progress(tool: command.name, what: "histories", total: job.histories.count, enabled: inv.showsProgress)
    let diverged = try job.run(checkpoint: checkpoint, arrays: arrays, progress: progress, note: inv.note) { try out.writer.write($0) }
    try arrays.commit()
    try out.commit()
    checkpoint?.remove()
    if diverged > 0 {
        inv.note("\(diverged) of \(job.histories.count) histories diverged (explicit Euler with too large a step: use more time points); their records have diverged = 1")
    }
}
