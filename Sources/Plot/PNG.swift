import CZlib
import Foundation
import DKLCore
import DKLData

/// PNG files written in-house: 8-bit RGB, each row filtered by "Sub" (the difference from
/// the pixel to its left, which is zero across a plot's flat areas), the image data
/// deflated by zlib.
public enum PNG {
    /// Writes `rgb` (height × width × 3 bytes, row-major) atomically to `path`.
    public static func write(_ path: String, width: Int, height: Int, rgb: [UInt8]) throws {
        precondition(rgb.count == width * height * 3 && width > 0 && height > 0)
        let stride = width * 3
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        for y in 0..<height {
            let o = y * (stride + 1), r = y * stride
            raw[o] = 1   // filter: Sub
            for i in 0..<stride { raw[o + 1 + i] = i < 3 ? rgb[r + i] : rgb[r + i] &- rgb[r + i - 3] }
        }
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = [UInt8]()
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]   // 8 bits, truecolour, deflate, adaptive filters, no interlace
        chunk("IHDR", header, into: &file)
        chunk("IDAT", try deflate(raw), into: &file)
        chunk("IEND", [], into: &file)
        let f = try AtomicFile(path: path)
        do {
            try f.writer.write(file)
            try f.commit()
        } catch { f.abort(); throw error }
    }

    /// A zlib stream (RFC 1950) of `data`.
    static func deflate(_ data: [UInt8]) throws -> [UInt8] {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in compress2(o.baseAddress, &size, d.baseAddress, uLong(data.count), 6) }
        }
        guard status == Z_OK else { throw DKLError.data("zlib could not compress the image (status \(status))") }
        return Array(out.prefix(Int(size)))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        let body = Array(type.utf8) + data
        out += bigEndian(UInt32(data.count))
        out += body
        let crc = body.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) }
        out += bigEndian(UInt32(crc))
    }
}
