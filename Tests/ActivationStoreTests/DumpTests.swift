import Foundation
import Testing
import Runs
import Skills
import Tensors
import Transformer
@testable import ActivationStore

private let study = """
name: dumpstudy
tasks: {add: 1, multistep_pad: 1}
eval_tasks: [add, multistep_pad]
problem: {max_operand: 9, max_step: 5}
models:
  - {name: d16, n_layers: 2, d_model: 16, n_heads: 2, d_mlp: 32}
seeds: [5]
steps: 12
batch: 8
warmup: 2
checkpoints: {dense_until: 12, dense_count: 1, every: 0}
eval: {n: 10}
"""

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite(.serialized) struct DumpTests {
    let dir: String
    let run: TrainingRun

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID())").path
        let spec = try StudySpec.parse(study, file: "dump.yaml")
        run = try Sweep(study: spec, outDir: dir, jobs: 1).run()[0]
    }

    @Test func dumpedActivationsEqualAFreshForwardPass() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var dump = ActivationDump(runDir: run.dir, outDir: dir + "/acts", hookPatterns: ["blocks.*.hook_resid_post", "blocks.1.attn.hook_pattern"],
                                  tasks: nil, perTask: 7)
        dump.batchSize = 4   // several batches, the last one partial
        let written = try dump.run(steps: nil)
        #expect(written.map(\.step) == run.spec.checkpointSteps)
        let spec = run.spec
        let items = try dump.items(spec)
        #expect(items.count == 14)
        for w in written {
            let summary = try validateActivationFile(w.path)
            #expect(summary.n == 14)
            let reader = try ActivationFileReader(path: w.path)
            #expect(reader.attributes.step == w.step && reader.attributes.run == spec.name)
            #expect(Set(reader.hooks.map(\.name)) == ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post", "blocks.1.attn.hook_pattern"])
            let model = try Checkpoint.load(TrainingRun.checkpointPath(run.dir, step: w.step)).model
            let enc = try EncodedBatch(examples: items, length: spec.model.n_ctx)
            let fresh = try model.forward(tokens: enc.tokens, batch: items.count, length: spec.model.n_ctx,
                                          plan: HookPlan(cache: reader.hooks.map(\.name)))
            for h in reader.hooks {
                let stored = try reader.readHook(h.name, rows: 0..<14)
                #expect(stored.shape == fresh.cache[h.name]!.shape, "\(h.name) shape")
                #expect(stored.data == fresh.cache[h.name]!.data, "\(h.name) differs from a fresh forward pass")
            }
            #expect(try reader.tokens(rows: 0..<14) == enc.tokens)
            #expect(try reader.prompts() == items.map(\.prompt))
            #expect(try reader.label("intermediate").floats.map { Int($0) } == items.map { $0.label("intermediate") })
            #expect(try reader.position("answer_start") == items.map { Int32($0.position("answer_start")) })
        }
        // Complete files are kept unless forced.
        #expect(try dump.run(steps: [12]).allSatisfy(\.skipped))
        dump.force = true
        #expect(try dump.run(steps: [12]).allSatisfy { !$0.skipped })
        // A step without a checkpoint is a clear error.
        do { _ = try dump.run(steps: [5]); Issue.record("accepted a missing step") }
        catch { #expect("\(error)".contains("no checkpoint for step 5")) }
    }

    @Test func lensDumpFilesReadCleanlyWithH5pyAndInspectValidates() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lens = ProcessInfo.processInfo.environment["LENS_BIN_DIR"].map { $0 + "/lens" } ?? repo + "/.build/debug/lens"
        let (status, out, err) = try ActivationStoreTests.run(lens, ["dump", "--run", run.dir, "--steps", "12", "--hooks", "blocks.0.hook_resid_post",
                                               "blocks.0.attn.hook_pattern", "--n", "5", "--json", "--threads", "1"])
        #expect(status == 0, "\(err)")
        let written = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [[String: Any]]
        let path = written[0]["path"] as! String
        let script = """
        import h5py, json, sys
        with h5py.File(sys.argv[1], "r") as f:
            print(json.dumps({"attrs": {k: str(v) for k, v in f.attrs.items()},
              "resid": [list(f["activations/blocks.0.hook_resid_post"].shape), str(f["activations/blocks.0.hook_resid_post"].dtype)],
              "pattern": list(f["activations/blocks.0.attn.hook_pattern"].shape),
              "row_sums": f["activations/blocks.0.attn.hook_pattern"][0, 0, 3, :].sum().item(),
              "prompts": list(f["prompts"].asstr()[:]), "labels": sorted(f["labels"].keys()),
              "tokens": str(f["tokens"].dtype)}))
        """
        let (ps, pout, perr) = try ActivationStoreTests.run("/usr/bin/python3", ["-c", script, path])
        #expect(ps == 0, "h5py failed (apt-get install python3-h5py): \(perr)")
        let j = try JSONSerialization.jsonObject(with: Data(pout.utf8)) as! [String: Any]
        let attrs = j["attrs"] as! [String: String]
        #expect(attrs["format"] == "emergence-lens.activations/1" && attrs["step"] == "12" && attrs["run"] == "d16-s5")
        #expect((j["resid"] as! [Any])[0] as! [Int] == [10, run.spec.model.n_ctx, 16])
        #expect(j["pattern"] as! [Int] == [10, 2, run.spec.model.n_ctx, run.spec.model.n_ctx])
        #expect(abs((j["row_sums"] as! Double) - 1) < 1e-5)
        #expect((j["labels"] as! [String]).contains("intermediate"))
        #expect(j["tokens"] as! String == "int32")

        let (is0, iout, _) = try ActivationStoreTests.run(lens, ["inspect", path])
        #expect(is0 == 0 && iout.contains("blocks.0.attn.hook_pattern"))
        // A non-HDF5 file and a truncated one: one error line, non-zero exit.
        let junk = dir + "/junk.h5"
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: junk))
        let cut = dir + "/cut.h5"
        try FileManager.default.contents(atPath: path)!.prefix(3000).write(to: URL(fileURLWithPath: cut))
        for bad in [junk, cut] {
            let (s, o, e) = try ActivationStoreTests.run(lens, ["inspect", bad])
            #expect(s != 0 && o.isEmpty)
            let lines = e.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(bad), "\(e)")
        }
    }
}

