import Transformer

/// TransformerLens's patch kinds (`get_act_patch_<kind>`, with `attn_head_` shortened to `head_`),
/// plus `resid_post`, which TransformerLens lacks. Each single kind is one line: the hook it patches,
/// the axes it iterates and the setter; the `*_every` kinds stack single kinds.
public enum PatchKind: String, Sendable, Codable, CaseIterable {
    case residPre = "resid_pre", residMid = "resid_mid", residPost = "resid_post"
    case attnOut = "attn_out", mlpOut = "mlp_out"
    case headOutByPos = "head_out_by_pos", headQByPos = "head_q_by_pos", headKByPos = "head_k_by_pos"
    case headVByPos = "head_v_by_pos", headPatternByPos = "head_pattern_by_pos"
    case headOutAllPos = "head_out_all_pos", headQAllPos = "head_q_all_pos", headKAllPos = "head_k_all_pos"
    case headVAllPos = "head_v_all_pos", headPatternAllPos = "head_pattern_all_pos"
    case headPatternDestSrcPos = "head_pattern_dest_src_pos"
    case blockEvery = "block_every", headAllPosEvery = "head_all_pos_every", headByPosEvery = "head_by_pos_every"

    /// hook, axes, setter of a single kind; nil for the stacked `*_every` kinds.
    public var single: (hook: Hook, axes: [PatchAxis], setter: PatchSetter)? {
        switch self {
        case .residPre:              (.residPre, [.layer, .pos], .layerPos)
        case .residMid:              (.residMid, [.layer, .pos], .layerPos)
        case .residPost:             (.residPost, [.layer, .pos], .layerPos)
        case .attnOut:               (.attnOut, [.layer, .pos], .layerPos)
        case .mlpOut:                (.mlpOut, [.layer, .pos], .layerPos)
        case .headOutByPos:          (.z, [.layer, .pos, .head], .layerPosHeadVector)
        case .headQByPos:            (.q, [.layer, .pos, .head], .layerPosHeadVector)
        case .headKByPos:            (.k, [.layer, .pos, .head], .layerPosHeadVector)
        case .headVByPos:            (.v, [.layer, .pos, .head], .layerPosHeadVector)
        case .headPatternByPos:      (.pattern, [.layer, .head, .destPos], .layerHeadPosPattern)
        case .headOutAllPos:         (.z, [.layer, .head], .layerHeadVector)
        case .headQAllPos:           (.q, [.layer, .head], .layerHeadVector)
        case .headKAllPos:           (.k, [.layer, .head], .layerHeadVector)
        case .headVAllPos:           (.v, [.layer, .head], .layerHeadVector)
        case .headPatternAllPos:     (.pattern, [.layer, .head], .layerHeadPattern)
        case .headPatternDestSrcPos: (.pattern, [.layer, .head, .destPos, .srcPos], .layerHeadDestSrcPattern)
        case .blockEvery, .headAllPosEvery, .headByPosEvery: nil
        }
    }

    /// Whether the output has no position axis ([layer, head] and its stacks): such results mean the same on
    /// every prompt layout, so pairs of different layouts pool.
    public var positionFree: Bool {
        if let s = single { return !s.axes.contains { $0 == .pos || $0 == .destPos || $0 == .srcPos } }
        return parts.allSatisfy(\.positionFree)
    }

    /// The kinds a stacked kind is made of, in TransformerLens's order (the leading axis of its output).
    public var parts: [PatchKind] {
        switch self {
        case .blockEvery: [.residPre, .attnOut, .mlpOut]
        case .headAllPosEvery: [.headOutAllPos, .headQAllPos, .headKAllPos, .headVAllPos, .headPatternAllPos]
        case .headByPosEvery: [.headOutByPos, .headQByPos, .headKByPos, .headVByPos, .headPatternByPos]
        default: [self]
        }
    }

    /// The kind of a name, or a typed error listing the names.
    public static func named(_ name: String) throws(PatchError) -> PatchKind {
        guard let k = PatchKind(rawValue: name) else { throw .unknownKind(name, available: allCases.map(\.rawValue)) }
        return k
    }

    /// The output shape for a model and prompt length (TransformerLens's).
    public func shape(_ c: ModelConfig, length T: Int) -> [Int] {
        if let s = single { return s.axes.map { $0.size(c, length: T) } }
        let part = parts[0].shape(c, length: T)
        return [parts.count] + part
    }
}

extension PatchAxis {
    func size(_ c: ModelConfig, length T: Int) -> Int {
        switch self {
        case .layer: c.n_layers
        case .pos, .destPos, .srcPos: T
        case .head: c.n_heads
        }
    }
}
