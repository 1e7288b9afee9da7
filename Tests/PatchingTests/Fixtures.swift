import Patching
import Tensors
import Transformer

/// A small random model whose weights are all non-trivial (LayerNorm gains and biases random too).
func randomModel(layers: Int = 2, dModel: Int = 8, heads: Int = 2, dHead: Int = 4, vocab: Int = 11, ctx: Int = 7,
                 normalization: String? = "LN", seed: UInt64 = 5) -> Transformer {
    let cfg = ModelConfig(n_layers: layers, d_model: dModel, n_heads: heads, d_head: dHead, d_mlp: 12, n_ctx: ctx,
                          d_vocab: vocab, act_fn: "gelu_new", normalization_type: normalization, seed: seed)
    var m = try! Transformer(config: cfg)
    var rng = RNG(seed: seed &+ 1)
    for i in 0..<m.params.data.count { m.params.data[i] = Float(rng.normal()) * 0.5 }
    for e in m.params.layout.entries where e.name.hasSuffix(".w") {
        for i in 0..<e.count { m.params.data[e.offset + i] = 1 + Float(rng.normal()) * 0.2 }
    }
    return m
}

/// Random clean prompts; each corrupted prompt changes two tokens; metric positions vary per pair.
func randomPairs(_ m: Transformer, count N: Int = 5, length T: Int = 6, seed: UInt64 = 9) -> PatchPairs {
    var rng = RNG(seed: seed)
    let V = m.config.d_vocab
    let clean = (0..<N).map { _ in (0..<T).map { _ in Int32(rng.int(V)) } }
    let corrupted = clean.map { row -> [Int32] in
        var r = row
        for _ in 0..<2 { let t = rng.int(T); r[t] = Int32((Int(r[t]) + 1 + rng.int(V - 1)) % V) }
        return r
    }
    let position = (0..<N).map { _ in T - 1 - rng.int(3) }
    let correct = (0..<N).map { _ in Int32(rng.int(V)) }
    let wrong = correct.map { Int32((Int($0) + 1 + rng.int(V - 1)) % V) }
    return try! PatchPairs(clean: clean, corrupted: corrupted, position: position, correct: correct, wrong: wrong)
}

/// The metric of every pair, computed directly from a logit tensor [N, T, V] (independent of the
/// library's metric code).
func directMetric(_ metric: PatchMetric, logits: Tensor, pairs: PatchPairs, cleanLogits: Tensor) -> [Double] {
    let V = logits.shape[2]
    func row(_ t: Tensor, _ i: Int) -> [Double] { (0..<V).map { Double(t[i, pairs.position[i], $0]) } }
    func logSoftmax(_ x: [Double]) -> [Double] {
        let m = x.max()!
        let lse = m + Foundation.log(x.map { Foundation.exp($0 - m) }.reduce(0, +))
        return x.map { $0 - lse }
    }
    return (0..<pairs.count).map { i in
        let l = row(logits, i), c = Int(pairs.correct[i]), w = Int(pairs.wrong[i])
        switch metric {
        case .logitDiff: return l[c] - l[w]
        case .logprob: return logSoftmax(l)[c]
        case .prob: return Foundation.exp(logSoftmax(l)[c])
        case .kl:
            let p = logSoftmax(row(cleanLogits, i)), q = logSoftmax(l)
            return (0..<V).reduce(0.0) { $0 + Foundation.exp(p[$1]) * (p[$1] - q[$1]) }
        }
    }
}

/// TransformerLens's generic_activation_patch, written the slow and obvious way: for every index a
/// full forward pass of the base run with one intervention copying the slice from the source run.
func naivePatch(_ m: Transformer, _ pairs: PatchPairs, _ kind: PatchKind, metric: PatchMetric = .logitDiff,
                direction: PatchDirection = .denoising, source sourceOverride: ((String) -> Tensor)? = nil) throws -> [Double] {
    let N = pairs.count, T = pairs.length, c = m.config
    let (hook, axes, setter) = kind.single!
    let sizes = axes.map { a -> Int in a == .layer ? c.n_layers : a == .head ? c.n_heads : T }
    let base = Array((direction == .denoising ? pairs.corrupted : pairs.clean).joined())
    let src = Array((direction == .denoising ? pairs.clean : pairs.corrupted).joined())
    let names = (0..<c.n_layers).map { hook.name(layer: $0) }
    let srcCache = try m.forward(tokens: src, batch: N, length: T, plan: HookPlan(cache: names)).cache
    let cleanLogits = try m.forward(tokens: Array(pairs.clean.joined()), batch: N, length: T).logits
    var out: [Double] = []
    for cell in 0..<sizes.reduce(1, *) {
        var idx = [Int](repeating: 0, count: sizes.count), r = cell
        for ax in stride(from: sizes.count - 1, through: 0, by: -1) { idx[ax] = r % sizes[ax]; r /= sizes[ax] }
        let name = names[idx[0]]
        let source = sourceOverride?(name) ?? srcCache[name]!
        let fixed = setter.slice(idx)
        var plan = HookPlan()
        plan.intervene(name, Intervention { _, a in
            // every element whose coordinates match the fixed ones
            let strides = a.strides
            for j in 0..<a.count {
                var ok = true
                for (ax, f) in fixed.enumerated() where f != nil && (j / strides[ax]) % a.shape[ax] != f! { ok = false }
                if ok { a.data[j] = source.data[j] }
            }
        })
        let logits = try m.forward(tokens: base, batch: N, length: T, plan: plan).logits
        let values = directMetric(metric, logits: logits, pairs: pairs, cleanLogits: cleanLogits)
        out.append(values.reduce(0, +) / Double(N))
    }
    return out
}

func maxDiff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

import Foundation
