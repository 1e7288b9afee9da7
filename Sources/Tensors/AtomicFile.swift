import Foundation

/// Writes go to a temporary file beside the target and are renamed over it only when complete, so a
/// crash or kill never leaves a file that looks whole, and never destroys what was there before.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): cannot write: \(reason)" }
    }

    public static func temporaryPath(for path: String) -> String {
        path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Temporary files of `path` whose writing process is gone (killed before its rename): nobody will
    /// finish them. Those of live processes are left alone: they may still be renamed.
    public static func removeStaleTemporaries(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent, prefix = (path as NSString).lastPathComponent + ".partial-"
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir)) ?? [] where f.hasPrefix(prefix) {
            guard let pid = Int32(f.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink((dir.isEmpty ? "." : dir) + "/" + f)
        }
    }

    /// Creates directory `path` and its parents, like `mkdir -p`. A failure is one line naming the path
    /// (a file in the way, a name too long, permission), not a Foundation error domain (issue 10's fuzz
    /// suite: `--out` below a file printed `Error Domain=NSCocoaErrorDomain Code=512 ...`).
    public static func createDirectory(_ path: String) throws(WriteError) {
        func fail() -> WriteError { WriteError(path: path, reason: String(cString: strerror(errno)).lowercased()) }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw fail() }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw fail() }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw WriteError(path: path, reason: "it exists and is not a directory") }
    }

    /// Publishes a file another library wrote and closed at `temporaryPath(for: path)` (an HDF5 file):
    /// flushes it to disk and renames it onto `path`, as `write` does with its own bytes. On failure the
    /// temporary file is removed.
    public static func publish(temporary tmp: String, to path: String) throws(WriteError) {
        func fail() -> WriteError {
            let e = WriteError(path: path, reason: String(cString: strerror(errno)))
            unlink(tmp)
            return e
        }
        let fd = open(tmp, O_RDONLY)
        guard fd >= 0 else { throw fail() }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else { throw fail() }
        TestKillPoint.beforeRename(to: path)
        guard rename(tmp, path) == 0 else { throw fail() }
    }

    public static func write(_ data: Data, to path: String) throws(WriteError) {
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        var ok = true
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { ok = false; break }
                done += n
            }
        }
        if ok { ok = fsync(fd) == 0 }
        close(fd)
        guard ok else {
            unlink(tmp)
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
        TestKillPoint.beforeRename(to: path)
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
