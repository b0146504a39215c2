import Foundation
import DKLCore
import DKLNumerics
import DKLData

/// The candidates an acquisition step scores, read from the streams the tools pass along:
/// predictions {y, x, mean, var} (dkl-predict) or patches {y, x, patch} (dkl-patches), and
/// the points already measured.
public struct Candidates {
    /// Each candidate's pixel (y, x), in the stream's order.
    public var coordinates: [(Int, Int)]
    /// Predictions: each candidate's mean and latent variance (empty for patches).
    public var mean: [Double] = [], variance: [Double] = []
    /// Patches: one row per candidate (0 rows for predictions).
    public var patches = Matrix(rows: 0, cols: 0)
    /// Predictions of a Bayesian fit: each candidate's mean and latent variance under each
    /// of the posterior's draws (empty otherwise), over which acquisitions are averaged.
    public var drawMeans: [[Double]] = [], drawVariances: [[Double]] = []

    public init(coordinates: [(Int, Int)]) { self.coordinates = coordinates }

    init(coordinates: [(Int, Int)], patches: Matrix) { self.coordinates = coordinates; self.patches = patches }

    /// The acquisition's scores: averaged over the posterior's draws when the predictions
    /// carry them, else of the mean and variance.
    public func scores(_ acquisition: Acquisition, best: Double, maximize: Bool) -> [Double] {
        guard let s = drawMeans.first?.count, s > 0 else { return acquisition.scores(mean: mean, variance: variance, best: best, maximize: maximize) }
        var total = [Double](repeating: 0, count: coordinates.count)
        for d in 0..<s {
            let m = drawMeans.map { $0[d] }, v = drawVariances.map { $0[d] }
            let sc = acquisition.scores(mean: m, variance: v, best: best, maximize: maximize)
            for i in total.indices { total[i] += sc[i] / Double(s) }
        }
        return total
    }

    /// Predictions {y, x, mean, var}; a mean or variance that is not finite, or a negative
    /// variance, is an error naming the record.
    public static func predictions(_ path: String) throws -> Candidates {
        let reader = try StreamReader(path: path)
        guard let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x"),
              let im = reader.schema.index(of: "mean"), let iv = reader.schema.index(of: "var") else {
            throw DKLError.data("the predictions need fields y, x, mean and var (from dkl-predict)", file: reader.name, location: "header")
        }
        var c = Candidates(coordinates: [])
        let (idm, idv) = (reader.schema.index(of: "draw_mean"), reader.schema.index(of: "draw_var"))
        if (idm == nil) != (idv == nil) || (idm != nil && reader.schema.fields[idm!].count != reader.schema.fields[idv!].count) {
            throw DKLError.data("the predictions' draw_mean and draw_var must come together, of one size", file: reader.name, location: "header")
        }
        var record = 0
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                record += 1
                let r = RecordView(batch.record(i), reader.schema)
                let (m, v) = (r.double(im), r.double(iv))
                guard m.isFinite, v.isFinite, v >= 0 else {
                    throw DKLError.data("the prediction at (\(r.int(iy)), \(r.int(ix))) has mean \(m) and variance \(v)", file: reader.name, record: record)
                }
                c.coordinates.append((r.int(iy), r.int(ix))); c.mean.append(m); c.variance.append(v)
                if let idm, let idv {
                    let (dm, dv) = (r.doubles(idm), r.doubles(idv))
                    guard dm.allSatisfy(\.isFinite), dv.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                        throw DKLError.data("the prediction at (\(r.int(iy)), \(r.int(ix))) has a draw's mean or variance that is not finite", file: reader.name, record: record)
                    }
                    c.drawMeans.append(dm); c.drawVariances.append(dv)
                }
            }
        }
        return c
    }

    /// Patches {y, x, patch} of `width` values each, for a model trained on that width
    /// (`purpose` names what needs them, for the message when they are missing).
    public static func patches(_ path: String, width: Int, purpose: String) throws -> Candidates {
        let reader = try StreamReader(path: path)
        guard let ip = reader.schema.index(of: "patch"), let iy = reader.schema.index(of: "y"), let ix = reader.schema.index(of: "x") else {
            throw DKLError.data("\(purpose) needs the candidates' patches (fields y, x and patch)", file: reader.name, location: "header")
        }
        guard reader.schema.fields[ip].count == width else {
            throw DKLError.data("the patches have \(reader.schema.fields[ip].count) values but the model was trained on \(width)", file: reader.name, location: "header")
        }
        var coords: [(Int, Int)] = [], values: [Double] = []
        while let batch = try locating(file: reader.name, { try reader.nextBatch() }) {
            for i in 0..<batch.count {
                let r = RecordView(batch.record(i), reader.schema)
                coords.append((r.int(iy), r.int(ix))); values += r.doubles(ip)
            }
        }
        return Candidates(coordinates: coords, patches: Matrix(rows: coords.count, cols: width, data: values))
    }

    /// The indices of the candidates at these pixels.
    public func indices(of points: [(y: Int, x: Int, value: Double)]) -> Set<Int> {
        let keys = Set(points.map { Positions.key($0.y, $0.x) })
        return Set(coordinates.indices.filter { keys.contains(Positions.key(coordinates[$0].0, coordinates[$0].1)) })
    }

    /// The measured points, in the order measured: from a model file (its training points)
    /// or from targets (a stream with y, x and a value, or an H×W array, NaN = not measured).
    public static func measured(_ path: String, field: String?) throws -> [(y: Int, x: Int, value: Double)] {
        if ArrayFile.isArrayFile(path) && HDF5File.isHDF5(path),
           (try? HDF5File(path: path).attributes(at: "/")["format"]?.stringValue) == DKLEnsemble.fileFormat {
            let model = try DKLEnsemble.load(from: path)
            let targets = model.members[0].trainTargets
            guard model.coordinates.count == 2 * targets.count else { throw DKLError.data("the model file does not record its training positions", file: path) }
            return targets.indices.map { (model.coordinates[2 * $0], model.coordinates[2 * $0 + 1], targets[$0]) }
        }
        return try Positions.readTargets(path, field: field, ordered: true).values
    }
}

