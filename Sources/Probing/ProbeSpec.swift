import Foundation
import Specs
import Tensors

/// One probe, declared in `Probes/<name>.yaml`:
///
/// ```yaml
/// name: intermediate
/// question: Is the result after the first step linearly decodable before the answer is written?
/// target: intermediate          # /labels/<target>; examples where it is -1 are left out
/// kind: multiclass              # multiclass | binary | ridge
/// hooks: ["blocks.*.hook_resid_post"]        # hook names or globs
/// positions: [equals, answer_start]           # named positions, integers, or all
/// tasks: [multistep_pad]        # optional: only these tasks' examples
/// items: {multistep_pad: 800}   # optional: items per task the dump should hold (lens dump --for-probes)
/// where: {told_out_of_order: 1} # optional: only examples whose labels have these values
/// split: {test: 0.25, seed: 0}  # held-out fraction and seed (the same split at every checkpoint)
/// l2: [0.0001, 0.001, 0.01]     # a number, or a grid chosen on a validation split of the training part
/// control: true                 # fit the Hewitt & Liang control task
/// control_type: operand_a       # what an "input type" is for the control task: a label name (its value),
///                               # token (the token at the probed position) or prompt (the whole prompt)
/// ```
/// The control task gives every input type a fixed random label; a probe that can fit it on held-out
/// examples is memorising types, so types must recur between train and test: a label such as the
/// operand that the prompt starts with is the analogue of Hewitt & Liang's word type.
public struct ProbeSpec: Codable, Sendable, Equatable {
    public enum Position: Codable, Sendable, Equatable, CustomStringConvertible {
        case named(String), index(Int)
        public var description: String { switch self { case .named(let s): s; case .index(let i): String(i) } }
    }

    public var name: String
    public var question: String
    public var target: String
    public var kind: ProbeKind
    public var hooks: [String]
    public var positions: [Position]
    public var allPositions = false
    public var tasks: [String] = []
    public var filters: [String: Int] = [:]
    public var testFraction = 0.25
    public var seed: UInt64 = 0
    public var l2: [Double] = []          // empty: the default grid
    public var control = true
    public var controlType = "token"
    /// Held-out items per task that `lens dump --for-probes` writes (more than its --n where a
    /// position exists in few tasks); the probe warns when a file holds fewer.
    public var items: [String: Int] = [:]

    public static let keys = ["name", "question", "target", "kind", "hooks", "positions", "tasks", "where", "split", "l2", "control",
                              "control_type", "items"]

    public static func load(path: String) throws(ProbeSpecError) -> ProbeSpec {
        let text: String
        do { text = try InputFile.text(path, atMost: YAMLLimits.maxBytes) } catch { throw ProbeSpecError(file: path, problem: error.problem) }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ProbeSpecError) -> ProbeSpec {
        func fail(_ m: String) -> ProbeSpecError { ProbeSpecError(file: file, problem: m) }
        let m: [String: Any]
        switch yamlTopLevelMapping(text) {
        case .success(let mapping): m = mapping
        case .failure(let problem): throw fail(problem.message)
        }
        for k in m.keys.sorted() where !keys.contains(k) { throw fail("unknown key \"\(k)\" (known: \(keys.joined(separator: ", ")))") }
        func string(_ k: String) throws(ProbeSpecError) -> String {
            guard let v = m[k] as? String, !v.isEmpty else { throw fail("\(k): required string") }
            return v
        }
        func strings(_ k: String) throws(ProbeSpecError) -> [String] {
            if let s = m[k] as? String { return [s] }
            guard let v = m[k] as? [String], !v.isEmpty else { throw fail("\(k): required list of strings") }
            return v
        }
        let kindText = try string("kind")
        guard let kind = ProbeKind(rawValue: kindText) else { throw fail("kind: must be multiclass, binary or ridge, got \"\(kindText)\"") }
        var spec = ProbeSpec(name: try string("name"), question: try string("question"), target: try string("target"),
                             kind: kind, hooks: try strings("hooks"), positions: [])
        if let problem = problemAsFileName(spec.name) { throw fail("name: \(problem)") }
        guard let pos = m["positions"] else { throw fail("positions: required (names, integers, or all)") }
        if let s = pos as? String, s == "all" { spec.allPositions = true } else {
            let list: [Any] = (pos as? [Any]) ?? [pos]
            for p in list {
                if let i = p as? Int, i >= 0 { spec.positions.append(.index(i)) }
                else if let s = p as? String, s == "all" { spec.allPositions = true }
                else if let s = p as? String { spec.positions.append(.named(s)) }
                else { throw fail("positions: \"\(p)\" is neither a position name nor a non-negative integer") }
            }
            guard spec.allPositions || !spec.positions.isEmpty else { throw fail("positions: must list at least one position (or be all)") }
        }
        if m["tasks"] != nil { spec.tasks = try strings("tasks") }
        if let w = m["where"] {
            guard let f = w as? [String: Int] else { throw fail("where: must map label names to integers") }
            spec.filters = f
        }
        if let s = m["split"] {
            guard let sm = s as? [String: Any] else { throw fail("split: must be a mapping {test, seed}") }
            for k in sm.keys where !["test", "seed"].contains(k) { throw fail("unknown key \"split.\(k)\" (known: test, seed)") }
            if let t = sm["test"] {
                guard let f = (t as? Double) ?? (t as? Int).map(Double.init), f > 0, f < 1 else { throw fail("split.test: must be a number in (0, 1)") }
                spec.testFraction = f
            }
            if let sd = sm["seed"] {
                guard let i = sd as? Int, i >= 0 else { throw fail("split.seed: must be a non-negative integer") }
                spec.seed = UInt64(i)
            }
        }
        if let l = m["l2"] {
            let values: [Any] = (l as? [Any]) ?? [l]
            // An empty grid would silently mean the default one; .inf only failed later, in the fit, without the file's name.
            guard !values.isEmpty else { throw fail("l2: must be a number or a non-empty list of numbers (leave it out for the default grid)") }
            for v in values {
                guard let d = (v as? Double) ?? (v as? Int).map(Double.init), d.isFinite, d >= 0 else {
                    throw fail("l2: \"\(v)\" is not a finite non-negative number")
                }
                spec.l2.append(d)
            }
        }
        if let c = m["control"] {
            guard let b = c as? Bool else { throw fail("control: must be true or false") }
            spec.control = b
        }
        if m["control_type"] != nil { spec.controlType = try string("control_type") }
        if let it = m["items"] {
            guard let counts = it as? [String: Int], !counts.isEmpty else { throw fail("items: must map task names to item counts, e.g. {multistep_pad: 800}") }
            for (task, count) in counts.sorted(by: { $0.key < $1.key }) {
                guard count > 0 else { throw fail("items.\(task): must be a positive integer, got \(count)") }
                guard spec.tasks.isEmpty || spec.tasks.contains(task) else {
                    throw fail("items.\(task): not one of the probe's tasks (\(spec.tasks.joined(separator: ", ")))")
                }
            }
            spec.items = counts
        }
        return spec
    }

    var lambdaChoice: LambdaChoice {
        switch l2.count { case 0: .defaultGrid; case 1: .fixed(l2[0]); default: .grid(l2) }
    }
}

public struct ProbeSpecError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file): \(problem)" }
}
