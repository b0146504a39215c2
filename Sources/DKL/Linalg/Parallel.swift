import Foundation

/// The toolkit's own worker threads for loops that BLAS does not cover (kernel matrices,
/// gradient sums). Results never depend on the thread count: work is split into a fixed
/// number of parts that depends only on the problem size, and parts are combined in order.
public enum Parallel {
    /// Threads that run the parts (default: the cores; tools set it from `--threads`).
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount
    /// The number of parts a large loop is split into, whatever the thread count.
    public static let parts = 4

    /// Splits rows 0..<n of a lower-triangular loop (row i costs about i) into `parts`
    /// contiguous ranges of equal work (one range when the loop is small) and runs
    /// `body(part, rows)` for each, concurrently when more than one thread is allowed.
    public static func forEachTrianglePart(_ n: Int, minimumWork: Int = 20_000, _ body: (Int, Range<Int>) -> Void) {
        let k = n * n / 2 >= minimumWork * parts ? parts : 1
        let bounds = (0...k).map { Int((Double(n) * (Double($0) / Double(k)).squareRoot()).rounded()) }
        run(k, body) { bounds[$0]..<bounds[$0 + 1] }
    }

    /// Splits 0..<n into `parts` equal contiguous ranges (one when n is small).
    public static func forEachPart(_ n: Int, minimumRows: Int = 256, _ body: (Int, Range<Int>) -> Void) {
        let k = n >= minimumRows * parts ? parts : 1
        run(k, body) { (n * $0 / k)..<(n * ($0 + 1) / k) }
    }

    /// Runs tasks 0..<count on min(threads, count) lanes (lane j takes tasks j, j + lanes, …),
    /// with OpenBLAS on one thread meanwhile (however many lanes there are): for
    /// independent pieces of BLAS work too small to share well between threads. Each task
    /// writes only its own outputs.
    /// Inside a lane, further `lanes` and parts run serially on that lane's thread.
    public static func lanes(_ count: Int, _ body: (Int) -> Void) {
        let lanes = min(threads, count)
        if insideLane {
            for k in 0..<count { body(k) }
            return
        }
        if lanes <= 1 {
            // One BLAS thread here too, so that the numbers are those of several lanes.
            BLAS.singleThreaded { for k in 0..<count { body(k) } }
            return
        }
        BLAS.singleThreaded {
            withoutActuallyEscaping(body) { escaping in
                nonisolated(unsafe) let work = escaping
                DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                    pthread_setspecific(laneKey, UnsafeRawPointer(bitPattern: 1))
                    defer { pthread_setspecific(laneKey, nil) }
                    for k in stride(from: lane, to: count, by: lanes) { work(k) }
                }
            }
        }
    }

    /// `lanes` for tasks that return a value or throw: the values in task order, or the
    /// error of the first task (by index) that threw. Tasks that cannot throw need no `try`.
    public static func lanesMap<T, E: Error>(_ count: Int, _ body: (Int) throws(E) -> T) throws(E) -> [T] {
        let results = UnsafeMutableBufferPointer<Result<T, E>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let (slots, work) = (results, escaping)
            lanes(count) { k in slots[k] = Result { () throws(E) -> T in try work(k) } }
        }
        var values: [T] = []
        values.reserveCapacity(count)
        for r in results { values.append(try r!.get()) }
        return values
    }

    /// Runs the parts. The body's captures are the caller's responsibility: each part
    /// writes only its own rows or its own accumulators.
    static func run(_ count: Int, _ body: (Int, Range<Int>) -> Void, _ range: @escaping @Sendable (Int) -> Range<Int>) {
        if count == 1 || threads <= 1 || insideLane {
            for k in 0..<count { body(k, range(k)) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            nonisolated(unsafe) let work = escaping
            DispatchQueue.concurrentPerform(iterations: count) { k in work(k, range(k)) }
        }
    }

    /// Runs `body` marked as a lane: `Parallel`'s loops inside it run serially on this thread.
    static func asLane<T>(_ body: () -> T) -> T {
        let outer = pthread_getspecific(laneKey)
        pthread_setspecific(laneKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(laneKey, outer) }
        return body()
    }

    /// Whether the calling thread is running a lane (a thread-specific flag).
    static var insideLane: Bool { pthread_getspecific(laneKey) != nil }
    private static let laneKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
