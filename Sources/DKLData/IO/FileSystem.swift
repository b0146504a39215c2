import Foundation
import DKLCore

/// Small file-system helpers with toolkit errors.
public enum FileSystem {
    /// Creates `path` (and its parents) unless it is already a directory.
    public static func makeDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return }
            throw DKLError.data("exists and is not a directory", file: path)
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw DKLError.data("cannot create the directory: \(error.localizedDescription)", file: path)
        }
    }
}
