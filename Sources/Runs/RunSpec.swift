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

    /// The training batch of step `step`, as one or two length buckets for one optimisation step
    /// (`Trainer.step(_: [TrainingBatch])`): a pure function of (spec, step), so a resumed run sees
    /// exactly the batches an uninterrupted one would. Every row draws its task by the mixture weights
    /// (mixed batches learn the sub-skills markedly faster than one task per step, measured on the
    /// default study). Padding every row to the longest item wasted ~40% of the cells of a default-study
    /// step, where ~10-token arithmetic items share a batch with 30-47-token stories, so rows are sorted
    /// by length (stable) and cut into at most two groups where the padded cells, sum(rows x longest),
    /// are fewest; each group is only as long as its own longest item. The loss over the groups is the
    /// same masked mean as over one padded batch.
    public func batches(at step: Int) throws -> [TrainingBatch] {
        let examples = try trainingItems(at: step)
        let lengths = examples.map { min(model.n_ctx, $0.encodedLength) }
        let order = examples.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let n = order.count
        guard n > 0 else { return [] }
        // cut = rows in the first group; cut == n is one group, and wins ties.
        var cut = n, best = n * (lengths[order[n - 1]])
        for c in 1..<n {
            let cost = c * lengths[order[c - 1]] + (n - c) * lengths[order[n - 1]]
            if cost < best { best = cost; cut = c }
        }
        return try [order[..<cut], order[cut...]].filter { !$0.isEmpty }.map { group in
            let items = group.map { examples[$0] }
            let length = lengths[group.last!]
            let enc = try EncodedBatch(examples: items, length: length, lossScope: loss)
            return TrainingBatch(tokens: enc.tokens, targets: enc.targets, mask: enc.lossMask, batch: items.count, length: length)
        }
    }

    /// The held-out test items of every evaluated task (the same for every run of a study): up to `evalN`
    /// distinct items each. A task whose test split holds fewer distinct items (`double`: one per held-out
    /// operand; `order`: one per held-out story) is evaluated on all of them, so `n` in the metrics is
    /// the true number of distinct items and the resolution of its exact match.
    public func evaluationSets() throws -> [(task: any SkillTask, examples: [Example])] {
        try evalTasks.map { name in
            let task = try Tasks.named(name, config: problem)
            return (task, try distinctItems(task, split: .test, count: evalN, seed: split.seed &+ 1000, policy: split))
        }
    }

    /// The training items of step `step`'s batch, in draw order (what `batches(at:)` groups and encodes).
    public func trainingItems(at step: Int) throws -> [Example] {
        let names = Tasks.names.filter { tasks[$0] != nil }
        let generators = try names.map { try Tasks.named($0, config: problem) }
        let weights = names.map { tasks[$0]! }
        let total = weights.reduce(0, +)
        var rng = RNG(seed: seed &* 0x9E37_79B9 &+ 17).derived(UInt64(step) &+ 1)
        var examples: [Example] = []
        while examples.count < batch {
            var u = rng.uniform() * total, pick = 0
            while pick < weights.count - 1 && u >= weights[pick] { u -= weights[pick]; pick += 1 }
            let task = generators[pick]
            var e = task.example(rng: &rng)
            while split.split(of: e, task: task) != .train { e = task.example(rng: &rng) }
            examples.append(e)
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
