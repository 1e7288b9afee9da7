#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (flock) on a lock file, held until `unlock()` or until the object goes
/// away; the kernel drops it when the process dies, so a killed writer never leaves it held. Writers of
/// one output take it before they create, truncate or rename anything there, so two processes never
/// write the same file at once (the second waits, then finds the first one's complete files).
public final class FileLock {
    public struct LockError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): cannot lock: \(reason)" }
    }

    public let path: String
    private var fd: Int32

    /// Takes the lock on `path` (created if missing). When another process holds it, `waiting` is called
    /// once (to say so) and the call blocks until the lock is free.
    public init(_ path: String, waiting: () -> Void = {}) throws(LockError) {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LockError(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw LockError(path: path, reason: reason)
        }
        waiting()
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw LockError(path: path, reason: reason)
            }
        }
    }

    /// Takes the lock on `path` only if it is free; otherwise throws (for work that should not queue
    /// behind another process, such as training one run directory twice).
    public static func acquireIfFree(_ path: String) throws(LockError) -> FileLock {
        var held = false
        let lock = try FileLock(path, nonBlocking: true, held: &held)
        guard !held else { throw LockError(path: path, reason: "another process holds it") }
        return lock
    }

    private init(_ path: String, nonBlocking: Bool, held: inout Bool) throws(LockError) {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LockError(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            fd = -1
            guard code == EWOULDBLOCK else { throw LockError(path: path, reason: String(cString: strerror(code))) }
            held = true
        }
    }

    public func unlock() {
        guard fd >= 0 else { return }
        close(fd)      // closing the descriptor releases the flock
        fd = -1
    }

    deinit { unlock() }
}
