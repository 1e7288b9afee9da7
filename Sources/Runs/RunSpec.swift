import Foundation
import Skills
import Tensors
import Transformer

/// Everything that determines one training run; saved as `run.json` in its directory.
public struct RunSpec: Codable, Sendable, Equatable {
    public var name: String
    public var study: String
    public var model: ModelConfig
    public var seed: UInt64
    public var tasks: [String: Double]
    public var evalTasks: [String]
    public var problem: TaskConfig
    public var steps: Int
    public var batch: Int
    public var training: TrainingConfig
    public var loss: LossScope
    public var checkpoints: CheckpointSchedule
    public var evalN: Int
    public var split: SplitPolicy

    public var checkpointSteps: [Int] { checkpoints.steps(total: steps) }

    /// A study names its runs `<model>-s<seed>`; figures over a study group runs by the model part.
    public static func runName(model: String, seed: UInt64) -> String { "\(model)-s\(seed)" }

    /// The model (size) part of a run name, or the whole name if it does not follow `runName`.
    public static func sizeName(ofRun run: String) -> String {
        if let r = run.range(of: "-s", options: .backwards), Int(run[r.upperBound...]) != nil { return String(run[..<r.lowerBound]) }
        return run
    }

    /// The training batch of step `step`, as one or two length buckets for one optimisation step
    /// (`Trainer.step(_: [TrainingBatch])`): a pure function of (spec, step), so a resumed run sees
    /// exactly the batches an uninterrupted one would. Padding every row to the longest item wasted ~40%
    /// of the cells of a default-study step, where ~10-token arithmetic items share a batch with up to
    /// 59-token stories, so tasks are grouped by their longest possible item into at most two buckets
    /// (where sum(rows x bucket length) is least), each padded to its own tasks' longest item. Row counts
    /// and lengths are the same every step, so the trainer reuses its buffers. The loss over the buckets
    /// is the same masked mean as over one padded batch.
    public func batches(at step: Int) throws -> [TrainingBatch] {
        let examples = try trainingItems(at: step)
        return try buckets().map { bucket in
            let items = examples.filter { bucket.tasks.contains($0.task) }
            let enc = try EncodedBatch(examples: items, length: bucket.length, lossScope: loss)
            return TrainingBatch(tokens: enc.tokens, targets: enc.targets, mask: enc.lossMask, batch: items.count, length: bucket.length)
        }
    }

    /// Rows per task in every batch: the mixture weights by largest remainder, so each step holds every
    /// task in proportion (less gradient noise than drawing each row's task, and fixed shapes).
    public func rowsPerTask() -> [(task: String, rows: Int)] { Self.rowsPerTask(tasks, batch: batch) }

    public static func rowsPerTask(_ tasks: [String: Double], batch: Int) -> [(task: String, rows: Int)] {
        let names = Tasks.names.filter { tasks[$0] != nil }
        let total = names.reduce(0) { $0 + tasks[$1]! }
        let exact = names.map { Double(batch) * tasks[$0]! / total }
        var rows = exact.map { Int($0) }
        let byRemainder = names.indices.sorted { (exact[$0] - Double(rows[$0]), -$0) > (exact[$1] - Double(rows[$1]), -$1) }
        for i in byRemainder.prefix(batch - rows.reduce(0, +)) { rows[i] += 1 }
        return zip(names, rows).map { ($0, $1) }
    }

    /// The tasks of each length bucket and its padded length, shortest bucket first.
    func buckets() throws -> [(tasks: Set<String>, length: Int)] {
        let counts = rowsPerTask().filter { $0.rows > 0 }
        let longest = try counts.map { min(model.n_ctx, try Tasks.named($0.task, config: problem).maxEncodedLength) }
        let order = counts.indices.sorted { (longest[$0], $0) < (longest[$1], $1) }
        guard !order.isEmpty else { return [] }
        func cells(_ group: ArraySlice<Int>) -> Int { group.reduce(0) { $0 + counts[$1].rows } * (group.last.map { longest[$0] } ?? 0) }
        var cut = order.count, best = cells(order[...])
        for c in 1..<order.count where cells(order[..<c]) + cells(order[c...]) < best {
            best = cells(order[..<c]) + cells(order[c...]); cut = c
        }
        return [order[..<cut], order[cut...]].filter { !$0.isEmpty }.map { group in
            (Set(group.map { counts[$0].task }), longest[group.last!])
        }
    }

    /// The held-out test items of every evaluated task (the same for every run of a study): up to `evalN`
    /// distinct items each. A task whose test split holds fewer distinct items (`double`: one per held-out
    /// operand; `order`: one per held-out story) is evaluated on all of them, so `n` in the metrics is
    /// the true number of distinct items and the resolution of its exact match.
    public func evaluationSets() throws -> [(task: any SkillTask, examples: [Example])] {
        try evalTasks.map { name in
            let task = try Tasks.named(name, config: problem)
            return (task, try Self.evaluationItems(task, split: .test, count: evalN, policy: split))
        }
    }

    /// The evaluation items of a task: the same for training runs and `lens eval`.
    public static func evaluationItems(_ task: any SkillTask, split: Split, count: Int, policy: SplitPolicy) throws -> [Example] {
        try distinctItems(task, split: split, count: count, seed: policy.seed &+ 1000, policy: policy)
    }

    /// The training items of step `step`'s batch, task by task (`rowsPerTask`), each drawn from its
    /// task's training split (what `batches(at:)` groups and encodes).
    public func trainingItems(at step: Int) throws -> [Example] {
        var rng = RNG(seed: seed &* 0x9E37_79B9 &+ 17).derived(UInt64(step) &+ 1)
        var examples: [Example] = []
        for (name, rows) in rowsPerTask() {
            let task = try Tasks.named(name, config: problem)
            for _ in 0..<rows {
                var e = task.example(rng: &rng)
                while split.split(of: e, task: task) != .train { e = task.example(rng: &rng) }
                examples.append(e)
            }
        }
        return examples
    }
}

/// Up to `count` distinct items (by prompt) of a split, drawn from a pool 8x larger, in draw order.
public func distinctItems(_ task: any SkillTask, split: Split, count: Int, seed: UInt64, policy: SplitPolicy) throws -> [Example] {
    let pool = try Dataset.generate(task: task, split: split, count: 8 * count, seed: seed, policy: policy)
    var seen = Set<String>(), out: [Example] = []
    for e in pool where out.count < count && seen.insert(e.prompt).inserted { out.append(e) }
    return out
}

extension RunSpec {
}

/// One line of `metrics.jsonl`: the evaluation of one checkpoint.
public struct CheckpointMetrics: Codable, Sendable, Equatable {
    public var run: String
    public var step: Int
    public var trainLoss: Double?
    public var tasks: [String: TaskMetrics]
}
