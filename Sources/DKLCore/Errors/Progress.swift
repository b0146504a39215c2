import Foundation
import Synchronization

/// A progress line on stderr (`tool: what 1234/5000 (24%), ETA 0:12`), redrawn at most
/// a few times a second and only when enabled (a terminal, or `--progress`).
public final class Progress {
    let tool: String
    let what: String
    let total: Int?
    let enabled: Bool
    let started = Date()
    var lastDraw = Date.distantPast

    public init(tool: String, what: String, total: Int?, enabled: Bool) {
        self.tool = tool; self.what = what; self.total = total; self.enabled = enabled
    }

    /// Redraws the line; `detail` (e.g. the current loss) is appended to it.
    public func update(_ done: Int, force: Bool = false, detail: String? = nil) {
        guard enabled else { return }
        let now = Date()
        // A terminal line is redrawn 4 times a second; a log file gets a line every 5 s.
        guard force || now.timeIntervalSince(lastDraw) >= (isatty(2) != 0 ? 0.25 : 5) else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(started)
        var line = "\(tool): \(what) \(done)"
        if let t = total, t > 0 {
            line += "/\(t) (\(100 * done / t)%)"
            if done > 0 && done < t { line += ", ETA " + Progress.clock(elapsed / Double(done) * Double(t - done)) }
        }
        line += ", " + Progress.clock(elapsed)
        if let detail { line += ", " + detail }
        StandardError.write((isatty(2) != 0 ? "\r\u{1B}[K" : "") + line + (isatty(2) != 0 ? "" : "\n"))
    }

    public func finish(_ done: Int) {
        guard enabled else { return }
        update(done, force: true)
        if isatty(2) != 0 { StandardError.write("\n") }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// A progress line that worker threads may update (one lock around a `Progress`).
public final class SharedProgress: Sendable {
    private let progress: Mutex<Progress>

    public init(tool: String, what: String, total: Int?, enabled: Bool) {
        progress = Mutex(Progress(tool: tool, what: what, total: total, enabled: enabled))
    }

    @Sendable public func update(_ done: Int) { progress.withLock { $0.update(done) } }
    public func finish(_ done: Int) { progress.withLock { $0.finish(done) } }
}
