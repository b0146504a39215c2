// The few C library calls the toolkit needs that Swift's Glibc module does not export.
#include <malloc.h>

/// Keeps blocks up to 1 GiB in the heap instead of fresh mmap()s returned at free().
static inline void dkl_keep_large_blocks(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
