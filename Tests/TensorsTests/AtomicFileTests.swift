import Foundation
import Testing
import TestSupport
@testable import Tensors

@Suite struct AtomicFileTests {
    static let old = Data("the old contents\n".utf8)

    /// A fresh directory holding one file, `name`, with the old contents.
    static func directoryWithOldFile(_ name: String = "f.json") throws -> (dir: TempDir, path: String) {
        let dir = try TempDir("atomic")
        let path = dir.path(name)
        try old.write(to: URL(fileURLWithPath: path))
        return (dir, path)
    }

    /// Found by the fuzz suite (issue 10): output directories that cannot be made gave raw
    /// NSCocoaErrorDomain lines; now one line naming the path and the reason.
    @Test func createDirectoryMakesParentsOrSaysWhyNot() throws {
        let (dir, path) = try Self.directoryWithOldFile()
        try AtomicFile.createDirectory(dir.path("a/b/c"))
        try AtomicFile.createDirectory(dir.path("a/b/c"))          // already there: fine
        #expect(FileManager.default.fileExists(atPath: dir.path("a/b/c")))
        let below = #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.createDirectory(path + "/x") }
        #expect(below?.description == "\(path)/x: cannot write: not a directory")
        let file = #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.createDirectory(path) }
        #expect(file?.description == "\(path): cannot write: it exists and is not a directory")
        let long = dir.path(String(repeating: "n", count: 300))
        let tooLong = #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.createDirectory(long) }
        #expect(tooLong?.description == "\(long): cannot write: file name too long")
    }

    @Test func writeReplacesTheFileAndLeavesNoTemporary() throws {
        let (dir, path) = try Self.directoryWithOldFile()
        let new = Data((0..<100_000).map { UInt8($0 % 251) })
        try AtomicFile.write(new, to: path)
        #expect(FileManager.default.contents(atPath: path) == new)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.root) == ["f.json"])
    }

    /// The temporary file cannot be created (a directory stands at its name; root cannot open that for
    /// writing either): the write fails with the target named, and the old file is untouched.
    @Test func aTemporaryThatCannotBeCreatedLeavesTheOldFileIntact() throws {
        let (dir, path) = try Self.directoryWithOldFile()
        try FileManager.default.createDirectory(atPath: AtomicFile.temporaryPath(for: path), withIntermediateDirectories: false)
        let e = #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write(Data("new".utf8), to: path) }
        #expect(e?.path == path && e?.description.hasPrefix(path + ": cannot write: ") == true)
        #expect(FileManager.default.contents(atPath: path) == Self.old)
        let blocker = URL(fileURLWithPath: AtomicFile.temporaryPath(for: path)).lastPathComponent
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.root)) == ["f.json", blocker], "nothing else left behind")
    }

    /// A file another library wrote at the temporary name is renamed over the old one; without such a
    /// file, publishing fails naming the target and leaves the old file alone.
    @Test func publishRenamesAFinishedTemporaryOrSaysWhyNot() throws {
        let (dir, path) = try Self.directoryWithOldFile("f.h5")
        let missing = #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.publish(temporary: AtomicFile.temporaryPath(for: path), to: path) }
        #expect(missing?.description == "\(path): cannot write: No such file or directory")
        #expect(FileManager.default.contents(atPath: path) == Self.old)
        try Data("new".utf8).write(to: URL(fileURLWithPath: AtomicFile.temporaryPath(for: path)))
        try AtomicFile.publish(temporary: AtomicFile.temporaryPath(for: path), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.root) == ["f.h5"])
    }

    /// The target's parent is a regular file: nothing can be created there, and nothing is.
    @Test func aPathUnderARegularFileFailsCleanly() throws {
        let (dir, notADirectory) = try Self.directoryWithOldFile("plain")
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write(Data("new".utf8), to: notADirectory + "/f.json") }
        #expect(FileManager.default.contents(atPath: notADirectory) == Self.old)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.root) == ["plain"])
    }

    /// A write that fails midway: a file-size limit (which binds root too) lets the first 4 KiB through
    /// and refuses the rest. The old file, larger than that limit, survives whole and no temporary remains.
    /// Runs in a child process, so the limit never touches the other tests.
    @Test func aWriteThatFailsMidwayLeavesTheOldFileIntact() async {
        await #expect(processExitsWith: .success) {
            // 0 when all is as it should be, else which check failed (the child's exit status).
            func failedCheck() throws -> Int32 {
                let dir = try TempDir("atomic-midway")
                let path = dir.path("f.bin")
                let old = Data(repeating: 0xAB, count: 10_000)
                guard FileManager.default.createFile(atPath: path, contents: old) else { return 2 }
                signal(SIGXFSZ, SIG_IGN)   // get EFBIG from write() instead of being killed
                var limit = rlimit(rlim_cur: 4096, rlim_max: 4096)
                guard setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0 else { return 3 }
                do {
                    try AtomicFile.write(Data(repeating: 0xCD, count: 20_000), to: path)
                    return 4   // the write should have failed
                } catch {   // AtomicFile.WriteError: `write` throws only that
                    guard error.reason.contains("too large") else { return 5 }   // EFBIG: "File too large"
                }
                guard FileManager.default.contents(atPath: path) == old else { return 6 }
                guard try FileManager.default.contentsOfDirectory(atPath: dir.root) == ["f.bin"] else { return 7 }
                return 0
            }
            let code = try failedCheck()
            if code != 0 { exit(code) }
        }
    }
}
