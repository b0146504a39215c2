import DKL
import Foundation
import TestSupport
import XCTest

/// Writes records to bytes in one encoding.
func encode(_ header: StreamHeader, _ records: [[UInt8]], _ encoding: StreamEncoding) throws -> Data {
    let dir = TempDir()
    let path = dir.file("s")
    let f = try AtomicFile(path: path)
    let w = try StreamWriter(header: header, to: f.writer, encoding: encoding)
    for r in records { try w.write(r) }
    try w.finish()
    try f.commit()
    return try Data(contentsOf: URL(fileURLWithPath: path))
}

/// Reads every record of a stream given as bytes.
func decode(_ data: Data) throws -> (StreamHeader, [[UInt8]]) {
    let dir = TempDir()
    let path = try dir.write("s", data)
    let r = try StreamReader(path: path)
    var out: [[UInt8]] = []
    while let b = try r.nextBatch(maxRecords: 3) { for i in 0..<b.count { out.append(Array(b.record(i))) } }
    return (r.header, out)
}

final class StreamTests: XCTestCase {
    static let schema = try! Schema([
        Field("y", .i32), Field("x", .i32), Field("patch", .f32, shape: [2, 3]), Field("d", .f64),
        Field("b", .u8), Field("s", .i16), Field("big", .i64), Field("u", .u64), Field("name", .string, width: 6),
        Field("k", .f32, allowsNaN: false),
    ])

    func records(_ n: Int) -> [[UInt8]] {
        (0..<n).map { i in
            var r = RecordBuilder(StreamTests.schema)
            r.set(0, int: i / 3); r.set(1, int: i % 3)
            r.set(2, (0..<6).map { Double(i) * 0.1 + Double($0) * 1e-3 - 0.3 })
            r.set(3, i == 1 ? .nan : Double(i) / 7); r.set(4, int: 250 + i % 6); r.set(5, int: -i * 1000)
            r.set(6, int: Int.min + i); r.set(7, int: -1 - i); r.set(8, string: i == 2 ? "héllo!" : "r\(i)"); r.set(9, Double(i))
            return r.bytes
        }
    }

    func testBothEncodingsCarryTheSameRecordsBitForBit() throws {
        let header = StreamHeader(schema: StreamTests.schema, attrs: ["grid": [4, 3], "units": "eV"],
                                  provenance: [["tool": "t", "argv": ["a"]]])
        let recs = records(10)
        for enc in [StreamEncoding.binary, .ndjson] {
            let (h, back) = try decode(try encode(header, recs, enc))
            XCTAssertEqual(h, header, "\(enc)")
            XCTAssertEqual(back, recs, "\(enc)")
        }
        recs[2].withUnsafeBytes { XCTAssertEqual(RecordView($0, StreamTests.schema).string(8), "héllo", "7 bytes cut to the 6-byte width at a character boundary") }
    }

