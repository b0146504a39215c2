import Foundation
import DKLCore

/// Values and places keyed by pixel position (y, x): measured targets from a map or a
/// stream, and lists of coordinates.
public enum Positions {
    @inline(__always) public static func key(_ y: Int, _ x: Int) -> Int64 { Int64(y) << 32 | Int64(UInt32(truncatingIfNeeded: x)) }

    /// Targets from an array H×W (the value at [y, x]; NaN = not measured) or from a stream
    /// with fields y, x and `field` (default: its one numeric scalar field besides y, x and
    /// flags, or `value` in an experiment trace, which has a field `step`; records whose
    /// flags are nonzero or whose value is NaN are left out).
    public static func readTargets(_ spec: String, field: String?) throws -> (values: [Int64: Double], name: String) {
        let r = try readTargets(spec, field: field, variances: false)
        return (r.values, r.name)
    }

    /// The targets with each one's noise variance, from a stream's field NAME_var beside the
    /// target NAME (dkl-scalarize --counts, dkl-explore --counts): a target whose variance
    /// is NaN, infinite or negative is an error.
    /// With `variances` false, none are read (nil).
    public static func readTargets(_ spec: String, field: String?, variances: Bool) throws -> (values: [Int64: Double], variances: [Int64: Double]?, name: String) {
        let (list, name) = try readTargetList(spec, field: field, variance: variances)
        var values = [Int64: Double](), v = [Int64: Double]()
        for t in list { values[key(t.y, t.x)] = t.value; if variances { v[key(t.y, t.x)] = t.variance } }
        return (values, variances ? v : nil, name)
    }

    /// The same as a list in the file's order (rows then columns for an array).
    public static func readTargets(_ spec: String, field: String?, ordered: Bool) throws -> (values: [(y: Int, x: Int, value: Double)], name: String) {
        let (list, name) = try readTargetList(spec, field: field, variance: false)
        return (list.map { ($0.y, $0.x, $0.value) }, name)
    }

    /// The targets in the file's order, with each one's variance (NaN unless `variance`).
    static func readTargetList(_ spec: String, field: String?, variance: Bool) throws
        -> (values: [(y: Int, x: Int, value: Double, variance: Double)], name: String) {
        let (path, _) = ArrayFile.split(spec)
        if spec != "-" && ArrayFile.isArrayFile(path) {
            let a = try ArrayFile.open(spec)
            try a.requireRank([2], "a target map H×W")
            if let field { throw DKLError.usage("--target '\(field)' names a stream field; \(a.name) is an array") }
            if variance { throw DKLError.usage("measured noise needs the targets' variances: a stream with a field NAME_var, not the array \(a.name)") }
            let v = try a.readAll()
            var out: [(y: Int, x: Int, value: Double, variance: Double)] = []
            for y in 0..<a.shape[0] { for x in 0..<a.shape[1] where v[y * a.shape[1] + x].isFinite { out.append((y, x, v[y * a.shape[1] + x], .nan)) } }
            return (out, "value")
        }
        if spec != "-" && !FileManager.default.fileExists(atPath: spec) { throw DKLError.data("no such file", file: spec) }
        let r = try StreamReader(path: spec)
        guard let iy = r.schema.index(of: "y"), let ix = r.schema.index(of: "x") else {
            throw DKLError.data("the targets have no fields y and x", file: r.name, location: "header")
        }
        // Candidates: numeric scalars besides y, x, flags and the variances of other fields.
        let candidates = r.schema.fields.enumerated().filter { f in
            !["y", "x", "flags"].contains(f.element.name) && f.element.count == 1 && f.element.dtype != .string
                && !(f.element.name.hasSuffix("_var") && r.schema.index(of: String(f.element.name.dropLast(4))) != nil)
        }
        let chosen: Int
        if let field {
            guard let i = r.schema.index(of: field), r.schema.fields[i].count == 1 else {
                throw DKLError.data("no scalar field '\(field)' (fields: \(candidates.map(\.element.name).joined(separator: ", ")))", file: r.name, location: "header")
            }
            chosen = i
        } else if r.schema.index(of: "step") != nil, let v = r.schema.index(of: "value") {
            chosen = v   // an experiment trace (dkl-explore): its measured values
        } else {
            guard candidates.count == 1 else {
                throw DKLError.usage("\(r.name) has \(candidates.isEmpty ? "no target field" : "several fields (\(candidates.map(\.element.name).joined(separator: ", ")))"): name one with --target")
            }
            chosen = candidates[0].offset
        }
        let flags = r.schema.index(of: "flags")
        let name = r.schema.fields[chosen].name
        var varianceField: Int?
        if variance {
            guard let i = r.schema.index(of: name + "_var"), r.schema.fields[i].count == 1 else {
                throw DKLError.data("no field '\(name)_var' with the targets' noise variances (dkl-scalarize --counts, dkl-explore --counts write it)",
                                    file: r.name, location: "header")
            }
            varianceField = i
        }
        var out: [(y: Int, x: Int, value: Double, variance: Double)] = []
        var seen = Set<Int64>()
        var record = 0
        while let batch = try locating(file: r.name, { try r.nextBatch() }) {
            for i in 0..<batch.count {
                record += 1
                let v = RecordView(batch.record(i), r.schema)
                if let flags, v.int(flags) != 0 { continue }
                let t = v.double(chosen)
                guard t.isFinite else { continue }
                guard seen.insert(key(v.int(iy), v.int(ix))).inserted else {
                    throw DKLError.data("a second target for (\(v.int(iy)), \(v.int(ix)))", file: r.name, record: record)
                }
                var tv = Double.nan
                if let varianceField {
                    tv = v.double(varianceField)
                    guard tv.isFinite, tv >= 0 else {
                        throw DKLError.data("the target at (\(v.int(iy)), \(v.int(ix))) has the noise variance \(tv) (\(name)_var must be finite and not negative)",
                                            file: r.name, record: record)
                    }
                }
                out.append((v.int(iy), v.int(ix), t, tv))
            }
        }
        return (out, name)
    }

    /// Positions from an array K×2 of (y, x) or a stream with fields y and x, in order.
    public static func readCoordinates(_ path: String) throws -> [(Int, Int)] {
        let (file, _) = ArrayFile.split(path)
        if ArrayFile.isArrayFile(file) {
            let a = try ArrayFile.open(path)
            guard a.rank == 2, a.shape[1] == 2 else { throw DKLError.data("coordinates must be an array K×2 of (y, x), found shape \(a.shape)", file: path) }
            let v = try a.readAll()
            return try (0..<a.shape[0]).map { k in
                let (y, x) = (v[2 * k], v[2 * k + 1])
                guard y == y.rounded(), x == x.rounded(), abs(y) < 1e9, abs(x) < 1e9 else {
                    throw DKLError.data("coordinates must be whole pixels, found (\(y), \(x))", file: path, record: k + 1)
                }
                return (Int(y), Int(x))
            }
        }
        let reader = try StreamReader(path: path)
        guard let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x") else {
            throw DKLError.data("the stream has no fields y and x", file: path, location: "header")
        }
        var out: [(Int, Int)] = []
        let step = reader.schema.index(of: "step")   // a trace's stop records have step −1
        while let batch = try locating(file: path, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                let r = RecordView(batch.record(i), reader.schema)
                if let step, r.int(step) < 0 { continue }
                out.append((r.int(iy), r.int(ix)))
            }
        }
        return out
    }
}
