import Foundation
import DKLCore
import DKLData

/// A 4D-STEM detector as the diffraction-pattern scalarizers see it: its size, the
/// reference centre (ky, kx) from which deflections and radii are measured, the pixels that
/// count (a mask, and a disc of --radius), and its calibration in mrad per pixel when the
/// file gives one.
public struct Detector: Sendable {
    public var height: Int, width: Int
    public var centre: (y: Double, x: Double)
    /// Detector pixels that count (all when nil), row-major ky×kx.
    public var mask: [Bool]?
    public var mradPerPixel: Double?

    public init(height: Int, width: Int, centre: (y: Double, x: Double), mask: [Bool]? = nil, mradPerPixel: Double? = nil) {
        precondition(mask == nil || mask!.count == height * width)
        self.height = height; self.width = width; self.centre = centre; self.mask = mask; self.mradPerPixel = mradPerPixel
    }

    /// Where the angle is zero on a detector whose last two axes (ky, kx) are calibrated in
    /// mrad or rad (−offset/scale): the optical axis, in pixels.
    public static func opticalAxis(_ attributes: JSON) -> (y: Double, x: Double)? {
        guard let axes = attributes["axes"]?.arrayValue, axes.count >= 2 else { return nil }
        let zero = axes.suffix(2).map { a -> Double? in
            guard ["mrad", "rad"].contains(a["units"]?.stringValue ?? ""), let s = a["scale"]?.doubleValue, s.isFinite, s != 0,
                  let o = a["offset"]?.doubleValue, o.isFinite else { return nil }
            return -o / s
        }
        guard let y = zero[0], let x = zero[1] else { return nil }
        return (y, x)
    }

    /// The calibration of patterns whose last two axes (ky, kx) are in mrad (or rad) with
    /// one scale, from an array's `axes` attribute.
    public static func mradPerPixel(_ attributes: JSON) -> Double? {
        guard let axes = attributes["axes"]?.arrayValue, axes.count >= 2 else { return nil }
        let scales = axes.suffix(2).map { a -> Double? in
            guard let s = a["scale"]?.doubleValue, s.isFinite, s != 0 else { return nil }
            switch a["units"]?.stringValue {
            case "mrad": return abs(s)
            case "rad": return abs(s) * 1000
            default: return nil
            }
        }
        guard let ky = scales[0], let kx = scales[1], abs(ky - kx) <= 1e-6 * max(ky, kx) else { return nil }
        return kx
    }
}

/// A radius on the detector, in pixels or (`…mrad`) in mrad.
public struct DetectorRadius: Sendable, Equatable {
    public var value: Double
    public var mrad: Bool

    /// `12`, `3.5`, `40mrad`.
    public static func parse(_ text: String, in spec: String) throws -> DetectorRadius {
        let mrad = text.hasSuffix("mrad")
        guard let v = Double(mrad ? String(text.dropLast(4)) : text), v.isFinite, v >= 0 else {
            throw DKLError.usage("'\(spec)': a radius is a number of detector pixels or of mrad ('40mrad'), not '\(text)'")
        }
        return DetectorRadius(value: v, mrad: mrad)
    }

    /// In detector pixels.
    func pixels(_ detector: Detector, in spec: String) throws -> Double {
        guard mrad else { return value }
        guard let m = detector.mradPerPixel else {
            throw DKLError.usage("'\(spec)': the patterns have no calibration in mrad: give radii in detector pixels")
        }
        return value / m
    }
}

/// The options that describe the detector: `--centre KY,KX`, `--mask ARRAY`, `--radius R`.
public struct DetectorOptions: Sendable {
    public var centre: (y: Double, x: Double)?
    public var mask: String?
    public var radius: Double?

    public init(centre: String?, mask: String?, radius: String?) throws {
        if let centre {
            let v = try OptionList.doubles(centre, option: "centre", count: 2...2, what: "KY,KX")
            self.centre = (v[0], v[1])
        }
        self.mask = mask
        if let radius {
            guard let r = Double(radius), r > 0, r.isFinite else { throw DKLError.usage("--radius must be a positive number of detector pixels") }
            self.radius = r
        }
    }

    public var isEmpty: Bool { centre == nil && mask == nil && radius == nil }

