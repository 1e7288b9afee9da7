import Foundation
import Testing
import TestSupport
import Tensors

/// Every read of a user-named file has a bound (issue 10's fuzz suite: `--study /dev/zero` and
/// `lens eval /dev/zero` read until memory ran out).
@Suite struct InputFileTests {
    @Test func aFileUpToTheBoundIsReadWhole() throws {
        let dir = try TempDir("input-file")
        let path = dir.path("f")
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: path))
        #expect(try InputFile.read(path, atMost: 100) == Data(repeating: 7, count: 100))
        let e = #expect(throws: InputFile.ReadError.self) { _ = try InputFile.read(path, atMost: 99) }
        #expect(e?.description == "\(path): more than 99 bytes, the most a file of this kind may hold")
    }

    @Test func anEndlessInputEndsAtTheBound() throws {
        let e = #expect(throws: InputFile.ReadError.self) { _ = try InputFile.read("/dev/zero", atMost: 1 << 20) }
        #expect(e?.path == "/dev/zero")
        let reader = try InputFile.Reader("/dev/zero")
        #expect(try reader.read(upTo: 100_000).count == 100_000)
    }
}
