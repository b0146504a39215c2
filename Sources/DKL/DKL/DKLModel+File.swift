import Foundation

/// A DKL model as one HDF5 file that holds everything needed to predict again, bit for
/// bit: the configuration, the network's weights, the GP's raw hyperparameters, the
/// embedding scaling, the target standardization, the variance calibration, the training
/// inputs and targets, the loss curve and the provenance.
///
///     /          attrs: format "dkl-model", format_version 1, config (JSON), provenance (JSON)
///     /network/W0, /network/b0, …   (in×out and 1×out, float64)
///     /gp/raw                       [ℓ…, s, σ², c] before the positivity transform
///     /scaling/low, /scaling/scale, /scaling/target   (targetMean, targetStd, varianceScale)
///     /train/inputs, /train/targets, /train/loss
extension DKLModel {
    public static let fileFormat = "dkl-model"
    public static let fileVersion = 1

    /// Writes the model to `path` atomically.
    public func save(to path: String) throws {
        let w = try HDF5Writer(path: path)
        do {
            try w.setAttribute("/", "format", .string(DKLModel.fileFormat))
            try w.setAttribute("/", "format_version", .number(Double(DKLModel.fileVersion)))
            try w.setAttribute("/", "config", .string(config.json.text))
            try w.setAttribute("/", "provenance", .string(JSON.array(provenance).text))
            try w.setAttribute("/", "kept_iteration", .number(Double(keptIteration)))
            try w.setAttribute("/", "validation_nlpd", .number(validationNLPD.isFinite ? validationNLPD : -1))
            if let net = network {
                for (i, p) in net.parameters.enumerated() {
                    try w.write("/network/\(i % 2 == 0 ? "W" : "b")\(i / 2)", shape: [p.rows, p.cols], values: .double(p.data))
                }
            }
            try w.write("/gp/raw", shape: [rawGP.count], values: .double(rawGP.data))
            try w.write("/scaling/low", shape: [embeddingLow.count], values: .double(embeddingLow))
            try w.write("/scaling/scale", shape: [embeddingScale.count], values: .double(embeddingScale))
            try w.write("/scaling/target", shape: [3], values: .double([targetMean, targetStd, varianceScale]))
            try w.write("/train/inputs", shape: [trainInputs.rows, trainInputs.cols], values: .double(trainInputs.data))
            try w.write("/train/targets", shape: [trainTargets.count], values: .double(trainTargets))
            try w.write("/train/loss", shape: [lossCurve.count], values: .double(lossCurve))
            try w.commit()
        } catch { w.abort(); throw error }
    }

    /// Reads a model written by `save(to:)`.
    public static func load(from path: String) throws -> DKLModel {
        let f = try HDF5File(path: path)
        let root = f.attributes(at: "/")
        guard root["format"]?.stringValue == fileFormat else { throw DKLError.data("not a dkl model file (no format attribute 'dkl-model')", file: path) }
        guard root["format_version"]?.intValue == fileVersion else {
            throw DKLError.data("unsupported model file version \(root["format_version"]?.text ?? "?")", file: path)
        }
        let config = try locating(file: path) { try DKLConfig(json: try JSONParser.parse(root["config"]?.stringValue ?? "")) }
        func read(_ ds: String) throws -> (shape: [Int], values: [Double]) {
            let a = try f.dataset(ds)
            return (a.shape, try a.readAll())
        }
        var network: MLP?
        if config.extractor == .mlp {
            var params: [Matrix] = []
            var widths: [Int] = []
            var layer = 0
            while f.kind("/network/W\(layer)") == 1 {
                let w = try read("/network/W\(layer)"), b = try read("/network/b\(layer)")
                guard w.shape.count == 2, b.values.count == w.shape[1] else { throw DKLError.data("damaged network layer \(layer)", file: path) }
                if widths.isEmpty { widths.append(w.shape[0]) }
                widths.append(w.shape[1])
                params += [Matrix(rows: w.shape[0], cols: w.shape[1], data: w.values), Matrix(rows: 1, cols: w.shape[1], data: b.values)]
                layer += 1
            }
            guard layer > 0 else { throw DKLError.data("the model has no network layers", file: path) }
            network = MLP(widths: widths, activation: config.activation, parameters: params)
        }
        let raw = try read("/gp/raw").values
        let inputs = try read("/train/inputs")
        let target = try read("/scaling/target").values
        guard inputs.shape.count == 2, target.count == 3 else { throw DKLError.data("damaged training data or scaling", file: path) }
        var m = DKLModel(config: config, network: network, rawGP: Matrix(row: raw),
                         embeddingLow: try read("/scaling/low").values, embeddingScale: try read("/scaling/scale").values,
                         targetMean: target[0], targetStd: target[1],
                         trainInputs: Matrix(rows: inputs.shape[0], cols: inputs.shape[1], data: inputs.values),
                         trainTargets: try read("/train/targets").values, lossCurve: try read("/train/loss").values)
        m.varianceScale = target[2]
        m.keptIteration = root["kept_iteration"]?.intValue ?? 0
        let v = root["validation_nlpd"]?.doubleValue ?? -1
        m.validationNLPD = v < 0 ? .nan : v
        m.provenance = (try? JSONParser.parse(root["provenance"]?.stringValue ?? "[]"))?.arrayValue ?? []
        guard raw.count == m.embeddingLow.count + 3, m.embeddingScale.count == m.embeddingLow.count,
              m.trainTargets.count == m.trainInputs.rows else { throw DKLError.data("inconsistent model file", file: path) }
        return m
    }
}

