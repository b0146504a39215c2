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
        Option("model", "m", value: "MODEL", help: "thompson and --batch fantasize: the model file (thompson: or a fit from dkl-fit); PREDICTIONS is then the candidates' patches (or inputs)"),
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
    let measured = try a.string("measured").map { try Candidates.measured($0, field: a.string("target")) } ?? []
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
    if thompson {
        // Thompson sampling from the model file: a DKL ensemble (the candidates' patches) or a fit (their inputs).
        let t = try Candidates.thompson(model: a.string("model")!, candidates: path, measured: measured, q: q,
                                        subset: try a.int("subset", default: 2000, range: 2...100_000), seed: try a.seed(), maximize: maximize)
        let out = try inv.openOutput(StreamHeader(schema: t.schema, attrs: t.attributes))
        for r in t.records { try out.writer.write(r) }
        try out.commit()
        return
    }
    if fantasize {
        if BayesianFit.isFitFile(a.string("model")!) { throw DKLError.usage("--batch fantasize conditions a DKL model, not a Bayesian fit") }
        let model = try DKLEnsemble.load(from: a.string("model")!)
        let candidates = try Candidates.patches(path, width: model.members[0].trainInputs.cols, purpose: "--batch fantasize")
        var fantasies = try EnsembleFantasies(ensemble: model, candidates: candidates.patches)
        let (mean, variance) = (fantasies.mean, fantasies.variance)
        let chosen = BatchSelection.greedyFantasized(&fantasies, q: q, acquisition: acquisition, best: best, maximize: maximize,
                                                     excluded: candidates.indices(of: measured))
        if chosen.count < q { inv.note("only \(chosen.count) candidates were left to choose") }
        let attrs: JSON = ["acquisition": .string(name), "batch": "fantasize", "best": best.isFinite ? .number(best) : .null,
                           "maximize": .bool(maximize), "measured": .number(Double(measured.count)), "candidates": .number(Double(candidates.coordinates.count))]
        try writeChoices(inv, attrs: attrs, chosen.map { ($0.index, $0.score) }, coords: candidates.coordinates, mean: mean, variance: variance)
        return
    }

    // The candidates.
    let candidates = try Candidates.predictions(path)
    let (coords, mean, variance) = (candidates.coordinates, candidates.mean, candidates.variance)
    let excluded = candidates.indices(of: measured)
    // A Bayesian fit's predictions carry each draw's: the acquisition is averaged over them.
    let scores = candidates.scores(acquisition, best: best, maximize: maximize)

    let attrs: JSON = ["acquisition": .string(name), "best": best.isFinite ? .number(best) : .null,
                       "maximize": .bool(maximize), "measured": .number(Double(measured.count)), "candidates": .number(Double(coords.count)),
                       "draws": .number(Double(candidates.drawMeans.first?.count ?? 0))]
    if a.flag("map") {
        let schema = try Schema([Field("y", .i32), Field("x", .i32), Field("score", .f64), Field("measured", .u8)])
        let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
        var rec = RecordBuilder(schema)
        for k in coords.indices {
            rec.set("y", int: coords[k].0); rec.set("x", int: coords[k].1); rec.set("score", scores[k]); rec.set("measured", int: excluded.contains(k) ? 1 : 0)
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
        rec.set("y", int: coords[k].0); rec.set("x", int: coords[k].1); rec.set("score", score); rec.set("mean", mean[k]); rec.set("var", variance[k])
        try out.writer.write(rec.bytes)
    }
    try out.commit()
}
