import Foundation
import XCTest

/// PNG files decoded by Python's zlib and struct, an independent reader: the image's size
/// and its pixels as RGB triples, row-major.
public enum PNGReader {
    public struct Image {
        public let width: Int, height: Int
        public let pixels: [[UInt8]]
        public func at(_ x: Int, _ y: Int) -> [UInt8] { pixels[y * width + x] }
        /// The pixels of colour `c` (left of column `below`): their count and centroid (x, y).
        public func find(_ c: [UInt8], below: Int = .max) -> (count: Int, x: Double, y: Double) {
            var n = 0, sx = 0.0, sy = 0.0
            for (i, p) in pixels.enumerated() where p == c && i % width < below { n += 1; sx += Double(i % width); sy += Double(i / width) }
            return (n, n > 0 ? sx / Double(n) : .nan, n > 0 ? sy / Double(n) : .nan)
        }
    }

    /// Decodes an 8-bit RGB PNG (any of the five row filters), checking every chunk's CRC.
    public static func read(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> Image {
        let out = try Tools.python("""
            import struct, sys, zlib
            b = open(sys.argv[1], 'rb').read()
            assert b[:8] == bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            pos, chunks = 8, {}
            while pos < len(b):
                n, = struct.unpack('>I', b[pos:pos + 4]); t = b[pos + 4:pos + 8]; d = b[pos + 8:pos + 8 + n]
                crc, = struct.unpack('>I', b[pos + 8 + n:pos + 12 + n])
                assert crc == zlib.crc32(t + d), t
                chunks[t] = chunks.get(t, b'') + d; pos += 12 + n
            w, h, depth, kind = struct.unpack('>IIBB', chunks[b'IHDR'][:10])
            assert (depth, kind) == (8, 2)
            raw = zlib.decompress(chunks[b'IDAT'])
            import numpy as np
            s = 3 * w
            prev, rows = np.zeros(s, np.int64), []
            for y in range(h):
                f = raw[y * (s + 1)]
                line = np.frombuffer(raw[y * (s + 1) + 1:(y + 1) * (s + 1)], np.uint8).astype(np.int64)
                if f == 1: line = np.cumsum(line.reshape(w, 3), axis=0).ravel() % 256
                elif f == 2: line = (line + prev) % 256
                elif f in (3, 4):
                    line = line.copy()
                    for i in range(s):
                        a = line[i - 3] if i >= 3 else 0
                        up, c = prev[i], (prev[i - 3] if i >= 3 else 0)
                        if f == 3: line[i] = (line[i] + (a + up) // 2) % 256
                        else:
                            p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                            line[i] = (line[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) % 256
                else: assert f == 0, f
                rows.append(line.astype(np.uint8).tobytes()); prev = line
            sys.stdout.write('%d %d\\n' % (w, h)); sys.stdout.write(b''.join(rows).hex())
            """, args: [path], file: file, line: line)
        let parts = out.split(separator: "\n", maxSplits: 1)
        guard parts.count == 2 else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path]) }
        let dims = parts[0].split(separator: " ").map { Int($0)! }
        let hex = Array(parts[1].utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        var bytes = [UInt8](repeating: 0, count: hex.count / 2)
        for i in bytes.indices { bytes[i] = nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]) }
        let pixels = (0..<(dims[0] * dims[1])).map { Array(bytes[(3 * $0)..<(3 * $0 + 3)]) }
        return Image(width: dims[0], height: dims[1], pixels: pixels)
    }
}
