/* Header-only: see include/platform.h. */
