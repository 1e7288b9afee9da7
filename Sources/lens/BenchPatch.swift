import ArgumentParser
import Dispatch
import Foundation
import Patching
import Tensors
import Transformer

struct BenchPatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Activation patching speed (same work as tl_patch_bench.py), or its numbers on a checkpoint.",
        discussion: """
        Random model: clean tokens are random, the corrupted run changes token ctx // 2 by +1 (mod vocab)
        in every row, the metric is logit[correct] - logit[wrong] at the last position (wrong = correct + 1).
        Denoising, resample, raw metric, as TransformerLens's get_act_patch_<kind>. Prints
          lens patch kind=K method=exact seconds=S runs_seconds=R patches=P shape=[L,T] metric_clean=C metric_corrupted=X
        where seconds covers the clean and corrupted runs (runs_seconds) and every patch; the peer times the
        patches only, given the clean cache.
        With --checkpoint and --pairs (JSON with clean, corrupted, position, correct, wrong) the result
        array follows the line as JSON, to compare with the peer's.
        Examples, beside the peer:
          lens bench patch --kind resid_pre --threads 2
          python ../shared/peers/tl_patch_bench.py --kind resid_pre --threads 2
          lens bench patch --kind head_out_by_pos --checkpoint step_004000.safetensors --pairs pairs.json
        """)

    @Option(help: "A patch kind: \(PatchKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind = "resid_pre"
    @Option(name: .customLong("d-model")) var dModel = 64
    @Option var layers = 2
    @Option var heads = 4
    @Option(name: .customLong("d-mlp")) var dMlp = 256
    @Option var ctx = 32
    @Option var vocab = 39
    @Option var batch = 64
    @Option var seed: UInt64 = 0
    @Option(help: """
        exact (activation patching), attribution (one forward per run and one backward), or compare (both, \
        and their agreement: Pearson and Spearman correlation of the effects, top-10 overlap).
        """)
    var method = "exact"
    @Option(name: .customLong("batch-tokens"), help: "Patched variants stacked per batch, in tokens (variants x pairs x length).")
    var batchTokens = 2048
    @Option(help: "A lens checkpoint (.safetensors); needs --pairs.") var checkpoint: String?
    @Option(help: "Pairs JSON (CONTRACTS section 6 fields); needs --checkpoint.") var pairs: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (checkpoint == nil) == (pairs == nil) else { throw ValidationError("--checkpoint and --pairs go together") }
        guard ["exact", "attribution", "compare"].contains(method) else {
            throw ValidationError("--method must be exact, attribution or compare, got \(method)")
        }
        for (flag, v) in [("--d-model", dModel), ("--layers", layers), ("--heads", heads), ("--d-mlp", dMlp), ("--ctx", ctx), ("--batch", batch)] {
            try checkRange(v, 1...100_000, flag: flag)
        }
        try checkRange(vocab, 2...1_000_000, flag: "--vocab")
        guard dModel % heads == 0 else { throw ValidationError("--d-model must be a multiple of --heads") }
    }

    func run() throws {
        common.apply()
        let kind = try PatchKind.named(self.kind)
        let (model, pairs) = try checkpoint.map { try fromFiles($0, self.pairs!) } ?? randomWorkload()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let runs = try PatchRuns(model: model, pairs: pairs, maxBatchTokens: batchTokens)
        let runsSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let result = method == "attribution" ? try runs.attribution([kind])[0] : try runs.patch(kind)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if method == "compare" {
            let t1 = DispatchTime.now().uptimeNanoseconds
            let estimate = try runs.attribution([kind])[0]
            let attributionSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
            let a = agreement(estimate, result, topK: 10)
            BenchLine.print("patch-compare", ["kind": kind.rawValue, "exact_seconds": String(format: "%.4f", seconds),
                                              "attribution_seconds": String(format: "%.4f", attributionSeconds),
                                              "pearson": String(format: "%.3f", a.pearson), "spearman": String(format: "%.3f", a.spearman),
                                              "top\(a.topK)_overlap": String(format: "%.2f", a.topKOverlap)])
            return
        }
        let meanClean = runs.clean.reduce(0, +) / Double(pairs.count)
        let meanCorrupted = runs.corrupted.reduce(0, +) / Double(pairs.count)
        if common.json {
            try JSONOut.print(["kind": kind.rawValue, "method": method, "seconds": seconds, "patches": result.cells,
                               "shape": result.shape, "metric_clean": meanClean, "metric_corrupted": meanCorrupted,
                               "raw": nested(result.raw, result.shape)] as [String: Any])
            return
        }
        BenchLine.print("patch", ["kind": kind.rawValue, "method": method, "seconds": String(format: "%.4f", seconds),
                                  "runs_seconds": String(format: "%.4f", runsSeconds),
                                  "patches": "\(result.cells)", "shape": "[\(result.shape.map(String.init).joined(separator: ","))]",
                                  "metric_clean": String(format: "%.6f", meanClean), "metric_corrupted": String(format: "%.6f", meanCorrupted)])
        if checkpoint != nil {
            print(String(decoding: try JSONSerialization.data(withJSONObject: nested(result.raw, result.shape)), as: UTF8.self))
        }
    }

    /// tl_patch_bench.py's workload: random model and tokens, one token changed at ctx // 2.
    private func randomWorkload() throws -> (Transformer, PatchPairs) {
        let cfg = ModelConfig(n_layers: layers, d_model: dModel, n_heads: heads, d_head: dModel / heads, d_mlp: dMlp,
                              n_ctx: ctx, d_vocab: vocab, act_fn: "gelu_new", seed: seed)
        var rng = RNG(seed: seed)
        let clean = (0..<batch).map { _ in (0..<ctx).map { _ in Int32(rng.int(vocab)) } }
        let corrupted = clean.map { row in
            var r = row
            r[ctx / 2] = (r[ctx / 2] + 1) % Int32(vocab)
            return r
        }
        let correct = (0..<batch).map { _ in Int32(rng.int(vocab)) }
        let pairs = try PatchPairs(clean: clean, corrupted: corrupted, position: [Int](repeating: ctx - 1, count: batch),
                                   correct: correct, wrong: correct.map { ($0 + 1) % Int32(vocab) })
        return (try Transformer(config: cfg), pairs)
    }

    private struct PairsFile: Decodable {
        let clean: [[Int32]], corrupted: [[Int32]], position: [Int], correct: [Int32], wrong: [Int32]
    }

    private func fromFiles(_ checkpoint: String, _ pairsPath: String) throws -> (Transformer, PatchPairs) {
        let model = try Checkpoint.load(checkpoint).model
        let data: Data
        do { data = try InputFile.read(pairsPath, atMost: 1 << 30) } catch { throw CLIError(pairsPath, error.problem) }
        let file: PairsFile
        do { file = try JSONDecoder().decode(PairsFile.self, from: data) } catch {
            throw CLIError(pairsPath, "not a pairs file (clean, corrupted, position, correct, wrong): \(error)")
        }
        let pairs = try PatchPairs(clean: file.clean, corrupted: file.corrupted, position: file.position,
                                   correct: file.correct, wrong: file.wrong)
        return (model, pairs)
    }
}

/// A flat row-major array as nested arrays of `shape`, for JSON.
func nested(_ flat: [Double], _ shape: [Int]) -> Any {
    guard shape.count > 1 else { return flat }
    let inner = shape.dropFirst().reduce(1, *)
    return (0..<shape[0]).map { nested(Array(flat[($0 * inner)..<(($0 + 1) * inner)]), Array(shape.dropFirst())) }
}
