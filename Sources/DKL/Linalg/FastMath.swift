/// A branch-free exponential for the kernels' hot loops (about 20 instructions, no
/// library call, no conversion traps): e^x = 2^k·e^r with k = round(x/ln 2), |r| ≤ ln2/2, and e^r from its
/// Taylor polynomial of degree 13 (truncation below 1e-17 relative). Accurate to a few
/// ulps for x ≥ −708; returns 0 below (where e^x is subnormal or 0) and is not meant for
/// x > 709.
public enum FastMath {
    @inline(__always)
    public static func exp(_ x: Double) -> Double {
        let xc = max(x, -708.0)
        // k = round(x/ln 2) by the 1.5·2⁵² trick (no Double→Int conversion, which would trap
        // on overflow): the low bits of t then hold k, from which 2^k is built with wrapping shifts.
        let t = xc * 1.4426950408889634 + 6755399441055744.0
        let k = t - 6755399441055744.0
        let r = (xc - k * 0.6931471803691238) - k * 1.9082149292705877e-10
        var p = 1.6059043836821613e-10          // 1/13!
        p = p * r + 2.08767569878681e-09        // 1/12!
        p = p * r + 2.505210838544172e-08       // 1/11!
        p = p * r + 2.755731922398589e-07       // 1/10!
        p = p * r + 2.7557319223985893e-06      // 1/9!
        p = p * r + 2.48015873015873e-05        // 1/8!
        p = p * r + 0.0001984126984126984       // 1/7!
        p = p * r + 0.001388888888888889        // 1/6!
        p = p * r + 0.008333333333333333        // 1/5!
        p = p * r + 0.041666666666666664        // 1/4!
        p = p * r + 0.16666666666666666         // 1/3!
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = Double(bitPattern: (t.bitPattern &+ 1023) &<< 52)
        return x < -708 ? 0 : p * scale
    }
}

