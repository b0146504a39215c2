import Foundation
import DKLCore
import DKLData

/// Square windows of a structural image (one or more channels of H×W) around pixel
/// centres: the inputs of a DKL model.
///
/// A window of odd side W covers rows y − (W−1)/2 … y + (W−1)/2, so it is centred on pixel
/// (y, x). For even W no window of whole pixels is centred on a pixel; the default
/// (`.interpolate`) samples the image at the half-integer offsets k − (W−1)/2, k = 0…W−1,
/// which is the mean of a 2×2 block of pixels, so that the window is centred exactly;
/// `.shift` takes rows y − W/2 … y + W/2 − 1 (centred half a pixel up and left of (y, x)),
/// the convention of atomai and of the shared benchmark.
public struct PatchExtractor: Sendable {
    public enum Border: String, Sendable, CaseIterable {
        /// Only centres whose window lies inside the image.
        case skip
        /// Every pixel; outside the image the window mirrors it (numpy's 'reflect').
        case reflect
    }

    public enum EvenWindow: String, Sendable, CaseIterable { case interpolate, shift }

    public enum Normalization: String, Sendable, CaseIterable {
        case none
        /// Each channel to [0, 1] by its minimum and maximum over the image.
        case minmax
        /// Each channel to zero mean and unit standard deviation over the image.
        case zscore
        /// Each patch (each channel) to [0, 1] by its own minimum and maximum.
        case patchMinmax = "patch-minmax"
        /// Each patch (each channel) to zero mean and unit standard deviation.
        case patchZscore = "patch-zscore"
    }

    public let channels: Int, height: Int, width: Int
    /// C×H×W, channel-major; NaN marks pixels that were not measured.
    public private(set) var image: [Float]
    public let window: Int
    public let border: Border
    public let even: EvenWindow
    public let normalization: Normalization
    /// Per channel, the image-wide map v ↦ (v − offset[c])·scale[c] applied before cutting
    /// (identity for `.none` and the per-patch normalizations).
    public private(set) var offset: [Double], scale: [Double]

    public init(channels: [[Float]], height: Int, width: Int, window: Int, border: Border = .skip,
                even: EvenWindow = .interpolate, normalization: Normalization = .minmax) throws {
        precondition(channels.allSatisfy { $0.count == height * width })
        guard window >= 1 else { throw DKLError.usage("the window must be at least 1 pixel") }
        self.channels = channels.count
        self.height = height
        self.width = width
        self.window = window
        self.border = border
        self.even = even
        self.normalization = normalization
        image = channels.flatMap { $0 }
        offset = [Double](repeating: 0, count: channels.count)
        scale = [Double](repeating: 1, count: channels.count)
        let (lo, hi) = reach
        if border == .skip && (height < hi - lo + 1 || width < hi - lo + 1) {
            throw DKLError.data("a \(window)×\(window) window does not fit in a \(height)×\(width) image")
        }
        for c in 0..<channels.count where normalization == .minmax || normalization == .zscore {
            let v = channels[c].lazy.filter(\.isFinite).map(Double.init)
            guard let mn = v.min(), let mx = v.max() else { throw DKLError.data("channel \(c + 1) holds no finite pixel") }
            if normalization == .minmax {
                offset[c] = mn
                scale[c] = mx > mn ? 1 / (mx - mn) : 1
            } else {
                let n = Double(v.count)
                let mean = v.reduce(0, +) / n
                let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
                offset[c] = mean
                scale[c] = sd > 0 ? 1 / sd : 1
            }
            let (o, s) = (offset[c], scale[c])
            for i in (c * height * width)..<((c + 1) * height * width) { image[i] = Float((Double(image[i]) - o) * s) }
        }
    }

    /// The rows (and columns) a window reaches, relative to its centre: lo…hi.
    public var reach: (lo: Int, hi: Int) {
        if window % 2 == 1 { return (-(window - 1) / 2, (window - 1) / 2) }
        return even == .shift ? (-window / 2, window / 2 - 1) : (-window / 2, window / 2)
    }

