import Tensors
@testable import Transformer

/// A tiny model whose parameters are all non-trivial (biases and LayerNorm gains random too),
/// so that every term of every gradient is exercised.
func tinyModel(act: String = "gelu_new", seed: UInt64 = 7, dModel: Int = 8, heads: Int = 2, dHead: Int = 3,
               layers: Int = 2, vocab: Int = 11, ctx: Int = 6, normalization: String? = "LN") -> Transformer {
    let cfg = ModelConfig(n_layers: layers, d_model: dModel, n_heads: heads, d_head: dHead, d_mlp: 12,
                          n_ctx: ctx, d_vocab: vocab, act_fn: act, normalization_type: normalization, seed: seed)
    var m = try! Transformer(config: cfg)
    var rng = RNG(seed: seed &+ 100)
    for i in 0..<m.params.data.count { m.params.data[i] = Float(rng.normal()) * 0.4 }
    for e in m.params.layout.entries where e.name.hasSuffix(".w") {
        for i in 0..<e.count { m.params.data[e.offset + i] = 1 + Float(rng.normal()) * 0.2 }
    }
    return m
}

func randomTokens(_ m: Transformer, batch: Int, length: Int, seed: UInt64 = 3) -> [Int32] {
    var rng = RNG(seed: seed)
    return (0..<(batch * length)).map { _ in Int32(rng.int(m.config.d_vocab)) }
}

/// A fixed random linear metric of the logits: L = sum(R * logits), so d L / d logits = R.
func metricWeights(count: Int, seed: UInt64 = 11) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in Float(rng.normal()) }
}

func dot(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
    return s
}