extension DKLConfig {
    /// The configuration as JSON (stored in model files).
    public var json: JSON {
        var o: JSON = [
            "extractor": .string(extractor.rawValue), "hidden": JSON(hidden), "embedding": .number(Double(embedding)),
            "activation": .string(activation.rawValue), "kernel": .string(kernel.rawValue),
            "iterations": .number(Double(iterations)), "learning_rate": .number(learningRate), "weight_decay": .number(weightDecay),
            "seed": .string(String(seed)), "validation_fraction": .number(validationFraction), "validation_every": .number(Double(validationEvery)),
            "early_stopping_patience": .number(Double(earlyStoppingPatience)), "early_stopping_delta": .number(earlyStoppingDelta),
            "lengthscale_floor": .number(constraints.lengthscaleFloor), "outputscale_floor": .number(constraints.outputscaleFloor),
            "noise_floor": .number(constraints.noiseFloor),
            "initial_lengthscale": .number(initialLengthscale), "initial_outputscale": .number(initialOutputscale),
            "initial_noise": .number(initialNoise),
        ]
        func prior(_ g: GPPriors.Gamma?) -> JSON { g.map { ["shape": .number($0.shape), "rate": .number($0.rate)] } ?? .null }
        o.set("priors", ["lengthscale": prior(priors.lengthscale), "outputscale": prior(priors.outputscale), "noise": prior(priors.noise)])
        return o
    }

    public init(json j: JSON) throws {
        self.init()
        func num(_ k: String) throws -> Double {
            guard let v = j[k]?.doubleValue else { throw DKLError.data("model configuration lacks '\(k)'") }
            return v
        }
        guard let e = j["extractor"]?.stringValue.flatMap(Extractor.init), let a = j["activation"]?.stringValue.flatMap(MLP.Activation.init),
              let k = j["kernel"]?.stringValue.flatMap(Kernel.init), let h = j["hidden"]?.arrayValue,
              let s = j["seed"]?.stringValue.flatMap({ UInt64($0) }) else { throw DKLError.data("damaged model configuration") }
        extractor = e; activation = a; kernel = k; seed = s
        hidden = h.compactMap(\.intValue)
        embedding = Int(try num("embedding")); iterations = Int(try num("iterations"))
        learningRate = try num("learning_rate"); weightDecay = try num("weight_decay")
        validationFraction = try num("validation_fraction"); validationEvery = Int(try num("validation_every"))
        earlyStoppingPatience = Int(try num("early_stopping_patience")); earlyStoppingDelta = try num("early_stopping_delta")
        constraints = GPConstraints(lengthscaleFloor: try num("lengthscale_floor"), outputscaleFloor: try num("outputscale_floor"),
                                    noiseFloor: try num("noise_floor"))
        initialLengthscale = try num("initial_lengthscale"); initialOutputscale = try num("initial_outputscale")
        initialNoise = try num("initial_noise")
        func prior(_ v: JSON?) -> GPPriors.Gamma? {
            guard let v, let s = v["shape"]?.doubleValue, let r = v["rate"]?.doubleValue else { return nil }
            return .init(shape: s, rate: r)
        }
        priors = GPPriors(lengthscale: prior(j["priors"]?["lengthscale"]), outputscale: prior(j["priors"]?["outputscale"]),
                          noise: prior(j["priors"]?["noise"]))
    }
}
