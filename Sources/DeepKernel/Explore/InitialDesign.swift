import Foundation
import DKLCore
import DKLNumerics

/// How an experiment chooses its initial points, before any model.
public enum InitialDesign: String, Sendable, CaseIterable {
    /// Seeded random candidates: the design covers the image's area.
    case random
    /// One candidate from each cluster of the image's patches (k-means): the design covers the
    /// kinds of structure the image holds, which is what the model learns from, not its area.
    case structure
}

/// The structure design: cluster the patches, then take one point in each cluster the design
/// does not yet cover.
public enum StructureDesign {
    /// At most this many patches are clustered (a regular subsample of a larger grid); every
    /// candidate is then labelled by its nearest centre.
    public static let clusteredAtMost = 20_000

    /// The candidates of the design after `first` (which, with `covered`, covers its cluster),
    /// one in each of the other of `clusters` clusters. With `cost`, each the candidate of an
    /// uncovered cluster the probe reaches soonest from the one before (ties: the lowest
    /// index), a route whose travel is short because structure repeats across an image; without
    /// it, a seeded random member of each uncovered cluster, in cluster order.
    public static func points(grid: CandidateGrid, clusters: Int, first: Int, covered: [Int], cost: BeamCost?,
                       rng: inout Xoshiro) -> [Int] {
        let usable = grid.index.values.sorted().filter { grid.usable[$0] }
        guard !usable.isEmpty, clusters > 1 else { return [] }
        let stride = (usable.count + clusteredAtMost - 1) / clusteredAtMost
        let fitted = Swift.stride(from: 0, to: usable.count, by: stride).map { usable[$0] }
        let km = KMeans(grid.inputs.gather(fitted), k: clusters)
        let labels = stride == 1 ? km.labels : km.assign(grid.inputs.gather(usable))
        var cluster = [Int: Int]()
        for (i, k) in usable.enumerated() { cluster[k] = labels[i] }
        var done = Set(([first] + covered).compactMap { cluster[$0] })
        var chosen: [Int] = []
        if let cost {
            var at = (y: Double(grid.centres[first].0), x: Double(grid.centres[first].1))
            while true {
                var best: Int?, soonest = Double.infinity
                for (i, k) in usable.enumerated() where !done.contains(labels[i]) {
                    let t = cost.seconds(from: at, to: grid.centres[k])
                    if t < soonest { soonest = t; best = k }
                }
                guard let k = best else { break }
                chosen.append(k); done.insert(cluster[k]!)
                at = (Double(grid.centres[k].0), Double(grid.centres[k].1))
            }
        } else {
            var members = [[Int]](repeating: [], count: km.centres.rows)
            for (i, k) in usable.enumerated() { members[labels[i]].append(k) }
            for (j, m) in members.enumerated() where !m.isEmpty && !done.contains(j) {
                chosen.append(m[Int(rng.next() % UInt64(m.count))])
            }
        }
        return chosen
    }
}
