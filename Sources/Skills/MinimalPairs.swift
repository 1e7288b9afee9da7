// Clean/corrupted pairs for activation patching (CONTRACTS section 6). Each held-out item is paired with
// its minimal-pair corruption and cut at a named decision: the input is `<bos> prompt` plus the answer's
// own prefix up to the decided token (teacher forcing: the clean row the clean answer's prefix, the
// corrupted row the corrupted answer's), so every decision of a multi-step answer is patched on its own.
// The metric reads the logits of the input's last row, which predict the decided token.

import Tensors

/// Which token of the answer the patched metric is about.
public enum Decision: String, CaseIterable, Sendable, Codable {
    /// The first answer token (every task).
    case answer
    /// The scratchpad's first result: the token after `step1_equals`.
    case step1
    /// The scratchpad's second result, which is also the final answer: the token after `step2_equals`.
    case step2

    /// Index of the decided token in `<bos> prompt answer <eos>`, or nil when the item has no such token.
    public func tokenIndex(_ e: Example) -> Int? {
        let i: Int
        switch self {
        case .answer: i = e.position("answer_start")
        case .step1: i = e.position("step1_equals") < 0 ? -1 : e.position("step1_equals") + 1
        case .step2: i = e.position("step2_equals") < 0 ? -1 : e.position("step2_equals") + 1
        }
        return i > 0 && i < e.encodedLength - 1 ? i : nil
    }
}

/// Why a held-out item gave no pair; every item tried is either a pair or counted under one reason.
public enum PairDropReason: String, CaseIterable, Sendable, Codable {
    /// The item has no token at the decision (an item of another format).
    case noDecisionToken = "no_decision_token"
    /// The corruption found no variant of the same length and named positions.
    case noSameLengthVariant = "no_same_length_variant"
    /// The clean and corrupted tokens at the decision are equal: the metric has nothing to tell apart.
    case answersEqualAtDecision = "answers_equal_at_decision"
    /// The decided token sits at different indices in the two runs (answer prefixes of different lengths).
    case prefixLengthsDiffer = "prefix_lengths_differ"
    /// The pair's prompt layout has fewer pairs than the experiment's minimum.
    case layoutBelowMinimum = "layout_below_min_pairs"
}

/// The pairs of one prompt layout: every row has the same length and the same named positions, so the
/// position axis of a result means the same token slot in every pair.
public struct PairLayout: Sendable, Equatable, Codable {
    /// Tokens per row; the metric reads row `length - 1`.
    public var length: Int
    /// Named positions inside the input (`pos_operand_a`, `equals`, ...), identical in every pair.
    public var namedPositions: [String: Int]
    /// One label per position: its name where it has one, else the token shared by every clean row,
    /// else `·` (the slot holds different tokens in different pairs, such as an operand's digit).
    public var positionLabels: [String]
    public var clean: [[Int32]]
    public var corrupted: [[Int32]]
    /// Index of each pair's item in the held-out item list (so each per-pair value traces to an item).
    public var items: [Int]
    /// The clean and corrupted token the decision is about.
    public var correct: [Int32]
    public var wrong: [Int32]
    /// Which latent each pair's corruption changed (`operand_b`, `step1_value`, `temporal_order`, ...).
    public var changedLatents: [String]

    public var count: Int { clean.count }
    /// The row whose logits the metric reads, per pair (CONTRACTS: the decided token's index - 1).
    public var position: [Int] { Array(repeating: length - 1, count: count) }
}

/// Every pair an experiment can use, grouped by layout (largest first), and what was dropped and why.
public struct MinimalPairSet: Sendable, Equatable, Codable {
    public var task: String
    public var corruption: CorruptionKind
    public var decision: Decision
    /// Held-out items tried.
    public var candidates: Int
    public var layouts: [PairLayout]
    /// Layouts with fewer than `minPairs` pairs (counted as dropped): too few for a position-by-position
    /// result of their own, but their pairs still count where no position axis is needed (a head over all
    /// positions), where every layout's pairs pool.
    public var smallLayouts: [PairLayout] = []
    public var dropped: [PairDropReason: Int]

    public var pairCount: Int { layouts.reduce(0) { $0 + $1.count } }
    /// Pairs of every layout, kept or small.
    public var pooledPairCount: Int { pairCount + smallLayouts.reduce(0) { $0 + $1.count } }
    /// Share of the held-out items that became a pair of a kept layout.
    public var coverage: Double { candidates == 0 ? 0 : Double(pairCount) / Double(candidates) }

