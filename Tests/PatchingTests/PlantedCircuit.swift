import Foundation
import Patching
import Tensors
import Transformer

/// A hand-set attention-only model (normalization_type None, MLPs all zero) with one known circuit:
///   L0H0 ("copier") attends from every position to position `source` and writes that token into a
///        carrier subspace;
///   L1H1 ("mover") attends from each position to itself and moves the carrier into the output
///        subspace, the only one the unembedding reads: logit[t] = [token at `source` == t].
/// The other two heads are active and read the changed token (L0H1 attends to `source` too, L1H0
/// uniformly) but write only to a junk subspace nothing reads, so a method that credits every head
/// whose activation changed, or scores everything 0, fails. Attention depends on positions only, so
/// the logits are linear in every activation on the circuit's path.
enum Planted {
    static let V = 5, T = 4, source = 1, last = 3
    // residual stream: tokens [0, 5), positions [5, 9), carrier [9, 14), output [14, 19), junk [19, 24)
    static let tokenDims = 0, posDims = 5, carrier = 9, output = 14, junk = 19, D = 24, dh = 5
    static let big: Float = 40      // an attention score that puts weight 1 - 1e-17 on one key

    static func model() throws -> Transformer {
        let cfg = ModelConfig(n_layers: 2, d_model: D, n_heads: 2, d_head: dh, d_mlp: 4, n_ctx: T, d_vocab: V,
                              act_fn: "relu", normalization_type: nil)
        var p = Parameters(zerosFor: cfg)
        func set(_ name: String, _ shape: [Int], _ fill: (inout Tensor) -> Void) throws {
            var t = Tensor(zeros: shape)
            fill(&t)
            try p.set(name, t)
        }
        let s = Float(dh).squareRoot()
        try set("embed.W_E", [V, D]) { for t in 0..<V { $0[t, tokenDims + t] = 1 } }
        try set("pos_embed.W_pos", [T, D]) { for j in 0..<T { $0[j, posDims + j] = 1 } }
        // layer 0: both heads attend to `source` (constant query, key = its position); head 0 copies the
        // token into the carrier, head 1 into junk.
        try set("blocks.0.attn.b_Q", [2, dh]) { $0[0, 0] = 1; $0[1, 0] = 1 }
        try set("blocks.0.attn.W_K", [2, D, dh]) { $0[0, posDims + source, 0] = big * s; $0[1, posDims + source, 0] = big * s }
        try set("blocks.0.attn.W_V", [2, D, dh]) { for t in 0..<V { $0[0, tokenDims + t, t] = 1; $0[1, tokenDims + t, t] = 1 } }
        try set("blocks.0.attn.W_O", [2, dh, D]) { for t in 0..<V { $0[0, t, carrier + t] = 1; $0[1, t, junk + t] = 1 } }
        // layer 1: head 0 attends uniformly and writes tokens and carrier into junk; head 1 attends to
        // its own position (query and key both the position) and moves the carrier to the output.
        let c = (big * s).squareRoot()
        try set("blocks.1.attn.W_Q", [2, D, dh]) { for j in 0..<T { $0[1, posDims + j, j] = c } }
        try set("blocks.1.attn.W_K", [2, D, dh]) { for j in 0..<T { $0[1, posDims + j, j] = c } }
        try set("blocks.1.attn.W_V", [2, D, dh]) { for t in 0..<V { $0[0, tokenDims + t, t] = 1; $0[0, carrier + t, t] = 1; $0[1, carrier + t, t] = 1 } }
        try set("blocks.1.attn.W_O", [2, dh, D]) { for t in 0..<V { $0[0, t, junk + t] = 1; $0[1, t, output + t] = 1 } }
        try set("unembed.W_U", [D, V]) { for t in 0..<V { $0[output + t, t] = 1 } }
        return try Transformer(config: cfg, params: p)
    }

    /// Pairs that differ only in the token at `source`; the metric reads the last position; the clean
    /// answer is the clean token there, the wrong one the corrupted token.
    static func pairs() throws -> PatchPairs {
        let rows: [([Int32], Int32)] = [([0, 1, 2, 3], 4), ([4, 2, 2, 0], 3), ([3, 0, 1, 1], 2), ([2, 3, 4, 4], 0),
                                        ([1, 4, 0, 2], 1), ([0, 2, 3, 1], 0)]
        let clean = rows.map(\.0)
        let corrupted = rows.map { r -> [Int32] in var x = r.0; x[source] = r.1; return x }
        return try PatchPairs(clean: clean, corrupted: corrupted, position: [Int](repeating: last, count: rows.count),
                              correct: clean.map { $0[source] }, wrong: rows.map(\.1))
    }
}
