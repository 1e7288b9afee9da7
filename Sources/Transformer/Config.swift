import Foundation
import Tensors

/// The model's shape, named exactly as TransformerLens's `HookedTransformerConfig` (CONTRACTS section 1),
/// so that `json.loads(metadata["config"])` can be passed straight to `HookedTransformerConfig(**cfg)`.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var n_layers: Int
    public var d_model: Int
    public var n_heads: Int
    public var d_head: Int
    public var d_mlp: Int
    public var n_ctx: Int
    public var d_vocab: Int
    public var act_fn: String
    public var eps: Double
    /// "LN", or nil for TransformerLens's `normalization_type: None`: no LayerNorm anywhere, so no
    /// `ln*` parameters and no `ln*.hook_*` hook points (as TransformerLens builds such a model). Hand-set
    /// circuits are written for this case, where every path is linear up to the attention softmax.
    public var normalization_type: String?
    public var seed: UInt64

    public init(n_layers: Int, d_model: Int, n_heads: Int, d_head: Int, d_mlp: Int, n_ctx: Int,
                d_vocab: Int, act_fn: String = "gelu_new", eps: Double = 1e-5, normalization_type: String? = "LN",
                seed: UInt64 = 0) {
        self.n_layers = n_layers; self.d_model = d_model; self.n_heads = n_heads; self.d_head = d_head
        self.d_mlp = d_mlp; self.n_ctx = n_ctx; self.d_vocab = d_vocab; self.act_fn = act_fn
        self.eps = eps; self.normalization_type = normalization_type; self.seed = seed
    }

    /// Whether the blocks and the unembedding have LayerNorms (TransformerLens "LN") or none (None).
    public var hasLayerNorm: Bool { normalization_type != nil }

    private enum CodingKeys: String, CodingKey {
        case n_layers, d_model, n_heads, d_head, d_mlp, n_ctx, d_vocab, act_fn, eps, normalization_type, seed
    }

    // Written by hand for one key: `normalization_type: None` must be written as JSON null, not left
    // out, because TransformerLens reads a missing key as its default "LN". A missing key reads as "LN"
    // here too (checkpoints written before None existed).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        n_layers = try c.decode(Int.self, forKey: .n_layers); d_model = try c.decode(Int.self, forKey: .d_model)
        n_heads = try c.decode(Int.self, forKey: .n_heads); d_head = try c.decode(Int.self, forKey: .d_head)
        d_mlp = try c.decode(Int.self, forKey: .d_mlp); n_ctx = try c.decode(Int.self, forKey: .n_ctx)
        d_vocab = try c.decode(Int.self, forKey: .d_vocab); act_fn = try c.decode(String.self, forKey: .act_fn)
        eps = try c.decode(Double.self, forKey: .eps); seed = try c.decode(UInt64.self, forKey: .seed)
        normalization_type = c.contains(.normalization_type) ? try c.decodeNil(forKey: .normalization_type) ? nil
            : c.decode(String.self, forKey: .normalization_type) : "LN"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(n_layers, forKey: .n_layers); try c.encode(d_model, forKey: .d_model)
        try c.encode(n_heads, forKey: .n_heads); try c.encode(d_head, forKey: .d_head)
        try c.encode(d_mlp, forKey: .d_mlp); try c.encode(n_ctx, forKey: .n_ctx); try c.encode(d_vocab, forKey: .d_vocab)
        try c.encode(act_fn, forKey: .act_fn); try c.encode(eps, forKey: .eps); try c.encode(seed, forKey: .seed)
        if let n = normalization_type { try c.encode(n, forKey: .normalization_type) } else { try c.encodeNil(forKey: .normalization_type) }
    }

    public static let activations = ["gelu_new", "gelu", "relu"]

    /// Checks every size. d_model == n_heads * d_head is not required (as in TransformerLens).
    public func validate() throws(ModelError) {
        let sizes: [(String, Int)] = [("n_layers", n_layers), ("d_model", d_model), ("n_heads", n_heads),
                                      ("d_head", d_head), ("d_mlp", d_mlp), ("n_ctx", n_ctx), ("d_vocab", d_vocab)]
        for (name, v) in sizes where v <= 0 {
            throw .invalidConfig("\(name) must be > 0, got \(v)")
        }
        // Counted with overflow checks before any layout is built (n_layers 1e9 or d_model 2^62 must be
        // an error, not a trap or a billion-entry table): parameters, gradients and two Adam moments.
        let bytes = parameterCount.flatMap { checkedProduct($0, 16) }
        guard let bytes, bytes <= Machine.workingSetBytes else {
            throw .invalidConfig("model has \(parameterCount.map(String.init) ?? "more than 2^63") parameters; with gradients and Adam "
                                 + "state that is more than half of this machine's \(Machine.gib(Machine.memoryBytes))")
        }
        if !ModelConfig.activations.contains(act_fn) {
            throw .invalidConfig("act_fn must be one of \(ModelConfig.activations.joined(separator: ", ")), got \"\(act_fn)\"")
        }
        if let n = normalization_type, n != "LN" {
            throw .invalidConfig("normalization_type must be \"LN\" or null (TransformerLens's None), got \"\(n)\"")
        }
        if !(eps > 0) { throw .invalidConfig("eps must be > 0, got \(eps)") }
    }

    /// The number of parameters (CONTRACTS section 2), or nil if it does not fit in an Int.
    public var parameterCount: Int? {
        let D = d_model, H = n_heads, dh = d_head, M = d_mlp
        let lnParams = hasLayerNorm ? 1 : 0
        let block = checkedSum(checkedProduct(4 * lnParams, D), checkedProduct(4, H, D, dh), checkedProduct(3, H, dh), D,
                               checkedProduct(2, D, M), M, D)
        return checkedSum(checkedProduct(d_vocab, D), checkedProduct(n_ctx, D), block.flatMap { checkedProduct(n_layers, $0) },
                          checkedProduct(2 * lnParams, D), checkedProduct(D, d_vocab), d_vocab)
    }

    /// Bytes of activations a training step over `batch` sequences of `length` tokens keeps, or nil if the
    /// count does not fit in an Int: floats per token as llm.c counts them (residual stream, LayerNorms,
    /// q/k/v/z, attention scores and pattern, MLP pre/post, logits), twice for the backward pass's scratch.
    public func trainingActivationBytes(batch: Int, length T: Int) -> Int? {
        let perLayer = checkedSum(checkedProduct(16, d_model), checkedProduct(3, d_mlp), checkedProduct(2, n_heads, T),
                                  checkedProduct(4, n_heads, d_head))
        let perToken = checkedSum(perLayer.flatMap { checkedProduct(n_layers, $0) }, checkedProduct(4, d_model), checkedProduct(2, d_vocab))
        return perToken.flatMap { checkedProduct($0, 2 * 4, batch, T) }
    }

    /// Checks that sequences of a given length fit the positional embedding.
    public func checkFits(length: Int) throws(ModelError) {
        if length > n_ctx { throw .invalidConfig("sequence length \(length) exceeds n_ctx \(n_ctx)") }
        if length <= 0 { throw .invalidConfig("sequence length must be > 0") }
    }

    public func jsonString() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }
}

/// Every failure of the engine, as one line a user can act on.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case unknownHook(String, available: [String])
    case shapeMismatch(String)
    case checkpoint(path: String, problem: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid model config: \(m)"
        case .unknownHook(let name, let available):
            let shown = available.prefix(12).joined(separator: ", ")
            return "unknown hook \"\(name)\"; available: \(shown)\(available.count > 12 ? ", ..." : "")"
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .checkpoint(let path, let problem): return "\(path): \(problem)"
        case .unsupported(let m): return "unsupported: \(m)"
        }
    }
}
