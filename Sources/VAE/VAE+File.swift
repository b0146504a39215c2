import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// A VAE as one HDF5 file: everything to encode and decode again bit for bit, and the
/// training state to continue training exactly where it stopped.
///
///     /               attrs: format "dkl-vae", format_version 1, config (JSON), shape, field,
///                     offset, scale, provenance (JSON)
///     /parameters/pK  the kept (best) parameters, float32, 2-D (rows × cols)
///     /latent/low, /latent/high     the training records' latent bounding box
///     /loss/train, /loss/validation per epoch
///     /state          attrs: epoch, best_epoch, best_validation, stopped, adam_step
///     /state/parameters/pK, /state/m/pK, /state/v/pK   the last epoch's parameters and Adam moments
extension VAE {
    public static let fileFormat = "dkl-vae"
    public static let fileVersion = 1

    public func save(to path: String, state: VAETrainingState?, provenance: [JSON] = []) throws {
        let w = try HDF5Writer(path: path)
        do {
            try w.setAttribute("/", "format", .string(VAE.fileFormat))
            try w.setAttribute("/", "format_version", .number(Double(VAE.fileVersion)))
            try w.setAttribute("/", "config", .string(config.json.text))
            try w.setAttribute("/", "shape", JSON(shape))
            try w.setAttribute("/", "field", .string(field))
            try w.setAttribute("/", "offset", .number(offset))
            try w.setAttribute("/", "scale", .number(scale))
            try w.setAttribute("/", "provenance", .string(JSON.array(provenance).text))
            let shapes = parameterShapes
            func writeAll(_ group: String, _ arrays: [[Float]]) throws {
                for (k, p) in arrays.enumerated() { try w.write("\(group)/p\(k)", shape: [shapes[k].0, shapes[k].1], values: .float(p), compress: false) }
            }
            try writeAll("/parameters", parameters)
            try w.write("/latent/low", shape: [latentLow.count], values: .double(latentLow))
            try w.write("/latent/high", shape: [latentHigh.count], values: .double(latentHigh))
            if let state {
                try w.write("/loss/train", shape: [state.trainLoss.count], values: .double(state.trainLoss))
                try w.write("/loss/validation", shape: [state.validationLoss.count], values: .double(state.validationLoss))
                try writeAll("/state/parameters", state.parameters)
                if !state.adam.m.isEmpty {
                    try writeAll("/state/m", state.adam.m)
                    try writeAll("/state/v", state.adam.v)
                }
                try w.setAttribute("/state", "epoch", .number(Double(state.epoch)))
                try w.setAttribute("/state", "best_epoch", .number(Double(state.bestEpoch)))
                try w.setAttribute("/state", "best_validation", .number(state.bestValidation.isFinite ? state.bestValidation : -1))
                try w.setAttribute("/state", "stopped", .bool(state.stopped))
                try w.setAttribute("/state", "adam_step", .number(Double(state.adam.step)))
            }
            try w.commit()
        } catch { w.abort(); throw error }
    }

    /// Reads a model file; the training state too when it holds one.
    public static func load(from path: String) throws -> (model: VAE, state: VAETrainingState?, provenance: [JSON]) {
        if !FileManager.default.fileExists(atPath: path) { throw DKLError.data("no such file", file: path) }
        let f = try HDF5File(path: path)
        let root = try f.attributes(at: "/")
        guard root["format"]?.stringValue == fileFormat else { throw DKLError.data("not a VAE model file (no format attribute 'dkl-vae')", file: path) }
        guard root["format_version"]?.intValue == fileVersion else {
            throw DKLError.data("unsupported VAE model file version \(root["format_version"]?.text ?? "?")", file: path)
        }
        let config = try locating(file: path) { try VAEConfig(json: try JSONParser.parse(root["config"]?.stringValue ?? "")) }
        let shape = root["shape"]?.intArray ?? (root["shape"]?.intValue.map { [$0] } ?? [])
        guard (1...2).contains(shape.count), shape.allSatisfy({ $0 > 0 }), let field = root["field"]?.stringValue,
              let offset = root["offset"]?.doubleValue, let scale = root["scale"]?.doubleValue, scale > 0, offset.isFinite, scale.isFinite,
              shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) <= 1 << 24 else {
            throw DKLError.data("damaged VAE model file (shape, field or normalization)", file: path)
        }
        var model = VAE(config: config, shape: shape, field: field, offset: offset, scale: scale)
        let shapes = model.parameterShapes
        func readAll(_ group: String) throws -> [[Float]] {
            try shapes.enumerated().map { k, s in
                let a = try f.dataset("\(group)/p\(k)")
                guard a.shape == [s.0, s.1] else { throw DKLError.data("\(group)/p\(k) has shape \(a.shape), expected [\(s.0), \(s.1)]", file: path) }
                let v = try a.readAllFloats()
                if let bad = v.firstIndex(where: { !$0.isFinite }) {
                    throw DKLError.data("model: \(group)/p\(k) holds \(v[bad]) at element \(bad) (NaN or infinity)", file: path)
                }
                return v
            }
        }
        model.parameters = try readAll("/parameters")
        model.latentLow = try f.dataset("/latent/low").readAll()
        model.latentHigh = try f.dataset("/latent/high").readAll()
        guard model.latentLow.count == model.latentWidth, model.latentHigh.count == model.latentWidth,
              (model.latentLow + model.latentHigh).allSatisfy(\.isFinite) else {
            throw DKLError.data("damaged latent bounding box", file: path)
        }
        var state: VAETrainingState?
        if f.kind("/state") >= 0, f.kind("/state/parameters/p0") == 1 {
            let attrs = try f.attributes(at: "/state")
            var s = VAETrainingState(parameters: try readAll("/state/parameters"), learningRate: config.learningRate)
            if f.kind("/state/m/p0") == 1 {
                s.adam.m = try readAll("/state/m")
                s.adam.v = try readAll("/state/v")
            }
            s.adam.step = attrs["adam_step"]?.intValue ?? 0
            s.epoch = attrs["epoch"]?.intValue ?? 0
            s.bestEpoch = attrs["best_epoch"]?.intValue ?? 0
            guard (0...100_000_000).contains(s.adam.step), (0...1_000_000).contains(s.epoch), (0...s.epoch).contains(s.bestEpoch) else {
                throw DKLError.data("model: damaged training state (step \(s.adam.step), epoch \(s.epoch), best epoch \(s.bestEpoch))", file: path)
            }
            let b = attrs["best_validation"]?.doubleValue ?? -1
            s.bestValidation = b < 0 ? .infinity : b
            s.stopped = (attrs["stopped"]?.doubleValue ?? 0) != 0
            s.trainLoss = (try? f.dataset("/loss/train").readAll()) ?? []
            s.validationLoss = (try? f.dataset("/loss/validation").readAll()) ?? []
            state = s
        }
        let provenance = (try? JSONParser.parse(root["provenance"]?.stringValue ?? "[]"))?.arrayValue ?? []
        return (model, state, provenance)
    }
}
