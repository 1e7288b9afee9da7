import ArgumentParser
import Foundation
import Runs
import Skills
import Tensors
import Transformer

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint, or every checkpoint of a run, on held-out items of each task.",
        discussion: """
        Metrics: exact match of the greedy answer, per-token accuracy (teacher forced, answer + EOS),
        mean log-prob of the correct answer, token edit distance, chance level; overall and per item
        category (borrow / carry / order-dependent / told out of order).
        Task ranges and the split come from the run's run.json when there is one.
          lens eval runs/default/base-s1
          lens eval runs/default/base-s1/checkpoints/step_004000.safetensors --tasks multistep_pad --n 500 --json
          lens eval runs/default/base-s1/checkpoints/step_004000.safetensors --tasks sub --errors 10
        Items are distinct (by prompt), drawn as the training run draws its evaluation sets.
        """)

    @Argument(help: "A checkpoint (.safetensors) or a run directory.") var path: String
    @Option(parsing: .upToNextOption, help: "Tasks (default: the run's evaluated tasks, or all).") var tasks: [String] = []
    @Option(help: "Items per task.") var n = 300
    @Option(help: "Split to draw items from: train, validation or test.") var split = "test"
    @Option(help: "Also show up to this many wrongly answered items per task (prompt, expected, greedy output).")
    var errors = 0
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkRange(n, 1...maxItemsPerTask, flag: "--n")
        try checkRange(errors, 0...maxItemsPerTask, flag: "--errors")
        try checkPaths([(path, "the checkpoint or run directory")])
    }

    func run() throws {
        common.apply()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CLIError(path, "no such file or directory") }
        let runDir = isDir.boolValue ? path : URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().path
        // A run.json beside the checkpoints sets the tasks, ranges and split; a damaged one is an error, not a
        // silent fall-back to the defaults (which would evaluate another item set and say nothing).
        let runJSON = runDir + "/run.json"
        var spec: RunSpec? = nil
        if FileManager.default.fileExists(atPath: runJSON) {
            let data: Data
            do { data = try InputFile.read(runJSON, atMost: 1 << 20) } catch { throw CLIError(runJSON, error.problem) }
            do { spec = try JSONDecoder().decode(RunSpec.self, from: data) }
            catch { throw CLIError(runJSON, "not a run spec (the run.json lens train writes); move it away to evaluate with the default tasks") }
        }
        let checkpoints = isDir.boolValue
            ? TrainingRun.completedSteps(path).map { TrainingRun.checkpointPath(path, step: $0) } : [path]
        guard !checkpoints.isEmpty else { throw CLIError(path, "no checkpoints found") }
        guard let which = Split(rawValue: split) else { throw ValidationError("--split must be train, validation or test") }
        let names = tasks.isEmpty ? (spec?.evalTasks ?? Tasks.names) : tasks
        let problem = spec?.problem ?? TaskConfig()
        let policy = spec?.split ?? SplitPolicy()
        let sets = try names.map { name -> (any SkillTask, [Example]) in
            let t = try Tasks.named(name, config: problem)
            return (t, try RunSpec.evaluationItems(t, split: which, count: n, policy: policy))
        }
        var results: [[String: Any]] = []
        for ckpt in checkpoints {
            let loaded = try Checkpoint.load(ckpt)
            var perTask: [String: TaskMetrics] = [:]
            var wrong: [String: [[String: String]]] = [:]
            for (t, examples) in sets {
                let items = try Evaluation.evaluateItems(model: loaded.model, examples: examples, task: t, batchSize: 100)
                let metrics = TaskMetrics(task: t.name, examples: examples, items: items)
                // Finite weights can still overflow float32 (found by the fuzz suite: one weight of 3.4e38
                // gave log-prob nan, printed as a result, or a raw EncodingError with --json).
                let logProb = metrics.meanAnswerLogProb
                guard logProb.isFinite else {
                    throw CLIError(ckpt, "the model's log-probabilities on \(t.name) are not finite (\(logProb.isNaN ? "nan" : "\(logProb)")): "
                                   + "its weights overflow float32")
                }
                perTask[t.name] = metrics
                wrong[t.name] = zip(examples, items).filter { !$0.1.exactMatch }.prefix(errors).map { e, r in
                    ["prompt": e.prompt, "expected": e.answer, "got": Tokenizer.standard.decode(r.decoded)]
                }
            }
            if common.json {
                var entry: [String: Any] = ["checkpoint": ckpt, "step": loaded.step, "tasks": try JSONOut.object(perTask)]
                if errors > 0 { entry["errors"] = wrong }
                results.append(entry)
            } else {
                print("\(ckpt) (run \(loaded.run), step \(loaded.step))")
                for (task, m) in perTask.sorted(by: { $0.key < $1.key }) {
                    print(String(format: "  %-14@ n %4d  exact %.3f  token acc %.3f  log-prob %7.2f  edit %.2f  chance %.4f", task as NSString,
                                 m.n, m.exactMatch, m.tokenAccuracy, m.meanAnswerLogProb, m.meanEditDistance, m.chanceExactMatch))
                    for w in wrong[task] ?? [] { print("      \(w["prompt"]!) -> expected \(w["expected"]!), got \(w["got"]!)") }
                }
            }
        }
        if common.json { try JSONOut.print(results) }
    }
}
