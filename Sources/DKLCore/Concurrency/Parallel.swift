import Foundation
import Synchronization

/// The toolkit's own worker threads for loops that BLAS does not cover (kernel matrices,
/// gradient sums). Results never depend on the thread count: work is split into a fixed
/// number of parts that depends only on the problem size, and parts are combined in order.
/// `lanes` and `lanesMap`, which keep OpenBLAS on one thread while they run, are in
/// DKLNumerics (Parallel+BLAS.swift).
public enum Parallel {
    /// Threads that run the parts (default: the cores; tools set it from `--threads`).
    /// Once set, OpenBLAS follows it too (see `BLAS`); until then OpenBLAS keeps its own
    /// default (OPENBLAS_NUM_THREADS).
    public static var threads: Int {
        get { let n = threadCount.load(ordering: .relaxed); return n > 0 ? n : cores }
        set { threadCount.store(max(1, newValue), ordering: .relaxed) }
    }
    /// The count set, or 0 while none has been.
    package static var threadSetting: Int { threadCount.load(ordering: .relaxed) }
    private static let threadCount = Atomic<Int>(0)
    private static let cores = ProcessInfo.processInfo.activeProcessorCount
    /// The most parts a large loop is split into. How many depends only on the size of the
    /// loop, never on the thread count, so sums combined part by part in order give the
    /// same bits on any machine; the parts run on min(threads, parts) threads.
    public static let parts = 32

    /// The number of parts `forEachTrianglePart` splits an n-row triangle into: one below
    /// 4·`minimumWork` pairs, then four, and from 16·`minimumWork` pairs four per
    /// 16·`minimumWork`, up to `parts` (so the GP's sums up to 800 points are cut as they
    /// always were, and the results of earlier runs stay bit for bit).
    public static func triangleParts(_ n: Int, minimumWork: Int = 20_000) -> Int {
        let pairs = n * n / 2, base = 4 * max(minimumWork, 1)
        guard pairs >= base else { return 1 }
        return min(parts, 4 * max(1, pairs / (4 * base)))
    }

    /// Splits rows 0..<n of a lower-triangular loop (row i costs about i) into
    /// `triangleParts(n)` contiguous ranges of equal work and runs `body(part, rows)` for
    /// each, concurrently when more than one thread is allowed.
    public static func forEachTrianglePart(_ n: Int, minimumWork: Int = 20_000, _ body: @Sendable (Int, Range<Int>) -> Void) {
        let k = triangleParts(n, minimumWork: minimumWork)
        let bounds = (0...k).map { Int((Double(n) * (Double($0) / Double(k)).squareRoot()).rounded()) }
        run(k, body) { bounds[$0]..<bounds[$0 + 1] }
    }

    /// Splits 0..<n into equal contiguous ranges of at least `minimumRows` rows (at most
    /// `parts`; one when n is small).
    public static func forEachPart(_ n: Int, minimumRows: Int = 256, _ body: @Sendable (Int, Range<Int>) -> Void) {
        let k = max(1, min(parts, n / max(minimumRows, 1)))
        run(k, body) { (n * $0 / k)..<(n * ($0 + 1) / k) }
    }

    /// Runs `body(i)` for every i in 0..<count on all the threads (`threads`, not capped by
    /// `parts`), each index once, taken in order by whichever thread is free: for
    /// independent items (a sweep's histories) whose results do not depend on where they run.
    public static func forEachItem(_ count: Int, _ body: @Sendable (Int) -> Void) {
        let workers = min(threads, count)
        if workers <= 1 || insideLane {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { work in
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < count else { return }
                    work(i)
                }
            }
        }
    }

    /// Runs the parts on min(threads, count) threads, each taking the next part.
    package static func run(_ count: Int, _ body: @Sendable (Int, Range<Int>) -> Void, _ range: @escaping @Sendable (Int) -> Range<Int>) {
        withoutActuallyEscaping(body) { work in forEachItem(count) { k in work(k, range(k)) } }
    }

    /// Runs `body` marked as a lane: `Parallel`'s loops inside it run serially on this thread.
    package static func asLane<T>(_ body: () -> T) -> T {
        let outer = pthread_getspecific(laneKey)
        pthread_setspecific(laneKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(laneKey, outer) }
        return body()
    }

    /// Whether the calling thread is running a lane (a thread-specific flag).
    package static var insideLane: Bool { pthread_getspecific(laneKey) != nil }
    /// Marks the calling thread as running a lane, or as not (a thread-specific flag).
    package static func markLane(_ on: Bool) { pthread_setspecific(laneKey, on ? UnsafeRawPointer(bitPattern: 1) : nil) }
    private static let laneKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
