/// Lists given on the command line (`1.5,2,0.3`, `64x64`, `0:1`): every item must parse,
/// and numbers must be finite, or the whole option is refused with a usage error that
/// names it and the item (exit 64); nothing is skipped or guessed.
public enum OptionList {
    /// The items of `text` split at `separator`, each trimmed of spaces; empty items are kept
    /// (so that `1,,2` is refused rather than read as `1,2`).
    public static func items(_ text: String, _ separator: Character) -> [String] {
        text.split(separator: separator, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Finite numbers, `count` of them.
    /// - Parameter what: the expected form, for the message (e.g. `A1,A2 or A1,A2,A3`).
    public static func doubles(_ text: String, option: String, separator: Character = ",",
                               count: ClosedRange<Int> = 1...Int.max, what: String? = nil) throws -> [Double] {
        let parts = items(text, separator)
        let form = what.map { " (\($0))" } ?? ""
        guard count.contains(parts.count) else {
            throw DKLError.usage("--\(option) takes \(amount(count)) separated by '\(separator)'\(form), not '\(text)'")
        }
        return try parts.enumerated().map { k, s in
            guard let v = Double(s), v.isFinite else {
                throw DKLError.usage("--\(option): item \(k + 1) of '\(text)' is '\(s)', not a finite number\(form)")
            }
            return v
        }
    }

    /// Integers in `range`, `count` of them.
    public static func ints(_ text: String, option: String, separator: Character = ",", count: ClosedRange<Int> = 1...Int.max,
                            range: ClosedRange<Int> = Int.min...Int.max, what: String? = nil) throws -> [Int] {
        let parts = items(text, separator)
        let form = what.map { " (\($0))" } ?? ""
        guard count.contains(parts.count) else {
            throw DKLError.usage("--\(option) takes \(amount(count, "integer")) separated by '\(separator)'\(form), not '\(text)'")
        }
        return try parts.enumerated().map { k, s in
            guard let v = Int(s) else { throw DKLError.usage("--\(option): item \(k + 1) of '\(text)' is '\(s)', not an integer\(form)") }
            guard range.contains(v) else {
                throw DKLError.usage("--\(option): item \(k + 1) of '\(text)' is \(v), outside \(range.lowerBound)...\(range.upperBound)\(form)")
            }
            return v
        }
    }

    static func amount(_ count: ClosedRange<Int>, _ noun: String = "number") -> String {
        if count.lowerBound == count.upperBound { return "\(count.lowerBound) \(noun)\(count.lowerBound == 1 ? "" : "s")" }
        if count.upperBound == Int.max { return "\(count.lowerBound) or more \(noun)s" }
        return "\(count.lowerBound) to \(count.upperBound) \(noun)s"
    }

    /// LO:HI with LO < HI (a colour scale's ends, say).
    public static func interval(_ text: String, option: String) throws -> (Double, Double) {
        let v = try doubles(text, option: option, separator: ":", count: 2...2, what: "LO:HI")
        guard v[1] > v[0] else { throw DKLError.usage("--\(option) must be LO:HI with LO < HI") }
        return (v[0], v[1])
    }

    /// X0:X1,Y0:Y1 with X0 ≠ X1 and Y0 ≠ Y1 (the coordinates of a map's first and last columns and rows).
    public static func extent(_ text: String, option: String) throws -> (x: (Double, Double), y: (Double, Double)) {
        let axes = items(text, ",")
        guard axes.count == 2 else { throw DKLError.usage("--\(option) must be X0:X1,Y0:Y1, not '\(text)'") }
        let v = try axes.flatMap { try doubles($0, option: option, separator: ":", count: 2...2, what: "X0:X1,Y0:Y1") }
        guard v[0] != v[1], v[2] != v[3] else { throw DKLError.usage("--\(option) must be X0:X1,Y0:Y1 with X0 ≠ X1 and Y0 ≠ Y1") }
        return ((v[0], v[1]), (v[2], v[3]))
    }
}