@Suite struct HookShapeValidationTests {
    /// A file whose hook has the wrong trailing shape, or a name no model of its config has, is rejected.
    @Test(arguments: [("blocks.0.hook_resid_post", [4, 7], "expected [2, 4, 16]"),
                      ("blocks.9.hook_bogus", [4, 16], "no hook named 'blocks.9.hook_bogus'"),
                      ("blocks.0.attn.hook_pattern", [2, 4, 3], "expected [2, 2, 4, 4]")])
    func hookShapesAreCheckedAgainstTheConfig(hook: String, shape: [Int], expected: String) throws {
        let cfg = ModelConfig(n_layers: 1, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, n_ctx: 4, d_vocab: 39)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shape-\(UUID()).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try ActivationFileWriter(path: path, attributes: FileAttributes(config: cfg.jsonString(), run: "r", step: 0, tasks: ["add"],
                                                                                seed: 0, vocab: Tokenizer.standard.vocab),
                                         n: 2, seqLen: 4, hooks: [(name: hook, shapeAfterBatch: shape)])
        try w.appendBatch(tokens: [Int32](repeating: 1, count: 8), lengths: [4, 4], prompts: ["a", "b"], tasks: ["add", "add"],
                          activations: [hook: [Float](repeating: 0, count: 2 * shape.reduce(1, *))])
        try w.finish()
        do { _ = try validateActivationFile(path); Issue.record("accepted \(hook) \(shape)") }
        catch { #expect("\(error)".contains(expected) && "\(error)".contains(path), "\(error)") }
    }
}
