import Dispatch
import Foundation
import Tensors
import Transformer

/// Trains every run of a study, `jobs` at a time (threads split evenly between jobs). Finished runs
/// are skipped and interrupted ones resume, so re-running after a kill completes the same results.
public struct Sweep: Sendable {
    public let study: StudySpec
    public let outDir: String
    public let jobs: Int
    /// Train only the runs of these names (a Slurm array task trains one); nil: every run.
    public let only: Set<String>?

    public init(study: StudySpec, outDir: String, jobs: Int, only: Set<String>? = nil) {
        self.study = study; self.outDir = outDir; self.jobs = jobs; self.only = only
    }

    public func runDirectory(_ run: RunSpec) -> String { outDir + "/" + run.name }

    /// <out>/study.json, rewritten only when it differs: Slurm array tasks on other nodes start sweeps of
    /// single runs at once, and one must not remove another's temporary file as stale (its process id means
    /// nothing here); `lens study --slurm` writes it before submitting, so the tasks find it equal.
    public func writeStudyJSON() throws {
        try AtomicFile.createDirectory(outDir)
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        let studyJSON = try enc.encode(study)
        if FileManager.default.contents(atPath: outDir + "/study.json") != studyJSON {
            AtomicFile.removeStaleTemporaries(of: outDir + "/study.json")
            try AtomicFile.write(studyJSON, to: outDir + "/study.json")
        }
    }

    public func run() throws -> [TrainingRun] {
        let all = try study.runs()
        if let only, let unknown = only.first(where: { name in !all.contains { $0.name == name } }) {
            throw StudyError(file: study.name, problem: "no run \(unknown) (have: \(all.map(\.name).joined(separator: ", ")))")
        }
        let runs = all.filter { only?.contains($0.name) ?? true }.map { TrainingRun(spec: $0, dir: runDirectory($0)) }
        try writeStudyJSON()
        let pending = runs.filter { !$0.isComplete }
        let workers = max(1, min(jobs, pending.count))
        let threads = Engine.threads
        // Threads per run follow from the runs asked for, not from what is left to do: a run's shard count
        // (and so its floating-point sums) must not change when a resumed sweep has fewer runs pending.
        Engine.setThreads(max(1, threads / max(1, min(jobs, runs.count))))
        defer { Engine.setThreads(threads) }
        let board = ProgressBoard(runs: pending.map(\.spec.name))
        let queue = WorkQueue(pending)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let r = queue.next() {
                do { try r.run(progress: board.update) } catch { queue.fail(r.spec.name, error) }
            }
        }
        if let (name, error) = queue.firstError { throw StudyError(file: name, problem: "\(error)") }
        return runs
    }
}

private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [TrainingRun]
    private(set) var firstError: (String, Error)?
    init(_ items: [TrainingRun]) { self.items = items.reversed() }
    func next() -> TrainingRun? { lock.lock(); defer { lock.unlock() }; return items.popLast() }
    func fail(_ name: String, _ e: Error) { lock.lock(); if firstError == nil { firstError = (name, e) }; lock.unlock() }
}
