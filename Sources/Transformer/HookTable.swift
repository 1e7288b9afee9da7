// The one table of hook points. Every fact about a hook (its TransformerLens name, its shape and axes,
// the forward step that computes it, the buffer that holds it) is declared here once; the hook names
// of a model, `HookPoints.shape/axes`, the forward pass's stages, the buffer lookups of a pass and the
// backward pass's gradient outputs all derive from it.

/// Every hook point, in the order a forward pass fires them (CONTRACTS section 3). The raw value is
/// TransformerLens's name; block hooks are named within their block (`blocks.{l}.` goes before it).
public enum Hook: String, CaseIterable, Sendable {
    case embed = "hook_embed", posEmbed = "hook_pos_embed"
    case residPre = "hook_resid_pre"
    case ln1Scale = "ln1.hook_scale", ln1Normalized = "ln1.hook_normalized"
    case q = "attn.hook_q", k = "attn.hook_k", v = "attn.hook_v"
    case attnScores = "attn.hook_attn_scores", pattern = "attn.hook_pattern"
    case z = "attn.hook_z", result = "attn.hook_result"
    case attnOut = "hook_attn_out", residMid = "hook_resid_mid"
    case ln2Scale = "ln2.hook_scale", ln2Normalized = "ln2.hook_normalized"
    case mlpPre = "mlp.hook_pre", mlpPost = "mlp.hook_post", mlpOut = "hook_mlp_out"
    case residPost = "hook_resid_post"
    case lnFinalScale = "ln_final.hook_scale", lnFinalNormalized = "ln_final.hook_normalized"
    case unembedIn = "unembed.hook_in", logits = "unembed.hook_out"

    /// The table: shape, the step that computes the activation, and where a pass keeps it.
    var point: HookPoint {
        switch self {
        case .embed:             HookPoint(.stream, .embed, .model(\.embed))
        case .posEmbed:          HookPoint(.stream, .embed, .model(\.posEmbed))
        case .residPre:          HookPoint(.stream, .residPre, .block(\.residPre))
        case .ln1Scale:          HookPoint(.scale, .ln1Scale, .block(\.ln1Scale))
        case .ln1Normalized:     HookPoint(.stream, .ln1Normalized, .block(\.ln1Norm))
        case .q:                 HookPoint(.perHead, .qkv, .block(\.q))
        case .k:                 HookPoint(.perHead, .qkv, .block(\.k))
        case .v:                 HookPoint(.perHead, .qkv, .block(\.v))
        case .attnScores:        HookPoint(.pattern, .attnScores, .block(\.scores))
        case .pattern:           HookPoint(.pattern, .pattern, .block(\.pattern))
        case .z:                 HookPoint(.perHead, .z, .block(\.z))
        case .result:            HookPoint(.perHeadOutput, .headResults, .blockWhenInUse(\.result))
        case .attnOut:           HookPoint(.stream, .attnOut, .block(\.attnOut))
        case .residMid:          HookPoint(.stream, .residMid, .block(\.residMid))
        case .ln2Scale:          HookPoint(.scale, .ln2Scale, .block(\.ln2Scale))
        case .ln2Normalized:     HookPoint(.stream, .ln2Normalized, .block(\.ln2Norm))
        case .mlpPre:            HookPoint(.mlp, .mlpPre, .block(\.mlpPre))
        case .mlpPost:           HookPoint(.mlp, .mlpPost, .block(\.mlpPost))
        case .mlpOut:            HookPoint(.stream, .mlpOut, .block(\.mlpOut))
        case .residPost:         HookPoint(.stream, .residPost, .block(\.residPost))
        case .lnFinalScale:      HookPoint(.scale, .lnFinalScale, .model(\.lnfScale))
        case .lnFinalNormalized: HookPoint(.stream, .lnFinalNormalized, .model(\.lnfNorm))
        case .unembedIn:         HookPoint(.stream, .lnFinalOut, .model(\.lnfOut))
        case .logits:            HookPoint(.vocab, .logits, .model(\.logits))
        }
    }

    /// Whether the hook sits inside every block (`blocks.{l}.` + raw value) or once per model.
    public var inBlock: Bool { point.step.inBlock }

    /// Whether a model of this config has the hook: without LayerNorm (`normalization_type` None) the
    /// `ln*.hook_scale` / `hook_normalized` points do not exist, as in TransformerLens.
    public func exists(in c: ModelConfig) -> Bool {
        switch self {
        case .ln1Scale, .ln1Normalized, .ln2Scale, .ln2Normalized, .lnFinalScale, .lnFinalNormalized: c.hasLayerNorm
        default: true
        }
    }

    /// The hook's full name in layer `layer` (ignored for model-level hooks).
    public func name(layer: Int) -> String { inBlock ? "blocks.\(layer).\(rawValue)" : rawValue }
}

