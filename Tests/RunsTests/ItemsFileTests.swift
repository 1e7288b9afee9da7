import Foundation
import Testing
import HDF5
import Skills
import TestSupport
import Transformer
@testable import Runs

/// `<run>/items/step_<N>.h5` (docs/ITEMS.md): every held-out item's outcome per checkpoint. Its aggregates
/// are exactly metrics.jsonl's (recomputed in Swift by the reader and independently in Python with h5py),
/// a rerun writes the same bytes, and a bad file is one error line naming it.
/// Resuming after a kill leaves the same items files: TrainingRunTests and KillAtRenameTests compare every
/// file below the run directories, items/ included.
@Suite(.serialized) struct ItemsFileTests {
    /// Sub-skills and a story task, so that every category of metrics.jsonl has items.
    static let study = StudyFixtures.trainable(name: "items", tasks: ["add", "sub", "order", "multistep_pad"],
                                               checkpoints: "{dense_until: 20, dense_count: 2, every: 20}")
    static let tasks = ["add", "sub", "order", "multistep_pad"]

    /// One sweep of the study, trained by the built `lens` (one thread), shared by the tests.
    static let fixture: Result<TempDir, FixtureError> = {
        do {
            let temp = try TempDir("items-fixture")
            try study.write(toFile: temp.path("items.yaml"), atomically: true, encoding: .utf8)
            let r = try sweep(temp, into: "a")
            guard r.status == 0 else { return .failure(FixtureError(message: "sweep: \(r.err)")) }
            atexit { if case .success(let temp) = ItemsFileTests.fixture { try? FileManager.default.removeItem(at: temp.url) } }
            return .success(temp)
        } catch { return .failure(FixtureError(message: "\(error)")) }
    }()
    struct FixtureError: Error { let message: String }

    static func sweep(_ temp: TempDir, into out: String) throws -> ProcessOutput {
        try runLens(["sweep", "--study", temp.path("items.yaml"), "--threads", "1", "--jobs", "1", "--out", temp.path(out)])
    }

    static func run() throws -> (dir: String, spec: RunSpec, metrics: [CheckpointMetrics]) {
        let dir = try fixture.get().path("a/d16-s3")
        let spec = try JSONDecoder().decode(RunSpec.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/run.json")))
        return (dir, spec, TrainingRun(spec: spec, dir: dir).readMetrics())
    }

    @Test func everyCheckpointHasAnItemsFileWhoseAggregatesAreMetricsJSONL() throws {
        let (dir, spec, metrics) = try Self.run()
        #expect(metrics.map(\.step) == spec.checkpointSteps)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/items").sorted()
                == spec.checkpointSteps.map { String(format: "step_%06d.h5", $0) })
        let sets = try spec.evaluationSets()
        var categoriesSeen = Set<String>()
        for line in metrics {
            let contents = try ItemsFile.read(ItemsFile.path(dir, step: line.step))
            #expect(contents.run == "d16-s3" && contents.study == "items" && contents.step == line.step && contents.seed == 3)
            #expect(contents.tables.map(\.task) == Self.tasks, "tables in evaluation order")
            for (table, set) in zip(contents.tables, sets) {
                // The items are the evaluation set, in its order, with its labels.
                #expect(table.prompt == set.examples.map(\.prompt) && table.answer == set.examples.map(\.answer))
                for name in LabelCatalog.labelNames {
                    #expect(table.labels[name] == set.examples.map { $0.labels[name]! }, "\(table.task) label \(name)")
                }
                // Exact, bit for bit: every overall and per-category number of the metrics line.
                #expect(table.metrics() == line.tasks[table.task], "step \(line.step) task \(table.task)")
                categoriesSeen.formUnion(line.tasks[table.task]?.categories.keys ?? [:].keys)
                // Per item, exact match is the greedy output being the answer, and edit distance 0 then.
                for i in 0..<table.count {
                    #expect(table.exactMatch[i] == (table.output[i] == table.answer[i]), "\(table.task) item \(i): \(table.output[i])")
                    #expect(table.exactMatch[i] == (table.editDistance[i] == 0))
                    #expect(table.scoredTokens[i] == table.answer[i].count + 1, "character tokens + <eos>")
                    #expect(table.correctTokens[i] >= 0 && table.correctTokens[i] <= table.scoredTokens[i])
                }
            }
        }
        #expect(categoriesSeen == Set(TaskMetrics.categoryDefinitions.map(\.category)), "every category has items")
        // Training shows in the items: the answers' mean log-probability rose from the untrained model's.
        func meanLogProb(_ step: Int) throws -> Double {
            let all = try ItemsFile.read(ItemsFile.path(dir, step: step)).tables.flatMap(\.answerLogProb)
            return all.reduce(0, +) / Double(all.count)
        }
        let (before, after) = (try meanLogProb(0), try meanLogProb(spec.steps))
        #expect(after > before + 1, "mean answer log-prob \(before) at step 0, \(after) at the end")
    }

