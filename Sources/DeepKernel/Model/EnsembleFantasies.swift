import DKLCore
import DKLNumerics
import DKLCore
import DKLNumerics
import DKLData
import DKLImaging

/// An ensemble's combined predictions over a candidate set, with fantasized observations
/// added one at a time to every member (see `FantasizedVariance`): the members' means stay,
/// their variances shrink, and the combined moments follow.
public struct EnsembleFantasies: Fantasizing, Sendable {
    public let ensemble: DKLEnsemble
    /// The combined mean and latent variance in the targets' units, with the fantasies so far.
    public private(set) var mean: [Double]
    public private(set) var variance: [Double]
    private var members: [FantasizedVariance]
    private var memberMeans: [[Double]]

    /// Embeds the candidates (rows of raw inputs) and predicts them with every member: the
    /// numbers `DKLEnsemble.predict` gives, before any fantasy.
    public init(ensemble: DKLEnsemble, candidates x: Matrix) throws {
        self.ensemble = ensemble
        let members = ensemble.members, posteriors = try ensemble.posteriors()
        let each = Parallel.lanesMap(members.count) { k -> (FantasizedVariance, [Double]) in
            let z = members[k].embed(x)
            let (mu, v) = posteriors[k].predict(z, precision: members[k].config.variancePrecision)
            return (FantasizedVariance(posterior: posteriors[k], candidates: z, variance: v), mu)
        }
        self.members = each.map(\.0)
        memberMeans = each.map(\.1)
        (mean, variance) = ([], [])
        combine()
    }

    /// Adds a fantasized observation at candidate i to every member.
    public mutating func observe(_ i: Int) {
        members.withUnsafeMutableBufferPointer { sp in
            let s = SharedBuffer(sp)
            Parallel.lanes(s.count) { k in s[k].observe(i) }
        }
        combine()
    }

    /// Members' predictions in the targets' units, combined as `DKLEnsemble.predict` does.
    private mutating func combine() {
        let preds = ensemble.members.indices.map { ensemble.members[$0].inTargetUnits(mean: memberMeans[$0], variance: members[$0].variance) }
        (mean, variance) = preds.count == 1 ? preds[0] : Ensemble.combine(preds)
    }
}
