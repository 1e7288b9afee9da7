import Skills
import Specs
import Tensors

/// One patching experiment, declared in `Probes/patching/<name>.yaml` (schema: Probes/patching/README.md):
///
/// ```yaml
/// name: sub-operand
/// question: Which components carry a subtraction's operands to its first answer digit?
/// task: sub                    # a task of the run's study
/// corruption: operand          # operand | order | operation (the kinds the task has)
/// decisions: [answer]          # answer | step1 | step2 (the scratchpad's results)
/// pairs: 200                   # held-out test items tried; the output says how many became pairs
/// min_pairs: 20                # prompt layouts with fewer pairs are dropped and counted
/// metric: logit_diff           # logit_diff | logprob | prob | kl
/// kinds: [resid_pre, attn_out, mlp_out, head_out_by_pos]   # or all
/// directions: [denoising, noising]
/// ablation: resample           # resample | mean | zero
/// attribution: true            # also attribution patching of every kind, and its agreement with exact
/// logit_attribution: true      # direct logit attribution and the logit lens, clean and corrupted runs
/// path_patching: false         # senders x receivers through the direct path, at the exact steps
/// probe_directions: [operand]  # ablate / patch along these probes' subspaces (lens probe results in --probes)
/// seed: 0                      # the corruptions' random choices and the bootstrap
/// ```
public struct PatchSpec: Sendable, Equatable, Codable {
    public var name: String
    public var question: String
    public var task: String
    public var corruption: CorruptionKind
    public var decisions: [Decision] = [.answer]
    public var pairs = 200
    public var minPairs = 20
    public var metric = "logit_diff"
    public var kinds: [String] = ["resid_pre", "attn_out", "mlp_out", "head_out_by_pos"]
    public var directions = ["denoising"]
    public var ablation = "resample"
    public var attribution = true
    /// Direct logit attribution and the logit lens on both runs, at every patched step.
    public var logitAttribution = true
    /// Path patching (every head and MLP as sender; the logits, every later MLP and every later head's
    /// q, k and v as receivers), at the exact-patching steps: one patched run per sender and receiver.
    public var pathPatching = false
    /// Probes (names of `lens probe` results in --probes) whose subspaces are ablated and patched at their own
    /// hook and position, against random subspaces of the same dimension.
    public var probeDirections: [String] = []
    public var seed: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case name, question, task, corruption, decisions, pairs, minPairs = "min_pairs", metric, kinds, directions, ablation,
             attribution, logitAttribution = "logit_attribution", pathPatching = "path_patching",
             probeDirections = "probe_directions", seed
    }

    public static let keys = ["name", "question", "task", "corruption", "decisions", "pairs", "min_pairs", "metric", "kinds",
                              "directions", "ablation", "attribution", "logit_attribution", "path_patching", "probe_directions", "seed"]
    public static let metrics = PatchMetric.allCases.map(\.rawValue)
    public static let directionNames = PatchDirection.allCases.map(\.rawValue)
    public static let ablations = ["resample", "mean", "zero"]
    /// Far more pairs than any study holds, far fewer than would exhaust memory in one batch of patches.
    public static let maxPairs = 100_000

    public static func load(path: String, kinds known: [String]) throws(PatchSpecError) -> PatchSpec {
        let text: String
        do { text = try InputFile.text(path, atMost: YAMLLimits.maxBytes) } catch { throw PatchSpecError(file: path, problem: error.problem) }
        return try parse(text, file: path, kinds: known)
    }

    /// Parses and checks a spec; `known` is every patch kind the library has (`all` expands to it).
    public static func parse(_ text: String, file: String, kinds known: [String]) throws(PatchSpecError) -> PatchSpec {
        func fail(_ m: String) -> PatchSpecError { PatchSpecError(file: file, problem: m) }
        let m: [String: Any]
        switch yamlTopLevelMapping(text) {
        case .success(let mapping): m = mapping
        case .failure(let problem): throw fail(problem.message)
        }
        for k in m.keys.sorted() where !keys.contains(k) { throw fail("unknown key \"\(k)\" (known: \(keys.joined(separator: ", ")))") }
        func string(_ k: String) throws(PatchSpecError) -> String {
            guard let v = m[k] as? String, !v.isEmpty else { throw fail("\(k): required string") }
            return v
        }
        func strings(_ k: String, from allowed: [String]) throws(PatchSpecError) -> [String] {
            let list: [Any] = (m[k] as? [Any]) ?? [m[k] as Any]
            var out: [String] = []
            for v in list {
                guard let s = v as? String, allowed.contains(s) else { throw fail("\(k): \"\(v)\" is not one of \(allowed.joined(separator: ", "))") }
                if !out.contains(s) { out.append(s) }
            }
            guard !out.isEmpty else { throw fail("\(k): must list at least one of \(allowed.joined(separator: ", "))") }
            return out
        }
        func oneOf(_ k: String, _ allowed: [String]) throws(PatchSpecError) -> String {
            guard let v = m[k] as? String, allowed.contains(v) else {
                throw fail("\(k): must be one of \(allowed.joined(separator: ", ")), got \(m[k].map { "\($0)" } ?? "nothing")")
            }
            return v
        }
        func count(_ k: String, _ range: ClosedRange<Int>) throws(PatchSpecError) -> Int {
            guard let v = m[k] as? Int, range.contains(v) else {
                throw fail("\(k): must be an integer in \(range.lowerBound)...\(range.upperBound), got \(m[k].map { "\($0)" } ?? "nothing")")
            }
            return v
        }

        let corruptionText = try string("corruption")
        guard let corruption = CorruptionKind(rawValue: corruptionText) else {
            throw fail("corruption: must be \(CorruptionKind.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(corruptionText)\"")
        }
        var spec = PatchSpec(name: try string("name"), question: try string("question"), task: try string("task"), corruption: corruption)
        if let problem = problemAsFileName(spec.name) { throw fail("name: \(problem)") }
        let task: any SkillTask
        do { task = try Tasks.named(spec.task) } catch { throw fail("task: \(error.description)") }
        guard task.corruptionKinds.contains(corruption) else {
            throw fail("corruption: task \(task.name) has no \(corruption.rawValue) corruption (it has: "
                       + task.corruptionKinds.map(\.rawValue).joined(separator: ", ") + ")")
        }
        if m["decisions"] != nil {
            spec.decisions = try strings("decisions", from: Decision.allCases.map(\.rawValue)).compactMap(Decision.init(rawValue:))
        }
        var rng = RNG(seed: 0)
        let sample = task.example(rng: &rng)
        for d in spec.decisions where d.tokenIndex(sample) == nil {
            throw fail("decisions: task \(task.name) has no \(d.rawValue) decision (step1 and step2 are the scratchpad's, multistep_pad)")
        }
        if m["pairs"] != nil { spec.pairs = try count("pairs", 1...maxPairs) }
        if m["min_pairs"] != nil { spec.minPairs = try count("min_pairs", 1...maxPairs) }
        guard spec.minPairs <= spec.pairs else { throw fail("min_pairs: \(spec.minPairs) is more than pairs (\(spec.pairs))") }
        if m["metric"] != nil { spec.metric = try oneOf("metric", metrics) }
        if let k = m["kinds"] {
            spec.kinds = (k as? String) == "all" ? known : try strings("kinds", from: known)
        }
        if m["directions"] != nil { spec.directions = try strings("directions", from: directionNames) }
        if m["ablation"] != nil { spec.ablation = try oneOf("ablation", ablations) }
        if let a = m["attribution"] {
            guard let b = a as? Bool else { throw fail("attribution: must be true or false") }
            spec.attribution = b
        }
        for (key, path) in [("logit_attribution", \PatchSpec.logitAttribution), ("path_patching", \PatchSpec.pathPatching)] {
            guard let v = m[key] else { continue }
            guard let b = v as? Bool else { throw fail("\(key): must be true or false") }
            spec[keyPath: path] = b
        }
        if let p = m["probe_directions"] {
            guard let names = (p as? [String]) ?? (p as? String).map({ [$0] }), !names.isEmpty else {
                throw fail("probe_directions: must list probe names (results of lens probe in --probes)")
            }
            for n in names { if let problem = problemAsFileName(n) { throw fail("probe_directions: \(n): \(problem)") } }
            spec.probeDirections = names
        }
        if let s = m["seed"] {
            guard let i = s as? Int, i >= 0 else { throw fail("seed: must be a non-negative integer") }
            spec.seed = UInt64(i)
        }
        return spec
    }
}

public struct PatchSpecError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public init(file: String, problem: String) { self.file = file; self.problem = problem }
    public var description: String { "\(file): \(problem)" }
}
