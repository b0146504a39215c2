import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DeepKernel
import DKLCommandLine
import ToolOptions

// dkl-acquire: predictions {y, x, mean, var} → the next q points to measure (or the whole
// acquisition map), excluding and improving on the points already measured.
let command = Command(
    name: "dkl-acquire",
    usage: ["[options] [PREDICTIONS]"],
    summary: """
        Score every candidate of PREDICTIONS (a stream {y, x, mean, var} from dkl-predict;
        stdin when absent or '-') by an acquisition function and write the q best as
        records {y, x, score, mean, var}, best first, or with --map every candidate's score.
        Points already measured (--measured: a stream or array of targets, or the model file,
        which holds its training points) are never chosen, and the best measured value is
        what improvement is counted from.
        """,
    options: [
        Option("acquisition", "a", value: "NAME", help: "ei (default), logei, pi, ucb, kappa, maxvar, or thompson (with --model)"),
        Option("model", "m", value: "MODEL", help: "thompson and --batch fantasize: the model file; PREDICTIONS is then the candidates' patches"),
        Option("subset", value: "N", help: "thompson: the joint draw is over at most N candidates (default 2000)"),
        Option.seed,
        Option.threads,
        Option("measured", value: "FILE", help: "measured points: a stream with y, x and a value, an H×W array (NaN = not measured), or a model file"),
        Option("target", value: "NAME", help: "the value field of a --measured stream with several"),
        Option("best", value: "X", help: "the best value so far (default: from --measured)"),
        Option("count", value: "Q", help: "points to choose (default 1)"),
        Option("batch", value: "MODE", help: "how q > 1 points are chosen: penalize (default: damp scores around each pick) or fantasize (with --model: condition the model on each pick)"),
        Option("radius", value: "R", help: "penalize: damp scores within about R pixels of each chosen point (default 3)"),
        Option("recent", value: "N", help: "penalize: also damp around the last N measured points (default 0)"),
        Option("map", help: "write every candidate's score instead of the q best"),
    ] + Option.acquisitionParameters + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(0...1)
    let (function, name) = try a.acquisition(others: ["thompson"])
    let thompson = function == nil
    let acquisition = function ?? .maxVariance
    let batch = a.string("batch") ?? "penalize"
    guard ["penalize", "fantasize"].contains(batch) else { throw DKLError.usage("unknown --batch '\(batch)' (penalize or fantasize)") }
    let fantasize = batch == "fantasize"
    if fantasize && (thompson || a.flag("map") || a.string("radius") != nil || a.string("recent") != nil) {
        throw DKLError.usage("--batch fantasize goes with an acquisition function other than thompson, and without --map, --radius or --recent")
    }
    if (thompson || fantasize) != (a.string("model") != nil) {
        throw DKLError.usage(thompson ? "thompson draws from the model: give --model MODEL (and the patches as input)"
                             : fantasize ? "--batch fantasize conditions the model: give --model MODEL (and the patches as input)"
                             : "--model goes with -a thompson or --batch fantasize")
    }
    let maximize = !a.flag("minimize")
    let q = try a.int("count", default: 1, range: 1...1_000_000)
    let radius = try a.double("radius", default: 3)
    guard radius > 0 else { throw DKLError.usage("--radius must be positive") }
    let recentCount = try a.int("recent", default: 0, range: 0...1_000_000)

    // Measured points, in the order they were measured.
    var measured: [(y: Int, x: Int, value: Double)] = []
    if let path = a.string("measured") {
        if ArrayFile.isArrayFile(path) && HDF5File.isHDF5(path), (try? HDF5File(path: path).attributes(at: "/")["format"]?.stringValue) == DKLEnsemble.fileFormat {
            let model = try DKLEnsemble.load(from: path)
            guard model.coordinates.count == 2 * model.members[0].trainTargets.count else {
                throw DKLError.data("the model file does not record its training positions", file: path)
            }
            measured = model.members[0].trainTargets.indices.map { (model.coordinates[2 * $0], model.coordinates[2 * $0 + 1], model.members[0].trainTargets[$0]) }
        } else {
            let (values, _) = try Positions.readTargets(path, field: a.string("target"), ordered: true)
            measured = values
        }
    }
    let best: Double
    if let b = a.string("best") {
        guard let v = Double(b), v.isFinite else { throw DKLError.usage("--best must be a number") }
        best = v
    } else {
        guard !measured.isEmpty || !acquisition.needsBest else {
            throw DKLError.usage("\(name) improves on the best measured value: give --measured FILE or --best X")
        }
        best = Acquisition.best(observed: measured.map(\.value), maximize: maximize)
    }

    let path = a.positionals.first ?? "-"
    if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
    if thompson || fantasize {
        let model = try DKLEnsemble.load(from: a.string("model")!)
        let (coords, x) = try readPatches(path, width: model.members[0].trainInputs.cols, purpose: fantasize ? "--batch fantasize" : "thompson")
        let measuredKeys = Set(measured.map { Positions.key($0.y, $0.x) })
        var excluded = Set(coords.indices.filter { measuredKeys.contains(Positions.key(coords[$0].0, coords[$0].1)) })
        if fantasize {
            var fantasies = try EnsembleFantasies(ensemble: model, candidates: x)
            let (mean, variance) = (fantasies.mean, fantasies.variance)
            let chosen = BatchSelection.greedyFantasized(&fantasies, q: q, acquisition: acquisition, best: best, maximize: maximize, excluded: excluded)
            if chosen.count < q { inv.note("only \(chosen.count) candidates were left to choose") }
            let attrs: JSON = ["acquisition": .string(name), "batch": "fantasize", "best": best.isFinite ? .number(best) : .null,
                               "maximize": .bool(maximize), "measured": .number(Double(measured.count)), "candidates": .number(Double(coords.count))]
            try writeChoices(inv, attrs: attrs, chosen.map { ($0.index, $0.score) }, coords: coords, mean: mean, variance: variance)
            return
        }
        // Thompson sampling from the ensemble: per point, a member drawn at random, then one
        // joint draw of its latent function on a subset of the candidates, and its maximum.
        let seed = try a.seed()
        let subset = try a.int("subset", default: 2000, range: 2...100_000)
        let schema = try Schema([Field("y", .i32), Field("x", .i32), Field("score", .f64), Field("member", .i32)])
        let out = try inv.openOutput(StreamHeader(schema: schema, attrs: ["acquisition": "thompson", "maximize": .bool(maximize)]))
        var rng = Xoshiro(seed: seed)
        for draw in 0..<q {
            let k = Int(rng.next() % UInt64(model.members.count))
            let m = model.members[k]
            guard let pick = try Thompson.chooseWithValue(posterior: try m.posterior(), candidates: m.embed(x), maxSubset: subset,
                                                          seed: seed &+ UInt64(draw) &* 0x9E37_79B9, maximize: maximize, excluded: excluded) else { break }
            excluded.insert(pick.index)
            var rec = RecordBuilder(schema)
            rec.set(0, int: coords[pick.index].0); rec.set(1, int: coords[pick.index].1)
            rec.set(2, pick.value * m.targetStd + m.targetMean); rec.set(3, int: k)
            try out.writer.write(rec.bytes)
        }
        try out.commit()
        return
    }

    // The candidates.
    let reader = try StreamReader(path: path)
    guard let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x"),
          let im = reader.schema.index(of: "mean"), let iv = reader.schema.index(of: "var") else {
        throw DKLError.data("the predictions need fields y, x, mean and var (from dkl-predict)", file: reader.name, location: "header")
    }
    var coords: [(Int, Int)] = [], mean: [Double] = [], variance: [Double] = []
    var record = 0
    while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
        for i in 0..<batch.count {
            record += 1
            let r = RecordView(batch.record(i), reader.schema)
            let (m, v) = (r.double(im), r.double(iv))
            guard m.isFinite, v.isFinite, v >= 0 else {
                throw DKLError.data("the prediction at (\(r.int(iy)), \(r.int(ix))) has mean \(m) and variance \(v)", file: reader.name, record: record)
            }
            coords.append((r.int(iy), r.int(ix))); mean.append(m); variance.append(v)
        }
    }
    let measuredKeys = Set(measured.map { Positions.key($0.y, $0.x) })
    let excluded = Set(coords.indices.filter { measuredKeys.contains(Positions.key(coords[$0].0, coords[$0].1)) })
    let scores = acquisition.scores(mean: mean, variance: variance, best: best, maximize: maximize)

    let attrs: JSON = ["acquisition": .string(name), "best": best.isFinite ? .number(best) : .null,
                       "maximize": .bool(maximize), "measured": .number(Double(measured.count)), "candidates": .number(Double(coords.count))]
    if a.flag("map") {
        let schema = try Schema([Field("y", .i32), Field("x", .i32), Field("score", .f64), Field("measured", .u8)])
        let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
        var rec = RecordBuilder(schema)
        for k in coords.indices {
            rec.set(0, int: coords[k].0); rec.set(1, int: coords[k].1); rec.set(2, scores[k]); rec.set(3, int: excluded.contains(k) ? 1 : 0)
            try out.writer.write(rec.bytes)
        }
        try out.commit()
        return
    }
    let recent = measured.suffix(recentCount).map { ($0.y, $0.x) }
    // The first choice is the argmax; damping only acts on the later ones.
    let chosen = BatchSelection.locallyPenalized(scores: scores, coordinates: coords, q: q, radius: radius, excluded: excluded, recent: recent)
    if chosen.count < q { inv.note("only \(chosen.count) candidates were left to choose") }
    try writeChoices(inv, attrs: attrs, chosen.map { ($0, scores[$0]) }, coords: coords, mean: mean, variance: variance)
}

