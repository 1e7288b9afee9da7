import Dispatch
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
/// A step splits the batch into one shard per thread (data parallel, like DDP on one machine): each
/// shard runs its own forward and backward serially with single-threaded BLAS, then the shards'
/// gradients are summed in shard order. So results are bitwise reproducible for a given thread count.
public struct Trainer: Sendable {
    public var model: Transformer
    public var optimizer: AdamW
    public var config: TrainingConfig
    public var step: Int { optimizer.step }
    private var grads: Parameters
    private var shards: [ShardWorkspace] = []

    public init(model: Transformer, config: TrainingConfig) {
        self.model = model
        self.config = config
        self.optimizer = AdamW(layout: model.params.layout, weightDecay: Float(config.weightDecay))
        self.grads = Parameters(zerosFor: model.config)
    }

    public struct StepResult: Sendable { public let loss: Float; public let gradNorm: Float; public let lr: Double }

    /// One optimisation step on `batch`.
    public mutating func step(_ batch: TrainingBatch) throws(ModelError) -> StepResult {
        let loss = try accumulateGradients(batch)
        let norm = clipGradients(&grads, maxNorm: Float(config.gradClip))
        let lr = config.schedule.rate(optimizer.step)
        optimizer.update(&model.params, grads, lr: Float(lr))
        return StepResult(loss: loss, gradNorm: norm, lr: lr)
    }

    /// Mean masked loss and its gradient (left in `grads`), computed shard-parallel.
    private mutating func accumulateGradients(_ batch: TrainingBatch) throws(ModelError) -> Float {
        let B = batch.batch, T = batch.length
        guard batch.tokens.count == B * T, batch.targets.count == B * T, batch.mask.map({ $0.count == B * T }) ?? true else {
            throw .shapeMismatch("training batch arrays do not match batch \(B) x length \(T)")
        }
        let S = max(1, min(Engine.threads, B))
        while shards.count < S { shards.append(ShardWorkspace(model.config)) }
        var total: Float = 0
        for i in 0..<(B * T) where batch.targets[i] >= 0 { total += batch.mask?[i] ?? 1 }
        let model = self.model, work = Array(shards.prefix(S))
        let normalizer = total
        let run: (Int) -> Void = { s in
            let lo = B * s / S, hi = B * (s + 1) / S
            work[s].run(model, batch, rows: lo..<hi, normalizer: normalizer)
        }
        if S > 1 {
            BLAS.setThreads(1)
            let box = UnsafeSendable(run)
            DispatchQueue.concurrentPerform(iterations: S) { s in
                ShardFlag.set(true)
                box.value(s)
                ShardFlag.set(false)
            }
            BLAS.setThreads(Engine.threads)
        } else {
            run(0)
        }
        var loss: Float = 0
        grads.data.withUnsafeMutableBufferPointer { g in
            for (s, w) in work.enumerated() {
                w.grads.data.withUnsafeBufferPointer { src in
                    if s == 0 { g.baseAddress!.update(from: src.baseAddress!, count: g.count) }
                    else { accumulate(g.baseAddress!, src.baseAddress!, n: g.count) }
                }
                loss += w.loss
            }
        }
        if let e = work.compactMap(\.error).first { throw e }
        return loss
    }

    /// Mean masked loss without updating anything.
    public func loss(_ batch: TrainingBatch) throws(ModelError) -> Float {
        let out = try model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
        return crossEntropy(logits: out.state.logits.ptr, targets: batch.targets, mask: batch.mask,
                            N: batch.batch * batch.length, V: model.config.d_vocab).loss
    }
}

/// One shard's reusable buffers and results. A class so each worker thread owns and mutates its own.
final class ShardWorkspace: @unchecked Sendable {
    var state: ForwardState?
    var grads: Parameters
    var loss: Float = 0
    var error: ModelError?

    init(_ c: ModelConfig) { grads = Parameters(zerosFor: c) }

    func run(_ model: Transformer, _ batch: TrainingBatch, rows: Range<Int>, normalizer: Float) {
        let T = batch.length, range = (rows.lowerBound * T)..<(rows.upperBound * T)
        do {
            let tokens = Array(batch.tokens[range]), targets = Array(batch.targets[range])
            let mask = batch.mask.map { Array($0[range]) }
            let out = try model.forward(tokens: tokens, batch: rows.count, length: T, reusing: state)
            state = out.state
            let ce = crossEntropy(logits: out.state.logits.ptr, targets: targets, mask: mask,
                                  N: rows.count * T, V: model.config.d_vocab, normalizer: normalizer)
            grads.data.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: $0.count) }
            try model.backward(out.state, dlogits: ce.dlogits, into: &grads)
            loss = ce.loss
            error = nil
        } catch {
            self.error = error
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
