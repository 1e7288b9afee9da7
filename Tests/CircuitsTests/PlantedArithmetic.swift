import Patching
import Tensors
import Transformer

/// A hand-set 2-layer, 3-head model (no LayerNorm, relu MLPs) with one known circuit of three edges,
/// and five heads and one MLP that are active, see the changed token, and write only to a junk subspace
/// that nothing on the way to the logits reads:
///
///   a0.h0  the mover: attends from every position to `source` (constant query from b_Q, keys from the
///          position embedding, score `big`) and copies that token into the carrier subspace.
///   m0     the reader: neuron t reads carrier t plus the offset layer 0's b_O puts on every carrier
///          dimension, so its pre-activation is 1 or 2, never near relu's kink; it writes
///          relu(pre) - 1 (b_out) into the output subspace, the only one W_U reads. So at the last
///          position logit[t] = [token at `source` == t]: the logit difference is 1 clean, -1 corrupted.
///          Its other six neurons read the tokens and write junk (so input->m0 carries a change).
///   inert  a0.h1 (attention by token identity, values = tokens), a0.h2 (attends to `source` like the
///          mover: the same operand, sent to junk), a1.h0 (attends to itself, values = the carrier),
///          a1.h1 (attention by token identity, values = junk and the output subspace), a1.h2 (uniform,
///          values = tokens), m1 (reads carrier, output, tokens and junk): all write junk only.
///
/// Attention patterns of the mover depend on positions only, which both runs share, so its q and k
/// inputs never change, and every map on the path (v, W_O, m0 above its kink, W_U) is linear.
/// The circuit is therefore exactly input->a0.h0<v>, a0.h0->m0, m0->logits (see `truth`).
enum PlantedArithmetic {
    static let V = 6, T = 4, source = 1, last = 3, H = 3, L = 2
    // residual stream: tokens [0, 6), positions [6, 10), carrier [10, 16), output [16, 22), junk [22, 32)
    static let tok = 0, pos = 6, carrier = 10, output = 16, junk = 22, D = 32, dh = 6, dMLP = 12
    static let big: Float = 40      // an attention score that puts weight 1 - 1e-17 (1 in Float) on one key

    /// The edges of the planted circuit, in EAP-IG's names.
    static let truth: Set<String> = ["input->a0.h0<v>", "a0.h0->m0", "m0->logits"]

    static var config: ModelConfig {
        ModelConfig(n_layers: L, d_model: D, n_heads: H, d_head: dh, d_mlp: dMLP, n_ctx: T, d_vocab: V,
                    act_fn: "relu", normalization_type: nil)
    }

