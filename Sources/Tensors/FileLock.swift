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
    public convenience init(_ path: String, waiting: () -> Void = {}) throws(LockError) {
        try self.init(path, ifHeld: { waiting(); return true })
    }

    /// Takes the lock on `path` only if it is free; otherwise throws (for work that should not queue
    /// behind another process, such as training one run directory twice).
    public static func acquireIfFree(_ path: String) throws(LockError) -> FileLock {
        try FileLock(path, ifHeld: { false })
    }

    /// `ifHeld` runs when another process holds the lock: true waits for it, false gives up.
    private init(_ path: String, ifHeld: () -> Bool) throws(LockError) {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LockError(path: path, reason: String(cString: strerror(errno))) }
        func fail(_ reason: String) -> LockError { close(fd); return LockError(path: path, reason: reason) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK else { throw fail(String(cString: strerror(errno))) }
            guard ifHeld() else { throw fail("another process holds it") }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else { throw fail(String(cString: strerror(errno))) }
            }
        }
        self.fd = fd   // set only once locked: a failed init never closes a descriptor twice
    }

    public func unlock() {
        guard fd >= 0 else { return }
        close(fd)      // closing the descriptor releases the flock
        fd = -1
    }

    deinit { unlock() }
}
