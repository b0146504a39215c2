import Foundation
import DKLCore

#if _endian(big)
#error("dkl streams are little-endian and are read and written in place on little-endian hosts only")
#endif

/// How a stream is encoded. Both carry the same header and the same records.
public enum StreamEncoding: String, Sendable {
    /// Magic, version, the header as JSON, packed little-endian records, an end marker.
    case binary
    /// One JSON object per line: the header, then one object per record.
    case ndjson
}

/// A stream's header: the record schema, free attributes and the provenance list.
public struct StreamHeader: Equatable, Sendable {
    public static let version = 1
    public var schema: Schema
    /// Free attributes (an object): units, energy axis, grid shape, window size, …
    public var attrs: JSON
    /// One `{tool, version, argv, time}` object per tool that wrote the stream, oldest first.
    public var provenance: [JSON]

    public init(schema: Schema, attrs: JSON = .object([]), provenance: [JSON] = []) {
        self.schema = schema
        self.attrs = attrs
        self.provenance = provenance
    }

    public var json: JSON {
        ["dkl_stream": .number(Double(StreamHeader.version)), "fields": schema.json,
         "attrs": attrs, "provenance": .array(provenance)]
    }

    public init(json: JSON) throws {
        guard case .object = json else { throw DKLError.data("the header is not a JSON object") }
        guard let v = json["dkl_stream"]?.intValue else { throw DKLError.data("not a dkl stream header (no 'dkl_stream' version)") }
        guard v == StreamHeader.version else { throw DKLError.data("unsupported stream version \(v) (this build reads version \(StreamHeader.version))") }
        guard let fields = json["fields"] else { throw DKLError.data("the header has no 'fields'") }
        schema = try Schema(json: fields)
        attrs = json["attrs"] ?? .object([])
        guard case .object = attrs else { throw DKLError.data("the header's 'attrs' is not an object") }
        guard let p = json["provenance"]?.arrayValue ?? (json["provenance"] == nil ? [] : nil) else {
            throw DKLError.data("the header's 'provenance' is not an array")
        }
        provenance = p
    }

    /// A provenance entry for the running tool.
    public static func provenanceEntry(tool: String, argv: [String]) -> JSON {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return ["tool": .string(tool), "version": .string(DKLVersion.string), "argv": JSON(argv),
                "time": .string(f.string(from: Date()))]
    }

    /// The value of the attribute `key`, if set.
    public func attr(_ key: String) -> JSON? { attrs[key] }
}

/// The toolkit's version, written into every provenance entry and printed by `--version`.
public enum DKLVersion {
    public static let string = "0.1.0"
}
