import Foundation
import DKLCore
import DKLData

/// A synthetic 4D-STEM experiment: a square lattice of atomic columns, a few of them
/// heavier, scanned by a probe that records a diffraction pattern at every pixel, and the
/// HAADF image on the same grid. Deterministic for a seed; a test bed whose physics is known:
///
/// * the projected potential V(r) = Σ Zᵢ·exp(−|r − rᵢ|²/2σ²) (σ = 1 px), columns on a lattice
///   of `spacing` px, jittered by up to 0.3 px, Z = 1, or `heavyZ` for a share `heavy`;
/// * the pattern (ky×kx, the optical axis at ((k−1)/2, (k−1)/2)): a bright-field disc of radius
///   k/5 px with a 1-px soft edge, shifted by −κ·∇V (κ = 2 detector px per unit gradient,
///   the centre of mass's deflection by the column's field), and the electrons scattered
///   out of it, 0.05·t(r) of them (t(r) = Σ Zᵢ^1.7·exp(−|r − rᵢ|²/2σ²)), in a halo
///   exp(−|k − c|/(k/4)) outside the disc; each pattern sums to 1 (a dose D then means D
///   electrons per pattern);
/// * the HAADF image: t(r) plus Gaussian noise σ = 0.01.
/// The detector is calibrated at 20/(k/5) mrad per pixel (a 20 mrad convergence semi-angle),
/// the scan at 0.05 nm per pixel.
public struct DiffractionScene {
    public struct Column: Sendable { public var y, x, z: Double }
    public let height: Int, width: Int, detector: Int
    public let columns: [Column]
    public let sigma = 1.0, kappa = 2.0
    public let pixelNM = 0.05
    public var discRadius: Double { Double(detector) / 5 }
    public var mradPerPixel: Double { 20 / discRadius }
    let noiseSeed: UInt64

    public init(height: Int, width: Int, detector: Int, spacing: Double = 6, heavy: Double = 0.1, heavyZ: Double = 2, seed: UInt64) {
        (self.height, self.width, self.detector) = (height, width, detector)
        var rng = Xoshiro(seed: seed)
        var columns: [Column] = []
        var y = spacing / 2
        while y < Double(height) + spacing {
            var x = spacing / 2
            while x < Double(width) + spacing {
                let jy = 0.6 * (rng.uniform() - 0.5), jx = 0.6 * (rng.uniform() - 0.5)
                columns.append(Column(y: y - spacing / 2 + jy, x: x - spacing / 2 + jx, z: rng.uniform() < heavy ? heavyZ : 1))
                x += spacing
            }
            y += spacing
        }
        self.columns = columns
        noiseSeed = rng.next()
    }

    /// V, ∂V/∂y, ∂V/∂x and t at scan position (y, x).
    public func fields(y: Double, x: Double) -> (v: Double, gy: Double, gx: Double, t: Double) {
        var (v, gy, gx, t) = (0.0, 0.0, 0.0, 0.0)
        let s2 = sigma * sigma, reach = 6 * sigma
        for c in columns where abs(c.y - y) < reach && abs(c.x - x) < reach {
            let (dy, dx) = (y - c.y, x - c.x)
            let g = exp(-(dy * dy + dx * dx) / (2 * s2))
            v += c.z * g; gy -= c.z * g * dy / s2; gx -= c.z * g * dx / s2
            t += pow(c.z, 1.7) * g
        }
        return (v, gy, gx, t)
    }

    /// The diffraction pattern at scan pixel (y, x), row-major ky×kx, summing to 1.
    public func pattern(y: Int, x: Int) -> [Float] {
        let f = fields(y: Double(y), x: Double(x))
        let k = detector, c = Double(k - 1) / 2
        let (sy, sx) = (c - kappa * f.gy, c - kappa * f.gx)
        var disc = [Double](repeating: 0, count: k * k), halo = disc
        for i in 0..<k {
            for j in 0..<k {
                let r = hypot(Double(i) - sy, Double(j) - sx)
                disc[i * k + j] = min(max(discRadius - r + 0.5, 0), 1)
                let r0 = hypot(Double(i) - c, Double(j) - c)
                halo[i * k + j] = r0 > discRadius ? exp(-r0 / (Double(k) / 4)) : 0
            }
        }
        let scattered = min(0.05 * f.t, 0.9)
        let (sd, sh) = (disc.reduce(0, +), halo.reduce(0, +))
        return (0..<(k * k)).map { Float((1 - scattered) * disc[$0] / sd + scattered * halo[$0] / sh) }
    }

