import Foundation
import Tensors

/// Hyper-parameters of one training run's optimisation.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var schedule: LRSchedule
    public var weightDecay: Double = 0.01
    public var gradClip: Double = 1.0
    public init(schedule: LRSchedule = LRSchedule(), weightDecay: Double = 0.01, gradClip: Double = 1.0) {
        self.schedule = schedule; self.weightDecay = weightDecay; self.gradClip = gradClip
    }
}

/// One batch: tokens [B, T], next-token targets [B, T] (-1 = no target) and a loss mask [B, T].
public struct TrainingBatch: Sendable {
    public var tokens: [Int32]
    public var targets: [Int32]
    public var mask: [Float]?
    public var batch: Int
    public var length: Int
    public init(tokens: [Int32], targets: [Int32], mask: [Float]?, batch: Int, length: Int) {
        self.tokens = tokens; self.targets = targets; self.mask = mask; self.batch = batch; self.length = length
    }
}

/// Model + optimiser + reusable buffers: forward, masked cross-entropy, backward, clip, AdamW.
public struct Trainer: Sendable {
    public var model: Transformer
    public var optimizer: AdamW
    public var config: TrainingConfig
    public var step: Int { optimizer.step }
    private var grads: Parameters
    private var workspace: ForwardState?

    public init(model: Transformer, config: TrainingConfig) {
        self.model = model
        self.config = config
        self.optimizer = AdamW(layout: model.params.layout, weightDecay: Float(config.weightDecay))
        self.grads = Parameters(zerosFor: model.config)
    }

    public struct StepResult: Sendable { public let loss: Float; public let gradNorm: Float; public let lr: Double }

    /// One optimisation step on `batch`.
    public mutating func step(_ batch: TrainingBatch) throws(ModelError) -> StepResult {
        let out = try model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length, reusing: workspace)
        workspace = out.state
        let ce = out.state.logits.ptr.withMemoryRebound(to: Float.self, capacity: 1) {
            crossEntropy(logits: $0, targets: batch.targets, mask: batch.mask, N: batch.batch * batch.length, V: model.config.d_vocab)
        }
        for i in 0..<grads.data.count { grads.data[i] = 0 }
        try model.backward(out.state, dlogits: ce.dlogits, into: &grads)
        let norm = clipGradients(&grads, maxNorm: Float(config.gradClip))
        let lr = config.schedule.rate(optimizer.step)
        optimizer.update(&model.params, grads, lr: Float(lr))
        return StepResult(loss: ce.loss, gradNorm: norm, lr: lr)
    }

    /// Mean masked loss without updating anything.
    public func loss(_ batch: TrainingBatch) throws(ModelError) -> Float {
        let out = try model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
        return out.state.logits.ptr.withMemoryRebound(to: Float.self, capacity: 1) {
            crossEntropy(logits: $0, targets: batch.targets, mask: batch.mask, N: batch.batch * batch.length, V: model.config.d_vocab).loss
        }
    }
}

/// The resumable part of training beside a checkpoint: Adam moments, step, and the data RNG.
public enum TrainingState {
    public static let format = "emergence-lens.training-state/1"

    public static func save(_ trainer: Trainer, rng: RNG, to path: String) throws {
        let n = trainer.optimizer.m.count
        let entries = [Safetensors.Entry(name: "adam.m", shape: [n], values: trainer.optimizer.m),
                       Safetensors.Entry(name: "adam.v", shape: [n], values: trainer.optimizer.v)]
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let meta = ["format": format, "step": String(trainer.optimizer.step),
                    "rng": String(decoding: try enc.encode(rng), as: UTF8.self),
                    "training": String(decoding: try enc.encode(trainer.config), as: UTF8.self)]
        try AtomicFile.write(Safetensors.encode(entries, metadata: meta), to: path)
    }

    /// Restores optimiser moments and step into `trainer` (whose model was loaded from the checkpoint);
    /// returns the saved RNG.
    public static func load(_ path: String, into trainer: inout Trainer) throws(ModelError) -> RNG {
        guard let data = FileManager.default.contents(atPath: path) else { throw .checkpoint(path: path, problem: "cannot read file") }
        let h = try Safetensors.readHeader(data, path: path)
        guard h.metadata["format"] == format else { throw .checkpoint(path: path, problem: "not a training-state file") }
        let m = try Safetensors.floats(data, h, "adam.m", path: path).values
        let v = try Safetensors.floats(data, h, "adam.v", path: path).values
        guard m.count == trainer.optimizer.m.count, v.count == m.count else {
            throw .checkpoint(path: path, problem: "optimizer state has \(m.count) values, the model \(trainer.optimizer.m.count)")
        }
        guard let stepText = h.metadata["step"], let step = Int(stepText), let rngText = h.metadata["rng"],
              let rng = try? JSONDecoder().decode(RNG.self, from: Data(rngText.utf8)) else {
            throw .checkpoint(path: path, problem: "metadata step/rng missing or malformed")
        }
        trainer.optimizer.m = m
        trainer.optimizer.v = v
        trainer.optimizer.step = step
        return rng
    }
}
