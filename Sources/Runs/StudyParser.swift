import Foundation
import Skills
import Specs
import Tensors
import Transformer

extension StudySpec {
    static let topKeys = ["name", "tasks", "eval_tasks", "problem", "models", "act_fn", "seeds", "steps", "batch", "lr",
                          "warmup", "weight_decay", "grad_clip", "loss", "checkpoints", "eval", "split"]

    /// Reads a study file; every problem is one line naming the file and the key.
    public static func load(path: String) throws(StudyError) -> StudySpec {
        let text: String
        do { text = try InputFile.text(path, atMost: YAMLLimits.maxBytes) } catch { throw StudyError(file: path, problem: error.problem) }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(StudyError) -> StudySpec {
        func fail(_ m: String) -> StudyError { StudyError(file: file, problem: m) }
        let top: [String: Any]
        switch yamlTopLevelMapping(text) {
        case .success(let mapping): top = mapping
        case .failure(let problem): throw fail(problem.message)
        }
        let r = Reader(file: file)
        try r.known(top, topKeys, at: "")
        var s = StudySpec()
        s.name = try r.string(top, "name") ?? "study"
        if let problem = problemAsFileName(s.name) { throw fail("name: \(problem)") }
        guard let mixture = top["tasks"] as? [String: Any], !mixture.isEmpty else { throw fail("tasks: required mapping task -> weight") }
        for (task, w) in mixture {
            guard Tasks.names.contains(task) else { throw fail("tasks: unknown task \"\(task)\" (known: \(Tasks.names.joined(separator: ", ")))") }
            guard let weight = r.number(w), weight > 0 else { throw fail("tasks.\(task): weight must be a positive number") }
            s.tasks[task] = weight
        }
        if let e = top["eval_tasks"] {
            guard let list = e as? [String] else { throw fail("eval_tasks: must be a list of task names") }
            // Empty would silently mean the mixture's tasks, the default for a missing key.
            guard !list.isEmpty else { throw fail("eval_tasks: must list at least one task (leave it out to evaluate the mixture's tasks)") }
            for t in list where !Tasks.names.contains(t) { throw fail("eval_tasks: unknown task \"\(t)\"") }
            // A task evaluated twice would be one metrics entry but two groups of the same name in the items file.
            if let twice = list.first(where: { t in list.filter { $0 == t }.count > 1 }) {
                throw fail("eval_tasks: \"\(twice)\" is listed twice")
            }
            s.evalTasks = list
        }
        if let p = top["problem"] {
            guard let m = p as? [String: Any] else { throw fail("problem: must be a mapping") }
            try r.known(m, ["max_operand", "max_step", "max_result"], at: "problem.")
            s.problem.maxOperand = try r.int(m, "max_operand", at: "problem.") ?? s.problem.maxOperand
            s.problem.maxStep = try r.int(m, "max_step", at: "problem.") ?? s.problem.maxStep
            s.problem.maxResult = try r.int(m, "max_result", at: "problem.") ?? s.problem.maxResult
            do { try s.problem.validate() } catch { throw fail("problem: \(error.description)") }
        }
        guard let models = top["models"] as? [Any], !models.isEmpty else { throw fail("models: required list of model sizes") }
        for (i, item) in models.enumerated() {
            guard let m = item as? [String: Any] else { throw fail("models[\(i)]: must be a mapping") }
            try r.known(m, ["name", "n_layers", "d_model", "n_heads", "d_head", "d_mlp"], at: "models[\(i)].")
            let at = "models[\(i)]."
            guard let L = try r.int(m, "n_layers", at: at), let D = try r.int(m, "d_model", at: at),
                  let H = try r.int(m, "n_heads", at: at), let M = try r.int(m, "d_mlp", at: at) else {
                throw fail("models[\(i)]: n_layers, d_model, n_heads and d_mlp are required")
            }
            guard H > 0 else { throw fail("\(at)n_heads: must be > 0, got \(H)") }
            let dh = try r.int(m, "d_head", at: at) ?? (D / H)
            let name = try r.string(m, "name") ?? "L\(L)-d\(D)"
            if let problem = problemAsFileName(name) { throw fail("\(at)name: \(problem)") }
            let size = ModelSize(name: name, n_layers: L, d_model: D, n_heads: H, d_head: dh, d_mlp: M)
            let cfg = ModelConfig(n_layers: L, d_model: D, n_heads: H, d_head: dh, d_mlp: M, n_ctx: 64, d_vocab: 40)
            do { try cfg.validate() } catch { throw fail("models[\(i)]: impossible size: \(error.description)") }
            guard !s.models.contains(where: { $0.name == name }) else { throw fail("\(at)name: duplicate model name \"\(name)\"") }
            s.models.append(size)
        }
        s.actFn = try r.string(top, "act_fn") ?? s.actFn
        guard ModelConfig.activations.contains(s.actFn) else { throw fail("act_fn: must be one of \(ModelConfig.activations.joined(separator: ", "))") }
        if let seeds = top["seeds"] {
            guard let list = seeds as? [Int], !list.isEmpty, list.allSatisfy({ $0 >= 0 }) else { throw fail("seeds: must be a non-empty list of non-negative integers") }
            guard list.count <= StudyLimits.seeds else { throw fail("seeds: at most \(StudyLimits.seeds), got \(list.count)") }
            guard Set(list).count == list.count else { throw fail("seeds: duplicate seeds in \(list)") }
            s.seeds = list.map { UInt64($0) }
        }
        s.steps = try r.int(top, "steps", at: "", min: 1, max: StudyLimits.steps) ?? s.steps
        s.batch = try r.int(top, "batch", at: "", min: 1, max: StudyLimits.batch) ?? s.batch
        s.warmup = try r.int(top, "warmup", at: "", min: 0) ?? s.warmup
        s.lr = try r.double(top, "lr", min: 0) ?? s.lr
        s.weightDecay = try r.double(top, "weight_decay", min: 0) ?? s.weightDecay
        s.gradClip = try r.double(top, "grad_clip", min: 0) ?? s.gradClip
        if let l = try r.string(top, "loss") {
            switch l {
            case "answer": s.loss = .answer
            case "all": s.loss = .allTokens
            default: throw fail("loss: must be \"answer\" or \"all\", got \"\(l)\"")
            }
        }
        if let c = top["checkpoints"] {
            guard let m = c as? [String: Any] else { throw fail("checkpoints: must be a mapping") }
            try r.known(m, ["dense_until", "dense_count", "every"], at: "checkpoints.")
            s.checkpoints.denseUntil = try r.int(m, "dense_until", at: "checkpoints.", min: 0) ?? s.checkpoints.denseUntil
            s.checkpoints.denseCount = try r.int(m, "dense_count", at: "checkpoints.", min: 0, max: StudyLimits.checkpoints) ?? s.checkpoints.denseCount
            s.checkpoints.every = try r.int(m, "every", at: "checkpoints.", min: 0) ?? s.checkpoints.every
        }
        if let e = top["eval"] {
            guard let m = e as? [String: Any] else { throw fail("eval: must be a mapping") }
            try r.known(m, ["n"], at: "eval.")
            s.evalN = try r.int(m, "n", at: "eval.", min: 1, max: StudyLimits.evalItems) ?? s.evalN
        }
        if let sp = top["split"] {
            guard let m = sp as? [String: Any] else { throw fail("split: must be a mapping") }
            try r.known(m, ["seed", "validation", "test", "held_out_templates"], at: "split.")
            s.split.seed = UInt64(try r.int(m, "seed", at: "split.", min: 0) ?? Int(s.split.seed))
            s.split.validationFraction = try r.double(m, "validation", min: 0, at: "split.") ?? s.split.validationFraction
            s.split.testFraction = try r.double(m, "test", min: 0, at: "split.") ?? s.split.testFraction
            guard s.split.validationFraction + s.split.testFraction < 1, s.split.testFraction > 0 else {
                throw fail("split: test must be > 0 and validation + test < 1")
            }
            if let held = m["held_out_templates"] {
                let names = StoryTemplate.allCases.map(\.name)
                guard let list = held as? [String] else { throw fail("split.held_out_templates: must be a list of template names (\(names.joined(separator: ", ")))") }
                for t in list where !names.contains(t) {
                    throw fail("split.held_out_templates: unknown template \"\(t)\" (known: \(names.joined(separator: ", ")))")
                }
                s.split.heldOutTemplates = StoryTemplate.allCases.filter { list.contains($0.name) }
                guard s.split.heldOutTemplates.count < StoryTemplate.allCases.count else {
                    throw fail("split.held_out_templates: holding out every template leaves no story to train on")
                }
            }
        }
        let T = try s.sequenceLength()
        try checkSizes(s, sequenceLength: T, fail: fail)
        // Batches hold each task in proportion to its weight (RunSpec.rowsPerTask): a weight too small
        // for the batch would silently never be trained.
        for (task, rows) in RunSpec.rowsPerTask(s.tasks, batch: s.batch) where rows == 0 {
            throw fail("tasks.\(task): weight \(s.tasks[task]!) gives 0 of \(s.batch) rows per batch; raise it or the batch")
        }
        return s
    }
}

/// Bounds on a study's counts: far beyond a real study on any machine, far below a hang (a schedule of
/// 1e15 checkpoints, 1e18 steps). Memory is checked against this machine's (`checkSizes`).
public enum StudyLimits {
    public static let steps = 100_000_000
    public static let batch = 1 << 20
    public static let checkpoints = 10_000
    public static let evalItems = 100_000
    public static let seeds = 1_000
}

/// Checkpoint count and the memory of one training batch, against the limits and this machine.
private func checkSizes(_ s: StudySpec, sequenceLength T: Int, fail: (String) -> StudyError) throws(StudyError) {
    let c = s.checkpoints
    let regular = c.every > 0 ? s.steps / c.every : 0
    guard regular + c.denseCount + 2 <= StudyLimits.checkpoints else {
        throw fail("checkpoints: \(regular + c.denseCount + 2) checkpoints for \(s.steps) steps; at most \(StudyLimits.checkpoints) (raise every)")
    }
    for m in s.models {
        let config = ModelConfig(n_layers: m.n_layers, d_model: m.d_model, n_heads: m.n_heads, d_head: m.d_head, d_mlp: m.d_mlp,
                                 n_ctx: T, d_vocab: 40)
        let bytes = config.trainingActivationBytes(batch: s.batch, length: T)
        guard let bytes, bytes > 0, bytes <= Machine.workingSetBytes else {
            throw fail("batch: \(s.batch) rows of model \(m.name) need \(bytes.map(Machine.gib) ?? "more than 2^63 bytes") of activations; "
                       + "at most half of this machine's \(Machine.gib(Machine.memoryBytes))")
        }
    }
}

/// Typed access to a YAML mapping with errors that say which key is wrong and why.
private struct Reader {
    let file: String
    func fail(_ m: String) -> StudyError { StudyError(file: file, problem: m) }

