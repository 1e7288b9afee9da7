import Foundation

/// Places in the repository the tests need, found from this file's own path (so `swift test` works from
/// any directory) unless the environment says otherwise.
public enum Repo {
    /// The repository root (the folder holding Package.swift).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The folder holding the `lens` binary under test: $LENS_BIN_DIR, else the debug build.
    public static var lensDirectory: String {
        ProcessInfo.processInfo.environment["LENS_BIN_DIR"] ?? root + "/.build/debug"
    }

    /// The `lens` binary under test.
    public static var lens: String { lensDirectory + "/lens" }
}
