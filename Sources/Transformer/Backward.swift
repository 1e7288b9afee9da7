import Tensors

/// Scratch gradients of one backward pass (llm.c's grads_acts), kept with the forward state for reuse.
final class GradientBuffers: @unchecked Sendable {
    let dresid, dln, dnorm, dattnOut, dz, dq, dk, dv, dscores, dpattern, dmlpPre, dmlpPost, dlogits, dscale: Buffer
    let dWpacked: Buffer
    init(_ c: ModelConfig, B: Int, T: Int) {
        let BT = B * T, D = c.d_model, HD = c.n_heads * c.d_head, S = B * c.n_heads * T * T
        dresid = Buffer(BT * D); dln = Buffer(BT * D); dnorm = Buffer(BT * D); dattnOut = Buffer(BT * D)
        dz = Buffer(BT * HD); dq = Buffer(BT * HD); dk = Buffer(BT * HD); dv = Buffer(BT * HD)
        dscores = Buffer(S); dpattern = Buffer(S); dmlpPre = Buffer(BT * c.d_mlp); dmlpPost = Buffer(BT * c.d_mlp)
        dlogits = Buffer(BT * c.d_vocab); dscale = Buffer(BT); dWpacked = Buffer(D * HD)
    }
}

/// What a backward pass returns: d metric / d parameter for every parameter, and d metric / d activation
/// for the hooks that were asked for (TransformerLens shapes).
public struct Gradients: Sendable {
    public var params: Parameters
    public var activations: [String: Tensor]
}

