import Foundation
import DKLCore

/// Lanes: independent tasks side by side, with OpenBLAS on one thread meanwhile.
extension Parallel {
    /// Runs tasks 0..<count on min(threads, count) lanes (lane j takes tasks j, j + lanes, …),
    /// with OpenBLAS on one thread meanwhile (however many lanes there are): for
    /// independent pieces of BLAS work too small to share well between threads. Each task
    /// writes only its own outputs.
    /// Inside a lane, further `lanes` and parts run serially on that lane's thread.
    public static func lanes(_ count: Int, _ body: @Sendable (Int) -> Void) {
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
            withoutActuallyEscaping(body) { work in
                DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                    Parallel.markLane(true)
                    defer { Parallel.markLane(false) }
                    for k in stride(from: lane, to: count, by: lanes) { work(k) }
                }
            }
        }
    }

    /// `lanes` for tasks that return a value or throw: the values in task order, or the
    /// error of the first task (by index) that threw. Tasks that cannot throw need no `try`.
    public static func lanesMap<T, E: Error>(_ count: Int, _ body: @Sendable (Int) throws(E) -> T) throws(E) -> [T] {
        let results = UnsafeMutableBufferPointer<Result<T, E>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        let slots = SharedBuffer(results)
        withoutActuallyEscaping(body) { work in
            lanes(count) { k in slots[k] = Result { () throws(E) -> T in try work(k) } }
        }
        var values: [T] = []
        values.reserveCapacity(count)
        for r in results { values.append(try r!.get()) }
        return values
    }
}
