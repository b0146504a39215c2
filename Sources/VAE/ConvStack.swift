/// The convolutional front of a VAE's image encoder: blocks of a 3×3 convolution (zero
/// padding 1, as PyTorch's cross-correlation), the activation and 2×2 max pooling. A batch
/// of B images H×W with C channels is held channels-last, as a (B·H·W)×C matrix, so that a
/// convolution is one product of the unfolded windows (B·H·W)×(9C) with the kernels. The
/// last block's output, B×(H′·W′·C′), feeds the encoder's dense layers. Parameters from
/// index `first`: per block the kernels W (C′×9C, columns ordered channel, row, column of the
/// window) and the bias b (C′).
import DKLCore
import DKLNumerics
import DKLData

public struct ConvStack: Sendable, Equatable {
    public let height: Int
    public let width: Int
    public let channels: [Int]
    public let activation: NetActivation
    public let first: Int

    public init(height: Int, width: Int, channels: [Int], activation: NetActivation, first: Int) {
        precondition(!channels.isEmpty && channels.allSatisfy { $0 > 0 })
        self.height = height; self.width = width; self.channels = channels; self.activation = activation; self.first = first
    }

    /// The spatial size entering block `l` (l = channels.count: the output's).
    func size(_ l: Int) -> (Int, Int) {
        var (h, w) = (height, width)
        for _ in 0..<l { (h, w) = (h / 2, w / 2) }
        return (h, w)
    }
    func inputChannels(_ l: Int) -> Int { l == 0 ? 1 : channels[l - 1] }

    public var parameterCount: Int { 2 * channels.count }
    public var shapes: [(Int, Int)] { channels.indices.flatMap { [(channels[$0], 9 * inputChannels($0)), (1, channels[$0])] } }
    public var outputWidth: Int { let (h, w) = size(channels.count); return h * w * channels.last! }

    public func initialParameters<T: NetScalar>(_ g: inout Xoshiro) -> [[T]] {
        shapes.enumerated().map { k, s in
            let bound = 1 / Double(9 * inputChannels(k / 2)).squareRoot()
            return (0..<(s.0 * s.1)).map { _ in T(bound * (2 * g.uniform() - 1)) }
        }
    }

    public struct Cache<T: NetScalar> {
        /// Per block: its input, its activated output before pooling, and each pooled value's source row.
        var inputs: [NetMatrix<T>] = []
        var activated: [NetMatrix<T>] = []
        var sources: [[Int32]] = []
        public init() {}
    }

    /// The features B×outputWidth of images x (B×H·W).
    public func forward<T: NetScalar>(_ x: NetMatrix<T>, _ params: [[T]], cache: inout Cache<T>) -> NetMatrix<T> {
        precondition(x.cols == height * width)
        let b = x.rows
        var h = NetMatrix<T>(rows: b * height * width, cols: 1, data: x.data)
        cache = Cache()
        for l in channels.indices {
            let (hh, ww) = size(l)
            cache.inputs.append(h)
            let cols = ConvStack.unfold(h, batch: b, height: hh, width: ww)
            var y = NetMatrix.product(cols, NetMatrix(rows: channels[l], cols: cols.cols, data: params[first + 2 * l]), transB: true)
            y.addRow(params[first + 2 * l + 1])
            activation.apply(&y)
            cache.activated.append(y)
            let (pooled, source) = ConvStack.maxPool(y, batch: b, height: hh, width: ww)
            cache.sources.append(source)
            h = pooled
        }
        return NetMatrix(rows: b, cols: outputWidth, data: h.data)
    }