extension Candidates {
    /// Thompson sampling from a model file, q points excluding the measured ones: from a DKL
    /// ensemble (the candidates' patches; per point a member drawn at random) or from a
    /// Bayesian fit of dkl-fit (the candidates' inputs; per point a draw of the parameters).
    /// Records {y, x, score, member|draw}: the pixel, the drawn value there, where it came from.
    public static func thompson(model path: String, candidates: String, measured: [(y: Int, x: Int, value: Double)], q: Int, subset: Int,
                                seed: UInt64, maximize: Bool) throws -> (schema: Schema, attributes: JSON, records: [[UInt8]]) {
        let coords: [(Int, Int)], picks: [(index: Int, value: Double, source: Int)], source: String
        var attrs: JSON = ["acquisition": "thompson", "maximize": .bool(maximize)]
        if BayesianFit.isFitFile(path) {
            let fit = try BayesianFit.load(from: path)
            let c = try FitData.candidates(try StreamReader(path: candidates), names: fit.model.inputNames)
            coords = c.coordinates
            picks = try fit.thompsonChoices(c.x, q: q, subset: subset, seed: seed, maximize: maximize, excluded: Candidates(coordinates: coords).indices(of: measured))
                .map { ($0.index, $0.value, $0.draw) }
            source = "draw"
            attrs.set("model", .string(path))
        } else {
            let model = try DKLEnsemble.load(from: path)
            let c = try Candidates.patches(candidates, width: model.members[0].trainInputs.cols, purpose: "thompson")
            coords = c.coordinates
            picks = try model.thompsonChoices(c.patches, q: q, subset: subset, seed: seed, maximize: maximize, excluded: c.indices(of: measured))
                .map { ($0.index, $0.value, $0.member) }
            source = "member"
        }
        let schema = try Schema([Field("y", .i32), Field("x", .i32), Field("score", .f64), Field(source, .i32)])
        let records = picks.map { pick -> [UInt8] in
            var rec = RecordBuilder(schema)
            rec.set(0, int: coords[pick.index].0); rec.set(1, int: coords[pick.index].1); rec.set(2, pick.value); rec.set(3, int: pick.source)
            return rec.bytes
        }
        return (schema, attrs, records)
    }
}

extension DKLEnsemble {
    /// Thompson sampling: q points, each from a member drawn at random and one joint draw
    /// of its latent function over at most `subset` of the candidates (rows of raw
    /// inputs), taking the draw's best; each choice is excluded from the next. Returns the
    /// candidate, the drawn value in the targets' units and the member.
    public func thompsonChoices(_ x: Matrix, q: Int, subset: Int, seed: UInt64, maximize: Bool, excluded: Set<Int>) throws
        -> [(index: Int, value: Double, member: Int)] {
        var rng = Xoshiro(seed: seed)
        var excluded = excluded
        var out: [(index: Int, value: Double, member: Int)] = []
        for draw in 0..<q {
            let k = Int(rng.next() % UInt64(members.count))
            let m = members[k]
            guard let pick = try Thompson.chooseWithValue(posterior: try m.posterior(), candidates: m.embed(x), maxSubset: subset,
                                                          seed: seed &+ UInt64(draw) &* 0x9E37_79B9, maximize: maximize, excluded: excluded) else { break }
            excluded.insert(pick.index)
            out.append((pick.index, pick.value * m.targetStd + m.targetMean, k))
        }
        return out
    }
}
