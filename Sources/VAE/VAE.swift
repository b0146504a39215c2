/// A variational autoencoder for curves (records of D values) or images (H×W): an MLP
/// encoder to the mean and log-variance of a Gaussian latent, and an MLP decoder or the
/// rotation-invariant per-pixel decoder (`CoordinateDecoder`). Inputs are normalized inside
/// the model (x′ = (x − offset)/scale, from the training data), so raw data trains and
/// decodes in its own units. Trained in Float.
import DKLCore
import DKLNumerics
import DKLData

public struct VAE: Sendable {
    public var config: VAEConfig
    /// The shape of one record: [D] or [H, W].
    public var shape: [Int]
    /// The name of the records' field it was trained on (decoded records use it too).
    public var field: String
    public var parameters: [[Float]]
    public var offset: Double
    public var scale: Double
    /// The bounding box of the training records' latent means (for decoding a grid).
    public var latentLow: [Double]
    public var latentHigh: [Double]

    public init(config: VAEConfig, shape: [Int], field: String, offset: Double, scale: Double) {
        self.config = config; self.shape = shape; self.field = field; self.offset = offset; self.scale = scale
        latentLow = [Double](repeating: -3, count: config.latentWidth)
        latentHigh = [Double](repeating: 3, count: config.latentWidth)
        parameters = []
        var g = Xoshiro(seed: config.seed)
        parameters = (convEncoder?.initialParameters(&g) ?? []) + encoder.initialParameters(&g)
        switch config.decoder {
        case .mlp: parameters += mlpDecoder.initialParameters(&g)
        case .rotational: parameters += coordinateDecoder.initialParameters(&g)
        }
    }

    /// Normalization from the training data: standardization for the Gaussian likelihood,
    /// [min, max] → [0, 1] for the Bernoulli one.
    public static func normalization(_ values: [Float], likelihood: VAEConfig.Likelihood) -> (offset: Double, scale: Double) {
        guard !values.isEmpty else { return (0, 1) }
        switch likelihood {
        case .gaussian:
            var s = 0.0, s2 = 0.0
            for v in values { s += Double(v) }
            let mean = s / Double(values.count)
            for v in values { s2 += (Double(v) - mean) * (Double(v) - mean) }
            let sd = (s2 / Double(values.count)).squareRoot()
            return (mean, sd > 0 ? sd : 1)
        case .bernoulli:
            let lo = Double(values.min()!), hi = Double(values.max()!)
            return (lo, hi > lo ? hi - lo : 1)
        }
    }

    public var inputWidth: Int { shape.reduce(1, *) }
    public var latentWidth: Int { config.latentWidth }

    /// The cnn encoder's convolution blocks (parameters first), nil for the mlp encoder.
    public var convEncoder: ConvStack? {
        guard config.encoder == .cnn, shape.count == 2 else { return nil }
        return ConvStack(height: shape[0], width: shape[1], channels: config.encoderChannels, activation: config.activation, first: 0)
    }
    /// The encoder's dense layers, to the latent mean and log-variance.
    public var encoder: DenseStack {
        let conv = convEncoder
        return DenseStack(widths: [conv?.outputWidth ?? inputWidth] + config.encoderHidden + [2 * latentWidth], activation: config.activation,
                          first: conv?.parameterCount ?? 0)
    }
    var decoderFirst: Int { (convEncoder?.parameterCount ?? 0) + encoder.parameterCount }
    public var mlpDecoder: DenseStack {
        DenseStack(widths: [latentWidth] + config.decoderHidden + [inputWidth], activation: config.activation, first: decoderFirst)
    }
    public var coordinateDecoder: CoordinateDecoder {
        CoordinateDecoder(height: shape.first ?? 1, width: shape.count == 2 ? shape[1] : 1, content: config.latent,
                          hidden: config.decoderHidden, activation: config.activation,
                          translationPrior: config.translationPrior, first: decoderFirst)
    }
    public var parameterShapes: [(Int, Int)] {
        (convEncoder?.shapes ?? []) + encoder.shapes + (config.decoder == .mlp ? mlpDecoder.shapes : coordinateDecoder.shapes)
    }

