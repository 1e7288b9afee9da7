import Foundation
import Skills
import Transformer

/// A study: model sizes x seeds trained on one task mixture, with one schedule. Read from YAML:
///
/// ```yaml
/// name: default                 # names the output directory
/// tasks:                        # training mixture: task -> weight (any positive numbers)
///   add: 1
///   multistep_pad: 2
/// eval_tasks: [add, multistep]  # evaluated at every checkpoint (default: the mixture's tasks)
/// problem: {max_operand: 19, max_step: 9}   # TaskConfig ranges
/// models:                       # one entry per size; d_head defaults to d_model / n_heads
///   - {name: d32, n_layers: 2, d_model: 32, n_heads: 4, d_mlp: 128}
/// act_fn: gelu_new
/// seeds: [1, 2]
/// steps: 3000
/// batch: 64
/// lr: 0.003
/// warmup: 100
/// weight_decay: 0.01
/// grad_clip: 1.0
/// loss: answer                  # answer | all
/// checkpoints: {dense_until: 500, dense_count: 8, every: 500}
/// eval: {n: 300}                # held-out test items per task and checkpoint
/// split: {seed: 0, validation: 0.1, test: 0.1}
/// ```
/// Every key but `name`, `tasks`, `models` has the default shown in `StudySpec()`. Unknown keys,
/// wrong types and impossible sizes are errors naming the file and the key.
public struct StudySpec: Codable, Sendable, Equatable {
    public struct ModelSize: Codable, Sendable, Equatable {
        public var name: String
        public var n_layers: Int
        public var d_model: Int
        public var n_heads: Int
        public var d_head: Int
        public var d_mlp: Int
    }

    public var name = "study"
    public var tasks: [String: Double] = [:]
    public var evalTasks: [String] = []
    public var problem = TaskConfig()
    public var models: [ModelSize] = []
    public var actFn = "gelu_new"
    public var seeds: [UInt64] = [1]
    public var steps = 1000
    public var batch = 64
    public var lr = 3e-3
    public var warmup = 100
    public var weightDecay = 0.01
    public var gradClip = 1.0
    public var loss = LossScope.answer
    public var checkpoints = CheckpointSchedule()
    public var evalN = 300
    public var split = SplitPolicy()

    public init() {}

    /// Task names in a stable order (mixture keys sorted by the registry's order).
    public var mixtureTasks: [String] { Tasks.names.filter { tasks[$0] != nil } }
    public var evaluatedTasks: [String] { evalTasks.isEmpty ? mixtureTasks : evalTasks }

    /// Sequence length: the longest encoded item of any trained or evaluated task.
    public func sequenceLength() throws(StudyError) -> Int {
        var longest = 0
        for name in Set(mixtureTasks + evaluatedTasks) {
            do { longest = max(longest, try Tasks.named(name, config: problem).maxEncodedLength) }
            catch { throw StudyError(file: self.name, problem: error.description) }
        }
        return longest
    }

    /// The runs of the study: every size with every seed.
    public func runs() throws(StudyError) -> [RunSpec] {
        let T = try sequenceLength()
        return models.flatMap { m in
            seeds.map { seed in
                RunSpec(name: RunSpec.runName(model: m.name, seed: seed), study: name,
                        model: ModelConfig(n_layers: m.n_layers, d_model: m.d_model, n_heads: m.n_heads, d_head: m.d_head,
                                           d_mlp: m.d_mlp, n_ctx: T, d_vocab: Tokenizer.standard.vocabSize, act_fn: actFn, seed: seed),
                        seed: seed, tasks: tasks, evalTasks: evaluatedTasks, problem: problem, steps: steps, batch: batch,
                        training: TrainingConfig(schedule: LRSchedule(peak: lr, warmupSteps: warmup, totalSteps: steps),
                                                 weightDecay: weightDecay, gradClip: gradClip),
                        loss: loss, checkpoints: checkpoints, evalN: evalN, split: split)
            }
        }
    }
}

public struct StudyError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}
