import Skills
import Transformer

// What `lens patch --json` writes for one experiment (CONTRACTS section 6): the spec, then per run, per
// decision and per prompt layout the pairs (plain arrays another tool can rerun), and per checkpoint the
// metric on the two runs and every result. Per-pair arrays live in HDF5 beside the JSON; each result
// names its dataset. Keys are snake_case, like the contract's.

public struct ExperimentRecord: Sendable, Codable, Equatable {
    public var experiment: PatchSpec
    public var runs: [RunRecord]

    public init(experiment: PatchSpec, runs: [RunRecord]) { self.experiment = experiment; self.runs = runs }
}

public struct RunRecord: Sendable, Codable, Equatable {
    public var run: String
    public var runDir: String
    public var model: ModelConfig
    public var seed: UInt64
    /// The HDF5 file (relative to the JSON) that holds this run's per-pair arrays.
    public var perPairFile: String
    public var decisions: [DecisionRecord]

    enum CodingKeys: String, CodingKey { case run, runDir = "run_dir", model, seed, perPairFile = "per_pair_file", decisions }
}

public struct DecisionRecord: Sendable, Codable, Equatable {
    public var decision: Decision
    /// Held-out items tried, pairs kept, their share, and every dropped item by reason.
    public var candidates: Int
    public var pairs: Int
    public var coverage: Double
    public var droppedByReason: [String: Int]
    public var layouts: [LayoutRecord]
    /// Layouts below `min_pairs`: their pairs (no checkpoints of their own), which the pool uses.
    public var smallLayouts: [LayoutRecord]
    /// Results without a position axis over the pairs of every layout, kept and small; absent with one layout.
    public var pooled: PooledRecord?

    enum CodingKeys: String, CodingKey {
        case decision, candidates, pairs, coverage, droppedByReason = "dropped_by_reason", layouts,
             smallLayouts = "small_layouts", pooled
    }
}

/// The pool of a decision: results that need no shared positions ([layer, head] kinds, their stacks, the
/// logit attribution and the logit lens) over the pairs of all its layouts. Pair order in its per-pair arrays:
/// the layouts in order (kept, then small), each layout's pairs in order; `layout_pairs` gives their counts.
public struct PooledRecord: Sendable, Codable, Equatable {
    public var layouts: Int
    public var pairs: Int
    public var coverage: Double
    public var layoutPairs: [Int]
    public var kinds: [String]
    public var checkpoints: [CheckpointRecord]

    enum CodingKeys: String, CodingKey { case layouts, pairs, coverage, layoutPairs = "layout_pairs", kinds, checkpoints }
}

public struct LayoutRecord: Sendable, Codable, Equatable {
    public var layout: Int
    public var length: Int
    public var positionLabels: [String]
    public var namedPositions: [String: Int]
    public var pairs: PairsRecord
    public var checkpoints: [CheckpointRecord]

    enum CodingKeys: String, CodingKey {
        case layout, length, positionLabels = "position_labels", namedPositions = "named_positions", pairs, checkpoints
    }
}

/// The pairs exactly as `../shared/peers/tl_patch_bench.py --pairs` reads them.
public struct PairsRecord: Sendable, Codable, Equatable {
    public var clean: [[Int32]]
    public var corrupted: [[Int32]]
    public var position: [Int]
    public var correct: [Int32]
    public var wrong: [Int32]
    /// Items of the decision dropped for any reason (the decision's `dropped_by_reason` itemises them).
    public var dropped: Int
    /// Each pair's index among the run's held-out test items, and the latent its corruption changed.
    public var items: [Int]
    public var changedLatents: [String]

    enum CodingKeys: String, CodingKey {
        case clean, corrupted, position, correct, wrong, dropped, items, changedLatents = "changed_latents"
    }
}

public struct CheckpointRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var metric: MetricRecord
    public var results: [ResultRecord]
    /// Attribution against exact patching, per kind and direction where both ran.
    public var agreement: [AgreementRecord]
    /// Direct logit attribution and the logit lens of each run (clean, corrupted), when the spec asks.
    public var logitAttribution: [ComponentsRecord]
    public var logitLens: [ComponentsRecord]
    /// Path patching, sender x receiver, per direction, at the exact steps when the spec asks.
    public var pathPatching: [PathRecord]
    /// Ablating and patching along probes' subspaces, at the exact steps when the spec names probes.
    public var probeDirections: [ProbeDirectionRecord]
    /// The clean run's attention patterns of the strongest heads on the first pairs (last step of a run only).
    public var attentionPatterns: [PatternRecord]

    enum CodingKeys: String, CodingKey {
        case step, metric, results, agreement, logitAttribution = "logit_attribution", logitLens = "logit_lens",
             pathPatching = "path_patching", probeDirections = "probe_directions", attentionPatterns = "attention_patterns"
    }
}