    /// The latent point at cell (row, col) of a rows×cols grid over the training records'
    /// latent box: the first content latent along the rows, the second along the columns,
    /// the others 0.
    public func gridPoint(row: Int, col: Int, rows: Int, cols: Int) -> [Double] {
        let first = config.decoder == .rotational ? 3 : 0
        func axis(_ j: Int, _ i: Int, _ n: Int) -> Double {
            n == 1 ? (latentLow[j] + latentHigh[j]) / 2 : latentLow[j] + (latentHigh[j] - latentLow[j]) * Double(i) / Double(n - 1)
        }
        var z = [Double](repeating: 0, count: latentWidth)
        if config.latent >= 1 { z[first] = axis(first, row, rows) }
        if config.latent >= 2 { z[first + 1] = axis(first + 1, col, cols) }
        return z
    }

    /// Raw records (rows) → the normalized network input.
    public func normalized(_ rows: [Float], count: Int) -> NetMatrix<Float> {
        let (o, s) = (Float(offset), Float(1 / scale))
        var t = NetMatrix(rows: count, cols: inputWidth, data: rows.map { ($0 - o) * s })
        if config.likelihood == .bernoulli { for i in 0..<t.count { t.data[i] = min(max(t.data[i], 0), 1) } }
        return t
    }

    /// The latent mean and log-variance (each B×latent) of normalized inputs.
    public func encode<T: NetScalar>(_ x: NetMatrix<T>, _ params: [[T]]) -> (mean: NetMatrix<T>, logVariance: NetMatrix<T>) {
        var cache = EncoderCache<T>()
        let out = encoderForward(x, params, cache: &cache)
        return (out.columns(0..<latentWidth), out.columns(latentWidth..<(2 * latentWidth)))
    }

    /// What the encoder's backward pass needs.
    struct EncoderCache<T: NetScalar> {
        var conv = ConvStack.Cache<T>()
        var dense: [NetMatrix<T>] = []
    }

    /// The encoder's output B×2L: the latent means, then the log-variances.
    func encoderForward<T: NetScalar>(_ x: NetMatrix<T>, _ params: [[T]], cache: inout EncoderCache<T>) -> NetMatrix<T> {
        let features = convEncoder.map { $0.forward(x, params, cache: &cache.conv) } ?? x
        return encoder.forward(features, params, cache: &cache.dense)
    }

    func encoderBackward<T: NetScalar>(_ g: NetMatrix<T>, _ params: [[T]], cache: EncoderCache<T>, grads: inout [[T]]) {
        let conv = convEncoder
        let gf = encoder.backward(g, params, cache: cache.dense, grads: &grads, inputGradient: conv != nil)
        if let conv, let gf { conv.backward(gf, params, cache: cache.conv, grads: &grads) }
    }

    /// What the decoder's backward pass needs.
    struct DecoderCache<T: NetScalar> {
        var mlp: [NetMatrix<T>] = []
        var coordinates = CoordinateDecoder.Cache<T>()
    }

    /// The decoder's raw output (B×D): the normalized mean (Gaussian) or the logits (Bernoulli).
    func decoderForward<T: NetScalar>(_ z: NetMatrix<T>, _ params: [[T]], cache: inout DecoderCache<T>) -> NetMatrix<T> {
        switch config.decoder {
        case .mlp: return mlpDecoder.forward(z, params, cache: &cache.mlp)
        case .rotational: return coordinateDecoder.forward(z, params, cache: &cache.coordinates)
        }
    }

    /// Sets the decoder's gradients in `grads`; returns the gradient of z.
    func decoderBackward<T: NetScalar>(_ g: NetMatrix<T>, _ params: [[T]], cache: DecoderCache<T>, grads: inout [[T]]) -> NetMatrix<T> {
        switch config.decoder {
        case .mlp: return mlpDecoder.backward(g, params, cache: cache.mlp, grads: &grads, inputGradient: true) ?? NetMatrix(rows: g.rows, cols: latentWidth)
        case .rotational: return coordinateDecoder.backward(g, params, cache: cache.coordinates, grads: &grads)
        }
    }

    /// The decoder's raw output (B×D): the normalized mean (Gaussian) or the logits (Bernoulli).
    public func decodeRaw<T: NetScalar>(_ z: NetMatrix<T>, _ params: [[T]]) -> NetMatrix<T> {
        var cache = DecoderCache<T>()
        return decoderForward(z, params, cache: &cache)
    }

    /// Decoded records in the data's units (B×D) for latent points z (B×latent).
    public func decode(_ z: NetMatrix<Float>) -> [Double] {
        let raw = decodeRaw(z, parameters)
        switch config.likelihood {
        case .gaussian: return raw.data.map { Double($0) * scale + offset }
        case .bernoulli: return raw.data.map { Activations.sigmoid(Double($0)) * scale + offset }
        }
    }
}
