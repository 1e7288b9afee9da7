import Foundation

/// A fresh directory under the system temporary directory, removed (with everything in it) on deinit.
public final class TempDir: Sendable {
    public let url: URL
    /// The directory's path.
    public var root: String { url.path }

    /// - prefix: names the directory, so that a leftover says which test made it.
    public init(_ prefix: String = "lens-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Every regular file below `dir` (relative path -> contents), to compare two run directories byte for byte.
public func filesBelow(_ dir: String) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
    while let f = e.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue {
            out[f] = FileManager.default.contents(atPath: dir + "/" + f)
        }
    }
    return out
}