    /// Pairs of `items` (held-out items of `task`) under `corruption`, cut at `decision`. The corruption's
    /// random choices come from `seed` and the item's index, so a pair does not depend on the others.
    /// Layouts with fewer than `minPairs` pairs are dropped (counted) rather than reported on too few pairs.
    public static func build(task: any SkillTask, items: [Example], corruption: CorruptionKind, decision: Decision,
                             seed: UInt64, minPairs: Int = 1,
                             tokenizer: Tokenizer = .standard) throws(SkillsError) -> MinimalPairSet {
        guard task.corruptionKinds.contains(corruption) else {
            throw .invalidConfig("task \(task.name) has no \(corruption.rawValue) corruption (it has: "
                                 + task.corruptionKinds.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard items.contains(where: { decision.tokenIndex($0) != nil }) else {
            throw .invalidConfig("task \(task.name) has no \(decision.rawValue) decision (its items have no "
                                 + (decision == .answer ? "answer_start" : "\(decision.rawValue)_equals") + " position)")
        }
        guard minPairs >= 1 else { throw .invalidConfig("min_pairs must be at least 1, got \(minPairs)") }
        var set = MinimalPairSet(task: task.name, corruption: corruption, decision: decision, candidates: items.count,
                                 layouts: [], dropped: Dictionary(uniqueKeysWithValues: PairDropReason.allCases.map { ($0, 0) }))
        var byLayout: [LayoutKey: PairLayout] = [:]
        let base = RNG(seed: seed).derived(stableHash("pairs/" + task.name + "/" + corruption.rawValue))
        for (index, item) in items.enumerated() {
            var rng = base.derived(UInt64(index))
            guard let i = decision.tokenIndex(item) else { set.dropped[.noDecisionToken, default: 0] += 1; continue }
            guard let other = task.corrupt(item, kind: corruption, rng: &rng) else {
                set.dropped[.noSameLengthVariant, default: 0] += 1; continue
            }
            guard decision.tokenIndex(other) == i else { set.dropped[.prefixLengthsDiffer, default: 0] += 1; continue }
            let clean = try tokenizer.encode(item), corrupted = try tokenizer.encode(other)
            guard clean[i] != corrupted[i] else { set.dropped[.answersEqualAtDecision, default: 0] += 1; continue }
            let named = item.positions.filter { $0.value >= 0 && $0.value < i }
            let key = LayoutKey(length: i, positions: named)
            var layout = byLayout[key] ?? PairLayout(length: i, namedPositions: named, positionLabels: [], clean: [], corrupted: [],
                                                     items: [], correct: [], wrong: [], changedLatents: [])
            layout.clean.append(Array(clean[..<i]))
            layout.corrupted.append(Array(corrupted[..<i]))
            layout.items.append(index)
            layout.correct.append(clean[i])
            layout.wrong.append(corrupted[i])
            layout.changedLatents.append(other.corruption?.changedLatent ?? "")
            byLayout[key] = layout
        }
        for (_, var layout) in byLayout {
            layout.positionLabels = labels(layout, tokenizer)
            guard layout.count >= minPairs else {
                set.dropped[.layoutBelowMinimum, default: 0] += layout.count
                set.smallLayouts.append(layout)
                continue
            }
            set.layouts.append(layout)
        }
        // Largest first; ties by length and then by the first item, so the order never depends on hashing.
        let order: (PairLayout, PairLayout) -> Bool = {
            ($0.count, -$0.length, -($0.items.first ?? 0)) > ($1.count, -$1.length, -($1.items.first ?? 0))
        }
        set.layouts.sort(by: order)
        set.smallLayouts.sort(by: order)
        return set
    }

    private struct LayoutKey: Hashable {
        var length: Int
        var positions: [String: Int]
    }

    private static func labels(_ layout: PairLayout, _ tokenizer: Tokenizer) -> [String] {
        var names = [String?](repeating: nil, count: layout.length)
        // Several names can mark one slot (`answer_start` and `pos_operand_a` never do, but a plug-in task
        // might): the alphabetically first keeps the label stable.
        for (name, p) in layout.namedPositions.sorted(by: { $0.key < $1.key }) where names[p] == nil { names[p] = name }
        return (0..<layout.length).map { p in
            if let n = names[p] { return n }
            let token = layout.clean[0][p]
            return layout.clean.allSatisfy { $0[p] == token } ? tokenizer.decode([token]) : "·"
        }
    }
}
