import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// A structured GP's fit as one HDF5 file: the model (mean function, inputs, kernel,
/// priors), the data it was fitted to and the parameters' draws (one row for MAP), from
/// which every prediction is made again.
///
///     /                attrs: format "dkl-bayes", format_version 1, model (JSON), summary (JSON), provenance (JSON)
///     /train/inputs    n×d, the inputs' columns in the model's order
///     /train/targets   n
///     /draws           S×P, the parameters' values in natural units (chains one after another)
extension BayesianFit {
    public static let fileFormat = "dkl-bayes"
    public static let fileVersion = 1

    /// The model as JSON: mean, inputs, kernel ("none"), priors, inference, chains.
    public var modelJSON: JSON {
        .object([("mean", model.mean.map { .string($0.text) } ?? .null), ("inputs", JSON(model.mean?.inputs ?? model.inputNames)),
                 ("kernel", .string(model.kernel?.rawValue ?? "none")),
                 ("priors", .object(model.parameters.map { ($0.name, .string($0.prior.description)) })),
                 ("inference", .string(inference.rawValue)), ("chains", .number(Double(chains)))])
    }

    /// What a fit says: per parameter its summary, and the diagnostics and scores.
    public var summaryJSON: JSON {
        func num(_ v: Double) -> JSON { v.isFinite ? .number(v) : .null }
        var o: [(String, JSON)] = [("inference", .string(inference.rawValue)), ("points", .number(Double(model.y.count))),
                                   ("parameters", .array(summaries.map { s in
                                       .object([("name", .string(s.name)), ("mean", num(s.mean)), ("sd", num(s.sd)), ("q2.5", num(s.q025)), ("median", num(s.median)),
                                                ("q97.5", num(s.q975)), ("rhat", num(s.rhat)), ("ess_bulk", num(s.ess)), ("mcse_mean", num(s.mcse)),
                                                ("mcse_sd", num(s.mcseSD))])
                                   })),
                                   ("log_marginal_likelihood", num(logMarginalLikelihood)), ("log_posterior_at_mode", num(logPosteriorAtMode))]
        if inference == .nuts {
            o += [("chains", .number(Double(chains))), ("draws", .number(Double(draws.count))), ("divergences", .number(Double(divergences))),
                  ("max_treedepth_hits", .number(Double(saturated))), ("step_sizes", .array(stepSizes.map(num))),
                  ("metric", .string(metric.rawValue)), ("leapfrogs_per_draw", num(leapfrogsPerDraw)),
                  ("elpd_waic", num(elpdWAIC)), ("se_waic", num(seWAIC)), ("p_waic", num(pWAIC)),
                  ("elpd_loo", num(elpdLOO)), ("se_loo", num(seLOO)), ("pareto_k_above_0.7", .number(Double(paretoKHigh)))]
        }
        o.append(("warnings", .array(warnings.map { .string($0) })))
        return .object(o)
    }

    /// Writes the fit atomically.
    public func save(to path: String, provenance: [JSON] = []) throws {
        let w = try HDF5Writer(path: path)
        do {
            try w.setAttribute("/", "format", .string(BayesianFit.fileFormat))
            try w.setAttribute("/", "format_version", .number(Double(BayesianFit.fileVersion)))
            try w.setAttribute("/", "model", .string(modelJSON.text))
            try w.setAttribute("/", "summary", .string(summaryJSON.text))
            try w.setAttribute("/", "provenance", .string(JSON.array(provenance).text))
            try w.write("/train/inputs", shape: [model.x.rows, model.x.cols], values: .double(model.x.data))
            try w.write("/train/targets", shape: [model.y.count], values: .double(model.y))
            try w.write("/draws", shape: [draws.count, model.parameters.count], values: .double(draws.flatMap { $0 }))
            try w.commit()
        } catch { w.abort(); throw error }
    }

    /// Whether `path` is a fit file (its format attribute).
    public static func isFitFile(_ path: String) -> Bool {
        guard let f = try? HDF5File(path: path), let root = try? f.attributes(at: "/") else { return false }
        return root["format"]?.stringValue == fileFormat
    }

