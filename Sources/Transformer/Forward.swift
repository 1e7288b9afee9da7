import Tensors

/// What a forward pass returns: logits, the cached activations, and the state a backward pass
/// or a late start needs.
public struct ForwardOutput: Sendable {
    public let logits: Tensor
    public let cache: [String: Tensor]
    public let state: ForwardState
}

extension Transformer {
    /// Full forward pass over `tokens` [batch, length] (row-major), with the hooks of `plan`.
    /// `reusing` lends the buffers of an earlier pass of the same shape (the training loop's workspace).
    public func forward(tokens: [Int32], batch: Int, length: Int, plan: HookPlan = HookPlan(),
                        reusing: ForwardState? = nil) throws(ModelError) -> ForwardOutput {
        try config.checkFits(length: length)
        guard batch > 0, tokens.count == batch * length else {
            throw .shapeMismatch("tokens hold \(tokens.count) ids, expected batch \(batch) x length \(length)")
        }
        for t in tokens where t < 0 || Int(t) >= config.d_vocab {
            throw .shapeMismatch("token id \(t) outside the vocabulary 0..<\(config.d_vocab)")
        }
        try plan.validate(config)
        let state: ForwardState
        if let r = reusing, r.batch == batch, r.length == length, r.config == config { state = r } else {
            state = ForwardState(config, batch: batch, length: length)
        }
        state.tokens = tokens
        state.modified = false
        state.exactGradientsFrom = nil
        let useResult = plan.touched.contains { HookPoints.locate($0)?.hook == .result }
        for layer in state.layers {
            if useResult { if layer.result == nil { layer.result = Buffer(batch * length * config.n_heads * config.d_model) } }
            else { layer.result = nil }
        }
        let cache = try run(state, from: 0, startingAt: nil, plan: plan)
        return ForwardOutput(logits: state.logitsTensor, cache: cache, state: state)
    }

    /// "Start late": resume the pass of `base` at hook `hook` with `activation` in its place; nothing
    /// before that hook is recomputed. Activations that the rest needs come from `base`. Interventions
    /// the plan holds for `hook` itself apply to `activation` first.
    public func forward(startingAt hook: String, with activation: Tensor, base: ForwardState,
                        plan: HookPlan = HookPlan()) throws(ModelError) -> ForwardOutput {
        guard base.config == config else { throw .shapeMismatch("the base pass is of another model config") }
        return try forward(startingAt: hook, with: activation, inPlace: base.copy(), plan: plan)
    }

    /// "Start late" without copying: overwrites `state` from `hook` on, and uses its activations before
    /// `hook` as they are. Those must be the values a pass would have there: a fresh pass, or one whose
    /// later in-place runs all started at `hook` or after it (what changed is always recomputed). So
    /// patches run in order of non-increasing start reuse one workspace, not a copy of every activation
    /// each (the copy costs as much as the small models' forward pass itself).
    public func forward(startingAt hook: String, with activation: Tensor, inPlace state: ForwardState,
                        plan: HookPlan = HookPlan()) throws(ModelError) -> ForwardOutput {
        try plan.validate(config)
        guard state.config == config, let (point, _) = HookPoints.locate(hook, config),
              let shape = HookPoints.shape(hook, config, batch: state.batch, length: state.length) else {
            throw .unknownHook(hook, available: HookPoints.names(config))
        }
        guard activation.shape == shape else { throw .shapeMismatch("\(hook) is \(shape), got \(activation.shape)") }
        let stages = Stage.all(config)
        guard let start = stages.firstIndex(where: { $0.hooks.contains { $0.name == hook } }) else {
            throw .unknownHook(hook, available: HookPoints.names(config))
        }
        state.modified = true
        state.exactGradientsFrom = HookPoints.names(config).firstIndex(of: hook)
        if point == .result || plan.touched.contains(where: { HookPoints.locate($0)?.hook == .result }) {
            for layer in state.layers where layer.result == nil {
                layer.result = Buffer(state.batch * state.length * config.n_heads * config.d_model)
            }
        }
        state.buffer(hook)!.load(activation.data)
        let cache = try run(state, from: start, startingAt: hook, plan: plan)
        return ForwardOutput(logits: state.logitsTensor, cache: cache, state: state)
    }

    /// Runs stages `from...` and fires their hooks. With `startingAt`, the first stage is not
    /// recomputed (its activation was given) and its hooks fire from that one on.
    func run(_ s: ForwardState, from start: Int, startingAt: String?, plan: HookPlan) throws(ModelError) -> [String: Tensor] {
        var cache: [String: Tensor] = [:]
        var failure: ModelError?
        let stages = Stage.all(config)
        params.data.withUnsafeBufferPointer { pb in
            let P = pb.baseAddress!
            for (i, stage) in stages.enumerated() where i >= start {
                var hooks = stage.hooks
                if i == start, let first = startingAt {
                    hooks = Array(hooks.drop(while: { $0.name != first }))
                } else {
                    compute(stage, s, P)
                }
                if plan.isEmpty { continue }
                do throws(ModelError) {
                    for h in hooks { try fire(h.name, s, plan, &cache) }
                } catch { failure = error; return }
            }
        }
        if let failure { throw failure }
        return cache
    }

