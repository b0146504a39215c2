import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// A DKL model (or an ensemble of them) as one HDF5 file holding everything needed to
/// predict again, bit for bit: each member's configuration, network weights, GP raw
/// hyperparameters, embedding scaling, target standardization, variance calibration and
/// loss curve, the training inputs and targets (shared), and the provenance.
///
///     /                attrs: format "dkl-model", format_version 1, members N, provenance (JSON)
///     /train/inputs, /train/targets, /train/coordinates (n×2 y, x; optional),
///     /train/noise (each target's measured noise variance; the measured noise model's)
///                      / attrs also: inputs (JSON: the patches' header attributes; optional)
///     /members/K       attrs: config (JSON), kept_iteration, validation_nlpd, validation_coverage
///     /members/K/network/p0, p1, …        the network's parameters in order (float64, 2-D)
///     /members/K/gp/raw                   [ℓ…, s, σ², c] before the positivity transform
///     /members/K/gp/noise                 the learnt noise model's [b…, a] (its only)
///     /members/K/scaling/low, scale, target (targetMean, targetStd, varianceScale)
///     /members/K/loss
extension DKLEnsemble {
    public static let fileFormat = "dkl-model"
    public static let fileVersion = 1

    /// Writes the model file atomically.
    public func save(to path: String) throws {
        guard let first = members.first else { throw DKLError.data("an empty ensemble cannot be saved", file: path) }
        let w = try HDF5Writer(path: path)
        do {
            try w.setAttribute("/", "format", .string(DKLEnsemble.fileFormat))
            try w.setAttribute("/", "format_version", .number(Double(DKLEnsemble.fileVersion)))
            try w.setAttribute("/", "members", .number(Double(members.count)))
            try w.setAttribute("/", "provenance", .string(JSON.array(first.provenance).text))
            try w.write("/train/inputs", shape: [first.trainInputs.rows, first.trainInputs.cols], values: .double(first.trainInputs.data))
            try w.write("/train/targets", shape: [first.trainTargets.count], values: .double(first.trainTargets))
            if coordinates.count == 2 * first.trainTargets.count && !coordinates.isEmpty {
                try w.write("/train/coordinates", shape: [coordinates.count / 2, 2], values: .double(coordinates.map(Double.init)))
            }
            if !first.trainNoise.isEmpty { try w.write("/train/noise", shape: [first.trainNoise.count], values: .double(first.trainNoise)) }
            try w.setAttribute("/", "inputs", .string(inputs.text))
            for (k, m) in members.enumerated() {
                let g = "/members/\(k)"
                for (i, p) in (m.network?.parameters ?? []).enumerated() {
                    try w.write("\(g)/network/p\(i)", shape: [p.rows, p.cols], values: .double(p.data))
                }
                try w.write("\(g)/gp/raw", shape: [m.rawGP.count], values: .double(m.rawGP.data))
                if !m.noiseWeights.isEmpty { try w.write("\(g)/gp/noise", shape: [m.noiseWeights.count], values: .double(m.noiseWeights)) }
                try w.write("\(g)/scaling/low", shape: [m.embeddingLow.count], values: .double(m.embeddingLow))
                try w.write("\(g)/scaling/scale", shape: [m.embeddingScale.count], values: .double(m.embeddingScale))
                try w.write("\(g)/scaling/target", shape: [3], values: .double([m.targetMean, m.targetStd, m.varianceScale]))
                try w.write("\(g)/loss", shape: [m.lossCurve.count], values: .double(m.lossCurve))
                try w.setAttribute(g, "config", .string(m.config.json.text))
                try w.setAttribute(g, "kept_iteration", .number(Double(m.keptIteration)))
                try w.setAttribute(g, "validation_nlpd", .number(m.validationNLPD.isFinite ? m.validationNLPD : -1))
                try w.setAttribute(g, "validation_coverage", .number(m.validationCoverage.isFinite ? m.validationCoverage : -1))
            }
            try w.commit()
        } catch { w.abort(); throw error }
    }