    /// Item by item, each file holds what evaluating its checkpoint gives: the checkpoint is loaded and its
    /// evaluation set evaluated again here, in this process.
    @Test func eachItemIsTheEvaluationOfItsCheckpoint() throws {
        let (dir, spec, _) = try Self.run()
        let sets = try spec.evaluationSets()
        for step in spec.checkpointSteps {
            let model = try Checkpoint.load(TrainingRun.checkpointPath(dir, step: step)).model
            let stored = try ItemsFile.read(ItemsFile.path(dir, step: step)).tables
            for (table, set) in zip(stored, sets) {
                let results = try Evaluation.evaluateItems(model: model, examples: set.examples, task: set.task, batchSize: 100)
                var again = ItemTable(task: set.task.name, examples: set.examples, results: results)
                // Log-probabilities to float32 rounding (this process splits the forward pass over its own
                // thread count, not the training run's one thread: ~4e-7 apart on the story tasks), the rest exactly.
                let apart = zip(again.answerLogProb, table.answerLogProb).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(apart <= 1e-5, "step \(step) \(table.task): answer log-probs \(apart) apart")
                again.answerLogProb = table.answerLogProb
                #expect(again == table, "step \(step) \(table.task)")
            }
        }
    }

    /// h5py reads every dataset with its documented dtype and shape, and the aggregates recomputed from it
    /// in Python (the same sums in the same order) equal metrics.jsonl exactly, overall and per category.
    @Test func h5pyReadsTheFilesAndRecomputesMetricsJSONLExactly() throws {
        let (probe, _, _) = try runPython(["-c", "import h5py"])
        try #require(probe == 0, "\(interopPython().python) cannot import h5py: run `apt-get install python3-h5py`")
        let (dir, spec, _) = try Self.run()
        let r = try runPython(["-c", Self.recompute, dir])
        try #require(r.status == 0, "\(r.err)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(r.out)")
        #expect(out["problems"] as? [String] == [], "\(out["problems"] ?? "")")
        // 9 numbers overall + 9 per category with items, for each task and checkpoint.
        let compared = out["compared"] as? Int ?? 0
        #expect(compared >= spec.checkpointSteps.count * Self.tasks.count * 9 * 2, "compared only \(compared) numbers")
        #expect(out["files"] as? Int == spec.checkpointSteps.count)
    }

