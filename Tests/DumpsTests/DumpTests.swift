import ActivationStore
import Foundation
import Runs
import Skills
import Testing
import TestSupport
import Transformer
@testable import Dumps

/// Two layers, so that a hook of the second block is dumped too; one checkpoint besides step 0.
private let study = StudyFixtures.trainable(name: "dumpstudy", tasks: ["add", "multistep_pad"], layers: 2, seeds: [5],
                                            steps: 12, batch: 8, warmup: 2,
                                            checkpoints: "{dense_until: 12, dense_count: 1, every: 0}", evalItems: 10)

@Suite(.serialized) struct DumpTests {
    let dir: TempDir
    let run: TrainingRun

    init() throws {
        dir = try TempDir("dump")
        let spec = try StudySpec.parse(study, file: "dump.yaml")
        run = try Sweep(study: spec, outDir: dir.root, jobs: 1).run()[0]
    }

    /// With `lens inspect` and `lens probe` refusing activation files that hold NaN or infinity (issue 10's
    /// fuzz suite), the dump refuses to write one: a checkpoint whose finite weights overflow float32 is
    /// an error naming it, and nothing is published.
    @Test func aCheckpointWhoseActivationsOverflowIsRefused() throws {
        let copy = dir.path("overflow-run")
        try FileManager.default.copyItem(atPath: run.dir, toPath: copy)
        let path = TrainingRun.checkpointPath(copy, step: 12)
        let loaded = try Checkpoint.load(path)
        var model = loaded.model
        // Queries and keys at float32's largest value: the attention scores overflow.
        for name in ["blocks.0.attn.W_Q", "blocks.0.attn.W_K"] {
            let e = try #require(model.params.layout.entries.first { $0.name == name })
            for i in e.offset..<e.offset + e.count { model.params.data[i] = .greatestFiniteMagnitude }
        }
        try Checkpoint.save(model, step: 12, run: loaded.run, to: path)
        let out = dir.path("overflow-acts")
        let dump = ActivationDump(runDir: copy, outDir: out, hookPatterns: ["blocks.0.hook_resid_post"], tasks: nil, perTask: 4)
        let e = #expect(throws: ActivationStoreError.self) { _ = try dump.run(steps: [12]) }
        #expect(e?.description == "\(path): activations of blocks.0.hook_resid_post are not finite: its weights overflow float32")
        #expect(!FileManager.default.fileExists(atPath: out + "/" + ActivationDump.fileName(step: 12)))
    }

    @Test func dumpedActivationsEqualAFreshForwardPass() throws {
        var dump = ActivationDump(runDir: run.dir, outDir: dir.path("acts"), hookPatterns: ["blocks.*.hook_resid_post", "blocks.1.attn.hook_pattern"],
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
            // A fresh forward pass over the dump's own batches (4, 4, 4, 2 rows): the stored values must be
            // these, bit for bit. (Over other batch sizes BLAS may round differently, by ~1e-8.)
            for rows in stride(from: 0, to: 14, by: 4).map({ $0..<min($0 + 4, 14) }) {
                let batch = try EncodedBatch(examples: Array(items[rows]), length: spec.model.n_ctx)
                let fresh = try model.forward(tokens: batch.tokens, batch: rows.count, length: spec.model.n_ctx,
                                              plan: HookPlan(cache: reader.hooks.map(\.name)))
                for h in reader.hooks {
                    let stored = try reader.readHook(h.name, rows: rows)
                    #expect(stored.shape == fresh.cache[h.name]!.shape, "\(h.name) shape")
                    #expect(stored.data == fresh.cache[h.name]!.data, "\(h.name) rows \(rows) differ from a fresh forward pass")
                }
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
        let (status, out, err) = try runLens(["dump", "--run", run.dir, "--steps", "12", "--hooks", "blocks.0.hook_resid_post",
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
        let (ps, pout, perr) = try runPython(["-c", script, path])
        #expect(ps == 0, "h5py failed (apt-get install python3-h5py): \(perr)")
        let j = try JSONSerialization.jsonObject(with: Data(pout.utf8)) as! [String: Any]
        let attrs = j["attrs"] as! [String: String]
        #expect(attrs["format"] == "emergence-lens.activations/1" && attrs["step"] == "12" && attrs["run"] == "d16-s5")
        #expect((j["resid"] as! [Any])[0] as! [Int] == [10, run.spec.model.n_ctx, 16])
        #expect(j["pattern"] as! [Int] == [10, 2, run.spec.model.n_ctx, run.spec.model.n_ctx])
        #expect(abs((j["row_sums"] as! Double) - 1) < 1e-5)
        #expect((j["labels"] as! [String]).contains("intermediate"))
        #expect(j["tokens"] as! String == "int32")

        let (is0, iout, _) = try runLens(["inspect", path])
        #expect(is0 == 0 && iout.contains("blocks.0.attn.hook_pattern"))
        // A non-HDF5 file and a truncated one: one error line, non-zero exit.
        let junk = dir.path("junk.h5")
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: junk))
        let cut = dir.path("cut.h5")
        try FileManager.default.contents(atPath: path)!.prefix(3000).write(to: URL(fileURLWithPath: cut))
        for bad in [junk, cut] {
            let (s, o, e) = try runLens(["inspect", bad])
            #expect(s != 0 && o.isEmpty)
            let lines = e.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(bad), "\(e)")
        }
    }
}
