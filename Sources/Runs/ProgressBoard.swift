import Foundation

/// One progress line per run on stderr: bar, step, loss, latest exact match per task, ETA.
/// On a terminal the lines are redrawn in place; otherwise a line is printed every 10% of a run.
public final class ProgressBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var order: [String] = []
    private var lines: [String: String] = [:]
    private var started: [String: (time: Double, step: Int)] = [:]
    private var lastDraw = 0.0
    private var lastDecile: [String: Int] = [:]
    private let tty = isatty(2) == 1
    private var drawn = 0

    public init(runs: [String]) { order = runs }

    public func update(_ p: TrainingRun.Progress) {
        lock.lock(); defer { lock.unlock() }
        let now = Date().timeIntervalSince1970
        if started[p.run] == nil { started[p.run] = (now, p.step - 1) }
        let s = started[p.run]!
        let rate = Double(p.step - s.step) / max(now - s.time, 1e-6)
        let eta = rate > 0 ? Double(p.total - p.step) / rate : 0
        let frac = Double(p.step) / Double(max(p.total, 1))
        let width = 20, filled = Int(frac * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let em = p.exactMatch.keys.sorted().map { "\($0)=\(String(format: "%.2f", p.exactMatch[$0]!))" }.joined(separator: " ")
        lines[p.run] = String(format: "%-12@ [%@] %5d/%d loss %.3f eta %@  %@", p.run as NSString, bar as NSString, p.step, p.total,
                              p.loss, Self.clock(eta) as NSString, em as NSString)
        if tty {
            if now - lastDraw > 0.2 || p.step == p.total { draw(); lastDraw = now }
        } else {
            let decile = Int(frac * 10)
            if decile != lastDecile[p.run] { lastDecile[p.run] = decile; FileHandle.standardError.write(Data((lines[p.run]! + "\n").utf8)) }
        }
    }

    private func draw() {
        var out = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        for r in order { out += "\u{1B}[2K" + (lines[r] ?? "\(r) waiting") + "\n" }
        drawn = order.count
        FileHandle.standardError.write(Data(out.utf8))
    }

    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
