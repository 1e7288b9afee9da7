import Foundation
import Skills
import Tensors
import Transformer

/// Trains one run into its directory, resuming from the last complete checkpoint if there is one:
///
///     <dir>/run.json                          the RunSpec
///     <dir>/checkpoints/step_000123.safetensors         model (TransformerLens names)
///     <dir>/checkpoints/step_000123.state.safetensors   Adam moments + step (to resume)
///     <dir>/items/step_000123.h5              every held-out item's outcome (ItemsFile, docs/ITEMS.md)
///     <dir>/metrics.jsonl                     one CheckpointMetrics per checkpoint: the items' aggregates
///
/// Every file is written to a temporary name and renamed, so a kill at any point leaves the last
/// complete checkpoint and a metrics file that agrees with it. A checkpoint is complete when its model,
/// training state, items file and metrics line are all there (written in that order).
public struct TrainingRun: Sendable {
    public let spec: RunSpec
    public let dir: String

    public init(spec: RunSpec, dir: String) { self.spec = spec; self.dir = dir }

    public struct Progress: Sendable {
        public var run: String
        public var step: Int
        public var total: Int
        public var loss: Double
        public var exactMatch: [String: Double]
    }

    public static func checkpointPath(_ dir: String, step: Int) -> String {
        dir + "/checkpoints/" + String(format: "step_%06d.safetensors", step)
    }
    static func statePath(_ dir: String, step: Int) -> String {
        dir + "/checkpoints/" + String(format: "step_%06d.state.safetensors", step)
    }
    var metricsPath: String { dir + "/metrics.jsonl" }

    /// Steps with a complete checkpoint in a run directory, ascending.
    public static func completedSteps(_ dir: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/checkpoints")) ?? []
        return names.compactMap { n -> Int? in
            guard n.hasPrefix("step_"), n.hasSuffix(".safetensors"), !n.contains(".state."), !n.contains(".partial") else { return nil }
            return Int(n.dropFirst(5).dropLast(12))
        }.sorted()
    }

    /// The lock a process holds while it trains the run in `dir`.
    public static func lockPath(_ dir: String) -> String { dir + "/.lens-train.lock" }

    public var isComplete: Bool {
        let done = Self.completedSteps(dir)
        return done.last == spec.steps && readMetrics().last?.step == spec.steps
    }

