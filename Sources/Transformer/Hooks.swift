import Tensors

/// The hook points of CONTRACTS section 3, with TransformerLens's names and shapes.
public enum HookPoints {
    /// Every hook name of a model, in the order the forward pass reaches them.
    public static func names(_ c: ModelConfig) -> [String] {
        var n = ["hook_embed", "hook_pos_embed"]
        for l in 0..<c.n_layers {
            let p = "blocks.\(l)."
            n += [p + "hook_resid_pre", p + "ln1.hook_scale", p + "ln1.hook_normalized",
                  p + "attn.hook_q", p + "attn.hook_k", p + "attn.hook_v",
                  p + "attn.hook_attn_scores", p + "attn.hook_pattern", p + "attn.hook_z", p + "attn.hook_result",
                  p + "hook_attn_out", p + "hook_resid_mid", p + "ln2.hook_scale", p + "ln2.hook_normalized",
                  p + "mlp.hook_pre", p + "mlp.hook_post", p + "hook_mlp_out", p + "hook_resid_post"]
        }
        return n + ["ln_final.hook_scale", "ln_final.hook_normalized", "unembed.hook_out"]
    }

    /// TransformerLens shape of a hook's activation for a batch of `batch` sequences of `length` tokens.
    public static func shape(_ name: String, _ c: ModelConfig, batch B: Int, length T: Int) -> [Int]? {
        guard names(c).contains(name) else { return nil }
        let leaf = name.split(separator: ".").last.map(String.init) ?? name
        switch leaf {
        case "hook_scale": return [B, T, 1]
        case "hook_q", "hook_k", "hook_v", "hook_z": return [B, T, c.n_heads, c.d_head]
        case "hook_attn_scores", "hook_pattern": return [B, c.n_heads, T, T]
        case "hook_result": return [B, T, c.n_heads, c.d_model]
        case "hook_pre", "hook_post": return [B, T, c.d_mlp]
        case "hook_out": return [B, T, c.d_vocab]
        default: return [B, T, c.d_model]
        }
    }

    /// Which axis of a hook's activation is the (query) position, and which the head, if any.
    public static func axes(_ name: String) -> (position: Int, head: Int?) {
        if name.hasSuffix("hook_attn_scores") || name.hasSuffix("hook_pattern") { return (2, 1) }
        if name.hasSuffix(".hook_q") || name.hasSuffix(".hook_k") || name.hasSuffix(".hook_v")
            || name.hasSuffix(".hook_z") || name.hasSuffix(".hook_result") { return (1, 2) }
        return (1, nil)
    }

    /// Hook names matching any of the patterns (exact names, or globs with `*` and `?`; `*` crosses dots).
    public static func resolve(_ patterns: [String], _ c: ModelConfig) throws(ModelError) -> [String] {
        let all = names(c)
        var picked = Set<String>()
        for p in patterns {
            let hits = all.filter { glob(p, $0) }
            if hits.isEmpty { throw .unknownHook(p, available: all) }
            picked.formUnion(hits)
        }
        return all.filter { picked.contains($0) }
    }

    public static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// Reads and rewrites one activation before the rest of the forward pass uses it.
public struct Intervention: Sendable {
    public let apply: @Sendable (_ name: String, _ activation: inout Tensor) -> Void

    public init(_ apply: @escaping @Sendable (_ name: String, _ activation: inout Tensor) -> Void) { self.apply = apply }

    /// Replace the whole activation (shapes must match).
    public static func replace(with source: Tensor) -> Intervention {
        Intervention { _, a in
            precondition(a.shape == source.shape, "replace: \(a.shape) vs \(source.shape)")
            a = source
        }
    }

    public static var zero: Intervention { Intervention { _, a in a.data = [Float](repeating: 0, count: a.count) } }

    /// Copy the slice at the given (query) positions and/or heads from `source` (same shape) into the
    /// activation; nil means every position / head. This is activation patching.
    public static func patch(from source: Tensor, positions: [Int]? = nil, heads: [Int]? = nil) -> Intervention {
        Intervention { name, a in
            precondition(a.shape == source.shape, "patch: \(a.shape) vs \(source.shape)")
            let (posAxis, headAxis) = HookPoints.axes(name)
            let pos = Set(positions ?? Array(0..<a.shape[posAxis]))
            let hs = Set(heads ?? (headAxis.map { Array(0..<a.shape[$0]) } ?? [0]))
            let strides = a.strides
            var idx = [Int](repeating: 0, count: a.rank)
            for flat in 0..<a.count {
                var r = flat
                for ax in 0..<a.rank { idx[ax] = r / strides[ax]; r %= strides[ax] }
                if !pos.contains(idx[posAxis]) { continue }
                if let headAxis, !hs.contains(idx[headAxis]) { continue }
                a.data[flat] = source.data[flat]
            }
        }
    }
}

/// What a forward/backward pass should expose: activations to cache, activations to rewrite,
/// and activations whose gradients the backward pass should return.
public struct HookPlan: Sendable {
    public var cache: Set<String> = []
    public var interventions: [String: [Intervention]] = [:]
    public var gradients: Set<String> = []

    public init(cache: [String] = [], gradients: [String] = []) {
        self.cache = Set(cache)
        self.gradients = Set(gradients)
    }

    public mutating func intervene(_ hook: String, _ i: Intervention) { interventions[hook, default: []].append(i) }

    var touched: Set<String> { cache.union(interventions.keys) }

    /// Checks every named hook exists in a model of this config.
    func validate(_ c: ModelConfig) throws(ModelError) {
        let all = Set(HookPoints.names(c))
        for n in touched.union(gradients) where !all.contains(n) {
            throw .unknownHook(n, available: HookPoints.names(c))
        }
    }
}