/// One row of the table.
struct HookPoint: Sendable {
    let shape: HookShape
    let step: Step
    let storage: HookStorage
    init(_ shape: HookShape, _ step: Step, _ storage: HookStorage) {
        self.shape = shape; self.step = step; self.storage = storage
    }
}

/// The TransformerLens shapes a hook can have (batch first), and where its position and head axes are.
public enum HookShape: Sendable {
    case stream          // [batch, pos, d_model]
    case scale           // [batch, pos, 1]
    case perHead         // [batch, pos, n_heads, d_head]
    case perHeadOutput   // [batch, pos, n_heads, d_model]
    case pattern         // [batch, n_heads, query_pos, key_pos]
    case mlp             // [batch, pos, d_mlp]
    case vocab           // [batch, pos, d_vocab]

    public func dims(_ c: ModelConfig, batch B: Int, length T: Int) -> [Int] {
        switch self {
        case .stream: [B, T, c.d_model]
        case .scale: [B, T, 1]
        case .perHead: [B, T, c.n_heads, c.d_head]
        case .perHeadOutput: [B, T, c.n_heads, c.d_model]
        case .pattern: [B, c.n_heads, T, T]
        case .mlp: [B, T, c.d_mlp]
        case .vocab: [B, T, c.d_vocab]
        }
    }

    /// The (query) position axis.
    public var positionAxis: Int { self == .pattern ? 2 : 1 }

    /// The head axis, or nil for hooks without one.
    public var headAxis: Int? {
        switch self {
        case .perHead, .perHeadOutput: 2
        case .pattern: 1
        case .stream, .scale, .mlp, .vocab: nil
        }
    }
}

/// Where a pass keeps a hook's activation. `hook_result` exists only when a plan uses it
/// (TransformerLens's `use_attn_result`), so its buffer is optional.
enum HookStorage: Sendable {
    case model(KeyPath<ForwardState, Buffer> & Sendable)
    case block(KeyPath<LayerActivations, Buffer> & Sendable)
    case blockWhenInUse(KeyPath<LayerActivations, Buffer?> & Sendable)
}

/// The steps of the forward pass, each named for what it computes; in firing order within its scope.
/// Hooks sharing a step (hook_embed and hook_pos_embed; hook_q, hook_k, hook_v) fire after it, in table order.
enum Step: Sendable, Equatable {
    case embed                                   // token and position embeddings
    case residPre, ln1Scale, ln1Normalized       // the block's input and its LayerNorm statistics
    case qkv                                     // ln1's affine output projected to q, k, v
    case attnScores, pattern, z                  // q.k scaled and masked; softmax; pattern-weighted v
    case headResults, attnOut, residMid          // each head's z W_O; their sum + b_O; the residual
    case ln2Scale, ln2Normalized                 // the MLP's LayerNorm statistics
    case mlpPre, mlpPost, mlpOut, residPost      // ln2's affine output through W_in, act_fn, W_out
    case lnFinalScale, lnFinalNormalized         // the final LayerNorm's statistics
    case lnFinalOut, logits                      // its affine output (unembed.hook_in); the unembedding

    var inBlock: Bool {
        switch self {
        case .embed, .lnFinalScale, .lnFinalNormalized, .lnFinalOut, .logits: false
        default: true
        }
    }
}

/// One step of a model's forward pass, in a layer, with the hooks it fires (full names).
struct Stage: Sendable {
    let step: Step
    let layer: Int
    let hooks: [(hook: Hook, name: String)]

    /// The whole pass for a config: steps before the blocks, each block's, then those after, each with
    /// the hooks that fire after it. Without LayerNorm its statistics steps are absent; the steps that
    /// would apply its affine output (`qkv`, `mlpPre`, `lnFinalOut`) pass the residual through instead.
    static func all(_ c: ModelConfig) -> [Stage] {
        let hooks = Hook.allCases.filter { $0.exists(in: c) }
        let before = hooks.prefix { !$0.inBlock }
        let block = hooks.filter(\.inBlock)
        let after = hooks.reversed().prefix { !$0.inBlock }.reversed()
        func stages(_ hooks: some Sequence<Hook>, layer: Int) -> [Stage] {
            var out: [Stage] = []
            for h in hooks {
                let entry = (hook: h, name: h.name(layer: layer))
                if let last = out.last, last.step == h.point.step {
                    out[out.count - 1] = Stage(step: last.step, layer: layer, hooks: last.hooks + [entry])
                } else {
                    out.append(Stage(step: h.point.step, layer: layer, hooks: [entry]))
                }
            }
            return out
        }
        return stages(before, layer: 0) + (0..<c.n_layers).flatMap { stages(block, layer: $0) } + stages(after, layer: 0)
    }
}