    /// The detector of ky×kx patterns: the centre given, else the centre of mass of `cube`'s
    /// mean pattern over the mask, else (a stream, an instrument) the optical axis of a
    /// detector calibrated in mrad when it lies in the detector's central half (else
    /// --centre is needed); the mask and
    /// the disc of --radius; the calibration from `attributes`.
    public func detector(height ky: Int, width kx: Int, cube: ArraySource?, attributes: JSON, name: String) throws -> Detector {
        var m = try mask.map { try CentreOfMass.loadMask($0, height: ky, width: kx) }
        let c: (y: Double, x: Double)
        if let centre {
            c = centre
        } else if let cube {
            c = try CentreOfMass.reference(cube, mask: m)
        } else if let axis = Detector.opticalAxis(attributes), abs(axis.y - Double(ky - 1) / 2) <= Double(ky) / 4, abs(axis.x - Double(kx - 1) / 2) <= Double(kx) / 4 {
            // (zero mrad in the detector's central half: an axis whose origin is a corner says nothing)
            c = axis
        } else {
            throw DKLError.usage("diffraction patterns from \(name) need the reference centre: --centre KY,KX")
        }
        if let radius {
            let disc = CentreOfMass.disc(height: ky, width: kx, centre: c, radius: radius)
            m = m.map { zip($0, disc).map { $0 && $1 } } ?? disc
        }
        return Detector(height: ky, width: kx, centre: c, mask: m, mradPerPixel: Detector.mradPerPixel(attributes))
    }
}

/// What a scalarizer is bound to: the energy axis of spectra, or the detector of patterns.
public enum ItemGeometry: Sendable {
    case spectrum(EnergyAxis)
    case pattern(Detector)

    /// The geometry of `source`'s items (spectra for 1 dimension, patterns for 2), with
    /// `energy` (--energy) for spectra and `detector` for patterns; `first` is an item's
    /// length when it is known before the source's shape (an instrument's answer).
    public static func resolve(for scalarizers: [Scalarizer], item: [Int], cube: ArraySource?, attributes: [JSON], energy: String?,
                               detector: DetectorOptions, name: String) throws -> ItemGeometry {
        let patterns = scalarizers.filter(\.isPattern)
        if !patterns.isEmpty && patterns.count < scalarizers.count {
            throw DKLError.usage("diffraction-pattern scalarizers (com, bf, adf, dpc) and spectrum ones do not mix")
        }
        if patterns.isEmpty {
            if !detector.isEmpty { throw DKLError.usage("--centre, --mask and --radius go with diffraction-pattern scalarizers (com, bf, adf, dpc)") }
            guard item.count == 1 else {
                throw DKLError.data("\(scalarizers.first?.name ?? "the scalarizer") scalarizes spectra; the items are \(item.map(String.init).joined(separator: "×")) (a diffraction-pattern scalarizer: com, bf, adf, dpc)", file: name)
            }
            if let cube { return .spectrum(try EnergyAxis.resolve(option: energy, source: cube, channels: item[0])) }
            return .spectrum(try EnergyAxis.resolve(option: energy, attributes: attributes, sibling: nil, channels: item[0], name: name))
        }
        if energy != nil { throw DKLError.usage("--energy goes with spectra, not diffraction patterns") }
        guard item.count == 2 else {
            throw DKLError.data("\(patterns[0].name) scalarizes diffraction patterns ky×kx; the items are \(item.map(String.init).joined(separator: "×"))", file: name)
        }
        let attrs = cube?.attributes ?? attributes.first(where: { $0["axes"] != nil }) ?? .object([])
        return .pattern(try detector.detector(height: item[0], width: item[1], cube: cube, attributes: attrs, name: name))
    }
}

extension ItemGeometry {
    /// The geometry of the items of an array H×W×item, its rank checked: 3 for spectra, 4
    /// for diffraction patterns.
    public static func resolve(for scalarizers: [Scalarizer], cube: ArraySource, energy: String?, detector: DetectorOptions) throws -> ItemGeometry {
        let pattern = scalarizers.contains(where: \.isPattern)
        try cube.requireRank([pattern ? 4 : 3], pattern ? "a 4D-STEM cube H×W×ky×kx" : "a spectrum image H×W×E")
        return try locating(file: cube.name) {
            try resolve(for: scalarizers, item: Array(cube.shape.dropFirst(2)), cube: cube, attributes: [cube.attributes],
                        energy: energy, detector: detector, name: cube.name)
        }
    }
}
