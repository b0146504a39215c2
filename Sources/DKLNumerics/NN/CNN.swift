/// A small CNN for image patches: for each entry of `channels`, a 3×3 convolution (zero
/// padding 1), ReLU and 2×2 max pooling; then a dense layer of `hidden` units with ReLU
/// and a linear map to `embedding` features. Inputs are rows of C×H×W values.
import DKLCore

public struct CNN: FeatureNetwork {
    public let input: ImageShape
    public let channels: [Int]
    public let hidden: Int
    public let embedding: Int
    public var parameters: [Matrix]

    /// Seeded initialization as PyTorch's layers do it: uniform in ±1/√fan_in.
    public init(input: ImageShape, channels: [Int], hidden: Int, embedding: Int, seed: UInt64) {
        self.input = input; self.channels = channels; self.hidden = hidden; self.embedding = embedding
        var g = Xoshiro(seed: seed)
        func uniform(_ rows: Int, _ cols: Int, fanIn: Int) -> Matrix {
            let b = 1 / Double(fanIn).squareRoot()
            return Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in b * (2 * g.uniform() - 1) })
        }
        var params: [Matrix] = []
        var c = input.channels
        for out in channels {
            params += [uniform(out, c * 9, fanIn: c * 9), uniform(1, out, fanIn: c * 9)]
            c = out
        }
        let flat = CNN.flatShape(input, channels).count
        params += [uniform(flat, hidden, fanIn: flat), uniform(1, hidden, fanIn: flat)]
        params += [uniform(hidden, embedding, fanIn: hidden), uniform(1, embedding, fanIn: hidden)]
        parameters = params
    }

    public init(input: ImageShape, channels: [Int], hidden: Int, embedding: Int, parameters: [Matrix]) {
        self.input = input; self.channels = channels; self.hidden = hidden; self.embedding = embedding; self.parameters = parameters
    }

    /// The shape after the convolution blocks.
    static func flatShape(_ input: ImageShape, _ channels: [Int]) -> ImageShape {
        var s = input
        for c in channels { s = ImageShape(channels: c, height: s.height / 2, width: s.width / 2) }
        return s
    }

    public var inputWidth: Int { input.count }
    public var outputWidth: Int { embedding }
    public var decayMask: [Bool] { parameters.indices.map { $0 % 2 == 0 } }

    public func forward(_ x: Var, _ params: [Var]) -> Var {
        var h = x, shape = input
        for (l, _) in channels.enumerated() {
            let (conv, s1) = h.conv2d(shape, weight: params[2 * l], bias: params[2 * l + 1], kernel: 3, padding: 1)
            (h, shape) = conv.relu().maxPool(s1, size: 2)
        }
        let k = 2 * channels.count
        h = (h.matmul(params[k]) + params[k + 1]).relu()
        return h.matmul(params[k + 2]) + params[k + 3]
    }

    public func apply(_ x: Matrix) -> Matrix {
        var out = Matrix(rows: x.rows, cols: embedding)
        var start = 0
        while start < x.rows {
            let rows = min(1024, x.rows - start)
            let t = Tape()
            let y = forward(t.constant(x.rows(start..<(start + rows))), parameters.map { t.constant($0) }).value
            for i in 0..<(rows * embedding) { out.data[start * embedding + i] = y.data[i] }
            start += rows
        }
        return out
    }
}
