import Foundation
import DKLCore

/// k-means clustering of the rows of a matrix, deterministic: the first centre is the row
/// nearest the rows' mean, each next one the row farthest from the centres so far (ties: the
/// lowest index), then Lloyd's iterations until no row changes cluster (or `iterations`).
public struct KMeans: Sendable {
    /// k×d centres.
    public let centres: Matrix
    /// The cluster of every row.
    public let labels: [Int]

    public init(_ x: Matrix, k: Int, iterations: Int = 50) {
        let (n, d) = (x.rows, x.cols)
        let k = max(1, min(k, n))
        precondition(n > 0, "KMeans of no rows")
        func distance(_ i: Int, _ c: [Double], _ j: Int) -> Double {
            var s = 0.0
            for t in 0..<d { let u = x.data[i * d + t] - c[j * d + t]; s += u * u }
            return s
        }
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for t in 0..<d { mean[t] += x.data[i * d + t] / Double(n) } }
        var first = 0, nearest = Double.infinity
        for i in 0..<n { let v = distance(i, mean, 0); if v < nearest { nearest = v; first = i } }
        var c = Array(x.data[(first * d)..<((first + 1) * d)])
        var closest = (0..<n).map { distance($0, c, 0) }
        while c.count / d < k {
            var far = 0
            for i in 1..<n where closest[i] > closest[far] { far = i }
            c += x.data[(far * d)..<((far + 1) * d)]
            let j = c.count / d - 1
            for i in 0..<n { closest[i] = min(closest[i], distance(i, c, j)) }
        }
        var labels = [Int](repeating: -1, count: n)
        for _ in 0..<max(iterations, 1) {
            var changed = false
            for i in 0..<n {
                var best = 0, bestD = Double.infinity
                for j in 0..<k { let v = distance(i, c, j); if v < bestD { bestD = v; best = j } }
                if labels[i] != best { labels[i] = best; changed = true }
            }
            if !changed { break }
            var sums = [Double](repeating: 0, count: k * d), counts = [Int](repeating: 0, count: k)
            for i in 0..<n { counts[labels[i]] += 1; for t in 0..<d { sums[labels[i] * d + t] += x.data[i * d + t] } }
            for j in 0..<k where counts[j] > 0 { for t in 0..<d { c[j * d + t] = sums[j * d + t] / Double(counts[j]) } }
        }
        centres = Matrix(rows: k, cols: d, data: c)
        self.labels = labels
    }

    /// The nearest centre of each row of `x` (ties: the lowest index).
    public func assign(_ x: Matrix) -> [Int] {
        precondition(x.cols == centres.cols, "KMeans.assign: rows of \(x.cols) values, centres of \(centres.cols)")
        let (d, k) = (x.cols, centres.rows)
        return (0..<x.rows).map { i in
            var best = 0, bestD = Double.infinity
            for j in 0..<k {
                var s = 0.0
                for t in 0..<d { let u = x.data[i * d + t] - centres.data[j * d + t]; s += u * u }
                if s < bestD { bestD = s; best = j }
            }
            return best
        }
    }
}
