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
    public var normalization_type: String
    public var seed: UInt64

    public init(n_layers: Int, d_model: Int, n_heads: Int, d_head: Int, d_mlp: Int, n_ctx: Int,
                d_vocab: Int, act_fn: String = "gelu_new", eps: Double = 1e-5, seed: UInt64 = 0) {
        self.n_layers = n_layers; self.d_model = d_model; self.n_heads = n_heads; self.d_head = d_head
        self.d_mlp = d_mlp; self.n_ctx = n_ctx; self.d_vocab = d_vocab; self.act_fn = act_fn
        self.eps = eps; self.normalization_type = "LN"; self.seed = seed
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
        if normalization_type != "LN" { throw .invalidConfig("normalization_type must be \"LN\", got \"\(normalization_type)\"") }
        if !(eps > 0) { throw .invalidConfig("eps must be > 0, got \(eps)") }
    }

    /// The number of parameters (CONTRACTS section 2), or nil if it does not fit in an Int.
    public var parameterCount: Int? {
        let D = d_model, H = n_heads, dh = d_head, M = d_mlp
        let block = checkedSum(checkedProduct(4, D), checkedProduct(4, H, D, dh), checkedProduct(3, H, dh), D,
                               checkedProduct(2, D, M), M, D)
        return checkedSum(checkedProduct(d_vocab, D), checkedProduct(n_ctx, D), block.flatMap { checkedProduct(n_layers, $0) },
                          checkedProduct(2, D), checkedProduct(D, d_vocab), d_vocab)
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
