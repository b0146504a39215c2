/// Convolution and pooling for image patches. A batch is a matrix with one row per
/// sample holding C×H×W values (channel-major, row-major within a channel).
import DKLCore

public struct ImageShape: Equatable, Sendable {
    public var channels: Int, height: Int, width: Int
    public init(channels: Int, height: Int, width: Int) { self.channels = channels; self.height = height; self.width = width }
    public var count: Int { channels * height * width }
}

extension Var {
    /// 2-D convolution (cross-correlation, as in PyTorch), stride 1, zero padding `padding`:
    /// `weight` is C′×(C·k·k) and `bias` 1×C′; the output rows hold C′×H′×W′ with
    /// H′ = H + 2p − k + 1. Computed per sample as one matrix product on unfolded patches.
    public func conv2d(_ input: ImageShape, weight: Var, bias: Var, kernel k: Int, padding p: Int) -> (Var, ImageShape) {
        let x = self
        let cOut = weight.rows
        precondition(weight.cols == input.channels * k * k && bias.cols == cOut && x.cols == input.count)
        let out = ImageShape(channels: cOut, height: input.height + 2 * p - k + 1, width: input.width + 2 * p - k + 1)
        let n = x.rows, hw = out.height * out.width, ckk = input.channels * k * k
        let wv = weight.value, bv = bias.value, xv = x.value
        var y = Matrix(rows: n, cols: out.count)
        var cols = Matrix(rows: ckk, cols: hw)
        for s in 0..<n {
            Var.unfold(xv, sample: s, input, out, k, p, into: &cols)
            let ys = wv.matmul(cols)
            for c in 0..<cOut { for i in 0..<hw { y.data[s * out.count + c * hw + i] = ys.data[c * hw + i] + bv.data[c] } }
        }
        let result = tape.record(y, parents: [x, weight, bias]) { g, t in
            var gw = Matrix(rows: cOut, cols: ckk), gb = Matrix(rows: 1, cols: cOut), gx = Matrix(rows: n, cols: input.count)
            var cols = Matrix(rows: ckk, cols: hw)
            for s in 0..<n {
                let gs = Matrix(rows: cOut, cols: hw, data: Array(g.data[(s * out.count)..<((s + 1) * out.count)]))
                for c in 0..<cOut { for i in 0..<hw { gb.data[c] += gs.data[c * hw + i] } }
                Var.unfold(xv, sample: s, input, out, k, p, into: &cols)
                let dw = gs.matmul(cols, transB: true)
                for i in 0..<gw.count { gw.data[i] += dw.data[i] }
                let dcols = wv.matmul(gs, transA: true)
                Var.fold(dcols, sample: s, input, out, k, p, into: &gx)
            }
            t.accumulate(x, gx)
            t.accumulate(weight, gw)
            t.accumulate(bias, gb)
        }
        return (result, out)
    }

    /// im2col: row (c, ky, kx) of `cols` holds input[c, oy + ky − p, ox + kx − p] over outputs (oy, ox).
    static func unfold(_ x: Matrix, sample s: Int, _ i: ImageShape, _ o: ImageShape, _ k: Int, _ p: Int, into cols: inout Matrix) {
        let hw = o.height * o.width
        for c in 0..<i.channels { for ky in 0..<k { for kx in 0..<k {
            let r = (c * k + ky) * k + kx
            for oy in 0..<o.height {
                let iy = oy + ky - p
                for ox in 0..<o.width {
                    let ix = ox + kx - p
                    cols.data[r * hw + oy * o.width + ox] = iy >= 0 && iy < i.height && ix >= 0 && ix < i.width
                        ? x.data[s * i.count + (c * i.height + iy) * i.width + ix] : 0
                }
            }
        } } }
    }

    /// col2im: adds the unfolded gradient back onto the input positions.
    static func fold(_ cols: Matrix, sample s: Int, _ i: ImageShape, _ o: ImageShape, _ k: Int, _ p: Int, into gx: inout Matrix) {
        let hw = o.height * o.width
        for c in 0..<i.channels { for ky in 0..<k { for kx in 0..<k {
            let r = (c * k + ky) * k + kx
            for oy in 0..<o.height {
                let iy = oy + ky - p
                guard iy >= 0 && iy < i.height else { continue }
                for ox in 0..<o.width {
                    let ix = ox + kx - p
                    guard ix >= 0 && ix < i.width else { continue }
                    gx.data[s * i.count + (c * i.height + iy) * i.width + ix] += cols.data[r * hw + oy * o.width + ox]
                }
            }
        } } }
    }

    /// Max pooling over non-overlapping `size`×`size` windows (a partial last window is dropped).
    public func maxPool(_ input: ImageShape, size: Int) -> (Var, ImageShape) {
        pool(input, size: size, max: true)
    }

    /// Average pooling over non-overlapping windows.
    public func avgPool(_ input: ImageShape, size: Int) -> (Var, ImageShape) {
        pool(input, size: size, max: false)
    }

    func pool(_ i: ImageShape, size k: Int, max useMax: Bool) -> (Var, ImageShape) {
        let x = self, xv = x.value
        let o = ImageShape(channels: i.channels, height: i.height / k, width: i.width / k)
        let n = xv.rows
        var y = Matrix(rows: n, cols: o.count)
        var source = [Int](repeating: 0, count: n * o.count)   // argmax input index (max pooling)
        for s in 0..<n { for c in 0..<i.channels { for oy in 0..<o.height { for ox in 0..<o.width {
            var best = -Double.infinity, at = 0, sum = 0.0
            for dy in 0..<k { for dx in 0..<k {
                let idx = s * i.count + (c * i.height + oy * k + dy) * i.width + ox * k + dx
                let v = xv.data[idx]
                sum += v
                if v > best { best = v; at = idx }
            } }
            let oi = s * o.count + (c * o.height + oy) * o.width + ox
            y.data[oi] = useMax ? best : sum / Double(k * k)
            source[oi] = at
        } } } }
        let result = tape.record(y, parents: [x]) { g, t in
            var gx = Matrix(rows: n, cols: i.count)
            for s in 0..<n { for c in 0..<i.channels { for oy in 0..<o.height { for ox in 0..<o.width {
                let oi = s * o.count + (c * o.height + oy) * o.width + ox
                if useMax { gx.data[source[oi]] += g.data[oi]; continue }
                for dy in 0..<k { for dx in 0..<k {
                    gx.data[s * i.count + (c * i.height + oy * k + dy) * i.width + ox * k + dx] += g.data[oi] / Double(k * k)
                } }
            } } } }
            t.accumulate(x, gx)
        }
        return (result, o)
    }
}
