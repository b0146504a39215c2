import Foundation
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// The training set made by joining targets keyed by position (`Positions`) with a stream
/// of patches on (y, x): the patches come from the whole image, the targets from the few
/// places that were measured.
public enum TrainingSet {
    /// The patches (a stream with y, x and a patch field) at the targets' positions, in the
    /// stream's order: inputs (one flattened patch per row), targets and (y, x) pairs. The
    /// stream is read in batches; only the joined patches are kept.
    /// `variances`: each target's noise variance, returned as `noise` beside the targets
    /// (empty without).
    public static func join(patches r: StreamReader, field: String = "patch", targets: [Int64: Double], variances: [Int64: Double]? = nil)
        throws -> (inputs: Matrix, targets: [Double], noise: [Double], coordinates: [Int], patchCount: Int) {
        guard let iy = r.schema.index(of: "y"), let ix = r.schema.index(of: "x") else {
            throw DKLError.data("the patches have no fields y and x", file: r.name, location: "header")
        }
        guard let ip = r.schema.index(of: field) else { throw DKLError.data("the patches have no field '\(field)'", file: r.name, location: "header") }
        let width = r.schema.fields[ip].count
        var data: [Double] = [], y: [Double] = [], noise: [Double] = [], coords: [Int] = []
        var seen = Set<Int64>()
        var count = 0
        while let batch = try locating(file: r.name, { try r.nextBatch() }) {
            try Interrupts.check()
            for i in 0..<batch.count {
                count += 1
                let v = RecordView(batch.record(i), r.schema)
                let (py, px) = (v.int(iy), v.int(ix))
                let k = Positions.key(py, px)
                guard let t = targets[k] else { continue }
                guard seen.insert(k).inserted else { throw DKLError.data("a second patch for (\(py), \(px))", file: r.name, record: count) }
                let p = v.doubles(ip)
                guard p.allSatisfy(\.isFinite) else { throw DKLError.data("the patch at (\(py), \(px)) holds NaN or infinity", file: r.name, record: count) }
                data += p; y.append(t); coords += [py, px]
                if let variances { noise.append(variances[k] ?? .nan) }
            }
        }
        return (Matrix(rows: y.count, cols: width, data: data), y, noise, coords, count)
    }
}