    /// The Python half: problems (must be none) and how many numbers it compared.
    static let recompute = #"""
import glob, json, os, sys
import h5py, numpy as np
run = sys.argv[1]
problems, compared = [], 0
want = {"index": "int32", "exact_match": "uint8", "answer_tokens": "int32", "scored_tokens": "int32",
        "correct_tokens": "int32", "token_accuracy": "float64", "answer_log_prob": "float64", "edit_distance": "int32",
        "chance/exact_match": "float64", "chance/correct_tokens": "float64", "chance/answer_log_prob": "float64",
        "chance/edit_distance": "int32"}

def summary(g, rows):
    # metrics.jsonl's MetricSummary over the rows marked True: sums in item order, as Swift's reduce
    # computes them (integer sums exact, float sums left to right), then the same divisions.
    em = [v for v, k in zip(g["exact_match"][:].tolist(), rows) if k]
    n = len(em)
    out = {"n": n}
    if n == 0:
        return out
    def col(name):
        return [v for v, k in zip(g[name][:].tolist(), rows) if k]
    def seq(values):
        s = 0.0
        for v in values:
            s += v
        return s
    scored = sum(col("scored_tokens"))
    out["exactMatch"] = sum(em) / n
    out["tokenAccuracy"] = sum(col("correct_tokens")) / scored
    out["meanAnswerLogProb"] = seq(col("answer_log_prob")) / n
    out["meanEditDistance"] = sum(col("edit_distance")) / n
    out["chanceExactMatch"] = seq(col("chance/exact_match")) / n
    out["chanceTokenAccuracy"] = seq(col("chance/correct_tokens")) / scored
    out["chanceAnswerLogProb"] = seq(col("chance/answer_log_prob")) / n
    out["chanceEditDistance"] = sum(col("chance/edit_distance")) / n
    return out

def compare(where, got, expected):
    global compared
    for k, v in got.items():
        compared += 1
        if expected.get(k) != v:
            problems.append(f"{where} {k}: items file {v!r}, metrics.jsonl {expected.get(k)!r}")

lines = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
files = 0
for line in lines:
    path = os.path.join(run, "items", "step_%06d.h5" % line["step"])
    with h5py.File(path, "r") as f:
        files += 1
        if f.attrs["format"] != "emergence-lens.items/1" or f.attrs["step"] != line["step"] or f.attrs["run"] != line["run"]:
            problems.append(f"{path}: root attributes {dict(f.attrs)}")
        tasks = json.loads(f.attrs["tasks"])
        categories = json.loads(f.attrs["categories"])
        if sorted(tasks) != sorted(line["tasks"]):
            problems.append(f"{path}: tasks {tasks} vs {sorted(line['tasks'])}")
        for task in tasks:
            g = f[task]
            n = g["prompt"].shape[0]
            for name, dtype in want.items():
                if g[name].dtype != np.dtype(dtype) or g[name].shape != (n,):
                    problems.append(f"{path}: {task}/{name} is {g[name].dtype} {g[name].shape}, expected {dtype} ({n},)")
                if not g[name].attrs["meaning"]:
                    problems.append(f"{path}: {task}/{name} has no meaning")
            for name in ["prompt", "answer", "output"]:
                if len(g[name].asstr()[:]) != n or not all(isinstance(s, str) for s in g[name].asstr()[:]):
                    problems.append(f"{path}: {task}/{name} is not {n} strings")
            if g["index"][:].tolist() != list(range(n)):
                problems.append(f"{path}: {task}/index is not 0..n-1")
            if (g["answer_tokens"][:] + 1 != g["scored_tokens"][:]).any():
                problems.append(f"{path}: {task}: scored_tokens is not answer_tokens + 1")
            if (g["token_accuracy"][:] != g["correct_tokens"][:] / g["scored_tokens"][:]).any():
                problems.append(f"{path}: {task}: token_accuracy is not correct_tokens / scored_tokens")
            if set(g["exact_match"][:].tolist()) - {0, 1}:
                problems.append(f"{path}: {task}/exact_match is not 0/1")
            labels = {name: g["labels"][name][:] for name in g["labels"]}
            expected = line["tasks"][task]
            compare(f"{path} {task} overall", summary(g, [True] * n), expected["overall"])
            present = {}
            for category, d in categories.items():
                rows = (labels[d["label"]] == d["value"]).tolist()
                if any(rows):
                    present[category] = True
                    compare(f"{path} {task} {category}", summary(g, rows), expected["categories"].get(category, {}))
            if sorted(present) != sorted(expected["categories"]):
                problems.append(f"{path} {task}: categories {sorted(present)} vs {sorted(expected['categories'])}")
print(json.dumps({"problems": problems, "compared": compared, "files": files}))
"""#

    /// The same study trained twice (separate processes, seconds apart) writes byte-identical items files:
    /// no modification times, and nothing else that varies between runs.
    @Test func aRerunWritesByteIdenticalItemsFiles() throws {
        let temp = try Self.fixture.get()
        let r = try Self.sweep(temp, into: "b")
        try #require(r.status == 0, "\(r.err)")
        let a = filesBelow(temp.path("a/d16-s3/items")), b = filesBelow(temp.path("b/d16-s3/items"))
        #expect(a.count == 5 && Set(a.keys) == Set(b.keys), "\(a.keys.sorted()) vs \(b.keys.sorted())")
        for (name, data) in a { #expect(b[name] == data, "\(name) differs between two runs of the same study") }
    }

    /// Writing the same contents a second apart gives the same bytes: HDF5 stores no times in these files.
    @Test func theSameContentsGiveTheSameBytesAtAnotherTime() throws {
        let (dir, _, _) = try Self.run()
        let contents = try ItemsFile.read(ItemsFile.path(dir, step: 20))
        let temp = try TempDir("items-bytes")
        try ItemsFile.write(contents, to: temp.path("x.h5"))
        Thread.sleep(forTimeInterval: 1.1)
        try ItemsFile.write(contents, to: temp.path("y.h5"))
        let x = try Data(contentsOf: URL(fileURLWithPath: temp.path("x.h5")))
        #expect(x == (try Data(contentsOf: URL(fileURLWithPath: temp.path("y.h5")))))
        #expect(try ItemsFile.read(temp.path("x.h5")) == contents, "what is read is what was written")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.root).sorted() == ["x.h5", "y.h5"], "no temporary left")
    }

    /// A missing, foreign, truncated or unwritable items file is one ItemsFileError line naming it.
    @Test func aBadFileIsOneLineNamingIt() throws {
        let (dir, _, _) = try Self.run()
        let temp = try TempDir("items-bad")
        let good = try Data(contentsOf: URL(fileURLWithPath: ItemsFile.path(dir, step: 20)))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: temp.path("truncated.h5")))
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: temp.path("text.h5")))
        do {
            let f = try H5File.create(temp.path("foreign.h5"))
            try f.root.setAttribute("format", .string("emergence-lens.activations/1"))
            try f.close()
        }
        do {   // an items file whose exact_match lost its rows
            let f = try H5File.create(temp.path("short.h5"))
            try f.root.setAttribute("format", .string(ItemsFile.format))
            for (k, v) in [("run", "r"), ("study", "s"), ("tasks", "[\"add\"]")] { try f.root.setAttribute(k, .string(v)) }
            try f.root.setAttribute("step", .int64(0)); try f.root.setAttribute("seed", .int64(1))
            let g = try f.createGroup("add")
            try g.createDataset("prompt", dtype: .string, shape: [2]).write(rows: 0..<2, strings: ["1+1=", "2+2="])
            try g.createDataset("index", dtype: .int32, shape: [2]).write(rows: 0..<2, [Int32(0), 1])
            for c in ItemsFile.columns where !["prompt", "index"].contains(c.name) {
                _ = try g.createDataset(c.name, dtype: c.dtype, shape: [c.name == "exact_match" ? 1 : 2])
            }
            g.close()
            try f.close()
        }
        let cases: [(path: String, expected: String)] = [
            (temp.path("missing.h5"), "no such file"),
            (temp.path("text.h5"), "not an HDF5 file"),
            (temp.path("truncated.h5"), "truncated"),
            (temp.path("foreign.h5"), "not an items file (format \"emergence-lens.activations/1\", expected \"emergence-lens.items/1\")"),
            (temp.path("short.h5"), "/add/exact_match: shape [1], expected [2]"),
        ]
        for (path, expected) in cases {
            let e = #expect(throws: ItemsFileError.self) { try ItemsFile.read(path) }
            #expect(e?.file == path && e?.description.hasPrefix(path + ": ") == true, "\(e.map { "\($0)" } ?? "")")
            #expect(e?.description.contains(expected) == true, "\(e.map { "\($0)" } ?? ""): should say \(expected)")
            #expect(e.map { !$0.description.contains("\n") } == true)
        }
        // Writing where no directory is: the error names the file, and nothing is left behind.
        let contents = try ItemsFile.read(ItemsFile.path(dir, step: 0))
        let target = temp.path("no-such-dir/step_000000.h5")
        let w = #expect(throws: ItemsFileError.self) { try ItemsFile.write(contents, to: target) }
        #expect(w?.file == target && w.map { !$0.description.contains("\n") } == true, "\(w.map { "\($0)" } ?? "")")
        // Two tables of one task cannot share a group.
        var twice = contents
        twice.tables.append(twice.tables[0])
        let d = #expect(throws: ItemsFileError.self) { try ItemsFile.write(twice, to: temp.path("twice.h5")) }
        #expect(d?.description == temp.path("twice.h5") + ": task add is listed twice")
        #expect(!FileManager.default.fileExists(atPath: temp.path("twice.h5")))
        #expect(try !FileManager.default.contentsOfDirectory(atPath: temp.root).contains { $0.contains(".partial-") })
    }
}
