import Foundation
import Testing
import Tensors
@testable import Transformer

private func fixedBatch(_ cfg: ModelConfig, B: Int, T: Int, seed: UInt64) -> TrainingBatch {
    var rng = RNG(seed: seed)
    let tokens = (0..<(B * T)).map { _ in Int32(rng.int(cfg.d_vocab)) }
    var targets = [Int32](repeating: -1, count: B * T)
    for b in 0..<B { for t in 0..<(T - 1) { targets[b * T + t] = tokens[b * T + t + 1] } }
    return TrainingBatch(tokens: tokens, targets: targets, mask: nil, batch: B, length: T)
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
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("det-\(seed)-\(UUID()).safetensors").path
            defer { try? FileManager.default.removeItem(atPath: path) }
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
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Checkpoint.save(first.model, step: 4, run: "r", to: dir + "/m.safetensors")
        try TrainingState.save(first, rng: RNG(seed: 42), to: dir + "/state.safetensors")

        let loaded = try Checkpoint.load(dir + "/m.safetensors")
        var resumed = Trainer(model: loaded.model, config: tc)
        let rng = try TrainingState.load(dir + "/state.safetensors", into: &resumed)
        #expect(rng == RNG(seed: 42))
        #expect(resumed.step == 4)
        for s in 4..<8 { _ = try resumed.step(fixedBatch(cfg, B: 4, T: 10, seed: UInt64(s))) }
        #expect(resumed.model.params.data == straight.model.params.data)
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
