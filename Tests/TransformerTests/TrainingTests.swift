import Foundation
import Testing
import Tensors
import TestSupport
@testable import Transformer

private func fixedBatch(_ cfg: ModelConfig, B: Int, T: Int, seed: UInt64) -> TrainingBatch {
    var rng = RNG(seed: seed)
    let tokens = (0..<(B * T)).map { _ in Int32(rng.int(cfg.d_vocab)) }
    var targets = [Int32](repeating: -1, count: B * T)
    for b in 0..<B { for t in 0..<(T - 1) { targets[b * T + t] = tokens[b * T + t + 1] } }
    return TrainingBatch(tokens: tokens, targets: targets, mask: nil, batch: B, length: T)
}

/// Rows of `lengths` real tokens each, padded to `T`: like EncodedBatch, a row's last real token and its
/// padding have no target (-1) and mask 0, and the first two targets of a row (its "prompt") mask 0.
private func paddedRows(_ cfg: ModelConfig, lengths: [Int], T: Int, seed: UInt64) -> TrainingBatch {
    var rng = RNG(seed: seed)
    let B = lengths.count
    var tokens = [Int32](repeating: 0, count: B * T), targets = [Int32](repeating: -1, count: B * T)
    var mask = [Float](repeating: 0, count: B * T)
    for (b, n) in lengths.enumerated() {
        for t in 0..<n { tokens[b * T + t] = Int32(rng.int(cfg.d_vocab)) }
        for t in 0..<(n - 1) {
            targets[b * T + t] = tokens[b * T + t + 1]
            mask[b * T + t] = t >= 2 ? 1 : 0
        }
    }
    return TrainingBatch(tokens: tokens, targets: targets, mask: mask, batch: B, length: T)
}

/// `parts`' rows, in order, in one batch padded to `T`.
private func concatenated(_ parts: [TrainingBatch], T: Int) -> TrainingBatch {
    var tokens: [Int32] = [], targets: [Int32] = [], mask: [Float] = []
    for p in parts {
        for b in 0..<p.batch {
            let r = (b * p.length)..<((b + 1) * p.length), pad = T - p.length
            tokens += p.tokens[r] + [Int32](repeating: 0, count: pad)
            targets += p.targets[r] + [Int32](repeating: -1, count: pad)
            mask += p.mask![r] + [Float](repeating: 0, count: pad)
        }
    }
    return TrainingBatch(tokens: tokens, targets: targets, mask: mask, batch: parts.map(\.batch).reduce(0, +), length: T)
}

/// The largest |a - b| / max(|a|, |b|, floor): relative, except for values near zero (float sums reorder).
private func worstDeviation(_ a: [Float], _ b: [Float], floor: Float) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) / max(abs($0), abs($1), floor) }.max() ?? 0
}

private func smallConfig(seed: UInt64 = 1) -> ModelConfig {
    ModelConfig(n_layers: 2, d_model: 32, n_heads: 4, d_head: 8, d_mlp: 64, n_ctx: 16, d_vocab: 13, seed: seed)
}

@Suite struct TrainingTests {
    @Test func overfitsATinyFixedBatch() throws {
        let cfg = smallConfig()
        var trainer = Trainer(model: try Transformer(config: cfg),
                              config: TrainingConfig(schedule: LRSchedule(peak: 1e-2, warmupSteps: 10, totalSteps: 300), weightDecay: 0))
        let batch = fixedBatch(cfg, B: 4, T: 12, seed: 3)
        let first = try trainer.loss(batch)
        for _ in 0..<300 { _ = try trainer.step(batch) }
        let last = try trainer.loss(batch)
        #expect(first > 2.0, "untrained loss should be near log(13) = 2.56, got \(first)")
        #expect(last < 0.05, "loss after 300 steps on one batch: \(last)")
    }

