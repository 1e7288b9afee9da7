// One generated item: the text a model sees, the answer it must produce, and the latent facts
// (labels) and token positions that probes and patching need. Label/position names: LabelCatalog.

/// A label value; labels become HDF5 datasets `/labels/<name>`, so only two dtypes exist.
public enum LabelValue: Sendable, Codable, Equatable, Hashable {
    case int32(Int32)
    case float32(Float)

    /// The value as an Int (floats truncated); -1 means "not applicable" by convention.
    public var intValue: Int {
        switch self {
        case .int32(let v): return Int(v)
        case .float32(let v): return Int(v)
        }
    }

    public var floatValue: Float {
        switch self {
        case .int32(let v): return Float(v)
        case .float32(let v): return v
        }
    }
}

public enum CorruptionKind: String, Sendable, Codable, CaseIterable {
    /// Change one operand (one number in the prompt).
    case operand
    /// Swap order words so the steps happen in another temporal order; the clauses stay where they are.
    case order
    /// Change one operation (add / sub / double).
    case operation
}

/// Provenance of a corrupted example: which kind of edit and which latent it changed.
public struct Corruption: Sendable, Codable, Equatable {
    public var kind: CorruptionKind
    /// Label name of the latent that changed, e.g. `operand_b`, `step2_value`, `op1`, or `temporal_order`.
    public var changedLatent: String
    /// The answer of the clean example this one was made from.
    public var cleanAnswer: String

    public init(kind: CorruptionKind, changedLatent: String, cleanAnswer: String) {
        self.kind = kind
        self.changedLatent = changedLatent
        self.cleanAnswer = cleanAnswer
    }
}

public struct Example: Sendable, Codable, Equatable {
    public var task: String
    public var prompt: String
    public var answer: String
    /// Every name in `LabelCatalog.labelNames`; -1 where a label does not apply.
    public var labels: [String: LabelValue]
    /// Every name in `LabelCatalog.positionNames`: indices into `<bos> prompt answer <eos>` (BOS = 0); -1 if absent.
    public var positions: [String: Int]
    /// Set on examples produced by `SkillTask.corrupt`.
    public var corruption: Corruption?

    public init(task: String, prompt: String, answer: String,
                labels: [String: LabelValue] = LabelCatalog.emptyLabels,
                positions: [String: Int] = LabelCatalog.emptyPositions,
                corruption: Corruption? = nil) {
        self.task = task
        self.prompt = prompt
        self.answer = answer
        self.labels = labels
        self.positions = positions
        self.corruption = corruption
    }

    /// Length of the encoded sequence `<bos> prompt answer <eos>` (the tokenizer is character level).
    public var encodedLength: Int { prompt.count + answer.count + 2 }

    /// An integer label, -1 when missing or not applicable.
    public func label(_ name: String) -> Int { labels[name]?.intValue ?? -1 }

    /// A named position, -1 when missing.
    public func position(_ name: String) -> Int { positions[name] ?? -1 }
}
