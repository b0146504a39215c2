// zlib's deflate, for the PNG writer (Sources/DKL/Plot/PNG.swift).
#include <zlib.h>