    @Test func sameSeedGivesIdenticalCheckpointBytes() throws {
        func train(_ seed: UInt64) throws -> Data {
            let cfg = smallConfig(seed: seed)
            var trainer = Trainer(model: try Transformer(config: cfg), config: TrainingConfig())
            for s in 0..<5 { _ = try trainer.step(fixedBatch(cfg, B: 8, T: 10, seed: UInt64(s))) }
            let dir = try TempDir("det")
            defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
            let path = dir.path("m.safetensors")
            try Checkpoint.save(trainer.model, step: 5, run: "det", to: path)
            return FileManager.default.contents(atPath: path)!
        }
        let a = try train(4), b = try train(4), c = try train(5)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func resumingFromSavedStateMatchesAnUninterruptedRun() throws {
        let cfg = smallConfig()
        let tc = TrainingConfig(schedule: LRSchedule(peak: 3e-3, warmupSteps: 2, totalSteps: 8))
        var straight = Trainer(model: try Transformer(config: cfg), config: tc)
        for s in 0..<8 { _ = try straight.step(fixedBatch(cfg, B: 4, T: 10, seed: UInt64(s))) }

        var first = Trainer(model: try Transformer(config: cfg), config: tc)
        for s in 0..<4 { _ = try first.step(fixedBatch(cfg, B: 4, T: 10, seed: UInt64(s))) }
        let dir = try TempDir("resume")
        try Checkpoint.save(first.model, step: 4, run: "r", to: dir.path("m.safetensors"))
        try TrainingState.save(first, rng: RNG(seed: 42), to: dir.path("state.safetensors"))

        let loaded = try Checkpoint.load(dir.path("m.safetensors"))
        var resumed = Trainer(model: loaded.model, config: tc)
        let rng = try TrainingState.load(dir.path("state.safetensors"), into: &resumed)
        #expect(rng == RNG(seed: 42))
        #expect(resumed.step == 4)
        for s in 4..<8 { _ = try resumed.step(fixedBatch(cfg, B: 4, T: 10, seed: UInt64(s))) }
        #expect(resumed.model.params.data == straight.model.params.data)
    }

    // A step over length buckets means what a step over one batch of the same rows padded to the longest
    // means. Parts of 3 rows (two shards), 2 rows and 1 row (one shard); then a step with one 1-row part
    // (the second workspace, left over from the step before, must not leak into it); then one whose
    // first part has 1 row and later parts use both workspaces (both must start the step at zero).
    @Test func bucketedStepMatchesOnePaddedBatch() throws {
        let cfg = smallConfig(seed: 7)
        let tc = TrainingConfig(schedule: LRSchedule(peak: 1e-2, warmupSteps: 1, totalSteps: 10))
        let steps: [[TrainingBatch]] = [
            [paddedRows(cfg, lengths: [12, 14, 11], T: 14, seed: 1), paddedRows(cfg, lengths: [5, 6], T: 6, seed: 2),
             paddedRows(cfg, lengths: [4], T: 4, seed: 3)],
            [paddedRows(cfg, lengths: [9], T: 9, seed: 4)],
            [paddedRows(cfg, lengths: [7], T: 7, seed: 5), paddedRows(cfg, lengths: [6, 4, 5, 3], T: 6, seed: 6),
             paddedRows(cfg, lengths: [16, 13], T: 16, seed: 7)],
        ]
        var bucketed = Trainer(model: try Transformer(config: cfg), config: tc)
        var padded = Trainer(model: try Transformer(config: cfg), config: tc)
        for parts in steps {
            let T = parts.map(\.length).max()!
            let a = try bucketed.step(parts), b = try padded.step(concatenated(parts, T: T))
            #expect(abs(a.loss - b.loss) <= 1e-5 * b.loss, "loss \(a.loss) vs \(b.loss)")
            #expect(abs(a.gradNorm - b.gradNorm) <= 1e-5 * b.gradNorm, "grad norm \(a.gradNorm) vs \(b.gradNorm)")
            // Adam's first moment is a running sum of the (clipped) gradients: the gradients agree.
            let mmax = bucketed.optimizer.m.map(abs).max()!
            let dm = worstDeviation(bucketed.optimizer.m, padded.optimizer.m, floor: 1e-3 * mmax)
            #expect(dm <= 3e-4, "Adam first moments differ by \(dm) relative")
        }
        // Parameters too, but not b_K: its gradient is zero up to rounding (softmax ignores a shift shared
        // by all keys), and Adam turns rounding noise into full-size steps of either sign. Elsewhere Adam
        // divides by sqrt(v), so a small gradient's reordering error shows up ~1e-4 relative; a wrong
        // gradient moves parameters by ~lr = 1e-2, about 1 relative at the floor.
        var dp: Float = 0
        for e in bucketed.model.params.layout.entries where !e.name.hasSuffix("attn.b_K") {
            let r = e.offset..<(e.offset + e.count)
            dp = max(dp, worstDeviation(Array(bucketed.model.params.data[r]), Array(padded.model.params.data[r]), floor: 1e-2))
        }
        #expect(dp <= 5e-4, "parameters differ by \(dp) relative")
    }

    @Test func bucketedStepsAreBitwiseReproducible() throws {
        func train(data: UInt64) throws -> [UInt32] {
            let cfg = smallConfig(seed: 9)
            var trainer = Trainer(model: try Transformer(config: cfg), config: TrainingConfig())
            for s in 0..<4 {
                let seed = data &+ UInt64(2 * s)
                _ = try trainer.step([paddedRows(cfg, lengths: [13, 15, 12, 16, 14], T: 16, seed: seed),
                                      paddedRows(cfg, lengths: [5, 4, 6], T: 6, seed: seed + 1)])
            }
            return trainer.model.params.data.map(\.bitPattern)
        }
        let a = try train(data: 0), b = try train(data: 0), c = try train(data: 100)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func scheduleWarmsUpThenDecays() {
        let s = LRSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minFraction: 0.1)
        #expect(abs(s.rate(0) - 0.1) < 1e-12)
        #expect(abs(s.rate(9) - 1) < 1e-12)
        #expect(abs(s.rate(60) - 0.55) < 1e-9)
        #expect(abs(s.rate(110) - 0.1) < 1e-12)
        #expect(s.rate(30) > s.rate(31))
    }

    @Test func adamWDecaysMatricesOnly() throws {
        let cfg = smallConfig()
        var params = Parameters(initialFor: cfg)
        for i in 0..<params.data.count { params.data[i] = 1 }
        var opt = AdamW(layout: params.layout, weightDecay: 0.5)
        opt.update(&params, Parameters(zerosFor: cfg), lr: 0.1)
        #expect(params.tensor("blocks.0.attn.W_Q")!.data.allSatisfy { abs($0 - 0.95) < 1e-6 })
        #expect(params.tensor("blocks.0.attn.b_Q")!.data.allSatisfy { $0 == 1 })
        #expect(params.tensor("ln_final.w")!.data.allSatisfy { $0 == 1 })
    }

    @Test func clippingBoundsTheGlobalNorm() {
        var g = Parameters(zerosFor: smallConfig())
        for i in 0..<g.data.count { g.data[i] = 1 }
        let before = clipGradients(&g, maxNorm: 2)
        #expect(abs(before - Float(g.data.count).squareRoot()) < 1e-2)
        let after = g.data.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(after - 2) < 1e-3)
    }
}
