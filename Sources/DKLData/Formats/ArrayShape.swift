import DKLCore

/// The one check of an array's declared shape before anything is read or allocated, for
/// every reader (NPY, HDF5 and those to come): no dimension negative or beyond Int, no
/// overflow of the element or byte count, at most `maximumBytes` in all, and for what a
/// file declares, no more than the file can hold.
public enum ArrayShape {
    /// The most bytes an array may declare (1 TiB).
    public static let maximumBytes = 1 << 40
    /// How far a compressed (chunked) dataset may outgrow its storage: data compresses by
    /// tens, not thousands, and a shape that does is damaged or hostile.
    public static let maximumCompression = 1000

    /// The element count of `dims` with `elementBytes` bytes each, or an error naming `file`
    /// (nil: the caller locates it).
    public static func validate<D: BinaryInteger>(_ dims: [D], elementBytes: Int, file: String?) throws -> (shape: [Int], count: Int, bytes: Int) {
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(exactly: d), v >= 0 else { throw DKLError.data("declared dimension \(d) is not a size", file: file) }
            shape.append(v)
        }
        var count = 1
        for d in shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DKLError.data("declared shape \(shape) is too large", file: file) }
            count = c
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: max(elementBytes, 1))
        guard !overflow, bytes <= maximumBytes else {
            throw DKLError.data("declared shape \(shape) needs \(overflow ? "more than 2^63" : String(bytes)) bytes; at most \(maximumBytes) (1 TiB) are read", file: file)
        }
        return (shape, count, bytes)
    }

    /// That the file's storage can hold `bytes`: all of them when stored contiguously,
    /// `maximumCompression` times the storage (plus 64 MiB of fill) when compressed.
    public static func checkStorage(bytes: Int, stored: Int, contiguous: Bool, shape: [Int], file: String) throws {
        if contiguous {
            guard stored >= bytes else {
                throw DKLError.data("declared shape \(shape) needs \(bytes) bytes but the file holds \(stored) of them", file: file)
            }
            return
        }
        let (most, overflow) = stored.multipliedReportingOverflow(by: maximumCompression)
        guard overflow || bytes <= most + (64 << 20) else {
            throw DKLError.data("declared shape \(shape) needs \(bytes) bytes but only \(stored) are stored: damaged, or compressed beyond belief", file: file)
        }
    }
}

/// The elements of a block of an array laid out with byte strides (a mapped file's data),
/// visited in C order of the block: the one walk NPY and DigitalMicrograph arrays share.
enum StridedArray {
    /// The `n` values a gather visits, each converted by `value`.
    static func read<T: BinaryFloatingPoint>(_ n: Int, _ gather: ((Int, UnsafeRawPointer) -> Void) throws -> Void,
                                             _ value: (UnsafeRawPointer) -> T) throws -> [T] {
        var out = [T](repeating: 0, count: n)
        try withoutActuallyEscaping(value) { value in
            try out.withUnsafeMutableBufferPointer { o in try gather { i, p in o[i] = value(p) } }
        }
        return out
    }

    static func visit(_ data: UnsafeRawPointer, strides: [Int], start: [Int], count: [Int], _ body: (Int, UnsafeRawPointer) -> Void) {
        if count.contains(0) { return }
        if strides.isEmpty { body(0, data); return }
        let last = strides.count - 1
        var index = start
        var out = 0
        while true {
            var p = data
            for d in 0..<last { p += index[d] * strides[d] }
            p += start[last] * strides[last]
            for _ in 0..<count[last] { body(out, p); out += 1; p += strides[last] }
            // Advance the odometer over the leading dimensions.
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < start[d] + count[d] { break }
                index[d] = start[d]
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
