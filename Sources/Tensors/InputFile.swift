#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reads a file the user named on the command line. Plain POSIX open/read rather than Foundation, so
/// pipes, `/dev/stdin` and `/dev/fd/N` (bash's `<(...)`) are read like files, and every failure is one
/// line naming the path instead of a Foundation error domain.
public enum InputFile {
    public struct ReadError: Error, CustomStringConvertible, Equatable, Sendable {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// All bytes of `path`, which may hold at most `limit`; directories are refused. Every caller states
    /// its bound: an endless input (/dev/zero, a pipe that never closes) is then an error after `limit`
    /// bytes instead of a read until memory runs out (issue 10's fuzz suite: `--study /dev/zero` hung).
    public static func read(_ path: String, atMost limit: Int) throws(ReadError) -> Data {
        let data = try Reader(path).read(upTo: limit + 1)
        if data.count > limit { throw ReadError(path: path, problem: "more than \(limit) bytes, the most a file of this kind may hold") }
        return data
    }

    /// A file open for reading in pieces, for formats that say in their first bytes how long they are
    /// (safetensors), so that no more is read than the format allows.
    public final class Reader {
        public let path: String
        private let fd: Int32

        public init(_ path: String) throws(ReadError) {
            self.path = path
            fd = try openFile(path)
        }

        deinit { close(fd) }

        /// The next `count` bytes, fewer only at the end of the file.
        public func read(upTo count: Int) throws(ReadError) -> Data {
            var data = Data()
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while data.count < count {
                let want = min(chunk.count, count - data.count)
                let got = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, want) }
                if got > 0 { data.append(contentsOf: chunk[0..<got]); continue }
                if got == 0 { break }
                if errno == EINTR { continue }
                throw ReadError(path: path, problem: explain(errno))
            }
            return data
        }
    }

    /// Fails as `read` would, without reading: for files another library opens itself (HDF5), so a
    /// directory or a missing file is still reported in these words.
    public static func checkReadable(_ path: String) throws(ReadError) {
        close(try openFile(path))
    }

    /// A descriptor open for reading on `path`, which is not a directory.
    private static func openFile(_ path: String) throws(ReadError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, problem: explain(errno)) }
        var info = stat()
        let problem = fstat(fd, &info) != 0 ? explain(errno)
            : info.st_mode & S_IFMT == S_IFDIR ? "is a directory, not a file" : nil
        if let problem { close(fd); throw ReadError(path: path, problem: problem) }
        return fd
    }

    /// UTF-8 text of `path`, at most `limit` bytes (invalid bytes become U+FFFD, as the YAML readers expect).
    public static func text(_ path: String, atMost limit: Int) throws(ReadError) -> String {
        String(decoding: try read(path, atMost: limit), as: UTF8.self)
    }

    static func explain(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file or directory"
        case EACCES, EPERM: "permission denied"
        case EISDIR: "is a directory, not a file"
        case ENOTDIR: "a parent of this path is not a directory"
        default: "cannot read: " + String(cString: strerror(code)).lowercased()
        }
    }
}

// `read` inside the enum would resolve to InputFile.read; name the C function explicitly.
@inline(__always)
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.read(fd, buffer, count)
    #else
    Darwin.read(fd, buffer, count)
    #endif
}