/// One head's attention pattern (`blocks.{layer}.attn.hook_pattern`) in the clean run on a few pairs,
/// [pairs, dest_pos, src_pos], and why the head was chosen: the result that ranks it and its score there.
public struct PatternRecord: Sendable, Codable, Equatable {
    public var layer: Int
    public var head: Int
    public var rankedBy: String
    public var score: Double
    /// Indexes of the pairs among the layout's pairs, and each pair's clean tokens as text.
    public var pairs: [Int]
    public var tokens: [[String]]
    public var pattern: NestedArray

    enum CodingKeys: String, CodingKey { case layer, head, rankedBy = "ranked_by", score, pairs, tokens, pattern }
}

/// One value per named component (DLA: embed, pos_embed, L{l}H{h}, L{l}.b_O, mlp{l}; logit lens: one per
/// residual stream), mean over pairs with its bootstrap interval.
public struct ComponentsRecord: Sendable, Codable, Equatable {
    public var run: String
    public var components: [String]
    public var mean: [Double]
    public var ciLow: [Double]
    public var ciHigh: [Double]
    public var perPair: PerPairRef

    enum CodingKeys: String, CodingKey { case run, components, mean, ciLow = "ci_low", ciHigh = "ci_high", perPair = "per_pair" }
}

public struct PathRecord: Sendable, Codable, Equatable {
    public var direction: String
    public var senders: [String]
    public var receivers: [String]
    /// [senders][receivers] mean patched metric; null where the receiver does not read the sender.
    public var raw: [[Double?]]
    /// The same as effects (share of the clean-corrupted difference restored or removed).
    public var effect: [[Double?]]
}

public struct MetricRecord: Sendable, Codable, Equatable {
    public var name: String
    public var clean: Double
    public var corrupted: Double
    /// m_clean - m_corrupted over pairs, with its bootstrap interval; normalised effects are reported only
    /// when that interval excludes 0.
    public var difference: Double
    public var differenceCI: [Double]
    public var normalisationDefined: Bool
    public var perPair: PerPairRef

    enum CodingKeys: String, CodingKey {
        case name, clean, corrupted, difference, differenceCI = "difference_ci", normalisationDefined = "normalisation_defined",
             perPair = "per_pair"
    }
}

public struct ResultRecord: Sendable, Codable, Equatable {
    public var kind: String
    public var method: String
    public var direction: String
    public var ablation: String
    public var shape: [Int]
    public var axes: [String]
    /// Mean metric per patch (TransformerLens's shape and numbers for denoising).
    public var raw: NestedArray
    /// (m_patched - m_corrupted) / (m_clean - m_corrupted), null where undefined; the interval likewise.
    public var normalised: NestedArray
    public var ciLow: NestedArray
    public var ciHigh: NestedArray
    /// Share of the clean-corrupted difference restored (denoising) or removed (noising).
    public var effect: NestedArray
    public var perPair: PerPairRef

    enum CodingKeys: String, CodingKey {
        case kind, method, direction, ablation, shape, axes, raw, normalised, ciLow = "ci_low", ciHigh = "ci_high", effect,
             perPair = "per_pair"
    }
}

public struct AgreementRecord: Sendable, Codable, Equatable {
    public var kind: String
    public var direction: String
    public var pearson: Double?
    public var spearman: Double?
    public var topK: Int
    public var topKOverlap: Double?

    enum CodingKeys: String, CodingKey { case kind, direction, pearson, spearman, topK = "top_k", topKOverlap = "top_k_overlap" }
}

/// Where a per-pair array lives: an HDF5 file beside the JSON and a dataset in it.
public struct PerPairRef: Sendable, Codable, Equatable {
    public var file: String
    public var dataset: String
}

/// A row-major array written as nested JSON arrays in its shape, nil (and non-finite values) as null.
public struct NestedArray: Sendable, Codable, Equatable {
    public var shape: [Int]
    public var values: [Double?]

    public init(shape: [Int], values: [Double?]) {
        self.shape = shape
        self.values = values.map { $0.flatMap { $0.isFinite ? $0 : nil } }
    }

    public init(shape: [Int], values: [Double]) { self.init(shape: shape, values: values.map(Optional.some)) }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        if shape.count <= 1 {
            for v in values { if let v { try c.encode(v) } else { try c.encodeNil() } }
            return
        }
        let inner = Array(shape.dropFirst()), size = inner.reduce(1, *)
        for i in 0..<shape[0] { try c.encode(NestedArray(shape: inner, values: Array(values[(i * size)..<((i + 1) * size)]))) }
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        var rows: [NestedArray] = [], flat: [Double?] = []
        while !c.isAtEnd {
            if try c.decodeNil() { flat.append(nil) }
            else if let v = try? c.decode(Double.self) { flat.append(v) }
            else { rows.append(try c.decode(NestedArray.self)) }
        }
        if rows.isEmpty { self.init(shape: [flat.count], values: flat); return }
        guard flat.isEmpty, Set(rows.map(\.shape)).count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "ragged nested array"))
        }
        self.init(shape: [rows.count] + rows[0].shape, values: rows.flatMap(\.values))
    }
}
