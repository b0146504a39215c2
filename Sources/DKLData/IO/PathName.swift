/// A path's directory and last component, split at the last '/', as
/// `NSString.deletingLastPathComponent` and `lastPathComponent` split it (trailing
/// slashes ignored). Foundation's own versions trap on a one-character name ("x") in
/// this toolchain, and output names are the user's.
public enum PathName {
    /// Everything before the last component: "" for a bare name, "/" for one in the root.
    public static func directory(_ path: String) -> String {
        let p = trimmed(path)
        guard let slash = p.lastIndex(of: "/") else { return "" }
        let dir = trimmed(String(p[..<slash]))
        return dir.isEmpty ? "/" : dir
    }

    /// The last component ("/" for the root).
    public static func base(_ path: String) -> String {
        let p = trimmed(path)
        guard let slash = p.lastIndex(of: "/"), p != "/" else { return p }
        return String(p[p.index(after: slash)...])
    }

    /// The path without trailing slashes (the root stays "/").
    static func trimmed(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