    /// Reads a model file written by `save(to:)`.
    public static func load(from path: String) throws -> DKLEnsemble {
        let f = try HDF5File(path: path)
        let root = try f.attributes(at: "/")
        guard root["format"]?.stringValue == fileFormat else { throw DKLError.data("not a dkl model file (no format attribute 'dkl-model')", file: path) }
        guard root["format_version"]?.intValue == fileVersion else {
            throw DKLError.data("unsupported model file version \(root["format_version"]?.text ?? "?")", file: path)
        }
        // Every number a prediction is made from must be finite: a model with NaN or infinity
        // in it is damaged (it would predict NaN everywhere and exit 0).
        func read(_ ds: String) throws -> (shape: [Int], values: [Double]) {
            let a = try f.dataset(ds)
            let v = try a.readAll()
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw DKLError.data("model: \(ds) holds \(v[bad]) at element \(bad) (NaN or infinity)", file: path)
            }
            return (a.shape, v)
        }
        let inputs = try read("/train/inputs"), targets = try read("/train/targets").values
        guard inputs.shape.count == 2, targets.count == inputs.shape[0] else { throw DKLError.data("damaged training data", file: path) }
        let x = Matrix(rows: inputs.shape[0], cols: inputs.shape[1], data: inputs.values)
        let provenance = (try? JSONParser.parse(root["provenance"]?.stringValue ?? "[]"))?.arrayValue ?? []
        var trainNoise: [Double] = []
        if f.kind("/train/noise") == 1 {
            trainNoise = try read("/train/noise").values
            guard trainNoise.count == targets.count, trainNoise.allSatisfy({ $0 >= 0 }) else {
                throw DKLError.data("damaged /train/noise (a noise variance, not negative, for each of the \(targets.count) targets)", file: path)
            }
        }
        let count = root["members"]?.intValue ?? 0
        guard count >= 1 else { throw DKLError.data("the model file has no members", file: path) }
        var members: [DKLModel] = []
        for k in 0..<count {
            let g = "/members/\(k)"
            let attrs = try f.attributes(at: g)
            let config = try locating(file: path) { try DKLConfig(json: try JSONParser.parse(attrs["config"]?.stringValue ?? "")) }
            var network = try locating(file: path) { try config.makeNetwork(inputWidth: x.cols, seed: config.seed) }
            if network != nil {
                var params: [Matrix] = []
                for (i, p) in network!.parameters.enumerated() {
                    let v = try read("\(g)/network/p\(i)")
                    guard v.shape == [p.rows, p.cols] else { throw DKLError.data("network parameter \(i) of member \(k) has shape \(v.shape), expected [\(p.rows), \(p.cols)]", file: path) }
                    params.append(Matrix(rows: p.rows, cols: p.cols, data: v.values))
                }
                network!.parameters = params
            }
            let target = try read("\(g)/scaling/target").values
            guard target.count == 3, target[1] > 0, target[2] > 0, abs(target[0]) < 1e300, target[1] < 1e300, target[2] < 1e300 else {
                throw DKLError.data("model: damaged target scaling of member \(k) (mean, sd, variance scale: \(target))", file: path)
            }
            var m = DKLModel(config: config, network: network, rawGP: Matrix(row: try read("\(g)/gp/raw").values),
                             embeddingLow: try read("\(g)/scaling/low").values, embeddingScale: try read("\(g)/scaling/scale").values,
                             targetMean: target[0], targetStd: target[1], trainInputs: x, trainTargets: targets,
                             lossCurve: try read("\(g)/loss").values)
            m.varianceScale = target[2]
            m.keptIteration = attrs["kept_iteration"]?.intValue ?? 0
            let v = attrs["validation_nlpd"]?.doubleValue ?? -1
            m.validationNLPD = v < 0 ? .nan : v
            let c = attrs["validation_coverage"]?.doubleValue ?? -1
            m.validationCoverage = c < 0 ? .nan : c
            m.trainNoise = trainNoise
            if config.noise == .learnt {
                m.noiseWeights = try read("\(g)/gp/noise").values
                guard m.noiseWeights.count == m.embeddingLow.count + 1, m.noiseWeights.allSatisfy({ abs($0) < 700 }) else {
                    throw DKLError.data("model: damaged learnt noise model of member \(k)", file: path)
                }
            }
            if config.noise == .measured && trainNoise.isEmpty {
                throw DKLError.data("model: member \(k) has the measured noise model but the file has no /train/noise", file: path)
            }
            m.provenance = provenance
            guard m.rawGP.count == m.embeddingLow.count + 3, m.embeddingScale.count == m.embeddingLow.count,
                  m.embeddingLow.count == (network?.outputWidth ?? x.cols) else { throw DKLError.data("inconsistent member \(k)", file: path) }
            members.append(m)
        }
        var ensemble = DKLEnsemble(members: members)
        if f.kind("/train/coordinates") == 1 {
            let c = try read("/train/coordinates")
            guard c.shape == [targets.count, 2], c.values.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e9 }) else {
                throw DKLError.data("damaged /train/coordinates (not pixel indices)", file: path)
            }
            ensemble.coordinates = c.values.map { Int($0) }
        }
        ensemble.inputs = (try? JSONParser.parse(root["inputs"]?.stringValue ?? "{}")) ?? .object([])
        return ensemble
    }
}

