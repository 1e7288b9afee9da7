import Foundation
import Tensors
@testable import Transformer

/// An independent, deliberately naive forward pass in Double, written from TransformerLens's
/// definitions (not from the engine's kernels): it returns every hook activation by name.
func referenceForward(_ m: Transformer, tokens: [Int32], B: Int, T: Int) -> [String: [Double]] {
    let c = m.config, D = c.d_model, H = c.n_heads, dh = c.d_head, M = c.d_mlp, V = c.d_vocab
    func p(_ n: String) -> [Double] { m.params.tensor(n)!.data.map(Double.init) }
    var acts: [String: [Double]] = [:]
    // TransformerLens: hook_scale = sqrt(var + eps), hook_normalized = (x - mean) / scale (before w, b).
    // Without LayerNorm (normalization_type None) the input passes through and no ln hook exists.
    func layerNorm(_ x: [Double], _ w: @autoclosure () -> [Double], _ b: @autoclosure () -> [Double]) -> (scale: [Double], normalized: [Double], out: [Double]) {
        guard c.hasLayerNorm else { return ([], [], x) }
        let w = w(), b = b()
        var scale = [Double](repeating: 0, count: B * T), out = x, normalized = x
        for r in 0..<(B * T) {
            let row = Array(x[(r * D)..<((r + 1) * D)])
            let mean = row.reduce(0, +) / Double(D)
            let centred = row.map { $0 - mean }
            let s = (centred.map { $0 * $0 }.reduce(0, +) / Double(D) + c.eps).squareRoot()
            scale[r] = s
            for d in 0..<D { normalized[r * D + d] = centred[d] / s; out[r * D + d] = centred[d] / s * w[d] + b[d] }
        }
        return (scale, normalized, out)
    }
    func act(_ x: Double) -> Double {
        switch c.act_fn {
        case "relu": return max(x, 0)
        case "gelu": return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        default: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        }
    }
    let WE = p("embed.W_E"), Wpos = p("pos_embed.W_pos")
    var embed = [Double](repeating: 0, count: B * T * D), pos = embed
    for b in 0..<B { for t in 0..<T { for d in 0..<D {
        embed[(b * T + t) * D + d] = WE[Int(tokens[b * T + t]) * D + d]
        pos[(b * T + t) * D + d] = Wpos[t * D + d]
    } } }
    acts["hook_embed"] = embed; acts["hook_pos_embed"] = pos
    var resid = zip(embed, pos).map { $0 + $1 }
    for l in 0..<c.n_layers {
        let pre = "blocks.\(l)."
        acts[pre + "hook_resid_pre"] = resid
        let (s1, h1, n1) = layerNorm(resid, p(pre + "ln1.w"), p(pre + "ln1.b"))
        if c.hasLayerNorm { acts[pre + "ln1.hook_scale"] = s1; acts[pre + "ln1.hook_normalized"] = h1 }
        // q/k/v [B, T, H, dh] = einsum("btd,hde->bthe") + b
        func project(_ W: [Double], _ bias: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: B * T * H * dh)
            for r in 0..<(B * T) { for h in 0..<H { for e in 0..<dh {
                var s = bias[h * dh + e]
                for d in 0..<D { s += n1[r * D + d] * W[(h * D + d) * dh + e] }
                out[(r * H + h) * dh + e] = s
            } } }
            return out
        }
        let q = project(p(pre + "attn.W_Q"), p(pre + "attn.b_Q"))
        let k = project(p(pre + "attn.W_K"), p(pre + "attn.b_K"))
        let v = project(p(pre + "attn.W_V"), p(pre + "attn.b_V"))
        acts[pre + "attn.hook_q"] = q; acts[pre + "attn.hook_k"] = k; acts[pre + "attn.hook_v"] = v
        var scores = [Double](repeating: 0, count: B * H * T * T), pattern = scores
        var z = [Double](repeating: 0, count: B * T * H * dh)
        for b in 0..<B { for h in 0..<H {
            for i in 0..<T {
                for j in 0..<T {
                    var s = 0.0
                    for e in 0..<dh { s += q[((b * T + i) * H + h) * dh + e] * k[((b * T + j) * H + h) * dh + e] }
                    scores[((b * H + h) * T + i) * T + j] = j <= i ? s / Double(dh).squareRoot() : -Double.infinity
                }
                let row = (0...i).map { scores[((b * H + h) * T + i) * T + $0] }
                let mx = row.max()!
                let ex = row.map { exp($0 - mx) }
                let sum = ex.reduce(0, +)
                for j in 0...i { pattern[((b * H + h) * T + i) * T + j] = ex[j] / sum }
                for e in 0..<dh {
                    var s = 0.0
                    for j in 0...i { s += pattern[((b * H + h) * T + i) * T + j] * v[((b * T + j) * H + h) * dh + e] }
                    z[((b * T + i) * H + h) * dh + e] = s
                }
            }
        } }
        acts[pre + "attn.hook_attn_scores"] = scores; acts[pre + "attn.hook_pattern"] = pattern; acts[pre + "attn.hook_z"] = z
        let WO = p(pre + "attn.W_O"), bO = p(pre + "attn.b_O")
        var result = [Double](repeating: 0, count: B * T * H * D)
        var attnOut = [Double](repeating: 0, count: B * T * D)
        for r in 0..<(B * T) { for d in 0..<D {
            var total = bO[d]
            for h in 0..<H {
                var s = 0.0
                for e in 0..<dh { s += z[(r * H + h) * dh + e] * WO[(h * dh + e) * D + d] }
                result[(r * H + h) * D + d] = s
                total += s
            }
            attnOut[r * D + d] = total
        } }
        acts[pre + "attn.hook_result"] = result; acts[pre + "hook_attn_out"] = attnOut
        resid = zip(resid, attnOut).map { $0 + $1 }
        acts[pre + "hook_resid_mid"] = resid
        let (s2, h2, n2) = layerNorm(resid, p(pre + "ln2.w"), p(pre + "ln2.b"))
        if c.hasLayerNorm { acts[pre + "ln2.hook_scale"] = s2; acts[pre + "ln2.hook_normalized"] = h2 }
        let Win = p(pre + "mlp.W_in"), bin = p(pre + "mlp.b_in"), Wout = p(pre + "mlp.W_out"), bout = p(pre + "mlp.b_out")
        var hpre = [Double](repeating: 0, count: B * T * M)
        for r in 0..<(B * T) { for j in 0..<M {
            var s = bin[j]
            for d in 0..<D { s += n2[r * D + d] * Win[d * M + j] }
            hpre[r * M + j] = s
        } }
        let hpost = hpre.map(act)
        var mlpOut = [Double](repeating: 0, count: B * T * D)
        for r in 0..<(B * T) { for d in 0..<D {
            var s = bout[d]
            for j in 0..<M { s += hpost[r * M + j] * Wout[j * D + d] }
            mlpOut[r * D + d] = s
        } }
        acts[pre + "mlp.hook_pre"] = hpre; acts[pre + "mlp.hook_post"] = hpost; acts[pre + "hook_mlp_out"] = mlpOut
        resid = zip(resid, mlpOut).map { $0 + $1 }
        acts[pre + "hook_resid_post"] = resid
    }
    let (sf, hf, nf) = layerNorm(resid, p("ln_final.w"), p("ln_final.b"))
    if c.hasLayerNorm { acts["ln_final.hook_scale"] = sf; acts["ln_final.hook_normalized"] = hf }
    acts["unembed.hook_in"] = nf
    let WU = p("unembed.W_U"), bU = p("unembed.b_U")
    var logits = [Double](repeating: 0, count: B * T * V)
    for r in 0..<(B * T) { for o in 0..<V {
        var s = bU[o]
        for d in 0..<D { s += nf[r * D + d] * WU[d * V + o] }
        logits[r * V + o] = s
    } }
    acts["unembed.hook_out"] = logits
    return acts
}
