import Tensors
import Transformer

/// Direct logit attribution: each component's output at each pair's position, projected on the
/// answer direction W_U[:, correct] - W_U[:, wrong] through the final LayerNorm with its scale frozen
/// from the run (TransformerLens's `cache.apply_ln_to_stack`: centre, divide by ln_final.hook_scale).
/// The direction includes ln_final.w, so the components sum exactly to the logit difference less the
/// constant terms (b_U and ln_final.b along the direction); on a model with ln_final.w folded into
/// W_U (TransformerLens's `fold_ln`) and value biases not folded (its default `fold_value_biases` moves
/// each head's b_V into b_O, where lens keeps it in the head) it is TransformerLens's number.
public struct LogitAttribution: Sendable, Codable, Equatable {
    public var run: PatchRun
    public var components: [String]       // embed, pos_embed, L{l}H{h}, L{l}.b_O, mlp{l}
    public var perPair: [Double]          // [pairs, components]
    public var mean: [Double]             // [components]
    public var constant: [Double]         // [pairs]: (b_U[correct] - b_U[wrong]) + ln_final.b . direction
}

/// The logit lens: each layer's residual stream (resid_pre of every block, then the last resid_post)
/// through ln_final (recomputed on it) and the unembedding; the metric per layer.
public struct LogitLens: Sendable, Codable, Equatable {
    public var run: PatchRun
    public var metric: PatchMetric
    public var hooks: [String]            // [L + 1]
    public var perPair: [Double]          // [pairs, L + 1]
    public var mean: [Double]             // [L + 1]
}

extension PatchRuns {
    public func directLogitAttribution(run: PatchRun = .clean) -> LogitAttribution {
        let c = model.config, N = pairs.count, T = pairs.length, D = c.d_model, H = c.n_heads, dh = c.d_head, V = c.d_vocab
        let st = state(run)
        let WU = model.params.tensor("unembed.W_U")!.data, bU = model.params.tensor("unembed.b_U")!.data
        let lnw = c.hasLayerNorm ? model.params.tensor("ln_final.w")!.data : [Float](repeating: 1, count: D)
        let lnb = c.hasLayerNorm ? model.params.tensor("ln_final.b")!.data : [Float](repeating: 0, count: D)
        let scale = c.hasLayerNorm ? st.activation(Hook.lnFinalScale.name(layer: 0))!.data : [Float](repeating: 1, count: N * T)
        var names = ["embed", "pos_embed"]
        for l in 0..<c.n_layers { names += (0..<H).map { "L\(l)H\($0)" } + ["L\(l).b_O", "mlp\(l)"] }
        let embed = st.activation(Hook.embed.name(layer: 0))!.data, pos = st.activation(Hook.posEmbed.name(layer: 0))!.data
        let z = (0..<c.n_layers).map { st.activation(Hook.z.name(layer: $0))!.data }
        let mlp = (0..<c.n_layers).map { st.activation(Hook.mlpOut.name(layer: $0))!.data }
        let WO = (0..<c.n_layers).map { model.params.tensor("blocks.\($0).attn.W_O")!.data }
        let bO = (0..<c.n_layers).map { model.params.tensor("blocks.\($0).attn.b_O")!.data }
        var perPair: [Double] = [], constant: [Double] = []
        for i in 0..<N {
            let r = i * T + pairs.position[i], good = Int(pairs.correct[i]), bad = Int(pairs.wrong[i])
            let dir = (0..<D).map { Double(WU[$0 * V + good] - WU[$0 * V + bad]) }
            let weighted = (0..<D).map { dir[$0] * Double(lnw[$0]) }
            // centre (LayerNorm subtracts the mean of the sum, so of each part), divide by the frozen scale
            func project(_ x: [Double]) -> Double {
                let m = c.hasLayerNorm ? x.reduce(0, +) / Double(D) : 0
                return (0..<D).reduce(0.0) { $0 + (x[$1] - m) * weighted[$1] } / Double(scale[r])
            }
            func row(_ a: [Float]) -> [Double] { (0..<D).map { Double(a[r * D + $0]) } }
            var values = [project(row(embed)), project(row(pos))]
            for l in 0..<c.n_layers {
                for h in 0..<H {
                    var out = [Double](repeating: 0, count: D)
                    for e in 0..<dh {
                        let ze = Double(z[l][(r * H + h) * dh + e])
                        for d in 0..<D { out[d] += ze * Double(WO[l][(h * dh + e) * D + d]) }
                    }
                    values.append(project(out))
                }
                values.append(project(bO[l].map(Double.init)))
                values.append(project(row(mlp[l])))
            }
            perPair += values
            constant.append(Double(bU[good] - bU[bad]) + (0..<D).reduce(0.0) { $0 + Double(lnb[$1]) * dir[$1] })
        }
        let C = names.count
        return LogitAttribution(run: run, components: names, perPair: perPair,
                                mean: (0..<C).map { k in (0..<N).reduce(0.0) { $0 + perPair[$1 * C + k] } / Double(N) },
                                constant: constant)
    }

    public func logitLens(run: PatchRun = .clean) throws(PatchError) -> LogitLens {
        let c = model.config, N = pairs.count
        let st = state(run)
        let last = Hook.residPost.name(layer: c.n_layers - 1)
        let hooks = (0..<c.n_layers).map { Hook.residPre.name(layer: $0) } + [last]
        var columns: [[Double]] = []
        for h in hooks {
            let resid = st.activation(h)!
            let logits = try engine { () throws(ModelError) in try model.forward(startingAt: last, with: resid, base: st).logits.data }
            columns.append(metrics(logits: logits, firstRow: 0))
        }
        let perPair = (0..<N).flatMap { i in columns.map { $0[i] } }
        return LogitLens(run: run, metric: metric, hooks: hooks, perPair: perPair, mean: columns.map(mean))
    }
}
