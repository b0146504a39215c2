import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// The candidates of an experiment on a structural image (H×W, or H×W×C with channels
/// last: several signals, or the coordinates of a latent grid): the patch around every
/// pixel whose window fits, in raster order, as rows of a matrix. Pixels whose patch holds NaN
/// are not usable (their row is zeros). dkl-explore and dkl-replay share it.
public struct CandidateGrid: Sendable {
    public let height: Int, width: Int
    /// The patches' centres (y, x), in raster order.
    public let centres: [(Int, Int)]
    /// One row of patch values per centre.
    public let inputs: Matrix
    public let usable: [Bool]
    /// Candidate index by position (`Positions.key(y, x)`), usable candidates only.
    public let index: [Int64: Int]
    /// How the patches were cut.
    public let window: Int, normalization: PatchExtractor.Normalization, even: PatchExtractor.EvenWindow

    public init(image: ArraySource, window: Int, even: PatchExtractor.EvenWindow, normalization: PatchExtractor.Normalization) throws {
        try image.requireRank([2, 3, 4], "a structural image H×W, or H×W×C (H×W×A×B: A·B channels)")
        (height, width) = (image.shape[0], image.shape[1])
        (self.window, self.normalization, self.even) = (window, normalization, even)
        let (h, w) = (height, width)
        let values = try image.readAllFloats()
        let c = image.shape.dropFirst(2).reduce(1, *)
        let planes = (0..<c).map { k in (0..<(h * w)).map { values[$0 * c + k] } }
        let cutter = try locating(file: image.name) {
            try PatchExtractor(channels: planes, height: h, width: w, window: window, even: even, normalization: normalization)
        }
        let (ys, xs) = cutter.centreRange(stride: 1)
        centres = ys.flatMap { y in xs.map { (y, $0) } }
        var inputs = Matrix(rows: centres.count, cols: cutter.patchSize)
        var patch = [Float](repeating: 0, count: cutter.patchSize)
        var usable = [Bool](repeating: true, count: centres.count)
        for (k, c) in centres.enumerated() {
            usable[k] = patch.withUnsafeMutableBufferPointer { cutter.cut(y: c.0, x: c.1, into: $0.baseAddress!) }
            for j in 0..<patch.count { inputs.data[k * patch.count + j] = usable[k] ? Double(patch[j]) : 0 }
        }
        var index = [Int64: Int]()
        for (k, c) in centres.enumerated() where usable[k] { index[Positions.key(c.0, c.1)] = k }
        (self.inputs, self.usable, self.index) = (inputs, usable, index)
    }

    /// The number of usable candidates.
    public var count: Int { index.count }

    /// The usable candidate nearest to a position (pixels, fractional): the patch a value
    /// measured there is learnt with (nil: no usable candidate, or a position that is not
    /// finite). A position beyond the candidates is taken at their edge.
    public func nearest(y: Double, x: Double) -> Int? {
        guard y.isFinite, x.isFinite, let first = centres.first, let last = centres.last else { return nil }
        let y = min(max(y, Double(first.0)), Double(last.0)), x = min(max(x, Double(first.1)), Double(last.1))
        if let k = index[Positions.key(Int(y.rounded()), Int(x.rounded()))] { return k }
        var best: (Int, Double)?
        for (k, c) in centres.enumerated() where usable[k] {
            let d = (Double(c.0) - y) * (Double(c.0) - y) + (Double(c.1) - x) * (Double(c.1) - x)
            if best == nil || d < best!.1 { best = (k, d) }
        }
        return best?.0
    }
}
