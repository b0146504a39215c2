import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging
import DeepKernel
import VAE
import DKLCommandLine

/// The options of `vae-encode`, turned into a configuration, a model, latent points.
public enum VAEArguments {
    /// The training configuration from the options (`checkShape` then checks it against
    /// the records).
    public static func config(_ a: Arguments) throws -> VAEConfig {
        var c = VAEConfig()
        c.seed = try a.seed()
        if let e = a.string("encoder") {
            guard let v = VAEConfig.Encoder(rawValue: e) else { throw DKLError.usage("--encoder must be mlp or cnn") }
            c.encoder = v
        }
        c.encoderChannels = try a.widths("encoder-channels", default: c.encoderChannels)
        if let d = a.string("decoder") {
            guard let v = VAEConfig.Decoder(rawValue: d) else { throw DKLError.usage("--decoder must be mlp or rotational") }
            c.decoder = v
        }
        c.latent = try a.int("latent", default: 2, range: c.decoder == .rotational ? 0...64 : 1...64)
        c.encoderHidden = try a.widths("encoder-hidden", default: c.encoderHidden)
        c.decoderHidden = try a.widths("decoder-hidden", default: c.decoder == .rotational ? [128, 128, 128] : c.decoderHidden)
        if let v = a.string("activation") {
            guard let act = NetActivation(rawValue: v) else { throw DKLError.usage("--activation must be tanh or relu") }
            c.activation = act
        }
        if let v = a.string("likelihood") {
            guard let l = VAEConfig.Likelihood(rawValue: v) else { throw DKLError.usage("--likelihood must be gaussian or bernoulli") }
            c.likelihood = l
        }
        func positive(_ name: String, _ d: Double) throws -> Double {
            let v = try a.double(name, default: d)
            guard v.isFinite && v > 0 else { throw DKLError.usage("--\(name) must be a positive number") }
            return v
        }
        c.beta = try a.double("beta", default: 1)
        guard c.beta.isFinite && c.beta >= 0 else { throw DKLError.usage("--beta must be a number ≥ 0") }
        c.rotationPrior = try positive("rotation-prior", 0.1)
        c.translationPrior = try positive("translation-prior", 0.1)
        if a.string("rotation-consistency") != nil && c.decoder != .rotational {
            throw DKLError.usage("--rotation-consistency needs --decoder rotational")
        }
        c.rotationConsistency = try a.double("rotation-consistency", default: c.decoder == .rotational ? 10 : 0)
        guard c.rotationConsistency.isFinite && c.rotationConsistency >= 0 else { throw DKLError.usage("--rotation-consistency must be a number ≥ 0") }
        c.learningRate = try positive("lr", 1e-3)
        c.epochs = try a.int("epochs", default: 100, range: 1...1_000_000)
        c.batch = try a.int("batch", default: 100, range: 1...1_000_000)
        c.validationFraction = try a.double("validation", default: 0.1)
        guard (0..<1).contains(c.validationFraction) else { throw DKLError.usage("--validation must be in [0, 1)") }
        c.patience = try a.int("patience", default: 20, range: 0...1_000_000)
        return c
    }

    /// Whether records of `shape` suit the configuration.
    public static func checkShape(_ c: VAEConfig, _ shape: [Int]) throws {
        if c.decoder == .rotational && shape.count != 2 { throw DKLError.usage("--decoder rotational needs images (records of shape [H, W])") }
        if c.encoder == .cnn && shape.count != 2 { throw DKLError.usage("--encoder cnn needs images (records of shape [H, W])") }
        if c.encoder == .cnn && c.encoderChannels.count > 0 {
            let shrink = 1 << c.encoderChannels.count
            if shape[0] < shrink || shape[1] < shrink {
                throw DKLError.usage("--encoder cnn: \(c.encoderChannels.count) pooling blocks need images of at least \(shrink)×\(shrink)")
            }
        }
    }

    /// The model named by --model, and its path.
    public static func loadModel(_ a: Arguments) throws -> (model: VAE, path: String) {
        guard let path = a.string("model") else { throw DKLError.usage("give the model file with -m MODEL") }
        return (try VAE.load(from: path).model, path)
    }

    /// --grid AxB: the grid's rows and columns.
    public static func grid(_ spec: String, _ m: VAE) throws -> (rows: Int, cols: Int) {
        let dims = try OptionList.ints(spec, option: "grid", separator: "x", count: 2...2, range: 1...100_000, what: "AxB")
        guard dims[0] * dims[1] <= 100_000_000 else { throw DKLError.usage("--grid \(spec) has more than 100,000,000 points") }
        guard m.config.latent >= 1 else { throw DKLError.usage("--grid needs content latents") }
        return (dims[0], dims[1])
    }
}
