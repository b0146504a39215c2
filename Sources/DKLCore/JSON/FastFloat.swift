import Foundation

/// Parses JSON numbers quickly and exactly.
///
/// The common case (at most 19 significant digits, a mantissa below 2^53 and a decimal
/// exponent within ±22) is computed exactly as one multiplication or division by an
/// exactly representable power of ten (Clinger's fast path), which is correctly
/// rounded. Everything else falls back to `strtod`. Converting the correctly rounded
/// Double to Float is also correctly rounded (53 ≥ 2·24 + 2 bits), so float32 fields
/// read back bit for bit what the writer printed.
public enum FastFloat {
    static let pow10: [Double] = (0...22).map { Double(sign: .plus, exponent: 0, significand: 1) * pow(10.0, Double($0)) }

    /// Parses the JSON number starting at `from`; returns the value and the end offset,
    /// or nil when the bytes there are not a JSON number.
    @inline(__always)
    public static func parse(_ b: UnsafeBufferPointer<UInt8>, from: Int) -> (Double, Int)? {
        var p = from
        let n = b.count
        var negative = false
        if p < n, b[p] == UInt8(ascii: "-") { negative = true; p += 1 }
        guard p < n else { return nil }
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits accumulated in mantissa
        var dropped = 0         // integer digits beyond 19 (scale up)
        var exp10 = 0
        let intStart = p
        if b[p] == UInt8(ascii: "0") {
            p += 1
        } else {
            while p < n, b[p] &- 0x30 < 10 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(b[p] &- 0x30); if mantissa != 0 { digits += 1 } } else { dropped += 1 }
                p += 1
            }
        }
        if p == intStart { return nil }
        var truncated = dropped > 0
        exp10 += dropped
        if p < n, b[p] == UInt8(ascii: ".") {
            p += 1
            let fracStart = p
            while p < n, b[p] &- 0x30 < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(b[p] &- 0x30)
                    if mantissa != 0 { digits += 1 }
                    exp10 -= 1
                } else if b[p] != 0x30 { truncated = true }
                p += 1
            }
            if p == fracStart { return nil }
        }
        if p < n, b[p] | 0x20 == UInt8(ascii: "e") {
            p += 1
            var eneg = false
            if p < n, b[p] == UInt8(ascii: "+") || b[p] == UInt8(ascii: "-") { eneg = b[p] == UInt8(ascii: "-"); p += 1 }
            let eStart = p
            var e = 0
            while p < n, b[p] &- 0x30 < 10 { if e < 100_000 { e = e * 10 + Int(b[p] &- 0x30) }; p += 1 }
            if p == eStart { return nil }
            exp10 += eneg ? -e : e
        }
        if !truncated, mantissa <= (1 << 53), exp10 >= -22, exp10 <= 22 {
            var v = Double(mantissa)
            if exp10 < 0 { v /= pow10[-exp10] } else if exp10 > 0 { v *= pow10[exp10] }
            return (negative ? -v : v, p)
        }
        if mantissa == 0 && !truncated { return (negative ? -0.0 : 0.0, p) }
        return (slow(b, from: from, to: p), p)
    }

    static func slow(_ b: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Double {
        var text = Array(b[from..<to])
        text.append(0)
        return text.withUnsafeBufferPointer { ptr in
            ptr.baseAddress!.withMemoryRebound(to: CChar.self, capacity: text.count) { strtod($0, nil) }
        }
    }
}
