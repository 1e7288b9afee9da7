import ActivationStore
import Foundation
import Runs
import Skills
import Tensors
import Transformer

/// `lens dump`: the hook activations of a run's checkpoints on a fixed set of held-out items, one
/// file per checkpoint (CONTRACTS section 4), written batch by batch so memory stays bounded
/// whatever N is. Every checkpoint of a run sees the same items, so probes compare like with like.
public struct ActivationDump: Sendable {
    public var runDir: String
    public var outDir: String
    public var hookPatterns: [String]
    public var tasks: [String]?          // nil: the run's evaluated tasks
    public var perTask: Int
    /// Item counts that replace `perTask` for some tasks (probe specs' `items:`, e.g. a position only one task has).
    public var perTaskOverride: [String: Int] = [:]
    public var split: Split = .test
    public var batchSize = 64
    public var compress = false
    public var force = false

    public init(runDir: String, outDir: String, hookPatterns: [String], tasks: [String]?, perTask: Int) {
        self.runDir = runDir; self.outDir = outDir; self.hookPatterns = hookPatterns; self.tasks = tasks; self.perTask = perTask
    }

    public struct Written: Codable, Sendable {
        public var step: Int
        public var path: String
        public var skipped: Bool
        public var n: Int
        public var hooks: [String]
    }