    func testBinaryLayoutIsPackedLittleEndianWithEndMarker() throws {
        let schema = try Schema([Field("y", .i32), Field("v", .f32)])
        var r = RecordBuilder(schema); r.set(0, int: 258); r.set(1, 1.5)
        let data = try encode(StreamHeader(schema: schema), [r.bytes, r.bytes], .binary)
        let bytes = [UInt8](data)
        XCTAssertEqual(Array(bytes[0..<8]), [0x89, 0x44, 0x4B, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A])
        let hlen = Int(bytes[12]) | Int(bytes[13]) << 8
        XCTAssertEqual((16 + hlen) % 8, 0)
        let rec = Array(bytes[(16 + hlen)..<(16 + hlen + 8)])
        XCTAssertEqual(rec, [2, 1, 0, 0, 0x00, 0x00, 0xC0, 0x3F])
        XCTAssertEqual(Array(bytes.suffix(16)), Array("DKL_END\n".utf8) + [2, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(bytes.count, 16 + hlen + 16 + 16)
    }

    /// Every truncation of a binary stream is detected; NDJSON cut inside a line is too.
    func testEveryTruncationIsDetected() throws {
        let header = StreamHeader(schema: StreamTests.schema)
        let full = try encode(header, records(4), .binary)
        for cut in 0..<full.count {
            XCTAssertThrowsError(try decode(full.prefix(cut)), "binary cut at \(cut)") { e in
                XCTAssertEqual((e as? DKLError)?.kind, .data, "cut \(cut): \(e)")
            }
        }
        let text = try encode(header, records(4), .ndjson)
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false)
        var offset = 0
        for line in lines.dropLast() {
            offset += line.count + 1
            // Cutting one byte before a line's end leaves an unfinished JSON object.
            if offset > lines[0].count + 1 { XCTAssertThrowsError(try decode(text.prefix(offset - 2)), "ndjson cut at \(offset - 2)") }
        }
    }

    func testCountMismatchAndDataAfterEndAreErrors() throws {
        let schema = try Schema([Field("v", .f64)])
        let one = try encode(StreamHeader(schema: schema), [RecordBuilder(schema).bytes], .binary)
        var wrong = one
        wrong[wrong.count - 8] = 5
        XCTAssertThrowsError(try decode(wrong)) { XCTAssertTrue("\($0)".contains("counts 5 records but 1 records of 8 bytes were read"), "\($0)") }
        XCTAssertThrowsError(try decode(one + one)) { XCTAssertTrue("\($0)".contains("data after the end marker"), "\($0)") }
    }

    func testNDJSONErrorsNameTheRecordAndTheProblem() throws {
        let schema = try Schema([Field("y", .i32), Field("v", .f32, shape: [2]), Field("k", .f64, allowsNaN: false)])
        let head = StreamHeader(schema: schema).json.text + "\n"
        let cases: [(String, String)] = [
            (#"{"y":1,"v":[1,2],"k":1,"z":0}"#, "unknown field 'z'"),
            (#"{"y":1,"v":[1,2]}"#, "missing field 'k'"),
            (#"{"y":1.5,"v":[1,2],"k":1}"#, "not an integer"),
            (#"{"y":null,"v":[1,2],"k":1}"#, "is null"),
            (#"{"y":1,"v":[1,2,3],"k":1}"#, "more than 2 elements"),
            (#"{"y":1,"v":[1],"k":1}"#, "expected 2 elements"),
            (#"{"y":1,"v":[1,2],"k":null}"#, "does not allow NaN"),
            (#"{"y":1,"v":[1,2],"k":NaN}"#, "expected a number"),
            (#"{"y":3000000000,"v":[1,2],"k":1}"#, "out of range for i32"),
            (#"{"y":1,"v":[1,2],"k":1"#, "invalid JSON"),
        ]
        for (line, message) in cases {
            let data = Data((head + #"{"y":0,"v":[0,0],"k":0}"# + "\n" + line + "\n").utf8)
            XCTAssertThrowsError(try decode(data), line) { e in
                XCTAssertTrue("\(e)".contains(message), "\(line): \(e)")
                XCTAssertEqual((e as? DKLError)?.location, "2", "\(line): \(e)")
            }
        }
        // Keys in any order, spaces, null for NaN in a field that allows it.
        let ok = head + #" { "k" : 2 , "v" : [ null , -1e999 ] , "y" : -7 } "# + "\n"
        let (_, recs) = try decode(Data(ok.utf8))
        recs[0].withUnsafeBytes { raw in
            let v = RecordView(raw, schema)
            XCTAssertEqual(v.int(0), -7)
            XCTAssertTrue(v.double(1, 0).isNaN)
            XCTAssertEqual(v.double(1, 1), -.infinity)
            XCTAssertEqual(v.double(2), 2)
        }
    }

    func testHeaderErrors() throws {
        for (text, message) in [("", "empty input"), ("hello", "bad magic"), (#"{"fields":[]}"#, "no 'dkl_stream'"),
                                (#"{"dkl_stream":2,"fields":[]}"#, "unsupported stream version 2"),
                                (#"{"dkl_stream":1,"fields":[{"name":"a","dtype":"c64"}]}"#, "unknown dtype"),
                                (#"{"dkl_stream":1,"fields":[{"name":"a","dtype":"f32"},{"name":"a","dtype":"f32"}]}"#, "appears twice"),
                                (#"{"dkl_stream":1,"fields":[{"name":"a","dtype":"f32","shape":[0]}]}"#, "invalid shape")] {
            XCTAssertThrowsError(try decode(Data((text.isEmpty || text == "hello" ? text : text + "\n").utf8)), text) { e in
                XCTAssertTrue("\(e)".contains(message), "\(text): \(e)")
            }
        }
    }

    func testNDJSONWithoutFinalNewlineIsTruncated() throws {
        let schema = try Schema([Field("v", .f64)])
        let text = StreamHeader(schema: schema).json.text
        XCTAssertThrowsError(try decode(Data(text.utf8))) { XCTAssertTrue("\($0)".hasSuffix(":header: the header line has no newline (input may be truncated)"), "\($0)") }
        XCTAssertThrowsError(try decode(Data((text + "\n{\"v\":1}").utf8))) { XCTAssertTrue("\($0)".hasSuffix(":1: the last line has no newline (input may be truncated)"), "\($0)") }
        XCTAssertEqual(try decode(Data((text + "\n{\"v\":1}\n\n").utf8)).1.count, 1)
    }

    func testEncodingChoice() {
        XCTAssertEqual(StreamOutput.encoding(explicit: .binary, path: "a.ndjson"), .binary)
        XCTAssertEqual(StreamOutput.encoding(explicit: nil, path: "a.ndjson"), .ndjson)
        XCTAssertEqual(StreamOutput.encoding(explicit: nil, path: "a.JSONL"), .ndjson)
        XCTAssertEqual(StreamOutput.encoding(explicit: nil, path: "a.dkl"), .binary)
    }
}
