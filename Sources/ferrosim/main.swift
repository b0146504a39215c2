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
        Option("r", value: "R", help: "neighbours are the sites within distance R (default 1.1: the nearest four)"),
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
    guard model.neighbourRadius >= 1 else { throw DKLError.usage("--r must be at least 1 (the nearest neighbours)") }
    if let l = a.string("landau") {
        let v = try OptionList.doubles(l, option: "landau", count: 2...3, what: "A1,A2 or A1,A2,A3")
        model.alpha = (v[0], v[1], v.count == 3 ? v[2] : 0)
    }
    for (option, keyPath) in [("k-file", \FerroModel.k), ("dep-alpha-file", \FerroModel.depAlpha)] {
        guard let f = a.string(option) else { continue }
        let arr = try ArrayFile.open(f)
        guard arr.count == n * n else { throw DKLError.data("expected \(n * n) values (one per site), found shape \(arr.shape)", file: f) }
        model[keyPath: keyPath] = try arr.readAll()
    }
    let clean: Bool
    switch a.string("model") ?? "compat" {
    case "compat": clean = false
    case "clean": clean = true
    default: throw DKLError.usage("--model must be compat or clean")
    }
    if clean && a.string("series") != nil { throw DKLError.usage("--series is available with --model compat") }
    let seed = try a.seed()
    var rng = Xoshiro(seed: seed)
    let sites = n * n
    if let f = a.string("defects-file") {
        let d = try ArrayFile.open(f)
        guard d.count == 2 * sites else { throw DKLError.data("expected \(sites)×2 defect values, found shape \(d.shape)", file: f) }
        let v = try d.readAll()
        model.defects = (0..<sites).map { (v[2 * $0], v[2 * $0 + 1]) }
    } else if let c = try a.optionalInt("defects", range: 0...sites), c > 0 {
        let spec = try OptionList.doubles(a.string("defect-field") ?? "0,0,1,1", option: "defect-field", count: 4...4, what: "MX,MY,SX,SY")
        var order = Array(0..<sites)
        order.shuffle(using: &rng)
        for s in order.prefix(c).sorted() { model.defects[s] = (spec[0] + spec[2] * rng.normal(), spec[1] + spec[3] * rng.normal()) }
    }
    let initial: Polarization
    switch a.string("init") ?? "random" {
    case "random":
        let scale = try a.double("init-scale", default: 0.3)
        initial = Polarization(x: (0..<sites).map { _ in scale * rng.normal() }, y: (0..<sites).map { _ in scale * rng.normal() })
    case "remanent": initial = Polarization(sites: sites, value: model.remanentState)
    case let file:
        let p = try ArrayFile.open(file)
        guard p.shape == [n, n, 2] else { throw DKLError.data("an initial state must have shape [\(n), \(n), 2], not \(p.shape)", file: file) }
        let v = try p.readAll()
        initial = Polarization(x: (0..<sites).map { v[2 * $0] }, y: (0..<sites).map { v[2 * $0 + 1] })
    }

    // The histories: (id, field) pairs; the grid position (y, x) of each id when the
    // stream's records have one (a latent grid's, say), kept in the output.
    var histories: [(Int, [(Double, Double)])] = []
    var positions: [Int: (Int, Int)]?
    let shard = try a.shard()
    if let path = a.string("histories") {
        let r = try StreamReader(path: path)
        guard let fi = r.schema.index(of: "field"), r.schema.fields[fi].dtype.isFloat else {
            throw DKLError.data("the stream has no float field 'field' (the field history)", file: r.name, location: "header")
        }
        let shape = r.schema.fields[fi].shape
        guard shape.count == 1 || (shape.count == 2 && shape[1] == 2) else {
            throw DKLError.data("'field' must be [T] (E_y) or [T,2], not \(shape)", file: r.name, location: "header")
        }
        let idField = r.schema.index(of: "id")
        let (yField, xField) = (r.schema.index(of: "y"), r.schema.index(of: "x"))
        let keepsPositions = yField.map { r.schema.fields[$0].shape.isEmpty && r.schema.fields[$0].dtype.isInteger } == true
            && xField.map { r.schema.fields[$0].shape.isEmpty && r.schema.fields[$0].dtype.isInteger } == true
        if keepsPositions { positions = [:] }
        var index = 0
        while let batch = try r.nextBatch() {
            for i in 0..<batch.count {
                defer { index += 1 }
                guard index % shard.count == shard.index else { continue }
                let view = RecordView(batch.record(i), r.schema)
                let v = view.doubles(fi)
                guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the field history holds NaN or infinity", file: r.name, record: batch.firstRecord + i) }
                let pairs: [(Double, Double)] = shape.count == 1 ? v.map { (0.0, $0) } : (0..<(v.count / 2)).map { (v[2 * $0], v[2 * $0 + 1]) }
                let id = idField.map { view.int($0) } ?? index
                histories.append((id, pairs))
                if keepsPositions, let yf = yField, let xf = xField { positions?[id] = (view.int(yf), view.int(xf)) }
            }
        }
    } else if let f = a.string("field-file") {
        let arr = try ArrayFile.open(f)
        let v = try arr.readAll()
        guard arr.rank == 1 || (arr.rank == 2 && arr.shape[1] == 2) else { throw DKLError.data("a field history has shape [T] or [T, 2], not \(arr.shape)", file: f) }
        histories = [(0, arr.rank == 1 ? v.map { (0.0, $0) } : (0..<(v.count / 2)).map { (v[2 * $0], v[2 * $0 + 1]) })]
    } else {
        let t = FieldHistory.linspace(try a.int("steps", default: 900, range: 2...10_000_000), duration: 1)
        let ey = try a.string("field-y").map { try FieldHistory.parse($0, option: "field-y", times: t) } ?? t.map { _ in 0 }
        let ex = try a.string("field-x").map { try FieldHistory.parse($0, option: "field-x", times: t) } ?? t.map { _ in 0 }
        histories = [(0, Array(zip(ex, ey)))]
    }
    if !sweep.axes.isEmpty {
        let field = histories[0].1
        histories = stride(from: shard.index, to: sweep.count, by: shard.count).map { ($0, field) }
        if sweep.axes.count == 2 {
            positions = Dictionary(uniqueKeysWithValues: histories.map { h in let i = sweep.indices(h.0); return (h.0, (i[0], i[1])) })
        }
    }
    let duration = try a.double("duration", default: 1)
    let equilibrate = try a.int("equilibrate", default: 0, range: 0...10_000_000)
    let stochastic = a.flag("stochastic")
    var replay: [[Int]]?
    if let f = a.string("sites-file") {
        guard !stochastic, !clean else { throw DKLError.usage("--sites-file replays the original's choices: give it without --stochastic and --model clean") }
        let arr = try ArrayFile.open(f)
        guard arr.rank == 2 else { throw DKLError.data("expected a (T-2)×k array of site indices, found shape \(arr.shape)", file: f) }
        let v = try arr.readAll()
        guard v.allSatisfy({ $0 >= 0 && $0 < Double(sites) && $0 == $0.rounded() }) else {
            throw DKLError.data("site indices must be integers from 0 to \(sites - 1)", file: f)
        }
        replay = (0..<arr.shape[0]).map { r in (0..<arr.shape[1]).map { Int(v[r * arr.shape[1] + $0]) } }
    }
    Parallel.threads = try a.threads()

    var fields: [Field] = [Field("id", .i64)]
    if positions != nil { fields += [Field("y", .i32), Field("x", .i32)] }
    fields += sweep.axes.map { Field($0.field, .f64) }
    fields += [Field("px", .f64), Field("py", .f64), Field("p_abs", .f64), Field("sum_abs_curl", .f64), Field("curl_over_p", .f64), Field("diverged", .u8)]
    let schema = try Schema(fields)
    let firstParameter = positions != nil ? 3 : 1
    let first = firstParameter + sweep.axes.count   // the first summary field
    var attrs: JSON = ["lattice": JSON([n, n]), "mode": .string(mode.rawValue), "gamma": .number(model.gamma), "r": .number(model.neighbourRadius),
                       "landau": JSON.array([model.alpha.0, model.alpha.1, model.alpha.2].map { .number($0) }),
                       "ec": .number(model.coerciveField), "update": .string(stochastic ? "stochastic" : a.string("sites-file") != nil ? "replayed" : "deterministic"),
                       "equilibrate": .number(Double(equilibrate)), "model": .string(clean ? "clean" : "compat")]
    if !sweep.axes.isEmpty {
        attrs.set("sweep", .object(sweep.axes.map { ($0.name, JSON.array($0.values.map { .number($0) })) }))
        if sweep.axes.count == 2 { attrs.set("grid", JSON(sweep.axes.map { $0.values.count })) }
        attrs.set("items", .number(Double(sweep.count)))
    }
    // Resuming: histories already in the checkpoint are not run again.
    var checkpoint: Checkpoint?
    var finished: [Int: [UInt8]] = [:]
    if let path = a.string("checkpoint") {
        if a.string("maps") != nil || a.string("series") != nil { throw DKLError.usage("--checkpoint keeps the records only; give --maps and --series without it") }
        let skip: Set<String> = ["output", "checkpoint", "threads", "quiet", "progress", "ndjson", "binary", "no-provenance"]
        let signature = command.signature(of: Array(inv.argv.dropFirst()), skipping: skip)
        checkpoint = try Checkpoint(path: path, header: StreamHeader(schema: schema, attrs: attrs), signature: signature)
        for r in checkpoint!.records { r.withUnsafeBytes { finished[RecordView($0, schema).int(0)] = r } }
        if !finished.isEmpty { inv.note("resuming: \(finished.count) of \(histories.count) histories are in \(path)") }
        Interrupts.deferExit = true
    }
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
    let progress = Progress(tool: command.name, what: "histories", total: histories.count, enabled: inv.showsProgress)
    let arrays = try FerroOutput(maps: a.string("maps"), series: a.string("series"), count: histories.count, n: n)
    defer { arrays.abort() }
    var diverged = 0
    var done = 0
    let batchSize = 256
    while done < histories.count {
        let batch = Array(histories[done..<min(done + batchSize, histories.count)])
        let todo = batch.filter { finished[$0.0] == nil }
        let results = Ferro.runAll(todo, model: model, initial: initial, duration: duration, equilibrate: equilibrate,
                                   stochastic: stochastic, seed: seed, keepMaps: arrays.keepsMaps,
                                   clean: clean, keepSeries: arrays.keepsSeries, replay: replay,
                                   models: sweep.axes.isEmpty ? nil : todo.map { sweep.model($0.0, from: model) })
        var fresh: [[UInt8]] = []
        for (k, r) in results.enumerated() {
            var rec = RecordBuilder(schema)
            rec.set(0, int: todo[k].0)
            if let (y, x) = positions?[todo[k].0] { rec.set(1, int: y); rec.set(2, int: x) }
            if !sweep.axes.isEmpty { for (j, v) in sweep.point(todo[k].0).enumerated() { rec.set(firstParameter + j, v) } }
            rec.set(first, r.summary.meanP.0); rec.set(first + 1, r.summary.meanP.1); rec.set(first + 2, r.summary.magnitude)
            rec.set(first + 3, r.summary.sumAbsCurl); rec.set(first + 4, r.summary.curlOverP); rec.set(first + 5, r.summary.diverged ? 1 : 0)
            fresh.append(rec.bytes)
            finished[todo[k].0] = rec.bytes
        }
        try checkpoint?.append(fresh)
        try arrays.append(ids: todo.map(\.0), results)
        for h in batch {
            let rec = finished[h.0]!
            if rec[rec.count - 1] == 1 { diverged += 1 }
            try out.writer.write(rec)
        }
        done += batch.count
        progress.update(done)
        if Interrupts.signalNumber != 0, let c = checkpoint {
            throw DKLError(.interrupted, "interrupted: \(finished.count) of \(histories.count) histories are in \(c.path); run the same command to resume")
        }
    }
    try arrays.commit()
    try out.commit()
    checkpoint?.remove()
    progress.finish(done)
    if diverged > 0 {
        inv.note("\(diverged) of \(histories.count) histories diverged (explicit Euler with too large a step: use more time points); their records have diverged = 1")
    }
}
