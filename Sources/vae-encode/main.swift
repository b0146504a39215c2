import Foundation
import DKLCore
import DKLNumerics
import DKLData
import VAE
import DKLCommandLine
import ToolOptions

// vae-encode: train a VAE (or a rotation-invariant one) on curves or images, encode
// records to their latent distributions, decode latent points or a latent grid.
let command = Command(
    name: "vae-encode",
    usage: ["train -o MODEL [options] [INPUT]", "encode -m MODEL [options] [INPUT]", "decode -m MODEL [options] [LATENTS]",
            "decode -m MODEL --grid AxB [options]"],
    summary: """
        train: fit a variational autoencoder to the records of INPUT (a stream with one array
        field, or an NPY/HDF5 array N×D or N×H×W; stdin when absent or '-') and write it to
        the model file MODEL (HDF5). Inputs are normalized inside the model. Progress goes to
        stderr; ^C saves the last whole epoch and --init continues from it, as if training
        had never stopped.
        encode: the latent mean and log-variance of every record: {id, mean[L], logvar[L]}
        plus the input's scalar fields (labels, parameters). With --decoder rotational the
        latent is [angle (radians), shift x, shift y, content…].
        decode: curves or images for latent points (records with a field z[L], or --field)
        or for an A×B grid over the training records' latent box: {id, y, x, z[L],
        FIELD[shape]}, where FIELD is the name of the field the model was trained on.
        """,
    options: [
        Option("output", "o", value: "FILE", help: "train: the model file; encode, decode: the stream (default stdout)"),
        Option("model", "m", value: "MODEL", help: "encode, decode: the model file"),
        Option("field", value: "NAME", help: "the input's array field (default: its only one); decode: the latent field (default z)"),
        Option("latent", "L", value: "N", help: "latent dimensions (default 2; content dimensions for rotational)"),
        Option("encoder", value: "mlp|cnn", help: "the encoder (default mlp; cnn: convolution blocks first, images only)"),
        Option("encoder-channels", value: "A,B,...", help: "cnn: channels of the 3×3 convolution + 2×2 pooling blocks (default 16,32)"),
        Option("decoder", value: "mlp|rotational", help: "the decoder (default mlp; rotational: the rVAE, images only)"),
        Option("encoder-hidden", value: "A,B,...", help: "hidden widths of the encoder (default 128,128)"),
        Option("decoder-hidden", value: "A,B,...", help: "hidden widths of the decoder (default 128,128; rotational 128,128,128)"),
        Option("activation", value: "tanh|relu", help: "hidden activation (default tanh)"),
        Option("likelihood", value: "gaussian|bernoulli", help: "reconstruction term (default gaussian)"),
        Option("beta", value: "X", help: "weight of the KL term (default 1)"),
        Option("rotation-prior", value: "X", help: "rotational: prior width of the angle in radians (default 0.1)"),
        Option("rotation-consistency", value: "X", help: "rotational: weight of the angle's consistency under turns of the input (default 10; 0 for none)"),
        Option("translation-prior", value: "X", help: "rotational: scale of the shift (default 0.1)"),
        Option("epochs", value: "N", help: "training epochs (default 100)"),
        Option("batch", value: "N", help: "records per mini-batch (default 100)"),
        Option("lr", value: "X", help: "Adam's learning rate (default 0.001)"),
        Option("validation", value: "F", help: "fraction held out for early stopping (default 0.1; 0: none)"),
        Option("patience", value: "N", help: "stop after N epochs without a better held-out loss (default 20; 0: never)"),
        Option("init", value: "MODEL", help: "train: continue the training saved in MODEL"),
        Option("save-every", value: "N", help: "train: also save the model every N epochs (default 10)"),
        Option("grid", value: "AxB", help: "decode: an A×B grid over the first two content latents' box (others 0)"),
        Option.seed, Option.threads,
        Option("ndjson", "J", help: "write NDJSON (default: binary, or NDJSON to a terminal or a .ndjson/.jsonl file)"),
        Option("binary", "B", help: "write the binary encoding"),
        Option("no-provenance", help: "do not append this command to the header's provenance"),
    ]
)