    /// Reads a fit written by `save(to:)`: the model rebuilt from its description, checked
    /// against the stored data and draws.
    public static func load(from path: String) throws -> BayesianFit {
        let f = try HDF5File(path: path)
        let root = try f.attributes(at: "/")
        guard root["format"]?.stringValue == fileFormat else { throw DKLError.data("not a dkl fit file (no format attribute '\(fileFormat)')", file: path) }
        guard root["format_version"]?.intValue == fileVersion else { throw DKLError.data("unsupported fit file version \(root["format_version"]?.text ?? "?")", file: path) }
        let spec: JSON
        do { spec = try JSONParser.parse(root["model"]?.stringValue ?? "") } catch { throw DKLError.data("damaged model description", file: path) }
        guard let inputs = spec["inputs"]?.arrayValue?.compactMap(\.stringValue), let kernelName = spec["kernel"]?.stringValue,
              case let .object(priorList) = spec["priors"] ?? .null, let inference = spec["inference"]?.stringValue.flatMap(Inference.init),
              let chains = spec["chains"]?.intValue, chains >= 1 else { throw DKLError.data("damaged model description", file: path) }
        func read(_ ds: String) throws -> (shape: [Int], values: [Double]) {
            let a = try f.dataset(ds)
            let v = try a.readAll()
            if let bad = v.firstIndex(where: { !$0.isFinite }) { throw DKLError.data("\(ds) holds \(v[bad]) at element \(bad) (NaN or infinity)", file: path) }
            return (a.shape, v)
        }
        let xi = try read("/train/inputs"), yi = try read("/train/targets"), di = try read("/draws")
        guard xi.shape.count == 2, xi.shape[1] == inputs.count, yi.shape == [xi.shape[0]], di.shape.count == 2 else {
            throw DKLError.data("damaged data or draws (shapes \(xi.shape), \(yi.shape), \(di.shape))", file: path)
        }
        let kernel: Kernel? = kernelName == "none" ? nil : Kernel(rawValue: kernelName)
        if kernelName != "none" && kernel == nil { throw DKLError.data("unknown kernel '\(kernelName)'", file: path) }
        let mean = try locating(file: path) { try spec["mean"]?.stringValue.map { try MeanExpression($0, inputs: inputs, option: "the model's mean") } }
        var priors: [String: Prior] = [:]
        for (name, v) in priorList {
            guard let text = v.stringValue else { throw DKLError.data("damaged prior of '\(name)'", file: path) }
            priors[name] = try locating(file: path) { try Prior.parse(text, name: "the model's prior of \(name)") }
        }
        let model = try locating(file: path) {
            try StructuredGP(mean: mean, kernel: kernel, x: Matrix(rows: xi.shape[0], cols: xi.shape[1], data: xi.values), y: yi.values, priors: priors, inputNames: inputs)
        }
        guard di.shape[1] == model.parameters.count, di.shape[0] >= 1, di.shape[0] % chains == 0 else {
            throw DKLError.data("/draws has \(di.shape[1]) parameters and \(di.shape[0]) rows; the model has \(model.parameters.count) parameters, \(chains) chain(s)", file: path)
        }
        let p = di.shape[1]
        let draws = (0..<di.shape[0]).map { Array(di.values[($0 * p)..<(($0 + 1) * p)]) }
        return BayesianFit(model: model, inference: inference, draws: draws, chains: chains, summaries: [])
    }
}

extension BayesianFit {
    /// The draws as stream records {chain, draw, <parameter>…} (natural units), for plots
    /// and other tools; the header's attributes carry the model.
    public func drawsSchema() throws -> Schema {
        try Schema([Field("chain", .i32), Field("draw", .i32)] + model.parameters.map { Field($0.name, .f64) })
    }

    public func writeDraws(_ writer: StreamWriter) throws {
        let schema = try drawsSchema()
        let per = draws.count / max(chains, 1)
        for (i, d) in draws.enumerated() {
            var r = RecordBuilder(schema)
            r.set(0, int: i / max(per, 1)); r.set(1, int: i % max(per, 1))
            for (k, v) in d.enumerated() { r.set(k + 2, v) }
            try writer.write(r.bytes)
        }
    }
}