    func known(_ m: [String: Any], _ keys: [String], at: String) throws(StudyError) {
        for k in m.keys.sorted() where !keys.contains(k) {
            throw fail("unknown key \"\(at)\(k)\" (known: \(keys.joined(separator: ", ")))")
        }
    }
    /// A finite number (YAML's .inf and .nan are not numbers a study can use).
    func number(_ v: Any) -> Double? {
        if let i = v as? Int { return Double(i) }
        if let d = v as? Double, d.isFinite { return d }
        return nil
    }
    func string(_ m: [String: Any], _ k: String) throws(StudyError) -> String? {
        guard let v = m[k] else { return nil }
        guard let s = v as? String else { throw fail("\(k): must be a string") }
        return s
    }
    func int(_ m: [String: Any], _ k: String, at: String, min: Int? = nil, max: Int? = nil) throws(StudyError) -> Int? {
        guard let v = m[k] else { return nil }
        guard let i = v as? Int else { throw fail("\(at)\(k): must be an integer, got \"\(v)\"") }
        if let min, i < min { throw fail("\(at)\(k): must be >= \(min), got \(i)") }
        if let max, i > max { throw fail("\(at)\(k): must be <= \(max), got \(i)") }
        return i
    }
    func double(_ m: [String: Any], _ k: String, min: Double, at: String = "") throws(StudyError) -> Double? {
        guard let v = m[k] else { return nil }
        guard let d = number(v) else { throw fail("\(at)\(k): must be a number, got \"\(v)\"") }
        guard d >= min else { throw fail("\(at)\(k): must be >= \(min), got \(d)") }
        return d
    }
}
