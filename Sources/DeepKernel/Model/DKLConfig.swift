/// Everything that defines a DKL model and its training.
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

public struct DKLConfig: Equatable, Sendable {
    public enum Extractor: String, Sendable, CaseIterable {
        /// An MLP from the inputs to the embedding.
        case mlp
        /// A small CNN on square image patches (see `CNN`).
        case cnn
        /// No network: a plain GP on the (scaled) inputs.
        case none
    }

    public var extractor: Extractor = .mlp
    /// Hidden widths of the MLP (the input width comes from the data, the output is `embedding`).
    public var hidden: [Int] = [64, 64]
    /// The embedding's width. Four by default: with a Matérn 5/2 kernel it meets the shared
    /// benchmark's accuracy targets at 500 and 2,000 points (bench/RESULTS.md, dkl-default).
    public var embedding = 4
    /// CNN: convolution channels per block, the dense layer's width, and the patches'
    /// channels (the patch side is √(input width / channels)).
    public var cnnChannels: [Int] = [8, 16]
    public var cnnHidden = 64
    public var patchChannels = 1
    /// Number of models trained from seeds seed, seed+1, …; their moments are combined.
    /// 0 (the default) chooses by the number of points: two below 1,000, four from 1,000 up.
    /// Averaging seeds lowers the error and steadies the variance; with fewer points two
    /// members cost half as much and still meet the benchmark's targets there (bench/RESULTS.md
    /// has both sizes). Members train side by side, so on two cores four cost what three do.
    public var ensemble = 0

    /// The ensemble size used for `points` training points.
    public func members(for points: Int) -> Int { ensemble > 0 ? ensemble : points < 1000 ? 2 : 4 }
    public var activation: MLP.Activation = .relu
    public var kernel: Kernel = .matern52
    public var iterations = 500
    public var learningRate = 0.01
    /// Decoupled weight decay on the network's weights (AdamW); 0 = Adam.
    public var weightDecay = 0.0
    public var seed: UInt64 = 0
    public var constraints = GPConstraints()
    public var priors = GPPriors.none
    /// Stop when the loss has not improved by `earlyStoppingDelta` for this many iterations (0: never).
    public var earlyStoppingPatience = 0
    public var earlyStoppingDelta = 1e-4
    /// Fraction of the training points held out (seeded) to choose the iteration to keep
    /// (the best validation NLPD, checked every `validationEvery` iterations) and to
    /// calibrate the predictive variance; 0 keeps the last iteration and no calibration.
    /// Used only with at least 20 points.
    public var validationFraction = 0.2
    public var validationEvery = 10
    /// Stop when the held-out NLPD has not improved for this many iterations (0: run them all).
    public var validationPatience = 50
    /// Initial hyperparameters (before softplus floors): GPyTorch's softplus(0) by default.
    public var initialLengthscale = 0.6931471805599453
    public var initialOutputscale = 0.6931471805599453
    public var initialNoise = 0.6931471805599453
    /// The arithmetic of the variance product when the model predicts: float32 where each
    /// posterior's probes find it within `VariancePrecision.tolerance` of float64 (about
    /// twice as fast at a few thousand points), or float64 throughout.
    public var variancePrecision = VariancePrecision.single
    /// The measurements' noise: one learnt variance for all (homoscedastic); each point's
    /// own measured variance with a learnt floor over it (measured, as BoTorch's train_Yvar);
    /// or a learnt noise model, log-linear in the embedding, with the floor (learnt).
    public var noise = NoiseModel.homoscedastic

    public enum NoiseModel: String, Sendable, CaseIterable {
        case homoscedastic, measured, learnt
    }

    public init() {}

    /// The feature network this configuration builds for inputs of `width` values (nil for `.none`).
    public func makeNetwork(inputWidth width: Int, seed: UInt64) throws -> (any FeatureNetwork)? {
        switch extractor {
        case .none: return nil
        case .mlp: return MLP(widths: [width] + hidden + [embedding], activation: activation, seed: seed)
        case .cnn:
            let side = Int((Double(width / max(patchChannels, 1))).squareRoot().rounded())
            guard side * side * patchChannels == width, side >= 1 << cnnChannels.count else {
                throw DKLError.data("a CNN needs square patches of \(patchChannels) channel(s) at least \(1 << cnnChannels.count) pixels wide; the inputs have \(width) values")
            }
            return CNN(input: ImageShape(channels: patchChannels, height: side, width: side), channels: cnnChannels,
                       hidden: cnnHidden, embedding: embedding, seed: seed)
        }
    }
}
