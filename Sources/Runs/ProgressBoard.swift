import Foundation

/// Training progress, one row per run: bar, step, ETA, loss, latest exact match per task.
/// How often it prints is the `ProgressReporter` policy (redrawn on a terminal, sparse in a log).
public final class ProgressBoard: Sendable {
    private let reporter: ProgressReporter

    public init(runs: [String], reporter: ProgressReporter? = nil) { self.reporter = reporter ?? ProgressReporter(rows: runs) }

    public func update(_ p: TrainingRun.Progress) {
        let em = p.exactMatch.keys.sorted().map { "\($0)=\(String(format: "%.2f", p.exactMatch[$0]!))" }.joined(separator: " ")
        reporter.update(p.run, done: p.step, total: p.total, detail: String(format: "loss %.3f", p.loss) + (em.isEmpty ? "" : "  " + em))
    }
}
