import Foundation
import Synchronization
import DKLCore
import DKLNumerics
import DKLData

/// Two threads that work through a loop in step: the calling thread is lane 0, a helper
/// thread lane 1, and `sync()` returns once both lanes have reached it. For loops of many
/// short phases (the batches of a training epoch), where waking a worker for every phase
/// would cost more than a phase's BLAS work. A lane that waits spins briefly, then yields
/// its core. Inside `run`, `Parallel`'s loops run serially on each lane's thread.
public final class LanePair: Sendable {
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    public init() {}

    /// Runs `body(0)` on this thread and `body(1)` on a new one; returns when both have
    /// returned. Both lanes must call `sync()` the same number of times.
    public func run(_ body: @Sendable (Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            // The helper thread reaches the body through a slot emptied before returning:
            // the Thread object may outlive this call, the body must not.
            let slot = UnsafeMutableBufferPointer<@Sendable (Int) -> Void>.allocate(capacity: 1)
            slot.initialize(repeating: escaping)
            defer { slot.deinitialize(); slot.deallocate() }
            let work = SharedBuffer(slot)
            let done = DispatchSemaphore(value: 0)
            let helper = Thread {
                Parallel.asLane { work[0](1) }
                done.signal()
            }
            helper.stackSize = 1 << 23
            helper.start()
            Parallel.asLane { escaping(0) }
            done.wait()
        }
    }

    /// Waits until the other lane has reached its matching `sync()`.
    public func sync() {
        let g = generation.load(ordering: .acquiring)
        if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == 2 {
            // The last to arrive resets the count before it lets the other lane go, so the
            // next sync counts from zero.
            arrived.store(0, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .releasing)
            return
        }
        var spins = 0
        while generation.load(ordering: .acquiring) == g {
            spins += 1
            if spins > 2000 { sched_yield() }
        }
    }
}