/// The chosen points as records {y, x, score, mean, var}, in the order chosen.
func writeChoices(_ inv: Invocation, attrs: JSON, _ chosen: [(Int, Double)], coords: [(Int, Int)], mean: [Double], variance: [Double]) throws {
    let schema = try Schema([Field("y", .i32), Field("x", .i32), Field("score", .f64), Field("mean", .f64), Field("var", .f64)])
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
    var rec = RecordBuilder(schema)
    for (k, score) in chosen {
        rec.set(0, int: coords[k].0); rec.set(1, int: coords[k].1); rec.set(2, score); rec.set(3, mean[k]); rec.set(4, variance[k])
        try out.writer.write(rec.bytes)
    }
    try out.commit()
}

/// The candidates' positions and patches (rows of `width` values) from a patches stream.
func readPatches(_ path: String, width: Int, purpose: String) throws -> ([(Int, Int)], Matrix) {
    let reader = try StreamReader(path: path)
    guard let ip = reader.schema.index(of: "patch"), let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x") else {
        throw DKLError.data("\(purpose) needs the candidates' patches (fields y, x and patch)", file: reader.name, location: "header")
    }
    guard reader.schema.fields[ip].count == width else {
        throw DKLError.data("the patches have \(reader.schema.fields[ip].count) values but the model was trained on \(width)", file: reader.name, location: "header")
    }
    var coords: [(Int, Int)] = [], values: [Double] = []
    while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
        for i in 0..<batch.count {
            let r = RecordView(batch.record(i), reader.schema)
            coords.append((r.int(iy), r.int(ix))); values += r.doubles(ip)
        }
    }
    return (coords, Matrix(rows: coords.count, cols: width, data: values))
}
