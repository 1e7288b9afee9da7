import ArgumentParser
import Foundation
import Tensors
import Transformer

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput of the engine on random tokens (same work as torch_gpt_bench.py).",
        discussion: """
        Each step: forward, cross-entropy on every next token, backward, AdamW. Prints
          lens train tokens_per_s=N ms_per_step=M params=P gflops=G
        where gflops counts 6 x params x tokens for the matrix products plus the attention products.
        Example, beside the peer:
          lens bench train --d-model 128 --d-mlp 512 --threads 2
          python ../shared/peers/torch_gpt_bench.py --d-model 128 --d-mlp 512 --threads 2
        """)

    @Option(name: .customLong("d-model")) var dModel = 128
    @Option var layers = 2
    @Option var heads = 4
    @Option(name: .customLong("d-mlp")) var dMlp = 512
    @Option var ctx = 32
    @Option var vocab = 32
    @Option var batch = 64
    @Option var steps = 50
    @Option var warmup = 5
    @OptionGroup var common: CommonOptions

    var config: ModelConfig {
        ModelConfig(n_layers: layers, d_model: dModel, n_heads: heads, d_head: dModel / max(heads, 1), d_mlp: dMlp,
                    n_ctx: ctx, d_vocab: vocab, act_fn: "gelu_new", seed: 0)
    }

    /// Every size by its flag, and what they need against this machine's memory (issue 10's fuzz suite:
    /// 0 and -1 crashed or named config fields, 1e9 steps or rows aborted on allocation).
    func validate() throws {
        try checkRange(dModel, 1...(1 << 16), flag: "--d-model")
        try checkRange(layers, 1...1024, flag: "--layers")
        try checkRange(heads, 1...dModel, flag: "--heads")
        guard dModel % heads == 0 else { throw ValidationError("--d-model must be a multiple of --heads") }
        try checkRange(dMlp, 1...(1 << 20), flag: "--d-mlp")
        try checkRange(ctx, 1...(1 << 16), flag: "--ctx")
        try checkRange(vocab, 1...(1 << 20), flag: "--vocab")
        try checkRange(batch, 1...(1 << 16), flag: "--batch")
        try checkRange(steps, 1...100_000, flag: "--steps")
        try checkRange(warmup, 0...100_000, flag: "--warmup")
        do { try config.validate() } catch { throw ValidationError("--d-model, --layers, --d-mlp, --ctx, --vocab: \(error)") }
        let half = "at most half of this machine's \(Machine.gib(Machine.memoryBytes))"
        guard let bytes = config.trainingActivationBytes(batch: batch, length: ctx), bytes <= Machine.workingSetBytes else {
            throw ValidationError("--batch \(batch) x --ctx \(ctx) need more than \(Machine.gib(Machine.workingSetBytes)) of activations; \(half)")
        }
        // The token batches are made before the clock starts: tokens and targets, Int32 each.
        guard let tokens = checkedProduct(steps + warmup, batch, ctx, 8), tokens <= Machine.workingSetBytes / 2 else {
            throw ValidationError("--steps + --warmup batches of --batch x --ctx tokens need more than \(Machine.gib(Machine.workingSetBytes / 2)); \(half)")
        }
    }

    func run() throws {
        common.apply()
        let cfg = config
        var trainer = Trainer(model: try Transformer(config: cfg),
                              config: TrainingConfig(schedule: LRSchedule(peak: 1e-3, warmupSteps: 0, totalSteps: 1_000_000)))
        var rng = RNG(seed: 0)
        let batches: [TrainingBatch] = (0..<(steps + warmup)).map { _ in
            let seq = (0..<(batch * (ctx + 1))).map { _ in Int32(rng.int(vocab)) }
            var tokens = [Int32](), targets = [Int32]()
            for b in 0..<batch {
                tokens += seq[(b * (ctx + 1))..<(b * (ctx + 1) + ctx)]
                targets += seq[(b * (ctx + 1) + 1)..<((b + 1) * (ctx + 1))]
            }
            return TrainingBatch(tokens: tokens, targets: targets, mask: nil, batch: batch, length: ctx)
        }
        for i in 0..<warmup { _ = try trainer.step(batches[i]) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        for i in warmup..<(warmup + steps) { _ = try trainer.step(batches[i]) }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let tokens = Double(steps * batch * ctx)
        let matmulParams = Double(layers * (4 * dModel * dModel + 2 * dModel * dMlp) + dModel * vocab)
        let attention = Double(layers * batch * ctx * ctx * dModel * 2)   // QK^T and PV, per forward
        let flops = 6 * matmulParams * tokens + 3 * attention * Double(steps)
        let result: [String: Double] = ["tokens_per_s": tokens / dt, "ms_per_step": 1000 * dt / Double(steps),
                                        "params": Double(trainer.model.parameterCount), "gflops": flops / dt / 1e9]
        if common.json {
            try JSONOut.print(result)
        } else {
            BenchLine.print("train", ["tokens_per_s": String(format: "%.0f", result["tokens_per_s"]!),
                                      "ms_per_step": String(format: "%.2f", result["ms_per_step"]!),
                                      "params": "\(trainer.model.parameterCount)", "gflops": String(format: "%.1f", result["gflops"]!)])
        }
    }
}
