/// What a VAE is and how it is trained: everything `vae-encode train` takes, stored in the
/// model file.
import DKLCore
import DKLNumerics
import DKLData

public struct VAEConfig: Sendable, Equatable {
    public enum Encoder: String, Sendable, CaseIterable {
        /// An MLP on all values.
        case mlp
        /// Convolution blocks, then an MLP (images).
        case cnn
    }
    public enum Decoder: String, Sendable, CaseIterable {
        /// An MLP from the latent to all values at once.
        case mlp
        /// The rotation-invariant VAE's per-pixel decoder on a rotated, shifted grid (images).
        case rotational
    }
    public enum Likelihood: String, Sendable, CaseIterable {
        /// Σ (x − x̂)² per record (inputs standardized).
        case gaussian
        /// Σ binary cross-entropy of x against the sigmoid of the output (inputs scaled to [0, 1]).
        case bernoulli
    }

    public var encoder: Encoder = .mlp
    /// The convolution blocks' channels (cnn encoder).
    public var encoderChannels = [16, 32]
    public var decoder: Decoder = .mlp
    /// The content latents (the rotational decoder adds angle and shift in front).
    public var latent = 2
    public var encoderHidden = [128, 128]
    public var decoderHidden = [128, 128]
    public var activation: NetActivation = .tanh
    public var likelihood: Likelihood = .gaussian
    /// The weight of the KL term.
    public var beta = 1.0
    /// The rotational VAE's prior width of the angle (radians) and scale of the shift.
    public var rotationPrior = 0.1
    public var translationPrior = 0.1
    /// The weight λ of the rotational encoder's consistency term (0: none): each training
    /// record is also encoded turned by a random angle δ, and λ·(1 − cos(φ′ − φ − δ)) asks
    /// the angle to turn with it.
    public var rotationConsistency = 0.0
    public var epochs = 100
    public var batch = 100
    public var learningRate = 1e-3
    public var validationFraction = 0.1
    /// Stop when the validation loss has not improved for this many epochs (0: never).
    public var patience = 20
    public var seed: UInt64 = 0

    public init() {}

    /// The latent width: content plus [angle, shift x, shift y] for the rotational decoder.
    public var latentWidth: Int { latent + (decoder == .rotational ? 3 : 0) }

    public var json: JSON {
        [
            "encoder": .string(encoder.rawValue), "encoder_channels": JSON(encoderChannels), "decoder": .string(decoder.rawValue), "latent": .number(Double(latent)), "encoder_hidden": JSON(encoderHidden),
            "decoder_hidden": JSON(decoderHidden), "activation": .string(activation.rawValue), "likelihood": .string(likelihood.rawValue),
            "beta": .number(beta), "rotation_prior": .number(rotationPrior), "translation_prior": .number(translationPrior),
            "rotation_consistency": .number(rotationConsistency),
            "epochs": .number(Double(epochs)), "batch": .number(Double(batch)), "learning_rate": .number(learningRate),
            "validation_fraction": .number(validationFraction), "patience": .number(Double(patience)), "seed": .string(String(seed)),
        ]
    }

    public init(json j: JSON) throws {
        func num(_ k: String) throws -> Double {
            guard let v = j[k]?.doubleValue, v.isFinite else { throw DKLError.data("VAE configuration lacks '\(k)'") }
            return v
        }
        func int(_ k: String) throws -> Int {
            guard let v = j[k]?.intValue else { throw DKLError.data("VAE configuration lacks the integer '\(k)'") }
            return v
        }
        guard let d = j["decoder"]?.stringValue.flatMap(Decoder.init), let a = j["activation"]?.stringValue.flatMap(NetActivation.init),
              let l = j["likelihood"]?.stringValue.flatMap(Likelihood.init), let eh = j["encoder_hidden"]?.intArray,
              let dh = j["decoder_hidden"]?.intArray, let s = j["seed"]?.stringValue.flatMap({ UInt64($0) }) else {
            throw DKLError.data("damaged VAE configuration")
        }
        decoder = d; activation = a; likelihood = l; seed = s
        encoder = j["encoder"]?.stringValue.flatMap(Encoder.init) ?? .mlp
        if let c = j["encoder_channels"] {
            guard let v = c.intArray else { throw DKLError.data("damaged VAE configuration (encoder_channels)") }
            encoderChannels = v
        }
        encoderHidden = eh; decoderHidden = dh
        latent = try int("latent"); beta = try num("beta")
        rotationPrior = try num("rotation_prior"); translationPrior = try num("translation_prior")
        rotationConsistency = j["rotation_consistency"]?.doubleValue ?? 0
        epochs = try int("epochs"); batch = try int("batch"); learningRate = try num("learning_rate")
        validationFraction = try num("validation_fraction"); patience = try int("patience")
        guard latent >= 0, latentWidth >= 1, !encoderHidden.isEmpty, !decoderHidden.isEmpty,
              (encoderHidden + decoderHidden + encoderChannels).allSatisfy({ $0 > 0 }), !encoderChannels.isEmpty else { throw DKLError.data("damaged VAE configuration") }
    }
}