    /// The HAADF image, row-major height × width.
    public func image() -> [Float] {
        var rng = Xoshiro(seed: noiseSeed)
        var out = [Float](repeating: 0, count: height * width)
        for y in 0..<height {
            for x in 0..<width { out[y * width + x] = Float(fields(y: Double(y), x: Double(x)).t + 0.01 * rng.normal()) }
        }
        return out
    }

    /// Writes image.npy (the HAADF image, float32 H×W), cube.h5 (a Berkeley EMD group
    /// /4dstem: data float32 H×W×ky×kx with dim1…dim4 in nm and mrad) and truth.h5
    /// (/com_y, /com_x, /com_magnitude: the stored patterns' centre of mass about the
    /// optical axis in detector pixels; /potential, /haadf_clean: V and t).
    public func write(to dir: String, argv: [String], progress: DKLCore.Progress?) throws {
        let (h, w, k) = (height, width, detector)
        try FileSystem.makeDirectory(dir)
        var cube = [Float](); cube.reserveCapacity(h * w * k * k)
        var comY = [Double](), comX = [Double](), potential = [Double](), clean = [Double]()
        let c = Double(k - 1) / 2
        for y in 0..<h {
            for x in 0..<w {
                let p = pattern(y: y, x: x)
                cube += p
                var (s, sy, sx) = (0.0, 0.0, 0.0)
                for i in 0..<k { for j in 0..<k { let v = Double(p[i * k + j]); s += v; sy += v * Double(i); sx += v * Double(j) } }
                comY.append(sy / s - c); comX.append(sx / s - c)
                let f = fields(y: Double(y), x: Double(x))
                potential.append(f.v); clean.append(f.t)
            }
            progress?.update(y + 1)
        }
        try NPYFile.write(dir + "/image.npy", shape: [h, w], values: .float(image()))
        let file = try HDF5Writer(path: dir + "/cube.h5")
        do {
            try file.write("/4dstem/data", shape: [h, w, k, k], values: .float(cube))
            let axes: [(String, [Double], String)] = [("y", (0..<h).map { Double($0) * pixelNM }, "nm"), ("x", (0..<w).map { Double($0) * pixelNM }, "nm"),
                                                     ("ky", (0..<k).map { (Double($0) - c) * mradPerPixel }, "mrad"),
                                                     ("kx", (0..<k).map { (Double($0) - c) * mradPerPixel }, "mrad")]
            for (d, (name, values, units)) in axes.enumerated() {
                try file.write("/4dstem/dim\(d + 1)", shape: [values.count], values: .double(values))
                try file.setAttribute("/4dstem/dim\(d + 1)", "name", .string(name))
                try file.setAttribute("/4dstem/dim\(d + 1)", "units", .string(units))
            }
            try file.setAttribute("/4dstem", "emd_group_type", .number(1))
            try file.setAttribute("/", "version_major", .number(0))
            try file.setAttribute("/", "version_minor", .number(2))
            try file.setAttribute("/", "generator", .string("dkl-synth \(DKLVersion.string)"))
            try file.setAttribute("/", "argv", JSON(argv))
            try file.commit()
        } catch { file.abort(); throw error }
        let truth = try HDF5Writer(path: dir + "/truth.h5")
        do {
            try truth.write("/com_y", shape: [h, w], values: .double(comY))
            try truth.write("/com_x", shape: [h, w], values: .double(comX))
            try truth.write("/com_magnitude", shape: [h, w], values: .double(zip(comY, comX).map { hypot($0, $1) }))
            try truth.write("/potential", shape: [h, w], values: .double(potential))
            try truth.write("/haadf_clean", shape: [h, w], values: .double(clean))
            try truth.setAttribute("/", "centre_px", .array([.number(c), .number(c)]))
            try truth.setAttribute("/", "generator", .string("dkl-synth \(DKLVersion.string)"))
            try truth.commit()
        } catch { truth.abort(); throw error }
        progress?.finish(h)
    }
}
