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
/// each handed over with its place in the block's C order: the one walk NPY,
/// DigitalMicrograph, Nanonis and Igor arrays share.
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

    /// Visits the block `start ..< start + count` of the array at `data` with byte `strides`.
    /// The walk follows the file, not the block: dimensions from the largest stride to the
    /// smallest, so that the innermost loop reads consecutive bytes (a spectrum image stored
    /// as energy planes is read plane by plane, each row's run at once, not one page per
    /// value), and each element goes to its C-order place in the block.
    static func visit(_ data: UnsafeRawPointer, strides: [Int], start: [Int], count: [Int], _ body: (Int, UnsafeRawPointer) -> Void) {
        if count.contains(0) { return }
        if strides.isEmpty { body(0, data); return }
        let rank = strides.count
        // Each dimension's step in the block's C order.
        var outStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { outStrides[d] = outStrides[d + 1] * count[d + 1] }
        // The walk's order: the largest byte stride outermost (ties keep C order).
        var walked = (0..<rank).filter { count[$0] > 1 }
        if walked.isEmpty { walked = [rank - 1] }
        let order = walked.sorted { abs(strides[$0]) > abs(strides[$1]) || (abs(strides[$0]) == abs(strides[$1]) && $0 < $1) }
        var origin = data
        for d in 0..<rank { origin += start[d] * strides[d] }
        let inner = order[order.count - 1], last = rank - 1
        if inner != last, count[last] > 1 {
            tiled(origin, strides: strides, count: count, outStrides: outStrides, order: order, body)
            return
        }
        let (innerCount, innerStride, innerOut) = (count[inner], strides[inner], outStrides[inner])
        let outer = Array(order.dropLast())
        var index = [Int](repeating: 0, count: outer.count)
        let outerSizes = outer.map { count[$0] }
        while true {
            var p = origin, o = 0
            for (k, d) in outer.enumerated() { p += index[k] * strides[d]; o += index[k] * outStrides[d] }
            for _ in 0..<innerCount { body(o, p); o += innerOut; p += innerStride }
            if !advance(&index, over: outerSizes) { return }
        }
    }

    /// The walk when the file's consecutive bytes run along another dimension than the
    /// block's last (a spectrum image stored as energy planes, read as (y, x, E)): tiles of
    /// 16 along the block's last dimension, in each the file's consecutive run, so that
    /// both the reads (16 sequential streams) and the writes (16 neighbouring values) stay
    /// in cache.
    static func tiled(_ origin: UnsafeRawPointer, strides: [Int], count: [Int], outStrides: [Int], order: [Int],
                      _ body: (Int, UnsafeRawPointer) -> Void) {
        let (last, inner) = (strides.count - 1, order[order.count - 1])
        let outer = order.filter { $0 != inner && $0 != last }
        walkTiles(strides: strides, count: count, outStrides: outStrides, inner: inner, outer: outer,
                  tile: { offset, t0, _ in (origin + offset + t0 * strides[last], strides[inner], strides[last]) }, body)
    }

    /// The tiled walk of `tiled`, with each tile's runs copied from the file (pread) into a
    /// buffer first instead of read through the mapping. False (nothing visited) when the
    /// layout is not that one (no dimension of consecutive elements, a negative stride).
    static func visitCopying(_ file: FileMapping, offset: Int, strides: [Int], start: [Int], count: [Int], elementSize: Int,
                             _ body: (Int, UnsafeRawPointer) -> Void) throws -> Bool {
        let rank = strides.count
        guard rank >= 2, !count.contains(0), strides.allSatisfy({ $0 > 0 }),
              let inner = (0..<rank).first(where: { strides[$0] == elementSize && count[$0] > 1 }), inner != rank - 1,
              count[rank - 1] > 1 else { return false }
        var outStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { outStrides[d] = outStrides[d + 1] * count[d + 1] }
        let last = rank - 1
        var origin = offset
        for d in 0..<rank { origin += start[d] * strides[d] }
        let outer = (0..<rank).filter { $0 != inner && $0 != last && count[$0] > 1 }.sorted { strides[$0] > strides[$1] }
        let runBytes = count[inner] * elementSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 16 * runBytes, alignment: 16)
        defer { buffer.deallocate() }
        try walkTiles(strides: strides, count: count, outStrides: outStrides, inner: inner, outer: outer, tile: { at, t0, n in
            for t in 0..<n { try file.copy(origin + at + (t0 + t) * strides[last], runBytes, into: buffer + t * runBytes) }
            return (UnsafeRawPointer(buffer), elementSize, runBytes)
        }, body)
        return true
    }

    /// The tiles shared by `tiled` and `visitCopying`: for every combination of the `outer`
    /// dimensions (at byte offset `at` from the block's first element) and every tile of
    /// 16 along the last dimension (from `t0`, `n` long), `tile` gives the tile's first
    /// element and the byte steps along `inner` and along the tile.
    static func walkTiles(strides: [Int], count: [Int], outStrides: [Int], inner: Int, outer: [Int],
                          tile: (_ at: Int, _ t0: Int, _ n: Int) throws -> (UnsafeRawPointer, Int, Int),
                          _ body: (Int, UnsafeRawPointer) -> Void) rethrows {
        let last = strides.count - 1
        let (innerCount, innerOut, lastCount) = (count[inner], outStrides[inner], count[last])
        var index = [Int](repeating: 0, count: outer.count)
        let outerSizes = outer.map { count[$0] }
        while true {
            var at = 0, o0 = 0
            for (k, d) in outer.enumerated() { at += index[k] * strides[d]; o0 += index[k] * outStrides[d] }
            var t0 = 0
            while t0 < lastCount {
                let n = min(16, lastCount - t0)
                let (first, innerStep, tileStep) = try tile(at, t0, n)
                var p = first, o = o0 + t0
                for _ in 0..<innerCount {
                    var q = p
                    for t in 0..<n { body(o + t, q); q += tileStep }
                    p += innerStep; o += innerOut
                }
                t0 += n
            }
            if !advance(&index, over: outerSizes) { return }
        }
    }

    /// Steps `index` to the next combination below `sizes`, the last fastest (an
    /// odometer); false when it has gone round.
    @inline(__always)
    static func advance(_ index: inout [Int], over sizes: [Int]) -> Bool {
        var k = index.count - 1
        while k >= 0 {
            index[k] += 1
            if index[k] < sizes[k] { return true }
            index[k] = 0
            k -= 1
        }
        return false
    }

    /// About how many bytes of pages a block's walk touches: its elements, times how much of
    /// each page it leaves unread when its consecutive runs are shorter than a page.
    static func footprint(strides: [Int], count: [Int], elementSize: Int) -> Int {
        let n = count.reduce(1, *)
        guard n > 0, let d = strides.indices.min(by: { abs(strides[$0]) < abs(strides[$1]) }) else { return 0 }
        let run = abs(strides[d]) == elementSize ? count[d] * elementSize : elementSize
        let (bytes, overflow) = n.multipliedReportingOverflow(by: elementSize * max(1, 4096 / max(1, min(4096, run))))
        return overflow ? .max : bytes
    }
}