    public func spec() throws -> RunSpec {
        let path = runDir + "/run.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ActivationStoreError(file: path, problem: "not a run directory (no run.json)")
        }
        do { return try JSONDecoder().decode(RunSpec.self, from: data) }
        catch { throw ActivationStoreError(file: path, problem: "run.json is not a run spec") }
    }

    /// The items every checkpoint is run on: up to `perTask` (or `perTaskOverride[task]`) distinct held-out
    /// items of each task, in task order; the first k items of a task do not depend on how many are asked for. Distinct, so a probe's train and test parts never share an example; a task whose held-out
    /// split has fewer distinct items (`order`, `double` at small ranges) contributes all it has.
    public func items(_ spec: RunSpec) throws -> [Example] {
        try (tasks ?? spec.evalTasks).flatMap { name -> [Example] in
            let task = try Tasks.named(name, config: spec.problem)
            return try distinctItems(task, split: split, count: perTaskOverride[name] ?? perTask, seed: spec.split.seed &+ 2000, policy: spec.split)
        }
    }

    public static func fileName(step: Int) -> String { String(format: "step_%06d.h5", step) }

    /// The lock every `lens dump` into `outDir` holds while it works there (see `FileLock`).
    public static func lockPath(outDir: String) -> String { outDir + "/.lens-dump.lock" }

    /// Dumps the given checkpoint steps (nil: all); `progress(done, total)` after every batch. Holds the
    /// output directory's lock throughout, so concurrent dumps into one directory run one after the
    /// other (`waiting` is called if another holds it) and the later one finds the earlier one's files.
    public func run(steps wanted: [Int]?, progress: (Int, Int) -> Void = { _, _ in },
                    waiting: () -> Void = {}) throws -> [Written] {
        let spec = try spec()
        let available = TrainingRun.completedSteps(runDir)
        let steps = try (wanted ?? available).map { s -> Int in
            guard available.contains(s) else {
                throw ActivationStoreError(file: runDir, problem: "no checkpoint for step \(s) (have: \(available.map(String.init).joined(separator: ", ")))")
            }
            return s
        }
        let examples = try items(spec)
        let T = spec.model.n_ctx
        let hooks: [String]
        do { hooks = try HookPoints.resolve(hookPatterns, spec.model) }
        catch { throw ActivationStoreError(file: runDir, problem: error.description) }
        try AtomicFile.createDirectory(outDir)
        let lock: FileLock
        do { lock = try FileLock(Self.lockPath(outDir: outDir), waiting: waiting) }
        catch { throw ActivationStoreError(file: outDir, problem: error.reason) }
        defer { lock.unlock() }
        let labelNames = LabelCatalog.labelNames, positionNames = LabelCatalog.positionNames
        let kinds: [(name: String, kind: LabelKind)] = labelNames.map { name in
            if case .float32 = examples.first?.labels[name] ?? .int32(0) { return (name, .float32) }
            return (name, .int32)
        }
        var written: [Written] = []
        let totalBatches = steps.count * ((examples.count + batchSize - 1) / max(batchSize, 1))
        var done = 0
        for step in steps {
            let path = outDir + "/" + Self.fileName(step: step)
            if !force, let existing = try? validateActivationFile(path) {
                // Keep a complete file only if it is the dump asked for; never report it as something it is not.
                let storedTasks = existing.attributes["tasks"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
                let same = existing.n == examples.count && storedTasks == (tasks ?? spec.evalTasks)
                    && Set(existing.hooks.map { String($0.path.split(separator: "/").last!) }) == Set(hooks)
                guard same else {
                    throw ActivationStoreError(file: path, problem: "holds a different dump (N=\(existing.n), \(existing.hooks.count) hooks); use --force to overwrite it or --out for another directory")
                }
                written.append(Written(step: step, path: path, skipped: true, n: examples.count, hooks: hooks))
                done += (examples.count + batchSize - 1) / max(batchSize, 1)
                continue
            }
            AtomicFile.removeStaleTemporaries(of: path)
            let model = try Checkpoint.load(TrainingRun.checkpointPath(runDir, step: step)).model
            let attrs = FileAttributes(config: spec.model.jsonString(), run: spec.name, step: step,
                                       tasks: tasks ?? spec.evalTasks, seed: spec.seed, vocab: Tokenizer.standard.vocab)
            let shapes = hooks.map { (name: $0, shapeAfterBatch: Array(HookPoints.shape($0, spec.model, batch: 1, length: T)!.dropFirst())) }
            let writer = try ActivationFileWriter(path: path, attributes: attrs, n: examples.count, seqLen: T, hooks: shapes,
                                                  labels: kinds, positionNames: positionNames, compress: compress)
            var start = 0
            while start < examples.count {
                let chunk = Array(examples[start..<min(start + batchSize, examples.count)])
                let enc = try EncodedBatch(examples: chunk, length: T)
                let out = try model.forward(tokens: enc.tokens, batch: chunk.count, length: T, plan: HookPlan(cache: hooks))
                var labels: [String: LabelColumn] = [:]
                for (name, kind) in kinds {
                    switch kind {
                    case .int32: labels[name] = .int32(chunk.map { Int32($0.label(name)) })
                    case .float32: labels[name] = .float32(chunk.map { $0.labels[name]?.floatValue ?? -1 })
                    }
                }
                var positions: [String: [Int32]] = [:]
                for name in positionNames { positions[name] = chunk.map { Int32($0.position(name)) } }
                // A file holding NaN or infinity is one lens inspect and lens probe refuse: say so here, of
                // the checkpoint whose weights overflow, instead of writing it (and rewriting it on every rerun).
                for (hook, t) in out.cache.sorted(by: { $0.key < $1.key }) where t.data.contains(where: { !$0.isFinite }) {
                    throw ActivationStoreError(file: TrainingRun.checkpointPath(runDir, step: step),
                                               problem: "activations of \(hook) are not finite: its weights overflow float32")
                }
                try writer.appendBatch(tokens: enc.tokens, lengths: enc.lengths.map { Int32($0) }, prompts: chunk.map(\.prompt),
                                       tasks: chunk.map(\.task), positions: positions, labels: labels,
                                       activations: out.cache.mapValues(\.data))
                start += chunk.count
                done += 1
                progress(done, totalBatches)
            }
            try writer.finish()
            written.append(Written(step: step, path: path, skipped: false, n: examples.count, hooks: hooks))
        }
        return written
    }
}
