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
/// A step splits each batch into one shard per thread (data parallel, like DDP on one machine): each
/// shard runs its own forward and backward serially with single-threaded BLAS, then the shards'
/// gradients are summed in shard order. So results are bitwise reproducible for a given thread count.
/// A step may also take several parts of one logical batch (length buckets, each padded only to its
/// own longest row): every shard workspace accumulates over all parts before the one sum and update.
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
        try step([batch])
    }

    /// One optimisation step on the rows of all `parts` together: the loss is the masked token CE
    /// summed over every part / the mask weight of every part, exactly what one batch holding all rows
    /// padded to the longest would give (padding has no target, so it adds nothing), and one AdamW
    /// update follows. Parts may differ in rows and length.
    public mutating func step(_ parts: [TrainingBatch]) throws(ModelError) -> StepResult {
        let loss = try accumulateGradients(parts)
        let norm = clipGradients(&grads, maxNorm: Float(config.gradClip))
        let lr = config.schedule.rate(optimizer.step)
        optimizer.update(&model.params, grads, lr: Float(lr))
        return StepResult(loss: loss, gradNorm: norm, lr: lr)
    }

    /// Mean masked loss over all parts and its gradient (left in `grads`), computed shard-parallel.
    private mutating func accumulateGradients(_ parts: [TrainingBatch]) throws(ModelError) -> Float {
        guard !parts.isEmpty else { throw .shapeMismatch("a training step needs at least one batch") }
        // One normaliser for every part, so a target weighs the same whichever part its row landed in.
        // Weights are 0/1 in practice, so this integer-valued sum is exact in any order.
        var total: Float = 0
        for batch in parts {
            let B = batch.batch, T = batch.length
            guard B > 0 else { throw .shapeMismatch("a training batch needs at least one row") }
            guard batch.tokens.count == B * T, batch.targets.count == B * T, batch.mask.map({ $0.count == B * T }) ?? true else {
                throw .shapeMismatch("training batch arrays do not match batch \(B) x length \(T)")
            }
            for i in 0..<(B * T) where batch.targets[i] >= 0 { total += batch.mask?[i] ?? 1 }
        }
        // A part with fewer rows than threads uses fewer shards; every workspace any part uses starts
        // the step at zero and is summed, and none beyond them (they hold an older step's gradients).
        let used = parts.map { max(1, min(Engine.threads, $0.batch)) }.max()!
        while shards.count < used { shards.append(ShardWorkspace(model.config)) }
        let model = self.model, work = Array(shards.prefix(used))
        let normalizer = total
        for w in work { w.beginStep() }
        for batch in parts {
            let B = batch.batch, S = max(1, min(Engine.threads, B))
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
            if let e = work.compactMap(\.error).first { throw e }
        }
        for w in work { w.endStep() }
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
/// Gradient and loss are sums over the parts of one step (zeroed by `beginStep`).
final class ShardWorkspace: @unchecked Sendable {
    struct Shape: Hashable { let rows: Int; let length: Int }
    /// Forward (and backward scratch) buffers per shard shape [rows, length]: the parts of a step differ
    /// in length, and one buffer set per shape lets a short and a long part alternate without
    /// reallocating. Shapes a step did not use are dropped at its end, so memory stays one set per part
    /// even for callers whose part sizes change every step (keeping every shape seen once took ~6x the
    /// memory, 1 GB on a d64 run); studies use fixed part shapes (RunSpec.batches) and keep theirs.
    var states: [Shape: ForwardState] = [:]
    var used: Set<Shape> = []
    var grads: Parameters
    var loss: Float = 0
    var error: ModelError?

    init(_ c: ModelConfig) { grads = Parameters(zerosFor: c) }

    func beginStep() {
        grads.data.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: $0.count) }
        loss = 0
        error = nil
        used = []
    }

    func endStep() {
        states = states.filter { used.contains($0.key) }
    }

    func run(_ model: Transformer, _ batch: TrainingBatch, rows: Range<Int>, normalizer: Float) {
        guard error == nil else { return }
        let T = batch.length, range = (rows.lowerBound * T)..<(rows.upperBound * T)
        let shape = Shape(rows: rows.count, length: T)
        do {
            let tokens = Array(batch.tokens[range]), targets = Array(batch.targets[range])
            let mask = batch.mask.map { Array($0[range]) }
            let out = try model.forward(tokens: tokens, batch: rows.count, length: T, reusing: states[shape])
            states[shape] = out.state
            used.insert(shape)
            let ce = crossEntropy(logits: out.state.logits.ptr, targets: targets, mask: mask,
                                  N: rows.count * T, V: model.config.d_vocab, normalizer: normalizer)
            // backward adds into grads: the sum over this step's parts
            try model.backward(out.state, dlogits: ce.dlogits, into: &grads)
            loss += ce.loss
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
