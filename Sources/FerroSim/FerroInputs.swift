import Foundation
import DKLCore
import DKLData

/// A run's inputs read from files (arrays or streams), each checked against the lattice.

/// One field history: E_x, E_y at each time point.
public typealias FieldPairs = [(Double, Double)]

extension FieldHistory {
    /// A history from an array [T] (E_y) or [T, 2] (E_x, E_y).
    public static func load(_ path: String) throws -> FieldPairs {
        let arr = try ArrayFile.open(path)
        guard arr.rank == 1 || (arr.rank == 2 && arr.shape[1] == 2) else {
            throw DKLError.data("a field history has shape [T] or [T, 2], not \(arr.shape)", file: path)
        }
        let v = try arr.readAll()
        guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the field history holds NaN or infinity", file: path) }
        return arr.rank == 1 ? v.map { (0.0, $0) } : (0..<(v.count / 2)).map { (v[2 * $0], v[2 * $0 + 1]) }
    }

    /// Histories from a stream whose records hold 'field' [T] (E_y) or [T, 2], with their
    /// ids (the field 'id', or the record's index) and, when the records have integer y
    /// and x (a latent grid's), their grid positions. Only the records of `shard` are kept.
    public static func readStream(_ path: String, shard: (index: Int, count: Int) = (0, 1)) throws
        -> (histories: [(Int, FieldPairs)], positions: [Int: (Int, Int)]?) {
        let r = try StreamReader(path: path)
        guard let fi = r.schema.index(of: "field"), r.schema.fields[fi].dtype.isFloat else {
            throw DKLError.data("the stream has no float field 'field' (the field history)", file: r.name, location: "header")
        }
        let shape = r.schema.fields[fi].shape
        guard shape.count == 1 || (shape.count == 2 && shape[1] == 2) else {
            throw DKLError.data("'field' must be [T] (E_y) or [T,2], not \(shape)", file: r.name, location: "header")
        }
        let idField = r.schema.index(of: "id")
        func integerScalar(_ name: String) -> Int? {
            guard let f = r.schema.index(of: name), r.schema.fields[f].shape.isEmpty, r.schema.fields[f].dtype.isInteger else { return nil }
            return f
        }
        let yx = integerScalar("y").flatMap { y in integerScalar("x").map { (y, $0) } }
        var histories: [(Int, FieldPairs)] = []
        var positions: [Int: (Int, Int)]? = yx == nil ? nil : [:]
        var index = 0
        while let batch = try r.nextBatch() {
            for i in 0..<batch.count {
                defer { index += 1 }
                guard index % shard.count == shard.index else { continue }
                let view = RecordView(batch.record(i), r.schema)
                let v = view.doubles(fi)
                guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the field history holds NaN or infinity", file: r.name, record: batch.firstRecord + i) }
                let id = idField.map { view.int($0) } ?? index
                histories.append((id, shape.count == 1 ? v.map { (0.0, $0) } : (0..<(v.count / 2)).map { (v[2 * $0], v[2 * $0 + 1]) }))
                if let (yf, xf) = yx { positions?[id] = (view.int(yf), view.int(xf)) }
            }
        }
        return (histories, positions)
    }

    /// The sites the original updated at each step, to replay: a (T-2)×k array of site
    /// indices of a lattice of `sites` sites (row t-2 lists those of step t).
    public static func loadSites(_ path: String, sites: Int) throws -> [[Int]] {
        let arr = try ArrayFile.open(path)
        guard arr.rank == 2 else { throw DKLError.data("expected a (T-2)×k array of site indices, found shape \(arr.shape)", file: path) }
        let v = try arr.readAll()
        guard v.allSatisfy({ $0 >= 0 && $0 < Double(sites) && $0 == $0.rounded() }) else {
            throw DKLError.data("site indices must be integers from 0 to \(sites - 1)", file: path)
        }
        return (0..<arr.shape[0]).map { r in (0..<arr.shape[1]).map { Int(v[r * arr.shape[1] + $0]) } }
    }
}

extension FerroModel {
    /// One value per site (an array of n² or n×n values), for the coupling or depolarization.
    public func loadSiteValues(_ path: String) throws -> [Double] {
        let arr = try ArrayFile.open(path)
        guard arr.count == n * n else { throw DKLError.data("expected \(n * n) values (one per site), found shape \(arr.shape)", file: path) }
        let v = try arr.readAll()
        guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the values hold NaN or infinity", file: path) }
        return v
    }

    /// The per-site defect field from an array of n²×2 or n×n×2 values, in Ec.
    public mutating func loadDefects(_ path: String) throws {
        let sites = n * n
        let d = try ArrayFile.open(path)
        guard d.count == 2 * sites else { throw DKLError.data("expected \(sites)×2 defect values, found shape \(d.shape)", file: path) }
        let v = try d.readAll()
        guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the defect field holds NaN or infinity", file: path) }
        defects = (0..<sites).map { (v[2 * $0], v[2 * $0 + 1]) }
    }

    /// Random-field defects at `count` distinct random sites, with components drawn from
    /// normal distributions of means (mx, my) and spreads (sx, sy).
    public mutating func placeDefects(_ count: Int, field spec: [Double], using rng: inout Xoshiro) {
        var order = Array(0..<(n * n))
        order.shuffle(using: &rng)
        for s in order.prefix(count).sorted() { defects[s] = (spec[0] + spec[2] * rng.normal(), spec[1] + spec[3] * rng.normal()) }
    }
}

extension Polarization {
    /// An initial state: an array n×n×2 of (px, py).
    public static func load(_ path: String, n: Int) throws -> Polarization {
        let p = try ArrayFile.open(path)
        guard p.shape == [n, n, 2] else { throw DKLError.data("an initial state must have shape [\(n), \(n), 2], not \(p.shape)", file: path) }
        let v = try p.readAll()
        guard v.allSatisfy(\.isFinite) else { throw DKLError.data("the initial state holds NaN or infinity", file: path) }
        return Polarization(x: (0..<(n * n)).map { v[2 * $0] }, y: (0..<(n * n)).map { v[2 * $0 + 1] })
    }

    /// A random state: each component normal with standard deviation `scale`.
    public static func random(sites: Int, scale: Double, using rng: inout Xoshiro) -> Polarization {
        Polarization(x: (0..<sites).map { _ in scale * rng.normal() }, y: (0..<sites).map { _ in scale * rng.normal() })
    }
}
