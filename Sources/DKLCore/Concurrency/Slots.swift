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