func train(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(1...2)
    guard let modelPath = a.string("output") else { throw DKLError.usage("give the model file with -o MODEL") }
    let input = a.positionals.count > 1 ? a.positionals[1] : "-"
    var model: VAE, state: VAETrainingState
    // Usage errors before reading the input.
    let fresh = a.string("init") == nil ? try VAEArguments.config(a) : nil
    let fixed = ["latent", "encoder", "encoder-channels", "encoder-hidden", "decoder", "decoder-hidden", "activation", "likelihood", "beta",
                 "rotation-prior", "translation-prior", "rotation-consistency", "batch", "lr", "validation", "seed"]
    if a.string("init") != nil, let o = fixed.first(where: { a.string($0) != nil }) {
        throw DKLError.usage("--init continues the model's training as it was set up: --\(o) cannot change (only --epochs and --patience)")
    }
    let data = try RecordSet.read(input, field: a.string("field"))
    if let initPath = a.string("init") {
        let loaded = try VAE.load(from: initPath)
        guard let s = loaded.state else { throw DKLError.data("the model file holds no training state", file: initPath) }
        guard loaded.model.shape == data.shape else {
            throw DKLError.data("the model was trained on records of shape \(loaded.model.shape), the input has \(data.shape)", file: initPath)
        }
        (model, state) = (loaded.model, s)
        model.config.epochs = try a.int("epochs", default: model.config.epochs, range: 1...1_000_000)
        model.config.patience = try a.int("patience", default: model.config.patience, range: 0...1_000_000)
        if model.config.epochs > state.epoch { state.stopped = false }
    } else {
        let config = try fresh ?? VAEArguments.config(a)
        try VAEArguments.checkShape(config, data.shape)
        let norm = VAE.normalization(data.values, likelihood: config.likelihood)
        model = VAE(config: config, shape: data.shape, field: data.field, offset: norm.offset, scale: norm.scale)
        state = VAETrainingState(parameters: model.parameters, learningRate: config.learningRate)
    }
    var run = VAETrainingRun(model: model, state: state, path: modelPath)
    run.saveEvery = try a.int("save-every", default: 10, range: 1...1_000_000)
    run.provenance = [StreamHeader.provenanceEntry(tool: command.name, argv: Array(inv.argv.dropFirst()))]
    Interrupts.deferExit = true   // ^C ends the epoch loop; the last whole epoch is saved
    let summary = try run.run(model.normalized(data.values, count: data.count), records: data.count,
                              progress: Progress(tool: command.name, what: "epochs", total: model.config.epochs, enabled: inv.showsProgress))
    let out = ByteWriter.stdout()
    try out.write(summary.text + "\n")
    try out.flush()
}

func encode(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(1...2)
    let (model, modelPath) = try VAEArguments.loadModel(a)
    let reader = try RecordReader(a.positionals.count > 1 ? a.positionals[1] : "-", field: a.string("field"), preferring: model.field)
    let encoding = try VAEEncoding(model: model, reader: reader)
    let out = try inv.openOutput(StreamHeader(schema: encoding.schema, attrs: ["model": .string(modelPath), "latent": JSON(model.latentNames)]))
    try encoding.run(reader) { try out.writer.write($0) }
    try out.commit()
}

func decode(_ inv: Invocation) throws {
    let a = inv.args
    try inv.expectPositionals(1...2)
    let (model, modelPath) = try VAEArguments.loadModel(a)
    let points: LatentPoints
    if let g = a.string("grid") {
        if a.positionals.count > 1 { throw DKLError.usage("give latent points or --grid, not both") }
        let (rows, cols) = try VAEArguments.grid(g, model)
        points = LatentPoints(grid: rows, cols, model: model)
    } else {
        points = try LatentPoints(stream: a.positionals.count > 1 ? a.positionals[1] : "-", field: a.string("field") ?? "z", width: model.latentWidth)
    }
    let decoding = try VAEDecoding(model: model)
    let out = try inv.openOutput(StreamHeader(schema: decoding.schema, attrs: ["model": .string(modelPath), "latent": JSON(model.latentNames)]))
    try decoding.run(points) { try out.writer.write($0) }
    try out.commit()
}

let modes = ModeOptions([("train", ["latent", "encoder", "encoder-channels", "decoder", "encoder-hidden", "decoder-hidden", "activation", "likelihood", "beta",
                                    "rotation-prior", "rotation-consistency", "translation-prior", "epochs", "batch", "lr", "validation", "patience",
                                    "init", "save-every", "seed"]),
                         ("encode", ["model", "ndjson", "binary", "no-provenance"]),
                         ("decode", ["model", "grid", "ndjson", "binary", "no-provenance"])],
                        shared: ["output", "field", "threads"])

ToolMain.run(command) { inv in
    let mode = inv.args.positionals.first
    if let mode, ["train", "encode", "decode"].contains(mode) { try modes.check(inv.args, mode: mode) }
    switch mode {
    case "train": try train(inv)
    case "encode": try encode(inv)
    case "decode": try decode(inv)
    case nil: throw DKLError.usage("missing mode: train, encode or decode")
    case let m?: throw DKLError.usage("unknown mode '\(m)' (train, encode or decode)")
    }
}
