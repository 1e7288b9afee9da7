import CHDF5
import Foundation

// Serial HDF5 must never be entered by two threads at once. Every HDF5 call in this module therefore runs
// inside `HDF5.locked`, which holds one global recursive lock (recursive, because a wrapper method may call
// another wrapper method while holding it). Debian's libhdf5 happens to be built thread-safe, which makes
// the error stack and its auto-printing per thread: `locked` silences printing on each calling thread
// (once per thread, in the shim), and the stack is read on the failing thread, under the lock, right after
// the failing call.

enum HDF5 {
    private static let lock = NSRecursiveLock()

    // HDF5's own file locks (flock, since 1.10) are off unless the user sets HDF5_USE_FILE_LOCKING: a
    // process spawned while a file is open inherits its descriptor and so holds that lock for its whole
    // life, and the parent then cannot reopen the file it just wrote (seen in the test suite, which spawns
    // `lens` while other tests write). Our writers exclude each other with their own locks (FileLock) and
    // publish by rename, so readers never see a file being written.
    private static let fileLockingDefault: Void = { setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0) }()

    /// Runs `body` with the global HDF5 lock held, after making sure the library is initialised and silent.
    /// While it runs with a file open read-only, a crash inside libhdf5 is reported as an error naming that
    /// file (the shim's guard): `body` is this module's HDF5 calls and the glue around them, which traps
    /// (SIGILL) rather than faults on its own mistakes, so a SIGSEGV or SIGBUS there is libhdf5's.
    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = fileLockingDefault
        _ = lens_h5_init_silent()
        depth += 1
        if depth == 1 && !reading.isEmpty { lens_guard_arm(1) }
        defer { depth -= 1; if depth == 0 { lens_guard_arm(0) } }
        return try body()
    }

    // Guarded by `lock`: nesting of `locked`, and the files open read-only, most recent last.
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var reading: [String] = []

    /// `path` is being opened read-only: from now on a libhdf5 crash names it. Call with the lock held.
    static func startReading(_ path: String) {
        reading.append(path)
        updateGuard()
    }

    /// `path` is closed (or failed to open). Call with the lock held.
    static func stopReading(_ path: String) {
        if let i = reading.lastIndex(of: path) { reading.remove(at: i) }
        updateGuard()
    }

    private static func updateGuard() {
        let line = reading.last.map { "Error: \($0): libhdf5 crashed reading this file (it is damaged in a way HDF5 does not check)\n" }
        lens_guard_set_line(line ?? "")
        lens_guard_arm(depth > 0 && !reading.isEmpty ? 1 : 0)
    }

    /// The innermost message of HDF5's error stack (then cleared), or nil. Call with the lock held.
    static func takeError() -> String? {
        var buf = [CChar](repeating: 0, count: 1024)
        let found = lens_h5_take_error(&buf, buf.count)
        let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if found == 0 && text.isEmpty { return nil }
        return text.isEmpty ? "unknown HDF5 error" : conciseSystemError(text)
    }

    /// HDF5's low-level I/O messages carry a dump of the call (time, buffer address, byte counts) around
    /// the one part a user needs: `file write failed: time = ..., error message = 'File too large', ...`
    /// becomes `file write failed: File too large`.
    static func conciseSystemError(_ text: String) -> String {
        guard let start = text.range(of: "error message = '"),
              let end = text[start.upperBound...].firstIndex(of: "'") else { return text }
        let what = text.prefix { $0 != "," && $0 != ":" }
        return what + ": " + text[start.upperBound..<end]
    }

    // Shorthands for the shim's constants.
    static var P_DEFAULT: hid_t { lens_h5p_default() }
    static var S_ALL: hid_t { lens_h5s_all() }
    static var UNLIMITED: hsize_t { lens_h5s_unlimited() }
}

/// Where an HDF5 call happens, for error messages: the file and the object inside it.
struct H5Context: Sendable {
    var file: String
    var object: String

    func error(_ problem: String, reason: String? = nil) -> HDF5Error {
        HDF5Error(file: file, object: object, problem: problem, reason: reason)
    }

    /// Turns a negative HDF5 return code into an `HDF5Error` carrying HDF5's own reason.
    /// Must run with the HDF5 lock held (it reads the error stack).
    @discardableResult
    func check<T: BinaryInteger>(_ code: T, _ what: @autoclosure () -> String) throws -> T {
        if code < 0 { throw error(what(), reason: HDF5.takeError()) }
        return code
    }
}

/// Closes an HDF5 identifier (dataspace, datatype, property list) at scope exit. Use inside `HDF5.locked`.
func h5close(_ id: hid_t, _ closer: (hid_t) -> herr_t) {
    if id >= 0 { _ = closer(id) }
}
