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
    /// Backward pass from d metric / d logits ([B, T, V], row-major) through the pass that made `state`:
    /// parameter gradients (+= into `grads`) and the activation gradients asked for.
    /// `state` must come from an unmodified forward pass (no interventions, no late start): the
    /// parameters before a rewritten hook did not make the logits.
    @discardableResult
    public func backward(_ state: ForwardState, dlogits: [Float], activationGradients: Set<String> = [],
                         into grads: inout Parameters) throws(ModelError) -> [String: Tensor] {
        guard !state.modified else {
            throw .unsupported("parameter gradients through a pass with interventions or a late start; run a clean forward first, "
                               + "or ask for activation gradients only")
        }
        guard grads.layout == params.layout else { throw .shapeMismatch("gradient buffer does not fit the model") }
        var out: [String: Tensor] = [:]
        try grads.data.withUnsafeMutableBufferPointer { (gb) throws(ModelError) in
            out = try backwardPass(state, dlogits: dlogits, hooks: activationGradients, paramGrads: gb.baseAddress!)
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

    /// d metric / d activation at `hooks` only: no parameter gradient is formed (they cost as much again),
    /// and the pass stops below the earliest hook asked for. Works through a pass that started late or
    /// carries interventions, for hooks at or after the last rewritten one (the start hook included):
    /// there the gradient is exactly that of the logits the pass computed; before it, it is not defined.
    public func activationGradients(_ state: ForwardState, dlogits: [Float],
                                    hooks: Set<String>) throws(ModelError) -> [String: Tensor] {
        if let from = state.exactGradientsFrom {
            let names = HookPoints.names(config)
            if let early = hooks.sorted().first(where: { (names.firstIndex(of: $0) ?? Int.max) < from }) {
                throw .unsupported("gradient at \(early): it fires before \(names[from]), where this pass was rewritten or started late")
            }
        }
        return try backwardPass(state, dlogits: dlogits, hooks: hooks, paramGrads: nil)
    }

    // The one backward pass. `paramGrads` nil: activation gradients only (every dW / db product skipped).
    private func backwardPass(_ state: ForwardState, dlogits: [Float], hooks activationGradients: Set<String>,
                              paramGrads: UnsafeMutablePointer<Float>?) throws(ModelError) -> [String: Tensor] {
        let c = config, B = state.batch, T = state.length, BT = B * T, D = c.d_model
        let H = c.n_heads, dh = c.d_head, HD = H * dh, M = c.d_mlp, V = c.d_vocab
        guard state.config == c else { throw .shapeMismatch("the pass is of another model config") }
        guard dlogits.count == BT * V else { throw .shapeMismatch("dlogits has \(dlogits.count) values, expected \(BT * V)") }
        try HookPoints.validate(activationGradients.sorted(), c)
        if state.grads == nil { state.grads = GradientBuffers(c, B: B, T: T) }
        let g = state.grads!
        g.dlogits.load(dlogits)
        let ln = c.hasLayerNorm
        // Without parameter gradients nothing below the earliest hook asked for is needed.
        let lowestLayer: Int = paramGrads != nil ? -1 : activationGradients.map { name -> Int in
            guard let (hook, layer) = HookPoints.locate(name, c) else { return -1 }
            return hook.inBlock ? layer : (hook == .embed || hook == .posEmbed ? -1 : c.n_layers)
        }.min() ?? c.n_layers
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
            let P = pb.baseAddress!
            func w(_ n: String) -> UnsafePointer<Float> { P + params.layout.offset(n) }
            func dw(_ n: String) -> UnsafeMutablePointer<Float>? { paramGrads.map { $0 + params.layout.offset(n) } }
            // dout -> dinp (+= into dresid): LayerNorm's backward, or the identity without LayerNorm.
            func normBackward(_ dout: Buffer, norm: Buffer, scale: Buffer, w wName: String, b bName: String,
                              normalized: Hook, scaleHook: Hook, layer: Int) {
                guard ln else { accumulate(g.dresid.ptr, dout.ptr, n: BT * D); return }
                layernormAffineBackward(dout: dout.ptr, norm: norm.ptr, w: w(wName), dnorm: g.dnorm.ptr,
                                        dw: dw(wName), db: dw(bName), N: BT, C: D)
                keep(normalized, g.dnorm, layer: layer)
                layernormBackward(dnorm: g.dnorm.ptr, norm: norm.ptr, scale: scale.ptr, dinp: g.dresid.ptr, dscale: g.dscale.ptr, N: BT, C: D)
                keep(scaleHook, g.dscale, layer: layer)
            }

            // unembed: logits = lnf W_U + b_U
            keep(.logits, g.dlogits)
            linearBackward(dout: g.dlogits.ptr, inp: state.lnfOut.ptr, W: w("unembed.W_U"), dinp: g.dln.ptr, overwrite: true,
                           dW: dw("unembed.W_U"), db: dw("unembed.b_U"), N: BT, C: D, OC: V)
            keep(.unembedIn, g.dln)
            g.dresid.zero()
            normBackward(g.dln, norm: state.lnfNorm, scale: state.lnfScale, w: "ln_final.w", b: "ln_final.b",
                         normalized: .lnFinalNormalized, scaleHook: .lnFinalScale, layer: 0)

            for l in stride(from: c.n_layers - 1, through: max(lowestLayer, 0), by: -1) {
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
                normBackward(g.dln, norm: a.ln2Norm, scale: a.ln2Scale, w: p + "ln2.w", b: p + "ln2.b",
                             normalized: .ln2Normalized, scaleHook: .ln2Scale, layer: l)
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
                    if paramGrads != nil { g.dWpacked.zero() }
                    linearBackward(dout: dout.ptr, inp: a.ln1Out.ptr, W: packed.ptr, dinp: g.dln.ptr, overwrite: n == 0,
                                   dW: paramGrads == nil ? nil : g.dWpacked.ptr,
                                   db: dw(p + "attn.b_" + name.dropFirst(2)), N: BT, C: D, OC: HD)
                    if let dW = dw(p + "attn." + name) { unpackHeadsAdd(g.dWpacked.ptr, into: dW, H: H, D: D, dh: dh) }
                }
                normBackward(g.dln, norm: a.ln1Norm, scale: a.ln1Scale, w: p + "ln1.w", b: p + "ln1.b",
                             normalized: .ln1Normalized, scaleHook: .ln1Scale, layer: l)
                keep(.residPre, g.dresid, layer: l)
            }
            guard lowestLayer < 0 else { return }
            keep(.embed, g.dresid)
            keep(.posEmbed, g.dresid)
            guard let G = paramGrads else { return }
            state.tokens.withUnsafeBufferPointer { tk in
                embeddingBackward(tokens: tk.baseAddress!, dembed: g.dresid.ptr, dpos: g.dresid.ptr,
                                  dWE: G + params.layout.offset("embed.W_E"), dWpos: G + params.layout.offset("pos_embed.W_pos"),
                                  B: B, T: T, D: D)
            }
        }
        return out
    }
}
