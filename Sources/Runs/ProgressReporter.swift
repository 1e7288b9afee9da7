import Foundation

/// Progress of long loops (training, sweep, dump, probe), on stderr only, with one policy for all:
/// - on a terminal, every row is redrawn in place, at most five times a second, with its ETA;
/// - otherwise (a log file: `make study > log 2>&1`) a row gets a line when it starts, when it has
///   crossed into a new tenth of its work and `quietSeconds` have passed since its last line, and when
///   it completes. That is at most 12 lines per row, however many updates the loop sends.
/// Thread-safe: the runs of a sweep report from several threads.
public final class ProgressReporter: @unchecked Sendable {
    private struct Row {
        var text = ""
        var firstSeen: (time: Double, done: Int)?
        var lastLine = -Double.infinity
        var lastTenth = -1
        var complete = false
    }

    private let lock = NSLock()
    private let terminal: Bool
    private let quietSeconds: Double
    private let timeSource: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private var order: [String]
    private var rows: [String: Row] = [:]
    private var lastDraw = -Double.infinity
    private var drawn = 0

    /// `rows` fixes the drawing order on a terminal (rows first seen later are appended).
    public init(rows: [String] = [], terminal: Bool = isatty(2) == 1, quietSeconds: Double = 5,
                timeSource: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.order = rows
        self.terminal = terminal
        self.quietSeconds = quietSeconds
        self.timeSource = timeSource
        self.write = write
    }

    /// `done` of `total` units of `row`; `detail` is appended to the line (loss, latest scores).
    public func update(_ row: String, done: Int, total: Int, detail: String = "") {
        lock.lock(); defer { lock.unlock() }
        let now = timeSource()
        if rows[row] == nil { rows[row] = Row(); if !order.contains(row) { order.append(row) } }
        var r = rows[row]!
        if r.firstSeen == nil { r.firstSeen = (now, done) }
        let frac = Double(done) / Double(max(total, 1))
        let first = r.firstSeen!
        let rate = Double(done - first.done) / max(now - first.time, 1e-6)
        let eta = rate > 0 ? Self.clock(Double(total - done) / rate) : "?"
        let width = 20, filled = min(width, max(0, Int(frac * Double(width))))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let label = row.padding(toLength: max(row.count, order.map(\.count).max() ?? 0), withPad: " ", startingAt: 0)
        r.text = "\(label) [\(bar)] \(done)/\(total) eta \(eta)" + (detail.isEmpty ? "" : "  " + detail)
        let completes = done >= total && !r.complete
        r.complete = r.complete || done >= total
        let tenth = min(10, Int(frac * 10))
        if terminal {
            rows[row] = r
            if now - lastDraw >= 0.2 || completes { draw(); lastDraw = now }
            return
        }
        let starts = r.lastTenth < 0
        if starts || completes || (tenth > r.lastTenth && now - r.lastLine >= quietSeconds) {
            r.lastTenth = tenth
            r.lastLine = now
            write(r.text + "\n")
        }
        rows[row] = r
    }

    private func draw() {
        var out = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        for name in order { out += "\u{1B}[2K" + (rows[name].map(\.text) ?? "\(name) waiting") + "\n" }
        drawn = order.count
        write(out)
    }

    /// `1:05`, `2h03m`.
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
