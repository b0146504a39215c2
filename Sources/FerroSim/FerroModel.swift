import Foundation
import DKLCore
import DKLData

/// The lattice ferroelectric of FerroSIM: an n×n square lattice with a polarization
/// (px, py) per site, a Landau–Ginzburg–Devonshire local energy, nearest-neighbour
/// coupling, depolarization and random-field defects, driven by an applied field E(t).
public struct FerroModel: Sendable {
    public enum Mode: String, Sendable, CaseIterable { case tetragonal, rhombohedral, squareelectric, uniaxial }

    public var n: Int
    public var mode: Mode
    /// Landau coefficients α1, α2, α3 (α3 unused by squareelectric and uniaxial).
    public var alpha: (Double, Double, Double)
    /// The relaxation rate γ.
    public var gamma: Double
    /// Coupling constant per site (k), and depolarization per site (dep_alpha).
    public var k: [Double]
    public var depAlpha: [Double]
    /// Random-field defects per site, in units of Ec (zero: no defect).
    public var defects: [(Double, Double)]
    /// Sites at a distance in (0, r] are neighbours (1.1: the four nearest). The original
    /// divides the neighbour sum by 4 whatever their number, and so does the simulator.
    public var neighbourRadius = 1.1

    /// Neighbour offsets (di, dj) within the radius, in ascending site order (the order in
    /// which the original adds them).
    public var neighbourOffsets: [(Int, Int)] {
        // Offsets beyond the lattice side add nothing new (and a radius from a file or an
        // option must not trap or loop for ever): at most n, and 1 for a radius that is not finite.
        let m = neighbourRadius.isFinite ? Int(min(max(neighbourRadius, 1), Double(n)).rounded(.down)) : 1
        var out: [(Int, Int)] = []
        for di in -m...m { for dj in -m...m where (di != 0 || dj != 0) && Double(di * di + dj * dj) <= neighbourRadius * neighbourRadius {
            out.append((di, dj))
        } }
        return out.sorted { $0.0 * n + $0.1 < $1.0 * n + $1.1 }
    }

    /// FerroSim's default Landau coefficients for each mode.
    public static func defaultLandau(_ mode: Mode) -> (Double, Double, Double) {
        switch mode {
        case .tetragonal: return (-1.6, 12.2, 40.0)
        case .rhombohedral: return (-10.6, 10.2, -10.0)
        case .squareelectric, .uniaxial: return (-1.85, 1.25, 0)
        }
    }

    public init(n: Int, mode: Mode = .tetragonal, alpha: (Double, Double, Double)? = nil, gamma: Double = 1,
                k: Double = 1, depAlpha: Double = 0) {
        self.n = n
        self.mode = mode
        self.alpha = alpha ?? FerroModel.defaultLandau(mode)
        self.gamma = gamma
        self.k = [Double](repeating: k, count: n * n)
        self.depAlpha = [Double](repeating: depAlpha, count: n * n)
        self.defects = [(Double, Double)](repeating: (0, 0), count: n * n)
    }

    public var sites: Int { n * n }

    /// The coercive field Ec = (−2/3)·α1·√|α1/(3α2)|, the unit of fields and defects.
    public var coerciveField: Double { (-2.0 / 3) * alpha.0 * abs(alpha.0 / (3 * alpha.1)).squareRoot() }

    /// FerroSim's remanent initial state: py = trunc(−√|α1/α2|) (an integer, as the original
    /// builds it), px = 0.
    public var remanentState: (Double, Double) { (0, (-(abs(alpha.0 / alpha.1)).squareRoot()).rounded(.towardZero)) }
}

/// The state of a lattice, site-major: the value at site s = i·n + j.
public struct Polarization: Equatable, Sendable {
    public var x: [Double]
    public var y: [Double]
    public init(x: [Double], y: [Double]) { self.x = x; self.y = y }
    public init(sites: Int, value: (Double, Double)) {
        x = [Double](repeating: value.0, count: sites); y = [Double](repeating: value.1, count: sites)
    }

    /// The mean over sites.
    public var mean: (Double, Double) { (x.reduce(0, +) / Double(x.count), y.reduce(0, +) / Double(y.count)) }

    /// The curl with a periodic wrap, as FerroSim computes it (no lattice spacing):
    /// ½((py[i+1,j] − py[i−1,j]) − (px[i,j+1] − px[i,j−1])).
    public func curl(n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                let up = ((i + 1) % n) * n + j, down = ((i - 1 + n) % n) * n + j
                let right = i * n + (j + 1) % n, left = i * n + (j - 1 + n) % n
                c[i * n + j] = 0.5 * ((y[up] - y[down]) - (x[right] - x[left]))
            }
        }
        return c
    }
}
