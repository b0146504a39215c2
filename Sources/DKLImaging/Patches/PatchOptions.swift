import DKLCore

extension PatchExtractor.Normalization {
    /// The normalization named by `--normalize` (nil: minmax), or a usage error.
    public static func named(_ name: String?) throws -> Self {
        guard let n = Self(rawValue: name ?? "minmax") else {
            throw DKLError.usage("--normalize must be none, minmax, zscore, patch-minmax or patch-zscore")
        }
        return n
    }
}

extension PatchExtractor.EvenWindow {
    /// How `--even` centres an even window (nil: interpolate), or a usage error.
    public static func named(_ name: String?) throws -> Self {
        guard let e = Self(rawValue: name ?? "interpolate") else { throw DKLError.usage("--even must be interpolate or shift") }
        return e
    }
}
