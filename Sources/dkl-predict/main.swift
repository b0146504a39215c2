import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging
import DeepKernel
import DKLCommandLine
import ToolOptions

// dkl-predict: a model file and a stream of patches → {y, x, mean, var} per patch, in chunks.
let command = Command(
    name: "dkl-predict",
    usage: ["--model MODEL [options] [PATCHES]", "--model FIT [options] [CANDIDATES]"],
    summary: """
        Predict the target at every patch of PATCHES (a stream from dkl-patches; stdin when
        absent or '-') with the model file MODEL from dkl-train: one record {y, x, mean, var}
        per patch, in the input's order, where var is the latent variance (the model's
        uncertainty about the mean; add the header's noise_var for a new measurement's).
        Patches are read, predicted and written in chunks, so memory stays bounded however
        many there are. --shard K/N splits them between the N tasks of a job array by
        whole chunks (chunk c to task c mod N + 1), each predicted exactly as one process
        predicts it: 'dkl-cat --merge y,x' of the tasks' outputs is the one-process output.
        With a fit from dkl-fit, CANDIDATES are records holding its inputs (the fields it
        was fitted on, or an array field 'inputs'): the prediction is the posterior
        mixture over its draws, with its central 95% interval (lo, hi), and each record also
        carries every draw's mean and latent variance (draw_mean, draw_var: at most --draws
        of them, evenly spaced), over which dkl-acquire averages its acquisition.
        """,
    options: [
        Option("model", "m", value: "MODEL", help: "the model file (from dkl-train)"),
        Option("field", value: "NAME", help: "the patch field (default patch)"),
        Option("noisy", help: "var includes the noise variance (the spread of a new measurement; a learnt noise model's where each patch is)"),
        Option("embedding", help: "add the first member's embedding, a field embedding[e]"),
        Option("chunk", value: "N", help: "patches per chunk (default 8192)"),
        Option("draws", value: "S", help: "a fit: the posterior's draws to predict with (default 100, evenly spaced; all when fewer)"),
        Option.threads, Option.precision,
        Option("shard", value: "K/N", help: "handle only the chunks c with c mod N = K-1 (a Slurm array task)"),
    ] + Option.streamOutput
)

