import CPlatform
import DKLCore

/// The training loops allocate and free matrices of a few MB every iteration. glibc serves
/// such blocks with fresh mmap()s and returns them to the system at once, so every
/// iteration page-faults its whole working set again. Keeping large blocks in the heap removes that; peak memory is unchanged, since the same
/// blocks are reused.
public enum Allocator {
    private static let tuned: Void = dkl_keep_large_blocks()

    /// Raises glibc's mmap and trim thresholds to 1 GiB, once per process (a static let's
    /// initializer runs once, whichever thread gets there first).
    public static func keepLargeBlocks() { _ = tuned }
}
