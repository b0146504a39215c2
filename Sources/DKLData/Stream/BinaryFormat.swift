/// The binary encoding's constants (see dkl-stream(5)).
///
///     offset 0   8 bytes  magic  89 44 4B 4C 0D 0A 1A 0A  ("\x89DKL\r\n\x1a\n")
///     offset 8   u32 LE   format version (1)
///     offset 12  u32 LE   H, the header length in bytes
///     offset 16  H bytes  the header, UTF-8 JSON, padded with spaces so that 16 + H is a multiple of 8
///     then       N records of the schema's record size, fields packed in order, little-endian
///     then       8 bytes  end marker  "DKL_END\n", and u64 LE N, the record count
import DKLCore

public enum BinaryFormat {
    public static let magic: [UInt8] = [0x89, 0x44, 0x4B, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]
    public static let endMagic: [UInt8] = Array("DKL_END\n".utf8)
    public static let prefixSize = 16
    public static let trailerSize = 16
    public static let maxHeaderBytes = 64 << 20

    /// The bytes of a binary stream's beginning: magic, version, padded header.
    public static func prefix(_ header: StreamHeader) -> [UInt8] {
        var json: [UInt8] = []
        header.json.write(to: &json)
        while (prefixSize + json.count) % 8 != 0 { json.append(0x20) }
        var out = magic
        appendLE(UInt32(StreamHeader.version), to: &out)
        appendLE(UInt32(json.count), to: &out)
        out.append(contentsOf: json)
        return out
    }

    public static func trailer(count: Int) -> [UInt8] {
        var out = endMagic
        appendLE(UInt64(count), to: &out)
        return out
    }

    static func appendLE<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }
}
