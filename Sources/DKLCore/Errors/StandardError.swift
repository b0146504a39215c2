import Foundation

/// Writes to file descriptor 2 for messages and progress lines. A closed standard error,
/// or a pipe whose reader has gone, loses the text instead of stopping the tool (the
/// tool's exit status still says how it ended); FileHandle's `write(_:)` would trap.
public enum StandardError {
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(2, buf.baseAddress! + done, buf.count - done)
                if n > 0 { done += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