    private func snapshot(_ s: ForwardState, _ name: String) -> Tensor {
        Tensor(shape: HookPoints.shape(name, config, batch: s.batch, length: s.length)!, data: s.buffer(name)!.array)
    }

    private func fire(_ name: String, _ s: ForwardState, _ plan: HookPlan, _ cache: inout [String: Tensor]) throws(ModelError) {
        let list = plan.interventions[name]
        guard list != nil || plan.cache.contains(name) else { return }
        guard let buf = s.buffer(name) else { return }     // hook_result when not in use
        if let list {
            var t = snapshot(s, name)
            let shape = t.shape
            for i in list { try i.apply(name, &t) }
            guard t.shape == shape, t.count == buf.count else {
                throw .shapeMismatch("an intervention at \(name) changed its shape \(shape) to \(t.shape)")
            }
            buf.load(t.data)
            s.modified = true
            let index = HookPoints.names(config).firstIndex(of: name)!
            s.exactGradientsFrom = max(s.exactGradientsFrom ?? index, index)
        }
        if plan.cache.contains(name) { cache[name] = snapshot(s, name) }
    }

    private func compute(_ stage: Stage, _ s: ForwardState, _ P: UnsafePointer<Float>) {
        let c = config, B = s.batch, T = s.length, BT = B * T, D = c.d_model
        let H = c.n_heads, dh = c.d_head, HD = H * dh, M = c.d_mlp, eps = Float(c.eps)
        func w(_ name: String) -> UnsafePointer<Float> { P + params.layout.offset(name) }
        func bw(_ l: Int, _ leaf: String) -> UnsafePointer<Float> { w("blocks.\(l).\(leaf)") }
        let l = stage.layer
        switch stage.step {
        case .embed:
            s.tokens.withUnsafeBufferPointer { tk in
                embeddingForward(tokens: tk.baseAddress!, WE: w("embed.W_E"), Wpos: w("pos_embed.W_pos"),
                                 embed: s.embed.ptr, pos: s.posEmbed.ptr, B: B, T: T, D: D)
            }
        case .residPre:
            if l == 0 { add(s.embed.ptr, s.posEmbed.ptr, out: s.layers[0].residPre.ptr, n: BT * D) }
            else { s.layers[l].residPre.ptr.update(from: s.layers[l - 1].residPost.ptr, count: BT * D) }
        case .ln1Scale:
            let a = s.layers[l]
            layernormStats(a.residPre.ptr, mean: a.ln1Mean.ptr, scale: a.ln1Scale.ptr, N: BT, C: D, eps: eps)
        case .ln1Normalized:
            let a = s.layers[l]
            layernormNormalize(a.residPre.ptr, mean: a.ln1Mean.ptr, scale: a.ln1Scale.ptr, norm: a.ln1Norm.ptr, N: BT, C: D)
        case .qkv:
            let a = s.layers[l]
            if c.hasLayerNorm {
                layernormAffine(a.ln1Norm.ptr, w: bw(l, "ln1.w"), b: bw(l, "ln1.b"), out: a.ln1Out.ptr, N: BT, C: D)
            } else {
                a.ln1Out.ptr.update(from: a.residPre.ptr, count: BT * D)
            }
            for (name, packed, out) in [("W_Q", s.packedQ[l], a.q), ("W_K", s.packedK[l], a.k), ("W_V", s.packedV[l], a.v)] {
                packHeads(bw(l, "attn." + name), into: packed.ptr, H: H, D: D, dh: dh)
                let bias = bw(l, "attn.b_" + name.dropFirst(2))
                linearForward(a.ln1Out.ptr, W: packed.ptr, b: bias, out: out.ptr, N: BT, C: D, OC: HD)
            }
        case .attnScores:
            let a = s.layers[l]
            attentionScores(q: a.q.ptr, k: a.k.ptr, scores: a.scores.ptr, B: B, T: T, H: H, dh: dh)
        case .pattern:
            let a = s.layers[l]
            attentionSoftmax(causal: !s.modified, scores: a.scores.ptr, pattern: a.pattern.ptr, rows: B * H * T, T: T)
        case .z:
            let a = s.layers[l]
            attentionMix(pattern: a.pattern.ptr, v: a.v.ptr, z: a.z.ptr, B: B, T: T, H: H, dh: dh)
        case .headResults:
            guard let r = s.layers[l].result else { return }
            let WO = bw(l, "attn.W_O")
            for h in 0..<H {
                BLAS.gemm(m: BT, n: D, k: dh, a: s.layers[l].z.ptr + h * dh, lda: HD, b: WO + h * dh * D, ldb: D,
                          c: r.ptr + h * D, ldc: H * D)
            }
        case .attnOut:
            let a = s.layers[l]
            if let r = a.result {
                let bO = bw(l, "attn.b_O")
                for i in 0..<BT {
                    let o = a.attnOut.ptr + i * D
                    o.update(from: bO, count: D)
                    for h in 0..<H { accumulate(o, r.ptr + (i * H + h) * D, n: D) }
                }
            } else {
                linearForward(a.z.ptr, W: bw(l, "attn.W_O"), b: bw(l, "attn.b_O"), out: a.attnOut.ptr, N: BT, C: HD, OC: D)
            }
        case .residMid:
            let a = s.layers[l]
            add(a.residPre.ptr, a.attnOut.ptr, out: a.residMid.ptr, n: BT * D)
        case .ln2Scale:
            let a = s.layers[l]
            layernormStats(a.residMid.ptr, mean: a.ln2Mean.ptr, scale: a.ln2Scale.ptr, N: BT, C: D, eps: eps)
        case .ln2Normalized:
            let a = s.layers[l]
            layernormNormalize(a.residMid.ptr, mean: a.ln2Mean.ptr, scale: a.ln2Scale.ptr, norm: a.ln2Norm.ptr, N: BT, C: D)
        case .mlpPre:
            let a = s.layers[l]
            if c.hasLayerNorm {
                layernormAffine(a.ln2Norm.ptr, w: bw(l, "ln2.w"), b: bw(l, "ln2.b"), out: a.ln2Out.ptr, N: BT, C: D)
            } else {
                a.ln2Out.ptr.update(from: a.residMid.ptr, count: BT * D)
            }
            linearForward(a.ln2Out.ptr, W: bw(l, "mlp.W_in"), b: bw(l, "mlp.b_in"), out: a.mlpPre.ptr, N: BT, C: D, OC: M)
        case .mlpPost:
            let a = s.layers[l]
            activationForward(Activation(c.act_fn), pre: a.mlpPre.ptr, post: a.mlpPost.ptr, saved: a.mlpSaved.ptr, n: BT * M)
        case .mlpOut:
            let a = s.layers[l]
            linearForward(a.mlpPost.ptr, W: bw(l, "mlp.W_out"), b: bw(l, "mlp.b_out"), out: a.mlpOut.ptr, N: BT, C: M, OC: D)
        case .residPost:
            let a = s.layers[l]
            add(a.residMid.ptr, a.mlpOut.ptr, out: a.residPost.ptr, n: BT * D)
        case .lnFinalScale:
            let x = s.layers[c.n_layers - 1].residPost
            layernormStats(x.ptr, mean: s.lnfMean.ptr, scale: s.lnfScale.ptr, N: BT, C: D, eps: eps)
        case .lnFinalNormalized:
            let x = s.layers[c.n_layers - 1].residPost
            layernormNormalize(x.ptr, mean: s.lnfMean.ptr, scale: s.lnfScale.ptr, norm: s.lnfNorm.ptr, N: BT, C: D)
        case .lnFinalOut:
            if c.hasLayerNorm {
                layernormAffine(s.lnfNorm.ptr, w: w("ln_final.w"), b: w("ln_final.b"), out: s.lnfOut.ptr, N: BT, C: D)
            } else {
                s.lnfOut.ptr.update(from: s.layers[c.n_layers - 1].residPost.ptr, count: BT * D)
            }
        case .logits:
            linearForward(s.lnfOut.ptr, W: w("unembed.W_U"), b: w("unembed.b_U"), out: s.logits.ptr, N: BT, C: D, OC: c.d_vocab)
        }
    }
}

// W [H, D, dh] (TransformerLens) -> packed [D, H*dh], so Q/K/V for all heads is one matrix product.
func packHeads(_ W: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, H: Int, D: Int, dh: Int) {
    for h in 0..<H {
        for d in 0..<D { (packed + d * H * dh + h * dh).update(from: W + (h * D + d) * dh, count: dh) }
    }
}

// packed [D, H*dh] (+=) -> W [H, D, dh]
func unpackHeadsAdd(_ packed: UnsafePointer<Float>, into W: UnsafeMutablePointer<Float>, H: Int, D: Int, dh: Int) {
    for h in 0..<H {
        for d in 0..<D { accumulate(W + (h * D + d) * dh, packed + d * H * dh + h * dh, n: dh) }
    }
}
