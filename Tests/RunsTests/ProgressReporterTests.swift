import Foundation
import Testing
import Runs

/// The progress policy (ProgressReporter's doc comment) on a clock the test moves by hand and a writer
/// that keeps what it is given, so every rule can be seen to hold or fail without waiting.
@Suite struct ProgressReporterTests {
    /// A clock and a log: `now` moves only when the test says, each write is kept with the time it came.
    final class Harness: @unchecked Sendable {
        // Guarded by `lock`: the reporter calls `time` and `write` from its update, the test reads between updates.
        private let lock = NSLock()
        private var time = 0.0
        private var writes: [(time: Double, text: String)] = []

        func reporter(terminal: Bool, quietSeconds: Double = 5) -> ProgressReporter {
            ProgressReporter(terminal: terminal, quietSeconds: quietSeconds,
                             timeSource: { self.now }, write: { self.record($0) })
        }

        var now: Double {
            get { lock.withLock { time } }
            set { lock.withLock { time = newValue } }
        }
        var log: [(time: Double, text: String)] { lock.withLock { writes } }
        var lines: [String] { log.flatMap { $0.text.split(separator: "\n").map(String.init) } }

        private func record(_ text: String) { lock.withLock { writes.append((time, text)) } }
    }

    /// The `done` of each progress line ("row [###...] 37/100 eta 0:05").
    static func dones(_ lines: [String]) -> [Int] {
        lines.compactMap { line in
            line.split(separator: " ").first { $0.contains("/") }.flatMap { Int($0.split(separator: "/")[0]) }
        }
    }

    // MARK: not a terminal (a log file)

    @Test func aLogGetsALineAtTheStartAndAtCompletion() {
        let h = Harness(), p = h.reporter(terminal: false)
        p.update("run", done: 0, total: 100)
        #expect(h.lines.count == 1, "\(h.lines)")
        h.now = 0.5   // completion comes well before the quiet time has passed, and prints anyway
        p.update("run", done: 100, total: 100)
        #expect(Self.dones(h.lines) == [0, 100], "\(h.lines)")
        p.update("run", done: 100, total: 100)
        #expect(h.lines.count == 2, "completion prints once: \(h.lines)")
        #expect(!h.log.contains { $0.text.contains("\u{1B}") }, "terminal escapes in a log")
    }

    @Test func aLogGetsAtMostOneLinePerNewTenth() {
        let h = Harness(), p = h.reporter(terminal: false)
        p.update("run", done: 0, total: 100)
        // Plenty of time between updates: only entering a new tenth earns a line.
        for done in 1...35 {
            h.now += 10
            p.update("run", done: done, total: 100)
        }
        #expect(Self.dones(h.lines) == [0, 10, 20, 30], "\(h.lines)")
    }

    @Test func aTenthCrossedBeforeTheQuietTimeGetsNoLineUntilItHasPassed() {
        let h = Harness(), p = h.reporter(terminal: false, quietSeconds: 5)
        p.update("run", done: 0, total: 100)
        h.now = 1
        p.update("run", done: 30, total: 100)   // three tenths further, 1 s after the last line
        h.now = 4.9
        p.update("run", done: 31, total: 100)
        #expect(Self.dones(h.lines) == [0], "\(h.lines)")
        h.now = 5
        p.update("run", done: 32, total: 100)
        #expect(Self.dones(h.lines) == [0, 32], "\(h.lines)")
        h.now = 11   // quiet again, but still in the same tenth
        p.update("run", done: 39, total: 100)
        #expect(Self.dones(h.lines) == [0, 32], "\(h.lines)")
    }

    /// A loop of 10,000 updates, one a second (a long `make study` step in a log): the first line, one
    /// for each tenth, the last, never more than 12.
    @Test func tenThousandUpdatesGiveAtMostTwelveLines() {
        let h = Harness(), p = h.reporter(terminal: false)
        for done in 1...10_000 {
            h.now += 1
            p.update("run", done: done, total: 10_000, detail: "loss 1.0")
        }
        #expect(h.lines.count <= 12, "\(h.lines.count) lines")
        #expect(Self.dones(h.lines) == [1] + (1...9).map { $0 * 1000 } + [10_000], "\(h.lines)")
    }

    // MARK: a terminal

    /// Updates every 1/16 s: redraws come at least 0.2 s apart (every fourth update), and the completing
    /// update, which falls between two of them, is drawn too.
    @Test func aTerminalRedrawsAtMostEveryFifthOfASecondAndOnCompletion() throws {
        let h = Harness(), p = h.reporter(terminal: true)
        let step = 1.0 / 16, total = 102
        for done in 1...total {
            h.now = Double(done) * step
            p.update("run", done: done, total: total)
        }
        let draws = h.log
        let last = try #require(draws.last)
        #expect(last.time == Double(total) * step && last.text.contains("\(total)/\(total)"), "\(last.text)")
        let gaps = zip(draws.dropFirst(), draws).map { $0.time - $1.time }
        #expect(gaps.dropLast().allSatisfy { $0 >= 0.2 }, "\(gaps)")
        #expect(gaps.last.map { $0 < 0.2 } == true, "the completion draw should come between two timed redraws here")
        #expect(draws.count == (total - 1) / 4 + 1 + 1, "\(draws.count) draws")
        // Each redraw replaces the row in place: cursor up over the one row drawn before, clear the line.
        #expect(draws.dropFirst().allSatisfy { $0.text.hasPrefix("\u{1B}[1A\u{1B}[2K") })
    }
}