    /// Sets the parameters' gradients in `grads` from the gradient g (B×outputWidth) of the
    /// features (the images' gradient is not needed).
    public func backward<T: NetScalar>(_ g: NetMatrix<T>, _ params: [[T]], cache: Cache<T>, grads: inout [[T]]) {
        let b = g.rows
        var gOut = NetMatrix<T>(rows: b * outputWidth / channels.last!, cols: channels.last!, data: g.data)
        for l in stride(from: channels.count - 1, through: 0, by: -1) {
            let (hh, ww) = size(l)
            // Un-pool onto the maxima, then through the activation.
            var gy = NetMatrix<T>(rows: cache.activated[l].rows, cols: channels[l])
            for (i, s) in cache.sources[l].enumerated() { gy.data[Int(s) * channels[l] + i % channels[l]] += gOut.data[i] }
            activation.backward(&gy, output: cache.activated[l])
            let cols = ConvStack.unfold(cache.inputs[l], batch: b, height: hh, width: ww)
            grads[first + 2 * l] = NetMatrix.product(gy, cols, transA: true).data
            grads[first + 2 * l + 1] = gy.columnSums()
            if l == 0 { break }
            let dcols = NetMatrix.product(gy, NetMatrix(rows: channels[l], cols: cols.cols, data: params[first + 2 * l]))
            gOut = ConvStack.fold(dcols, batch: b, height: hh, width: ww, channels: inputChannels(l))
        }
    }

    /// im2col: row (n, y, x) holds the 3×3 window around (y, x) of image n, zero outside,
    /// ordered (channel, row, column).
    static func unfold<T: NetScalar>(_ x: NetMatrix<T>, batch: Int, height h: Int, width w: Int) -> NetMatrix<T> {
        let c = x.cols
        var cols = NetMatrix<T>(rows: batch * h * w, cols: 9 * c)
        x.data.withUnsafeBufferPointer { src in
            cols.data.withUnsafeMutableBufferPointer { dst in
                for n in 0..<batch { for y in 0..<h { for xx in 0..<w {
                    let row = ((n * h + y) * w + xx) * 9 * c
                    for dy in -1...1 {
                        let sy = y + dy
                        guard sy >= 0 && sy < h else { continue }
                        for dx in -1...1 {
                            let sx = xx + dx
                            guard sx >= 0 && sx < w else { continue }
                            let from = ((n * h + sy) * w + sx) * c, k = (dy + 1) * 3 + dx + 1
                            for ch in 0..<c { dst[row + ch * 9 + k] = src[from + ch] }
                        }
                    }
                } } }
            }
        }
        return cols
    }

    /// col2im: adds each window's gradient back onto the pixels it came from.
    static func fold<T: NetScalar>(_ cols: NetMatrix<T>, batch: Int, height h: Int, width w: Int, channels c: Int) -> NetMatrix<T> {
        var x = NetMatrix<T>(rows: batch * h * w, cols: c)
        cols.data.withUnsafeBufferPointer { src in
            x.data.withUnsafeMutableBufferPointer { dst in
                for n in 0..<batch { for y in 0..<h { for xx in 0..<w {
                    let row = ((n * h + y) * w + xx) * 9 * c
                    for dy in -1...1 {
                        let sy = y + dy
                        guard sy >= 0 && sy < h else { continue }
                        for dx in -1...1 {
                            let sx = xx + dx
                            guard sx >= 0 && sx < w else { continue }
                            let to = ((n * h + sy) * w + sx) * c, k = (dy + 1) * 3 + dx + 1
                            for ch in 0..<c { dst[to + ch] += src[row + ch * 9 + k] }
                        }
                    }
                } } }
            }
        }
        return x
    }

    /// 2×2 max pooling (a last odd row or column is dropped); also the row each maximum came from.
    static func maxPool<T: NetScalar>(_ y: NetMatrix<T>, batch: Int, height h: Int, width w: Int) -> (NetMatrix<T>, [Int32]) {
        let c = y.cols, (ph, pw) = (h / 2, w / 2)
        var out = NetMatrix<T>(rows: batch * ph * pw, cols: c)
        var source = [Int32](repeating: 0, count: out.count)
        for n in 0..<batch { for py in 0..<ph { for px in 0..<pw { for ch in 0..<c {
            var best = -T.infinity, at = 0
            for dy in 0..<2 { for dx in 0..<2 {
                let r = (n * h + 2 * py + dy) * w + 2 * px + dx
                let v = y.data[r * c + ch]
                if v > best { best = v; at = r }
            } }
            let o = ((n * ph + py) * pw + px) * c + ch
            out.data[o] = best
            source[o] = Int32(at)
        } } } }
        return (out, source)
    }
}