    /// Values per patch.
    public var patchSize: Int { channels * window * window }

    /// The centres on a grid of step `stride`: every pixel for `.reflect`, those whose
    /// window fits for `.skip`; rows then columns.
    public func centreRange(stride: Int) -> (ys: StrideTo<Int>, xs: StrideTo<Int>) {
        let (lo, hi) = reach
        if border == .reflect { return (Swift.stride(from: 0, to: height, by: stride), Swift.stride(from: 0, to: width, by: stride)) }
        return (Swift.stride(from: -lo, to: height - hi, by: stride), Swift.stride(from: -lo, to: width - hi, by: stride))
    }

    /// Whether the window of (y, x) can be cut with this border policy.
    public func fits(y: Int, x: Int) -> Bool {
        guard y >= 0, y < height, x >= 0, x < width else { return false }
        if border == .reflect { return true }
        let (lo, hi) = reach
        return y + lo >= 0 && y + hi < height && x + lo >= 0 && x + hi < width
    }

    /// numpy's 'reflect' index (the edge pixel is not repeated).
    @inline(__always)
    func reflected(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        let period = 2 * (n - 1)
        i = ((i % period) + period) % period
        return i < n ? i : period - i
    }

    /// Cuts the patch centred on (y, x) into `out` (C×W×W values). Returns false, leaving
    /// `out` undefined, when the patch touches a NaN pixel.
    public func cut(y: Int, x: Int, into out: UnsafeMutablePointer<Float>) -> Bool {
        let (lo, hi) = reach
        let span = hi - lo + 1   // W, or W + 1 for an interpolated even window
        let interpolate = span == window + 1
        let plane = height * width
        var finite = true
        image.withUnsafeBufferPointer { img in
            // Gather the span×span block (pixel rows/columns after the border policy).
            var rows = [Int](repeating: 0, count: span), cols = rows
            for k in 0..<span { rows[k] = reflected(y + lo + k, height); cols[k] = reflected(x + lo + k, width) }
            for c in 0..<channels {
                let base = img.baseAddress! + c * plane
                let dst = out + c * window * window
                for r in 0..<window {
                    for q in 0..<window {
                        let v: Float
                        if interpolate {
                            let a = base[rows[r] * width + cols[q]], b = base[rows[r] * width + cols[q + 1]]
                            let d = base[rows[r + 1] * width + cols[q]], e = base[rows[r + 1] * width + cols[q + 1]]
                            v = Float((Double(a) + Double(b) + Double(d) + Double(e)) / 4)
                        } else {
                            v = base[rows[r] * width + cols[q]]
                        }
                        dst[r * window + q] = v
                    }
                }
                let n = window * window
                for i in 0..<n where !dst[i].isFinite { finite = false }
                if !finite { return }
                switch normalization {
                case .patchMinmax:
                    var mn = dst[0], mx = dst[0]
                    for i in 0..<n { mn = min(mn, dst[i]); mx = max(mx, dst[i]) }
                    let s = mx > mn ? 1 / (Double(mx) - Double(mn)) : 1
                    for i in 0..<n { dst[i] = Float((Double(dst[i]) - Double(mn)) * s) }
                case .patchZscore:
                    var sum = 0.0
                    for i in 0..<n { sum += Double(dst[i]) }
                    let mean = sum / Double(n)
                    var ss = 0.0
                    for i in 0..<n { ss += (Double(dst[i]) - mean) * (Double(dst[i]) - mean) }
                    let sd = (ss / Double(n)).squareRoot()
                    let s = sd > 0 ? 1 / sd : 1
                    for i in 0..<n { dst[i] = Float((Double(dst[i]) - mean) * s) }
                default: break
                }
            }
        }
        return finite
    }
}
