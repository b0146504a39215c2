import Foundation
import DKLCore

/// A stream as a tab-separated table, for awk, spreadsheets and R: a first line of column
/// names (an array field's elements as NAME[i], row-major), then one line per record.
/// Numbers as in NDJSON (shortest round trip), NaN as `nan`, infinities as `inf` and
/// `-inf`; text with its tabs and line breaks turned into spaces. Written, never read.
public enum TSVTable {
    public static func headerLine(_ schema: Schema) -> String {
        schema.fields.flatMap { f in f.count == 1 && f.shape.isEmpty ? [f.name] : (0..<f.count).map { "\(f.name)[\($0)]" } }
            .joined(separator: "\t") + "\n"
    }

    public static func append(_ rec: UnsafeRawBufferPointer, schema: Schema, to out: inout [UInt8]) {
        var first = true
        for f in schema.fields {
            var offset = f.offset   // the next element's; appendElement moves it on
            for _ in 0..<f.count {
                if !first { out.append(0x09) }
                first = false
                if f.dtype == .string {
                    let bytes = UnsafeRawBufferPointer(rebasing: rec[offset..<(offset + f.width)])
                    let len = bytes.firstIndex(of: 0) ?? f.width
                    out.append(contentsOf: bytes[0..<len].map { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
                    offset += f.width
                    continue
                }
                let v = RecordView.load(rec, f.dtype, offset)
                if v.isNaN || v.isInfinite {
                    out.append(contentsOf: (v.isNaN ? "nan" : v > 0 ? "inf" : "-inf").utf8)
                    offset += f.dtype.size
                } else {
                    NDJSONRecord.appendElement(rec, f, offset: &offset, to: &out)
                }
            }
        }
        out.append(0x0A)
    }
}