extension DKLModel {
    /// What training reached, for a tool's summary: iterations, the kept one, the loss, the
    /// held-out NLPD and ±2σ coverage, the variance scale and the GP's hyperparameters.
    public var fitSummary: JSON {
        let p = gpParameters
        return ["iterations": .number(Double(lossCurve.count)), "kept_iteration": .number(Double(keptIteration)),
                "loss": .number(lossCurve.last ?? .nan), "validation_nlpd": validationNLPD.isFinite ? .number(validationNLPD) : .null,
                "validation_coverage": validationCoverage.isFinite ? .number(validationCoverage) : .null,
                "variance_scale": .number(varianceScale), "noise": .number(p.noise), "outputscale": .number(p.outputscale),
                "lengthscales": JSON.array(p.lengthscales.map { .number($0) })]
    }

    /// Writes this model alone as a model file.
    public func save(to path: String) throws { try DKLEnsemble(members: [self]).save(to: path) }

    /// Reads a model file with one member.
    public static func load(from path: String) throws -> DKLModel {
        let e = try DKLEnsemble.load(from: path)
        guard e.members.count == 1 else { throw DKLError.data("the file holds an ensemble of \(e.members.count) models", file: path) }
        return e.members[0]
    }
}

extension DKLConfig {
    /// The configuration as JSON (stored in model files).
    public var json: JSON {
        var o: JSON = [
            "extractor": .string(extractor.rawValue), "hidden": JSON(hidden), "embedding": .number(Double(embedding)),
            "cnn_channels": JSON(cnnChannels), "cnn_hidden": .number(Double(cnnHidden)), "patch_channels": .number(Double(patchChannels)),
            "ensemble": .number(Double(ensemble)), "validation_patience": .number(Double(validationPatience)),
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
        o.set("variance_precision", .string(variancePrecision.rawValue))
        if noise != .homoscedastic { o.set("noise_model", .string(noise.rawValue)) }
        o.set("priors", ["lengthscale": prior(priors.lengthscale), "outputscale": prior(priors.outputscale), "noise": prior(priors.noise)])
        return o
    }

    public init(json j: JSON) throws {
        self.init()
        func num(_ k: String) throws -> Double {
            guard let v = j[k]?.doubleValue, v.isFinite else { throw DKLError.data("model configuration lacks '\(k)'") }
            return v
        }
        func int(_ k: String) throws -> Int {
            guard let v = j[k]?.intValue else { throw DKLError.data("model configuration lacks the integer '\(k)'") }
            return v
        }
        guard let e = j["extractor"]?.stringValue.flatMap(Extractor.init), let a = j["activation"]?.stringValue.flatMap(MLP.Activation.init),
              let k = j["kernel"]?.stringValue.flatMap(Kernel.init), let h = j["hidden"]?.intArray,
              let s = j["seed"]?.stringValue.flatMap({ UInt64($0) }) else { throw DKLError.data("damaged model configuration") }
        extractor = e; activation = a; kernel = k; seed = s
        hidden = h
        if let c = j["cnn_channels"] {
            guard let v = c.intArray else { throw DKLError.data("damaged model configuration (cnn_channels)") }
            cnnChannels = v
        }
        cnnHidden = try int("cnn_hidden"); patchChannels = try int("patch_channels"); ensemble = try int("ensemble")
        validationPatience = try int("validation_patience")
        embedding = try int("embedding"); iterations = try int("iterations")
        learningRate = try num("learning_rate"); weightDecay = try num("weight_decay")
        validationFraction = try num("validation_fraction"); validationEvery = try int("validation_every")
        earlyStoppingPatience = try int("early_stopping_patience"); earlyStoppingDelta = try num("early_stopping_delta")
        constraints = GPConstraints(lengthscaleFloor: try num("lengthscale_floor"), outputscaleFloor: try num("outputscale_floor"),
                                    noiseFloor: try num("noise_floor"))
        initialLengthscale = try num("initial_lengthscale"); initialOutputscale = try num("initial_outputscale")
        initialNoise = try num("initial_noise")
        func prior(_ v: JSON?) -> GPPriors.Gamma? {
            guard let v, let s = v["shape"]?.doubleValue, let r = v["rate"]?.doubleValue else { return nil }
            return .init(shape: s, rate: r)
        }
        if let v = j["variance_precision"] {   // absent in files written before it was a setting
            guard let p = v.stringValue.flatMap(VariancePrecision.init) else { throw DKLError.data("damaged model configuration (variance_precision)") }
            variancePrecision = p
        }
        if let v = j["noise_model"] {   // absent: homoscedastic
            guard let m = v.stringValue.flatMap(NoiseModel.init) else { throw DKLError.data("damaged model configuration (noise_model)") }
            noise = m
        }
        priors = GPPriors(lengthscale: prior(j["priors"]?["lengthscale"]), outputscale: prior(j["priors"]?["outputscale"]),
                          noise: prior(j["priors"]?["noise"]))
        // Sizes and settings in the ranges the trainer accepts: a file outside them is damaged.
        let checks: [(String, Bool)] = [
            ("hidden", hidden.count <= 64 && hidden.allSatisfy { (1...65_536).contains($0) }),
            ("cnn_channels", cnnChannels.count <= 16 && cnnChannels.allSatisfy { (1...4096).contains($0) }),
            ("cnn_hidden", (1...65_536).contains(cnnHidden)), ("patch_channels", (1...4096).contains(patchChannels)),
            ("ensemble", (0...1000).contains(ensemble)), ("embedding", (1...64).contains(embedding)),
            ("iterations", (0...10_000_000).contains(iterations)), ("validation_every", (0...10_000_000).contains(validationEvery)),
            ("validation_patience", (0...10_000_000).contains(validationPatience)),
            ("early_stopping_patience", (0...10_000_000).contains(earlyStoppingPatience)),
            ("learning_rate", learningRate > 0), ("weight_decay", weightDecay >= 0), ("validation_fraction", (0..<1).contains(validationFraction)),
            ("lengthscale_floor", constraints.lengthscaleFloor >= 0), ("outputscale_floor", constraints.outputscaleFloor >= 0),
            ("noise_floor", constraints.noiseFloor >= 0),
            ("initial_lengthscale", initialLengthscale > 0), ("initial_outputscale", initialOutputscale > 0), ("initial_noise", initialNoise > 0),
            ("priors", [priors.lengthscale, priors.outputscale, priors.noise].allSatisfy { g in
                g.map { $0.shape > 0 && $0.rate > 0 && $0.shape.isFinite && $0.rate.isFinite } ?? true }),
        ]
        if let bad = checks.first(where: { !$0.1 }) { throw DKLError.data("damaged model configuration ('\(bad.0)' out of range)") }
    }
}
