import Foundation
import DKLCore
import DKLData

/// A synthetic STEM-EELS experiment on metal nanoparticles: a HAADF-like structural
/// image measured everywhere and a spectrum image of plasmon modes, deterministic for a
/// seed. It is the toolkit's bundled sample data and a test bed with known physics:
///
/// * image: substrate 0.12 plus, inside each particle, a dome-shaped thickness times a
///   Z-contrast in [0.7, 1]; edges are sigmoids of width 0.8 px; Gaussian noise σ = 0.03;
/// * spectrum (eV): zero-loss tail `0.35·(E/0.5)^-2.5`, a rising background, an edge
///   (dipole) mode whose energy falls with particle size and decays away from the edge,
///   a gap (bonding) mode at 1.3–1.9 eV between close particles, a bulk mode at 3.8 eV
///   proportional to thickness, and Poisson-like noise (variance signal/150 + 0.01²).
public struct PlasmonScene {
    public struct Particle { public var cy, cx, ry, rx, angle, contrast: Double; public var square: Bool }

    public let height: Int
    public let width: Int
    public let energy: [Double]
    public private(set) var particles: [Particle] = []
    var rng: Xoshiro

    public init(height: Int, width: Int, channels: Int, particles count: Int, seed: UInt64) {
        self.height = height
        self.width = width
        energy = (0..<channels).map { 0.5 + 4.0 * Double($0) / Double(max(channels - 1, 1)) }
        rng = Xoshiro(seed: seed)
        var tries = 0
        let scale = Double(min(height, width)) / 64
        while particles.count < count && tries < 20_000 {
            tries += 1
            let r = (3 + 5 * rng.uniform()) * scale
            let p = Particle(cy: rng.uniform() * Double(height), cx: rng.uniform() * Double(width),
                             ry: r * (0.75 + 0.25 * rng.uniform()), rx: r, angle: Double.pi * rng.uniform(),
                             contrast: 0.7 + 0.3 * rng.uniform(), square: rng.uniform() < 0.4)
            if particles.allSatisfy({ hypot($0.cy - p.cy, $0.cx - p.cx) > $0.rx + p.rx + 1.5 }) { particles.append(p) }
        }
    }

    /// Signed distance (px, negative inside) from (y, x) to particle `p`'s edge, approximately.
    func distance(_ p: Particle, _ y: Double, _ x: Double) -> Double {
        let dy = y - p.cy, dx = x - p.cx
        let u = (dx * cos(p.angle) + dy * sin(p.angle)) / p.rx
        let v = (-dx * sin(p.angle) + dy * cos(p.angle)) / p.ry
        let rho = p.square ? pow(pow(abs(u), 4) + pow(abs(v), 4), 0.25) : (u * u + v * v).squareRoot()
        return (rho - 1) * (p.rx + p.ry) / 2
    }

    /// The noisy structural image, row-major (height × width).
    public mutating func image() -> [Float] {
        var out = [Float](repeating: 0, count: height * width)
        for y in 0..<height {
            for x in 0..<width {
                var v = 0.12 + 0.02 * sin(Double(x) / 9) * cos(Double(y) / 11)
                for p in particles {
                    let d = distance(p, Double(y), Double(x))
                    if d > 4 { continue }
                    let inside = 1 / (1 + exp(d / 0.8))
                    let depth = max(0, -d) / ((p.rx + p.ry) / 2)
                    v += inside * p.contrast * (0.6 + 0.4 * min(1, depth * 2).squareRoot())
                }
                out[y * width + x] = Float(v + 0.03 * rng.normal())
            }
        }
        return out
    }

    /// The noisy spectrum at (y, x) and its noise-free version.
    public mutating func spectrum(y: Int, x: Int) -> (noisy: [Float], clean: [Double]) {
        let yy = Double(y), xx = Double(x)
        let ds = particles.map { distance($0, yy, xx) }
        let order = ds.indices.sorted { ds[$0] < ds[$1] }
        let near = order.first.map { particles[$0] }
        let d1 = order.first.map { ds[$0] } ?? 100
        let d2 = order.count > 1 ? ds[order[1]] : 100
        let thickness = near.map { max(0, -d1) / (($0.rx + $0.ry) / 2) } ?? 0
        let radius = near.map { ($0.rx + $0.ry) / 2 } ?? 5
        let edgeE = min(3.3, max(2.2, 3.25 - 0.075 * radius + 0.015 * min(max(d1, -4), 10)))
        let edgeI = (d1 >= 0 ? exp(-d1 / 4) : exp(d1 / 1.8)) * (0.55 + 0.05 * radius)
        let gapI = d1 > 0 && d2 > 0 ? 1.5 * exp(-(d1 + d2 - 1) / 3) : 0
        let gapE = 1.3 + 0.6 * min(1, (d1 + d2) / 12)
        func lorentz(_ e: Double, _ c: Double, _ fwhm: Double) -> Double { let g = fwhm / 2; return g * g / ((e - c) * (e - c) + g * g) }
        var clean = [Double](repeating: 0, count: energy.count)
        var noisy = [Float](repeating: 0, count: energy.count)
        for (c, e) in energy.enumerated() {
            var s = 0.35 * (1 + 0.8 * thickness) * pow(e / 0.5, -2.5) + (0.06 + 0.04 * thickness) * (e / 2.7) * (e / 2.7)
            s += edgeI * lorentz(e, edgeE, 0.30)
            s += gapI * lorentz(e, gapE, 0.25)
            s += 0.5 * thickness * lorentz(e, 3.8, 0.55)
            clean[c] = s
            noisy[c] = Float(s + (s / 150 + 1e-4).squareRoot() * rng.normal())
        }
        return (noisy, clean)
    }
}