ToolMain.run(command) { inv in
    let a = inv.args
    try inv.expectPositionals(0...1)
    guard let modelPath = a.string("model") else { throw DKLError.usage("give the model file with --model MODEL") }
    let chunk = try a.int("chunk", default: 8192, range: 1...10_000_000)
    let (shard, shards) = try a.shard()
    if !FileManager.default.fileExists(atPath: modelPath) { throw DKLError.data("no such file", file: modelPath) }
    if BayesianFit.isFitFile(modelPath) {
        if let o = ["field", "embedding", "precision"].first(where: { a.string($0) != nil || a.flag($0) }) { throw DKLError.usage("--\(o) goes with a DKL model, not a fit") }
        let fit = try BayesianFit.load(from: modelPath)
        let path = a.positionals.first ?? "-"
        if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let predictions = try FitPredictions(fit: fit, candidates: try StreamReader(path: path), draws: try a.int("draws", default: 100, range: 1...100_000),
                                             noisy: a.flag("noisy"))
        let out = try inv.openOutput(StreamHeader(schema: predictions.schema, attrs: predictions.attributes(model: modelPath, shard: shard, shards: shards)))
        let progress = Progress(tool: command.name, what: "candidates", total: predictions.count, enabled: inv.showsProgress)
        try predictions.run(chunk: chunk, shard: shard, shards: shards, progress: progress) { try out.writer.write($0) }
        try out.commit()
        return
    }
    if a.string("draws") != nil { throw DKLError.usage("--draws goes with a fit from dkl-fit") }
    var ensemble = try DKLEnsemble.load(from: modelPath)
    if let p = try a.variancePrecision() { for k in ensemble.members.indices { ensemble.members[k].config.variancePrecision = p } }
    let posteriors = try locating(file: modelPath) { try ensemble.posteriors() }
    let width = ensemble.members[0].trainInputs.cols

    let path = a.positionals.first ?? "-"
    if path != "-" && !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
    let reader = try StreamReader(path: path)
    let fieldName = a.string("field") ?? "patch"
    guard let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x") else {
        throw DKLError.data("the patches have no fields y and x", file: reader.name, location: "header")
    }
    guard let ip = reader.schema.index(of: fieldName) else { throw DKLError.data("the patches have no field '\(fieldName)'", file: reader.name, location: "header") }
    guard reader.schema.fields[ip].count == width else {
        throw DKLError.data("the patches have \(reader.schema.fields[ip].count) values but the model was trained on \(width)", file: reader.name, location: "header")
    }
    // Patches cut differently from the training ones predict garbage: say so.
    for key in ["window", "normalize", "even", "border"] {
        if let was = ensemble.inputs[key], let now = reader.header.attrs[key], was != now {
            inv.note("warning: the patches' \(key) is \(now.text) but the model was trained with \(was.text)")
        }
    }

    let withEmbedding = a.flag("embedding")
    let e = ensemble.members[0].config.extractor == .none ? width : ensemble.members[0].config.embedding
    var fields = [Field("y", .i32), Field("x", .i32), Field("mean", .f64), Field("var", .f64)]
    if withEmbedding { fields.append(Field("embedding", .f64, shape: [e])) }
    let schema = try Schema(fields)
    let (slot, noisy) = (schema.slots, a.flag("noisy"))
    let noise = ensemble.noiseVariance, learntNoise = ensemble.members[0].config.noise == .learnt
    let attrs: JSON = ["model": .string(modelPath), "members": .number(Double(ensemble.members.count)), "noise_var": .number(noise),
                       "var": .string(a.flag("noisy") ? "noisy" : "latent"), "shard": .string("\(shard + 1)/\(shards)"),
                       "variance_precision": .array(ensemble.precisionsInUse(posteriors).map { .string($0.rawValue) })]
    let out = try inv.openOutput(StreamHeader(schema: schema, attrs: attrs))
    let progress = Progress(tool: command.name, what: "patches", total: nil, enabled: inv.showsProgress)
    var index = 0, written = 0
    var coords: [(Int, Int)] = [], values: [Double] = []
    func flush() throws {
        guard !coords.isEmpty else { return }
        let x = Matrix(rows: coords.count, cols: width, data: values)
        let combined = try ensemble.predict(x, posteriors: posteriors)
        // A learnt noise model's noise where each patch is; the others' the same everywhere.
        let pointNoise = noisy && learntNoise ? ensemble.noiseVariances(x) : []
        let z = withEmbedding ? ensemble.members[0].embed(x) : nil
        var rec = RecordBuilder(schema)
        for (k, (y, xx)) in coords.enumerated() {
            rec.set(slot["y"]!, int: y); rec.set(slot["x"]!, int: xx)
            rec.set(slot["mean"]!, combined.mean[k])
            rec.set(slot["var"]!, combined.variance[k] + (pointNoise.isEmpty ? (noisy ? noise : 0) : pointNoise[k]))
            if let z { rec.set(slot["embedding"]!, Array(z.data[(k * e)..<((k + 1) * e)])) }
            try out.writer.write(rec.bytes)
        }
        written += coords.count
        coords.removeAll(keepingCapacity: true); values.removeAll(keepingCapacity: true)
        progress.update(written)
        try Interrupts.check()
    }
    while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
        for i in 0..<batch.count {
            defer { index += 1 }
            guard (index / chunk) % shards == shard else { continue }
            let r = RecordView(batch.record(i), reader.schema)
            let p = r.doubles(ip)
            guard p.allSatisfy(\.isFinite) else {
                throw DKLError.data("the patch at (\(r.int(iy)), \(r.int(ix))) holds NaN or infinity", file: reader.name, record: index + 1)
            }
            coords.append((r.int(iy), r.int(ix)))
            values += p
            if coords.count == chunk { try flush() }
        }
    }
    try flush()
    try out.commit()
    progress.finish(written)
}