extension Transformer {
    /// Backward pass from d metric / d logits ([B, T, V], row-major) through the pass that made `state`.
    /// `state` must come from an unmodified forward pass (no interventions, no late start).
    @discardableResult
    public func backward(_ state: ForwardState, dlogits: [Float], activationGradients: Set<String> = [],
                         into grads: inout Parameters) throws(ModelError) -> [String: Tensor] {
        let c = config, B = state.batch, T = state.length, BT = B * T, D = c.d_model
        let H = c.n_heads, dh = c.d_head, HD = H * dh, M = c.d_mlp, V = c.d_vocab
        guard !state.modified else {
            throw .unsupported("backward through a pass with interventions or a late start; run a clean forward first")
        }
        guard dlogits.count == BT * V else { throw .shapeMismatch("dlogits has \(dlogits.count) values, expected \(BT * V)") }
        try HookPoints.validate(activationGradients.sorted(), c)
        guard grads.layout == params.layout else { throw .shapeMismatch("gradient buffer does not fit the model") }
        if state.grads == nil { state.grads = GradientBuffers(c, B: B, T: T) }
        let g = state.grads!
        g.dlogits.load(dlogits)
        var out: [String: Tensor] = [:]
        // d metric / d activation at `hook` (in `layer`), when asked for; the shape is the table's.
        func keep(_ hook: Hook, _ buf: Buffer, layer: Int = 0) {
            if activationGradients.isEmpty { return }    // the training step asks for none
            let name = hook.name(layer: layer)
            guard activationGradients.contains(name) else { return }
            let shape = hook.point.shape.dims(c, batch: B, length: T)
            out[name] = Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: buf.ptr, count: shape.reduce(1, *))))
        }
        params.data.withUnsafeBufferPointer { pb in
        grads.data.withUnsafeMutableBufferPointer { gb in
            let P = pb.baseAddress!, G = gb.baseAddress!
            func w(_ n: String) -> UnsafePointer<Float> { P + params.layout.offset(n) }
            func dw(_ n: String) -> UnsafeMutablePointer<Float> { G + params.layout.offset(n) }

            // unembed: logits = lnf W_U + b_U
            keep(.logits, g.dlogits)
            linearBackward(dout: g.dlogits.ptr, inp: state.lnfOut.ptr, W: w("unembed.W_U"), dinp: g.dln.ptr, overwrite: true,
                           dW: dw("unembed.W_U"), db: dw("unembed.b_U"), N: BT, C: D, OC: V)
            keep(.unembedIn, g.dln)
            layernormAffineBackward(dout: g.dln.ptr, norm: state.lnfNorm.ptr, w: w("ln_final.w"), dnorm: g.dnorm.ptr,
                                    dw: dw("ln_final.w"), db: dw("ln_final.b"), N: BT, C: D)
            keep(.lnFinalNormalized, g.dnorm)
            g.dresid.zero()
            layernormBackward(dnorm: g.dnorm.ptr, norm: state.lnfNorm.ptr, scale: state.lnfScale.ptr,
                              dinp: g.dresid.ptr, dscale: g.dscale.ptr, N: BT, C: D)
            keep(.lnFinalScale, g.dscale)

            for l in stride(from: c.n_layers - 1, through: 0, by: -1) {
                let a = state.layers[l], p = "blocks.\(l)."
                keep(.residPost, g.dresid, layer: l)
                // MLP: resid_post = resid_mid + (act(ln2 W_in + b_in) W_out + b_out)
                keep(.mlpOut, g.dresid, layer: l)
                linearBackward(dout: g.dresid.ptr, inp: a.mlpPost.ptr, W: w(p + "mlp.W_out"), dinp: g.dmlpPost.ptr, overwrite: true,
                               dW: dw(p + "mlp.W_out"), db: dw(p + "mlp.b_out"), N: BT, C: M, OC: D)
                keep(.mlpPost, g.dmlpPost, layer: l)
                activationBackward(Activation(c.act_fn), pre: a.mlpPre.ptr, saved: a.mlpSaved.ptr, dpost: g.dmlpPost.ptr, dpre: g.dmlpPre.ptr, n: BT * M)
                keep(.mlpPre, g.dmlpPre, layer: l)
                linearBackward(dout: g.dmlpPre.ptr, inp: a.ln2Out.ptr, W: w(p + "mlp.W_in"), dinp: g.dln.ptr, overwrite: true,
                               dW: dw(p + "mlp.W_in"), db: dw(p + "mlp.b_in"), N: BT, C: D, OC: M)
                layernormAffineBackward(dout: g.dln.ptr, norm: a.ln2Norm.ptr, w: w(p + "ln2.w"), dnorm: g.dnorm.ptr,
                                        dw: dw(p + "ln2.w"), db: dw(p + "ln2.b"), N: BT, C: D)
                keep(.ln2Normalized, g.dnorm, layer: l)
                layernormBackward(dnorm: g.dnorm.ptr, norm: a.ln2Norm.ptr, scale: a.ln2Scale.ptr,
                                  dinp: g.dresid.ptr, dscale: g.dscale.ptr, N: BT, C: D)
                keep(.ln2Scale, g.dscale, layer: l)
                keep(.residMid, g.dresid, layer: l)

                // attention output: resid_mid = resid_pre + (z W_O + b_O); hook_result's gradient is
                // d attn_out, the same for every head.
                keep(.attnOut, g.dresid, layer: l)
                if activationGradients.contains(Hook.result.name(layer: l)) {
                    var r = [Float](repeating: 0, count: BT * H * D)
                    for i in 0..<BT { for h in 0..<H { for d in 0..<D { r[(i * H + h) * D + d] = g.dresid.ptr[i * D + d] } } }
                    out[Hook.result.name(layer: l)] = Tensor(shape: Hook.result.point.shape.dims(c, batch: B, length: T), data: r)
                }
                linearBackward(dout: g.dresid.ptr, inp: a.z.ptr, W: w(p + "attn.W_O"), dinp: g.dz.ptr, overwrite: true,
                               dW: dw(p + "attn.W_O"), db: dw(p + "attn.b_O"), N: BT, C: HD, OC: D)
                keep(.z, g.dz, layer: l)
                g.dq.zero(); g.dk.zero(); g.dv.zero()
                attentionBackward(dz: g.dz.ptr, q: a.q.ptr, k: a.k.ptr, v: a.v.ptr, pattern: a.pattern.ptr,
                                  dq: g.dq.ptr, dk: g.dk.ptr, dv: g.dv.ptr, dpattern: g.dpattern.ptr, dscores: g.dscores.ptr,
                                  B: B, T: T, H: H, dh: dh)
                keep(.pattern, g.dpattern, layer: l)
                keep(.attnScores, g.dscores, layer: l)
                keep(.q, g.dq, layer: l); keep(.k, g.dk, layer: l); keep(.v, g.dv, layer: l)
                // Q/K/V projections through the packed weights, then back to [H, D, dh]
                for (n, (name, packed, dout)) in [("W_Q", state.packedQ[l], g.dq), ("W_K", state.packedK[l], g.dk), ("W_V", state.packedV[l], g.dv)].enumerated() {
                    g.dWpacked.zero()
                    linearBackward(dout: dout.ptr, inp: a.ln1Out.ptr, W: packed.ptr, dinp: g.dln.ptr, overwrite: n == 0, dW: g.dWpacked.ptr,
                                   db: dw(p + "attn.b_" + name.dropFirst(2)), N: BT, C: D, OC: HD)
                    unpackHeadsAdd(g.dWpacked.ptr, into: dw(p + "attn." + name), H: H, D: D, dh: dh)
                }
                layernormAffineBackward(dout: g.dln.ptr, norm: a.ln1Norm.ptr, w: w(p + "ln1.w"), dnorm: g.dnorm.ptr,
                                        dw: dw(p + "ln1.w"), db: dw(p + "ln1.b"), N: BT, C: D)
                keep(.ln1Normalized, g.dnorm, layer: l)
                layernormBackward(dnorm: g.dnorm.ptr, norm: a.ln1Norm.ptr, scale: a.ln1Scale.ptr,
                                  dinp: g.dresid.ptr, dscale: g.dscale.ptr, N: BT, C: D)
                keep(.ln1Scale, g.dscale, layer: l)
                keep(.residPre, g.dresid, layer: l)
            }
            keep(.embed, g.dresid)
            keep(.posEmbed, g.dresid)
            state.tokens.withUnsafeBufferPointer { tk in
                embeddingBackward(tokens: tk.baseAddress!, dembed: g.dresid.ptr, dpos: g.dresid.ptr,
                                  dWE: dw("embed.W_E"), dWpos: dw("pos_embed.W_pos"), B: B, T: T, D: D)
            }
        }
        }
        return out
    }

    /// Convenience: a fresh gradient buffer, filled by one backward pass.
    public func backward(_ state: ForwardState, dlogits: [Float],
                         activationGradients: Set<String> = []) throws(ModelError) -> Gradients {
        var grads = Parameters(zerosFor: config)
        let acts = try backward(state, dlogits: dlogits, activationGradients: activationGradients, into: &grads)
        return Gradients(params: grads, activations: acts)
    }
}
