import Foundation
import DKLCore

/// The size of one pixel along x and its length unit, as the readers of instrument files
/// give it (`pixel_size`, `pixel_unit`), carried by the tools' headers and drawn as a
/// scale bar.
public struct PixelSize: Sendable, Equatable {
    public var value: Double
    public var unit: String

    public init(value: Double, unit: String) { self.value = value; self.unit = unit }

    /// From attributes: `pixel_size` and `pixel_unit`, their own or their source's
    /// (`source_attrs`, as `dkl-cat --import` keeps an array's attributes); nil when
    /// neither has a positive, finite size with a unit.
    public init?(attributes: JSON) {
        for attrs in [attributes, attributes["source_attrs"] ?? .null] {
            if let v = attrs["pixel_size"]?.doubleValue, v.isFinite, v > 0, let u = attrs["pixel_unit"]?.stringValue, !u.isEmpty {
                self.init(value: v, unit: u)
                return
            }
        }
        return nil
    }

    /// `0.5nm`, `19.6 nm`, `2e-10m`: a positive number and a length unit.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        let split = t.firstIndex { !($0.isNumber || "+-.eE".contains($0)) } ?? t.endIndex
        let (number, unit) = (String(t[..<split]), String(t[split...]).trimmingCharacters(in: .whitespaces))
        guard let v = Double(number), v.isFinite, v > 0, PixelSize.metres(per: unit) != nil else {
            throw DKLError.usage("a pixel size is a positive number and a length unit (m, mm, µm, nm, pm, Å), e.g. 0.5nm, not '\(text)'")
        }
        self.init(value: v, unit: unit)
    }

    /// The header attributes that carry it.
    public var attributes: [(String, JSON)] { [("pixel_size", .number(value)), ("pixel_unit", .string(unit))] }

    /// The size in metres, when the unit is a length.
    public var metres: Double? { PixelSize.metres(per: unit).map { value * $0 } }

    static func metres(per unit: String) -> Double? {
        switch unit {
        case "m": return 1
        case "mm": return 1e-3
        case "µm", "μm", "um": return 1e-6
        case "nm": return 1e-9
        case "pm": return 1e-12
        case "Å", "A", "Angstrom", "angstrom": return 1e-10
        default: return nil
        }
    }

    /// A bar of a round length (1, 2 or 5 times a power of ten) at most `most` metres long,
    /// and its label in the unit that reads best ("50 nm", "2 μm").
    public static func bar(mostMetres most: Double) -> (metres: Double, label: String)? {
        guard most.isFinite, most > 0 else { return nil }
        let decade = pow(10, (log10(most)).rounded(.down))
        let length = [5.0, 2, 1].map { $0 * decade }.first { $0 <= most * (1 + 1e-9) } ?? decade
        let units: [(Double, String)] = [(1, "m"), (1e-3, "mm"), (1e-6, "μm"), (1e-9, "nm"), (1e-12, "pm")]
        let (scale, name) = units.first { length >= $0.0 * (1 - 1e-9) } ?? (1e-12, "pm")
        let v = length / scale
        let text = v >= 1 && v < 1e15 ? String(Int(v.rounded())) : String(format: "%g", v)
        return (length, "\(text) \(name)")
    }
}