    /// `offset`: what layer 0's b_O adds to each carrier dimension (0 puts the reader's neurons of the
    /// absent tokens exactly at relu's kink). `carrierReader: false` zeroes m0's carrier neurons (the
    /// negative control: every other component as before, nothing reaches the logits).
    static func model(offset: Float = 1, carrierReader: Bool = true) throws -> Transformer {
        var p = Parameters(zerosFor: config)
        func set(_ name: String, _ shape: [Int], _ fill: (inout Tensor) -> Void) throws {
            var t = Tensor(zeros: shape)
            fill(&t)
            try p.set(name, t)
        }
        let s = Float(dh).squareRoot()
        let onSelf = (big * s).squareRoot()     // q = k = onSelf * one-hot(position): score big on itself
        try set("embed.W_E", [V, D]) { for t in 0..<V { $0[t, tok + t] = 1 } }
        try set("pos_embed.W_pos", [T, D]) { for j in 0..<T { $0[j, pos + j] = 1 } }

        // Layer 0. h0 and h2: constant query (b_Q), key = position `source`. h1: query and key = the token
        // one-hot, so its pattern changes with the token at `source`.
        try set("blocks.0.attn.b_Q", [H, dh]) { $0[0, 0] = 1; $0[2, 0] = 1 }
        try set("blocks.0.attn.W_Q", [H, D, dh]) { for t in 0..<V { $0[1, tok + t, t] = 2 } }
        try set("blocks.0.attn.W_K", [H, D, dh]) {
            $0[0, pos + source, 0] = big * s; $0[2, pos + source, 0] = big * s
            for t in 0..<V { $0[1, tok + t, t] = 2 }
        }
        try set("blocks.0.attn.W_V", [H, D, dh]) { for h in 0..<H { for t in 0..<V { $0[h, tok + t, t] = 1 } } }
        try set("blocks.0.attn.W_O", [H, dh, D]) {
            for t in 0..<V { $0[0, t, carrier + t] = 1; $0[1, t, junk + t] = 1; $0[2, t, junk + 4 + t] = 1 }
        }
        try set("blocks.0.attn.b_O", [D]) { for t in 0..<V { $0[carrier + t] = offset } }
        // m0: neurons 0..<V read the carrier and write the output; neurons V..<2V read the tokens (active on
        // the present token only) and write junk.
        try set("blocks.0.mlp.W_in", [D, dMLP]) {
            for t in 0..<V { if carrierReader { $0[carrier + t, t] = 1 }; $0[tok + t, V + t] = 1 }
        }
        try set("blocks.0.mlp.b_in", [dMLP]) { for t in 0..<V { $0[V + t] = -0.5 } }
        try set("blocks.0.mlp.W_out", [dMLP, D]) {
            for t in 0..<V { if carrierReader { $0[t, output + t] = 1 }; $0[V + t, junk + t] = 1 }
        }
        try set("blocks.0.mlp.b_out", [D]) { for t in 0..<V where carrierReader { $0[output + t] = -offset } }

        // Layer 1, all inert. h0 attends to itself, h1 by token identity, h2 uniformly (q = k = 0).
        try set("blocks.1.attn.W_Q", [H, D, dh]) {
            for j in 0..<T { $0[0, pos + j, j] = onSelf }
            for t in 0..<V { $0[1, tok + t, t] = 2 }
        }
        try set("blocks.1.attn.W_K", [H, D, dh]) {
            for j in 0..<T { $0[0, pos + j, j] = onSelf }
            for t in 0..<V { $0[1, tok + t, t] = 2 }
        }
        try set("blocks.1.attn.W_V", [H, D, dh]) {
            for t in 0..<V {
                $0[0, carrier + t, t] = 1
                $0[1, junk + t, t] = 1; $0[1, output + t, t] = 1
                $0[2, tok + t, t] = 1
            }
        }
        try set("blocks.1.attn.W_O", [H, dh, D]) {
            for t in 0..<V { $0[0, t, junk + t] = 1; $0[1, t, junk + 4 + t] = 2; $0[2, t, junk + 2 + t] = -1 }
        }
        try set("blocks.1.attn.b_O", [D]) { $0[junk + 9] = 0.25 }
        // m1: neurons 0..<V read carrier + output, V..<2V read tokens and junk; everything to junk.
        try set("blocks.1.mlp.W_in", [D, dMLP]) {
            for t in 0..<V { $0[carrier + t, t] = 1; $0[output + t, t] = 1; $0[tok + t, V + t] = 1; $0[junk + t, V + t] = 0.5 }
        }
        try set("blocks.1.mlp.b_in", [dMLP]) { for n in 0..<dMLP { $0[n] = -0.25 } }
        try set("blocks.1.mlp.W_out", [dMLP, D]) { for n in 0..<dMLP { $0[n, junk + n % 10] = 1 } }
        try set("blocks.1.mlp.b_out", [D]) { $0[junk + 3] = 0.5 }

        try set("unembed.W_U", [D, V]) { for t in 0..<V { $0[output + t, t] = 1 } }
        return try Transformer(config: config, params: p)
    }

    /// Pairs that differ only in the token at `source` (the operand); the metric reads the last position;
    /// the clean answer is the clean operand, the wrong one the corrupted operand.
    static func pairs() throws -> PatchPairs {
        let rows: [([Int32], Int32)] = [([0, 1, 2, 3], 4), ([4, 2, 1, 0], 3), ([3, 0, 1, 1], 5), ([2, 5, 4, 4], 0),
                                        ([1, 4, 0, 2], 1), ([5, 2, 3, 1], 0)]
        let clean = rows.map(\.0)
        let corrupted = rows.map { r -> [Int32] in var x = r.0; x[source] = r.1; return x }
        return try PatchPairs(clean: clean, corrupted: corrupted, position: [Int](repeating: last, count: rows.count),
                              correct: clean.map { $0[source] }, wrong: rows.map(\.1))
    }

    /// The writers other than the input and the circuit's a0.h0 and m0 (writer index 1 + l (H + 1) + h
    /// for a head, 1 + l (H + 1) + H for an MLP), with their names.
    static let inertWriters: [(name: String, index: Int)] = [
        ("a0.h1", 2), ("a0.h2", 3), ("a1.h0", 5), ("a1.h1", 6), ("a1.h2", 7), ("m1", 8),
    ]
}