    public func readMetrics() -> [CheckpointMetrics] {
        guard let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(CheckpointMetrics.self, from: Data($0.utf8)) }
    }

    /// Trains (or resumes) to the end; `progress` is called after every step.
    public func run(progress: (Progress) -> Void = { _ in }) throws {
        let fm = FileManager.default
        try AtomicFile.createDirectory(dir + "/checkpoints")
        try AtomicFile.createDirectory(ItemsFile.directory(dir))
        // One trainer per run directory: a second `lens train` (or sweep) on it stops at once, before it
        // touches a file, instead of racing the first on its temporary files.
        let lock: FileLock
        do { lock = try FileLock.acquireIfFree(Self.lockPath(dir)) }
        catch { throw StudyError(file: dir, problem: "another lens train or sweep is training this run (\(error.reason))") }
        defer { lock.unlock() }
        let specPath = dir + "/run.json"
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        if let old = fm.contents(atPath: specPath) {
            guard let oldSpec = try? JSONDecoder().decode(RunSpec.self, from: old), oldSpec == spec else {
                throw StudyError(file: specPath, problem: "this directory holds a different run; remove it or choose another --out")
            }
        } else {
            try AtomicFile.write(try enc.encode(spec), to: specPath)
        }
        // Temporary files of a killed process never became checkpoints: remove them.
        for sub in ["", "/checkpoints", "/items"] {
            for f in (try? fm.contentsOfDirectory(atPath: dir + sub)) ?? [] where f.contains(".partial-") {
                try? fm.removeItem(atPath: dir + sub + "/" + f)
            }
        }
        let schedule = Set(spec.checkpointSteps)
        let evalSets = try spec.evaluationSets()
        var metrics = readMetrics()
        var trainer: Trainer
        var start = 0
        // Resume from the newest checkpoint that has its training state, its items file and its metrics line.
        let resumable = Self.completedSteps(dir).filter { s in
            fm.fileExists(atPath: Self.statePath(dir, step: s)) && fm.fileExists(atPath: ItemsFile.path(dir, step: s))
                && metrics.contains { $0.step == s }
        }
        if let last = resumable.last {
            let loaded = try Checkpoint.load(Self.checkpointPath(dir, step: last))
            trainer = Trainer(model: loaded.model, config: spec.training)
            _ = try TrainingState.load(Self.statePath(dir, step: last), into: &trainer)
            start = last
            metrics = metrics.filter { $0.step <= last }
        } else {
            trainer = Trainer(model: try Transformer(config: spec.model), config: spec.training)
            metrics = []
            try save(trainer, step: 0, loss: nil, evalSets: evalSets, metrics: &metrics)
        }
        var lossSum = 0.0, lossCount = 0
        for step in start..<spec.steps {
            let r = try trainer.step(try spec.batches(at: step))
            // A diverged run must not overwrite its resume point with NaN weights (nor fail later, in the
            // metrics encoder): stop here, naming the step; the last checkpoint on disk stays finite. The
            // weights are checked every step (100k compares, ~0.1% of a step): an overflowed update must
            // not reach the next forward pass, whose kernels convert floats to integers.
            guard r.loss.isFinite, r.gradNorm.isFinite, trainer.model.params.data.allSatisfy(\.isFinite) else {
                throw StudyError(file: dir, problem: "training diverged at step \(step + 1) (loss \(r.loss), gradient norm \(r.gradNorm)); "
                                 + "the last checkpoint (step \(metrics.last?.step ?? 0)) is kept; lower lr or grad_clip")
            }
            lossSum += Double(r.loss); lossCount += 1
            if schedule.contains(step + 1) {
                try save(trainer, step: step + 1, loss: lossSum / Double(lossCount), evalSets: evalSets, metrics: &metrics)
                lossSum = 0; lossCount = 0
            }
            let last = metrics.last?.tasks.mapValues(\.exactMatch) ?? [:]
            progress(Progress(run: spec.name, step: step + 1, total: spec.steps, loss: Double(r.loss), exactMatch: last))
        }
    }

    private func save(_ trainer: Trainer, step: Int, loss: Double?, evalSets: [(task: any SkillTask, examples: [Example])],
                      metrics: inout [CheckpointMetrics]) throws {
        var tasks: [String: TaskMetrics] = [:]
        var tables: [ItemTable] = []
        for (task, examples) in evalSets {
            let items = try Evaluation.evaluateItems(model: trainer.model, examples: examples, task: task, batchSize: 100)
            tasks[task.name] = TaskMetrics(task: task.name, examples: examples, items: items)
            tables.append(ItemTable(task: task.name, examples: examples, results: items))
        }
        // Model, state and items first, metrics last: a metrics line always has its checkpoint and items.
        try Checkpoint.save(trainer.model, step: step, run: spec.name, to: Self.checkpointPath(dir, step: step))
        try TrainingState.save(trainer, rng: RNG(seed: spec.seed), to: Self.statePath(dir, step: step))
        try ItemsFile.write(ItemsFile.Contents(run: spec.name, study: spec.study, step: step, seed: spec.seed, tables: tables),
                            to: ItemsFile.path(dir, step: step))
        metrics.append(CheckpointMetrics(run: spec.name, step: step, trainLoss: loss, tasks: tasks))
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        var text = Data()
        for m in metrics { text.append(try enc.encode(m)); text.append(0x0A) }
        try AtomicFile.write(text, to: metricsPath)
        Self.killIfATestAsks(afterCheckpoint: step)
    }

    /// The kill-and-resume test's kill point: with LENS_TEST_KILL_AFTER_CHECKPOINT=N in the environment, the
    /// process sends itself SIGKILL (what `kill -9` sends) as soon as checkpoint N is complete, so the test
    /// kills at a known step instead of racing a running process. Without the variable it does nothing.
    private static func killIfATestAsks(afterCheckpoint step: Int) {
        guard let n = ProcessInfo.processInfo.environment["LENS_TEST_KILL_AFTER_CHECKPOINT"], Int(n) == step else { return }
        kill(getpid(), SIGKILL)
    }
}
