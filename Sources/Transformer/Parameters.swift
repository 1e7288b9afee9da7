/// Where each named parameter lives in one flat Float buffer. Names and shapes are TransformerLens's
/// state-dict (CONTRACTS section 2), in its order; row-major, so a safetensors file is a straight copy.
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// Weight matrices (W_E, W_pos, W_Q ... W_U) get weight decay; biases (b_Q is [n_heads, d_head],
        /// so rank alone does not tell) and LayerNorm gains do not.
        public var isMatrix: Bool { name.split(separator: ".").last?.hasPrefix("W_") ?? false }
    }

    public let entries: [Entry]
    public let totalCount: Int
    private let index: [String: Int]

    public init(_ c: ModelConfig) {
        var list: [(String, [Int])] = [("embed.W_E", [c.d_vocab, c.d_model]), ("pos_embed.W_pos", [c.n_ctx, c.d_model])]
        for l in 0..<max(c.n_layers, 0) {
            let p = "blocks.\(l)."
            if c.hasLayerNorm { list += [(p + "ln1.w", [c.d_model]), (p + "ln1.b", [c.d_model])] }
            list += [
                (p + "attn.W_Q", [c.n_heads, c.d_model, c.d_head]), (p + "attn.W_K", [c.n_heads, c.d_model, c.d_head]),
                (p + "attn.W_V", [c.n_heads, c.d_model, c.d_head]), (p + "attn.W_O", [c.n_heads, c.d_head, c.d_model]),
                (p + "attn.b_Q", [c.n_heads, c.d_head]), (p + "attn.b_K", [c.n_heads, c.d_head]),
                (p + "attn.b_V", [c.n_heads, c.d_head]), (p + "attn.b_O", [c.d_model]),
            ]
            if c.hasLayerNorm { list += [(p + "ln2.w", [c.d_model]), (p + "ln2.b", [c.d_model])] }
            list += [
                (p + "mlp.W_in", [c.d_model, c.d_mlp]), (p + "mlp.b_in", [c.d_mlp]),
                (p + "mlp.W_out", [c.d_mlp, c.d_model]), (p + "mlp.b_out", [c.d_model]),
            ]
        }
        if c.hasLayerNorm { list += [("ln_final.w", [c.d_model]), ("ln_final.b", [c.d_model])] }
        list += [("unembed.W_U", [c.d_model, c.d_vocab]), ("unembed.b_U", [c.d_vocab])]
        var offset = 0
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        for (name, shape) in list {
            index[name] = entries.count
            entries.append(Entry(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        self.entries = entries
        self.totalCount = offset
        self.index = index
    }

    public subscript(name: String) -> Entry? { index[name].map { entries[$0] } }

    /// Offset of a parameter that must exist (the engine's own names).
    func offset(_ name: String) -> Int { index[name].map { entries[$0].offset }! }
}

/// Named parameters (or gradients of them) in one flat buffer.
public struct Parameters: Sendable, Equatable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public var data: [Float]

    /// All zeros: the shape of gradients and Adam moments.
    public init(zerosFor config: ModelConfig) {
        self.config = config
        self.layout = ParameterLayout(config)
        self.data = [Float](repeating: 0, count: layout.totalCount)
    }

    /// GPT-2 initialisation: N(0, 0.02) weights, residual-output projections scaled by 1/sqrt(2 n_layers),
    /// zero biases, unit LayerNorm gains. Deterministic in `config.seed`.
    public init(initialFor config: ModelConfig) {
        self.init(zerosFor: config)
        var rng = RNG(seed: config.seed)
        let residualScale = Float(1 / (2 * Double(max(config.n_layers, 1))).squareRoot())
        for e in layout.entries {
            let leaf = e.name.split(separator: ".").last!
            if leaf == "w" {
                for i in 0..<e.count { data[e.offset + i] = 1 }
            } else if leaf.hasPrefix("W") {
                let std: Float = (leaf == "W_O" || leaf == "W_out") ? 0.02 * residualScale : 0.02
                for i in 0..<e.count { data[e.offset + i] = Float(rng.normal()) * std }
            }
        }
    }

    public func tensor(_ name: String) -> Tensor? {
        guard let e = layout[name] else { return nil }
        return Tensor(shape: e.shape, data: Array(data[e.offset..<e.offset + e.count]))
    }

    public mutating func set(_ name: String, _ t: Tensor) throws(ModelError) {
        guard let e = layout[name] else { throw .shapeMismatch("no parameter named \(name)") }
        guard t.shape == e.shape else { throw .shapeMismatch("\(name) is \(e.shape), got \(t.shape)") }
        data.replaceSubrange(e.offset..<e.offset + e.count, with: t.data)
    }

    public var count: Int { data.count }
}

import Tensors
