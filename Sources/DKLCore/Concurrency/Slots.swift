/// A fixed number of result slots that several threads fill, each slot written by one
/// task only: the toolkit's one place where threads write shared memory without a lock.
/// Tasks write disjoint slots (`Parallel`'s loops give each index to one task), and the
/// slots are read only after the loop has joined its threads, so no two accesses race.
/// The values are deinitialized with the slots (a slot left empty holds nil).
public final class Slots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<T?>

    public init(_ count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    public var count: Int { storage.count }

    /// Slot i: written by the one task that owns index i, read after the loop.
    public subscript(i: Int) -> T? {
        get { storage[i] }
        set { storage[i] = newValue }
    }

    /// Every slot's value, in order, when all are filled (nil if one is empty).
    public func values() -> [T]? {
        var out: [T] = []
        out.reserveCapacity(storage.count)
        for v in storage {
            guard let v else { return nil }
            out.append(v)
        }
        return out
    }
}

/// Memory that the threads of one loop share: each thread writes only its own disjoint
/// part (its rows, its chunk, its slot), or all of them only read, and the memory outlives
/// the loop (the caller's buffer, borrowed for the loop's duration). With `Slots`, the
/// toolkit's one place where threads share memory without a lock; everything else that
/// crosses threads is checked by the compiler.
public struct SharedBuffer<T>: @unchecked Sendable {
    public let buffer: UnsafeMutableBufferPointer<T>

    public init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
    /// A buffer the loop only reads.
    public init(_ buffer: UnsafeBufferPointer<T>) { self.buffer = UnsafeMutableBufferPointer(mutating: buffer) }

    /// The first element (the buffer is not empty).
    public var base: UnsafeMutablePointer<T> { buffer.baseAddress! }
    /// The first element, or nil for an empty buffer.
    public var baseAddress: UnsafeMutablePointer<T>? { buffer.baseAddress }
    public var count: Int { buffer.count }

    public subscript(i: Int) -> T {
        get { buffer[i] }
        nonmutating set { buffer[i] = newValue }
    }
}
