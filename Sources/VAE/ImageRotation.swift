/// Images turned about their centre, as the rotation-invariant decoder turns them: the
/// image a record would decode to with its angle φ raised by δ, I′(u) = I(R(δ)·u), on the
/// decoder's pixel grid u ∈ [−1, 1]² (x along columns, y along rows), sampled bilinearly,
/// 0 outside the image.
import DKLCore
import DKLNumerics
import DKLData

public enum ImageRotation {
    /// Row i of `x` (an H×W image, row-major) turned by `angles[i]` radians.
    public static func rotate<T: NetScalar>(_ x: NetMatrix<T>, height: Int, width: Int, angles: [T]) -> NetMatrix<T> {
        precondition(x.cols == height * width && angles.count == x.rows)
        var out = NetMatrix<T>(rows: x.rows, cols: x.cols)
        let (hx, hy) = (T(max(width - 1, 1)) / 2, T(max(height - 1, 1)) / 2)
        for i in 0..<x.rows {
            let (c, s) = (T.cos(angles[i]), T.sin(angles[i]))
            let base = i * x.cols
            for r in 0..<height {
                let v = height == 1 ? 0 : T(r) / hy - 1
                for col in 0..<width {
                    let u = width == 1 ? 0 : T(col) / hx - 1
                    // Where this pixel samples the original, in pixel units.
                    let px = (c * u - s * v + 1) * hx, py = (s * u + c * v + 1) * hy
                    let (fx, fy) = (px.rounded(.down), py.rounded(.down))
                    let (tx, ty) = (px - fx, py - fy)
                    let (x0, y0) = (Int(fx), Int(fy))
                    func at(_ yy: Int, _ xx: Int) -> T {
                        yy >= 0 && yy < height && xx >= 0 && xx < width ? x.data[base + yy * width + xx] : 0
                    }
                    out.data[base + r * width + col] = (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1))
                        + ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1))
                }
            }
        }
        return out
    }
}
