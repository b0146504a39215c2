import Foundation
import DKLCore
import DKLData

/// A synthetic data set written as a stream: its schema and attributes, and the records
/// made in order from one seeded generator (the same seed gives the same bytes).
public final class SyntheticStream {
    public let schema: Schema
    public let attributes: JSON
    public let count: Int
    /// What the records are, for progress ("trajectories", "cards").
    public let what: String
    private let fill: (Int, inout RecordBuilder) -> Void

    init(schema: Schema, attributes: JSON, count: Int, what: String, fill: @escaping (Int, inout RecordBuilder) -> Void) {
        self.schema = schema; self.attributes = attributes; self.count = count; self.what = what; self.fill = fill
    }

    /// Writes every record in order, with progress and ^C checks every 100 records.
    public func write(to writer: StreamWriter, progress: DKLCore.Progress?) throws {
        var rec = RecordBuilder(schema)
        for i in 0..<count {
            fill(i, &rec)
            try writer.write(rec.bytes)
            if i % 100 == 99 { progress?.update(i + 1); try Interrupts.check() }
        }
        progress?.finish(count)
    }

    /// The lecture's field histories A·exp(α·t)·sin(ω·t) + B on linspace(0, duration, steps):
    /// records {id, A, alpha, omega, B, field[steps]}.
    public static func trajectories(count: Int, steps: Int, duration: Double, seed: UInt64) throws -> SyntheticStream {
        let schema = try Schema([Field("id", .i64), Field("A", .f64), Field("alpha", .f64), Field("omega", .f64), Field("B", .f64),
                                 Field("field", .f32, shape: [steps])])
        let attrs: JSON = ["set": "trajectories", "formula": "A*exp(alpha*t)*sin(omega*t)+B", "steps": .number(Double(steps)),
                           "duration": .number(duration)]
        var g = Xoshiro(seed: seed)
        let slot = schema.slots
        return SyntheticStream(schema: schema, attributes: attrs, count: count, what: "trajectories") { i, rec in
            let t = Trajectory(&g)
            rec.set(slot["id"]!, int: i)
            rec.set(slot["A"]!, t.amplitude); rec.set(slot["alpha"]!, t.alpha); rec.set(slot["omega"]!, t.omega); rec.set(slot["B"]!, t.offset)
            rec.set(slot["field"]!, t.values(steps: steps, duration: duration))
        }
    }

    /// Card glyphs of `suits`, rotated by an angle uniform in ±`rotation` degrees and sheared
    /// by one in ±`shear`: records {id, [y, x,] suit, angle, shear, image[H, W]}; on a grid
    /// A×B (`count` = A·B), card i sits at (i / B, i mod B).
    public static func cards(size dims: [Int], count: Int, grid: (Int, Int)?, rotation: Double, shear: Double, suits: [Card.Suit],
                             seed: UInt64) throws -> SyntheticStream {
        var fields = [Field("id", .i64)]
        if grid != nil { fields += [Field("y", .i32), Field("x", .i32)] }
        fields += [Field("suit", .i32), Field("angle", .f64), Field("shear", .f64), Field("image", .f32, shape: dims)]
        let schema = try Schema(fields)
        var attrs: JSON = ["set": "cards", "suits": JSON(Card.Suit.allCases.map(\.name)), "rotation": .number(rotation), "shear": .number(shear),
                           "angle_units": "degrees, counterclockwise"]
        if let grid { attrs.set("grid", JSON([grid.0, grid.1])) }
        let slot = schema.slots
        var g = Xoshiro(seed: seed)
        return SyntheticStream(schema: schema, attributes: attrs, count: grid.map { $0.0 * $0.1 } ?? count, what: "cards") { i, rec in
            let suit = suits[Int(g.uniform() * Double(suits.count))]
            let angle = rotation * (2 * g.uniform() - 1), sh = shear * (2 * g.uniform() - 1)
            let image = Card.render(suit, angle: angle, shear: sh, height: dims[0], width: dims[1])
            rec.set(slot["id"]!, int: i)
            if let grid { rec.set(slot["y"]!, int: i / grid.1); rec.set(slot["x"]!, int: i % grid.1) }
            rec.set(slot["suit"]!, int: suit.rawValue); rec.set(slot["angle"]!, angle); rec.set(slot["shear"]!, sh)
            image.withUnsafeBufferPointer { rec.set(slot["image"]!, floats: $0) }
        }
    }
}

extension PlasmonScene {
    /// Writes the data set into `dir`: image.npy (float32 H×W) and spectra.h5 (/spectra
    /// float32 H×W×E, /energy in eV, /image, /truth/edge_band and /truth/gap_band, the
    /// noise-free band integrals), each file whole or not at all. `argv` is recorded.
    public mutating func write(to dir: String, argv: [String], progress: DKLCore.Progress?) throws {
        let (h, w) = (height, width)
        try FileSystem.makeDirectory(dir)
        let image = self.image()
        let channels = energy.count
        var spectra = [Float](); spectra.reserveCapacity(h * w * channels)
        var edge = [Double](), gap = [Double]()
        let edgeBand = energy.map { $0 >= 2.3 && $0 <= 3.1 }, gapBand = energy.map { $0 >= 1.35 && $0 <= 2.05 }
        let dE = energy[1] - energy[0]
        for y in 0..<h {
            for x in 0..<w {
                let s = spectrum(y: y, x: x)
                spectra += s.noisy
                edge.append(dE * zip(s.clean, edgeBand).filter(\.1).map(\.0).reduce(0, +))
                gap.append(dE * zip(s.clean, gapBand).filter(\.1).map(\.0).reduce(0, +))
            }
            progress?.update(y + 1)
        }
        try NPYFile.write(dir + "/image.npy", shape: [h, w], values: .float(image))
        let file = try HDF5Writer(path: dir + "/spectra.h5")
        do {
            try file.write("/spectra", shape: [h, w, channels], values: .float(spectra))
            try file.write("/energy", shape: [channels], values: .double(energy))
            try file.write("/image", shape: [h, w], values: .float(image))
            try file.write("/truth/edge_band", shape: [h, w], values: .double(edge))
            try file.write("/truth/gap_band", shape: [h, w], values: .double(gap))
            try file.setAttribute("/spectra", "energy_start_eV", .number(energy[0]))
            try file.setAttribute("/spectra", "energy_step_eV", .number(dE))
            try file.setAttribute("/spectra", "units", "counts (arb.)")
            try file.setAttribute("/truth/edge_band", "band_eV", [2.3, 3.1])
            try file.setAttribute("/truth/gap_band", "band_eV", [1.35, 2.05])
            try file.setAttribute("/", "generator", .string("dkl-synth \(DKLVersion.string)"))
            try file.setAttribute("/", "argv", JSON(argv))
            try file.commit()
        } catch { file.abort(); throw error }
        progress?.finish(h)
    }
}
