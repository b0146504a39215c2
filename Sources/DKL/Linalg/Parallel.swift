import Foundation

/// The toolkit's own worker threads for loops that BLAS does not cover (kernel matrices,
/// gradient sums). Results never depend on the thread count: every split combines its
/// parts in a fixed order.
public enum Parallel {
    /// Threads used by `forEachPart` (default: the cores; tools set it from `--threads`).
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    /// Splits rows 0..<n of a lower-triangular loop (row i costs about i) into at most
    /// `threads` contiguous parts of equal work, and runs `body(part, rows)` on each.
    /// Small problems run on the calling thread.
    public static func forEachTrianglePart(_ n: Int, minimumWork: Int = 20_000, _ body: (Int, Range<Int>) -> Void) {
        let parts = max(1, min(threads, n * n / 2 / max(minimumWork, 1)))
        if parts == 1 { body(0, 0..<n); return }
        let bounds = (0...parts).map { k in Int((Double(n) * (Double(k) / Double(parts)).squareRoot()).rounded()) }
        run(parts, body) { bounds[$0]..<bounds[$0 + 1] }
    }

    /// Splits 0..<n into at most `threads` equal contiguous parts (for rows of equal cost).
    public static func forEachPart(_ n: Int, minimumRows: Int = 256, _ body: (Int, Range<Int>) -> Void) {
        let parts = max(1, min(threads, n / max(minimumRows, 1)))
        if parts == 1 { body(0, 0..<n); return }
        run(parts, body) { (n * $0 / parts)..<(n * ($0 + 1) / parts) }
    }

    /// Runs the parts concurrently. The body's captures are the caller's responsibility:
    /// each part writes only its own rows or its own accumulators.
    static func run(_ parts: Int, _ body: (Int, Range<Int>) -> Void, _ range: @escaping @Sendable (Int) -> Range<Int>) {
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let work = escaping
            DispatchQueue.concurrentPerform(iterations: parts) { k in work(k, range(k)) }
        }
    }
}
