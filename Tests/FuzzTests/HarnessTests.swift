import Foundation
import Testing
import TestSupport

/// The fuzz harness must be able to fail: its watchdog and classifier are checked on processes whose
/// end is known (a signal, a hang, a noisy error, an exit 0 on invalid input).
@Suite struct HarnessTests {
    func verdict(_ script: String, _ expect: Expectation = .either, timeout: Int = 30) throws -> Verdict {
        let c = FuzzCase(name: "self-test", args: [], expect: expect, mentions: ["in.bin"], directory: "/tmp")
        return Fuzz.classify(try Fuzz.watchdog("/bin/sh", ["-c", script], timeout: timeout), c).0
    }

    @Test func aSignalIsACrash() throws {
        #expect(try verdict("kill -SEGV $$") == .crash)
        #expect(try verdict("kill -ABRT $$") == .crash)
    }

    @Test func aProcessPastTheBoundIsAHang() throws {
        #expect(try verdict("sleep 30", timeout: 1) == .hang)
        #expect(try verdict("trap '' TERM; sleep 30", timeout: 1) == .hang, "one that ignores SIGTERM too")
    }

    @Test func errorLinesAreJudged() throws {
        #expect(try verdict("echo 'Error: in.bin: bad' >&2; exit 1") == .cleanError)
        #expect(try verdict("echo 'Error: bad' >&2; exit 1") == .noisyError, "the line does not name the input")
        #expect(try verdict("printf 'Error: in.bin: bad\\nmore\\n' >&2; exit 1") == .noisyError)
        #expect(try verdict("exit 1") == .noisyError, "no message at all")
        #expect(try verdict("echo 'Error: Error Domain=NSCocoaErrorDomain Code=4 NSFilePath=in.bin' >&2; exit 1") == .noisyError)
        #expect(try verdict("echo 'Error: in.bin: bad' >&2; exit 1", .valid) == .validRefused)
    }

    @Test func exitZeroIsJudgedByTheExpectation() throws {
        #expect(try verdict("exit 0", .invalid) == .silentAcceptance)
        #expect(try verdict("exit 0", .either) == .accepted)
        #expect(try verdict("echo 41", .oracle { $0.out == "42\n" ? nil : "not 42" }) == .silentAcceptance)
        #expect(try verdict("echo 42", .oracle { $0.out == "42\n" ? nil : "not 42" }) == .accepted)
    }

    @Test func theGeneratorIsDeterministic() {
        var a = FuzzRNG(seed: 7, family: "x", index: 3), b = FuzzRNG(seed: 7, family: "x", index: 3)
        var c = FuzzRNG(seed: 7, family: "x", index: 4)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
    }
}
