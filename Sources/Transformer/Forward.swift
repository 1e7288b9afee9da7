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
    /// later in-place runs all started at `hook` or after it (what changed is always recomputed).
    /// `rows` restricts the work to the positions that can change (see `LateStartRows`).
    public func forward(startingAt hook: String, with activation: Tensor, inPlace state: ForwardState,
                        plan: HookPlan = HookPlan(), rows: LateStartRows? = nil) throws(ModelError) -> ForwardOutput {
        guard let shape = HookPoints.shape(hook, config, batch: state.batch, length: state.length) else {
            throw .unknownHook(hook, available: HookPoints.names(config))
        }
        guard activation.shape == shape else { throw .shapeMismatch("\(hook) is \(shape), got \(activation.shape)") }
        let cache = try resume(at: hook, state, plan: plan, rows: rows) { $0.load(activation.data) }
        return ForwardOutput(logits: state.logitsTensor, cache: cache, state: state)
    }

    /// The late start itself: `write` puts the new activation into the hook's buffer (in place).
    func resume(at hook: String, _ state: ForwardState, plan: HookPlan, rows: LateStartRows?,
                write: (Buffer) -> Void) throws(ModelError) -> [String: Tensor] {
        try plan.validate(config)
        guard state.config == config, let (point, _) = HookPoints.locate(hook, config) else {
            throw .unknownHook(hook, available: HookPoints.names(config))
        }
        guard let start = state.stages.firstIndex(where: { $0.hooks.contains { $0.name == hook } }) else {
            throw .unknownHook(hook, available: HookPoints.names(config))
        }
        if let rows { try rows.check(state, plan: plan) }
        state.modified = true
        // Gradients of a row-restricted pass are not defined where rows were skipped: none is exact.
        state.exactGradientsFrom = rows == nil ? state.hookNames.firstIndex(of: hook) : state.hookNames.count
        if point == .result || plan.touched.contains(where: { HookPoints.locate($0)?.hook == .result }) {
            for layer in state.layers where layer.result == nil {
                layer.result = Buffer(state.batch * state.length * config.n_heads * config.d_model)
            }
        }
        write(state.buffer(hook)!)
        return try run(state, from: start, startingAt: hook, plan: plan, rows: rows)
    }

    /// Runs stages `from...` and fires their hooks. With `startingAt`, the first stage is not
    /// recomputed (its activation was given) and its hooks fire from that one on.
    func run(_ s: ForwardState, from start: Int, startingAt: String?, plan: HookPlan,
             rows: LateStartRows? = nil) throws(ModelError) -> [String: Tensor] {
        var cache: [String: Tensor] = [:]
        var failure: ModelError?
        let stages = s.stages
        s.lastRunWidened = false
        // The positions that differ from the base so far: the changed rows of the new activation, and
        // every later position once an attention layer reads changed keys or values.
        var changed = rows.map { $0.from..<($0.to ?? s.length) }
        var keysChanged = Set<Int>()      // layers whose keys / values differ at the changed positions
        if let first = startingAt, let (hook, layer) = HookPoints.locate(first, config), hook == .k || hook == .v {
            keysChanged.insert(layer)
        }
        params.data.withUnsafeBufferPointer { pb in
            let P = pb.baseAddress!
            for (i, stage) in stages.enumerated() where i >= start {
                var hooks = stage.hooks
                if i == start, let first = startingAt {
                    hooks = Array(hooks.drop(while: { $0.name != first }))
                } else {
                    var selected = changed
                    if stage.step == .qkv { keysChanged.insert(stage.layer) }
                    let attention = stage.step == .attnScores || stage.step == .pattern || stage.step == .z
                    if attention, keysChanged.contains(stage.layer), let c = changed {
                        selected = c.lowerBound..<s.length
                        if !(rows!.readAt != nil && stage.layer == config.n_layers - 1) { s.lastRunWidened = true }
                    }
                    compute(stage, s, P, rows: selected.map { rows!.selection(stage, s, changed: $0) })
                    if stage.step == .z, keysChanged.contains(stage.layer), let c = changed { changed = c.lowerBound..<s.length }
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
            let index = s.hookNames.firstIndex(of: name)!
            s.exactGradientsFrom = max(s.exactGradientsFrom ?? index, index)
        }
        if plan.cache.contains(name) { cache[name] = snapshot(s, name) }
    }

    /// One stage over every row, or, with `rows`, only those rows (positions) of each sequence; the
    /// other rows keep what the buffers hold (a late start's unchanged or unread positions).
    private func compute(_ stage: Stage, _ s: ForwardState, _ P: UnsafePointer<Float>, rows: [Range<Int>]? = nil) {
        let c = config, B = s.batch, T = s.length, BT = B * T, D = c.d_model
        let H = c.n_heads, dh = c.d_head, HD = H * dh, M = c.d_mlp, eps = Float(c.eps), V = c.d_vocab
        func w(_ name: String) -> UnsafePointer<Float> { P + params.layout.offset(name) }
        func bw(_ l: Int, _ leaf: String) -> UnsafePointer<Float> { w("blocks.\(l).\(leaf)") }
        // Row-wise work on contiguous runs of rows: body(first row, row count). All B*T rows in one run
        // when nothing is selected; otherwise one run per sequence, the sequences split over threads.
        func runs(_ body: (_ r: Int, _ n: Int) -> Void) {
            guard let rows else { body(0, BT); return }
            Engine.parallelFor(B) { b in if !rows[b].isEmpty { body(b * T + rows[b].lowerBound, rows[b].count) } }
        }
        // out = inp W + b over the selected rows. Selected rows are gathered into one block so the product
        // is one sgemm, not one small call per sequence (which left OpenBLAS's threads spinning).
        func linear(_ inp: UnsafePointer<Float>, _ W: UnsafePointer<Float>, _ b: UnsafePointer<Float>?,
                    _ out: UnsafeMutablePointer<Float>, C: Int, OC: Int) {
            guard let rows else { linearForward(inp, W: W, b: b, out: out, N: BT, C: C, OC: OC); return }
            let R = rows.reduce(0) { $0 + $1.count }
            if R == 0 { return }
            let x = UnsafeMutablePointer<Float>.allocate(capacity: R * C), y = UnsafeMutablePointer<Float>.allocate(capacity: R * OC)
            defer { x.deallocate(); y.deallocate() }
            var k = 0
            for (bi, r) in rows.enumerated() where !r.isEmpty {
                (x + k * C).update(from: inp + (bi * T + r.lowerBound) * C, count: r.count * C); k += r.count
            }
            linearForward(x, W: W, b: b, out: y, N: R, C: C, OC: OC)
            k = 0
            for (bi, r) in rows.enumerated() where !r.isEmpty {
                (out + (bi * T + r.lowerBound) * OC).update(from: y + k * OC, count: r.count * OC); k += r.count
            }
        }
        let l = stage.layer
        switch stage.step {
        case .embed:
            s.tokens.withUnsafeBufferPointer { tk in
                embeddingForward(tokens: tk.baseAddress!, WE: w("embed.W_E"), Wpos: w("pos_embed.W_pos"),
                                 embed: s.embed.ptr, pos: s.posEmbed.ptr, B: B, T: T, D: D)
            }
        case .residPre:
            runs { r, n in
                if l == 0 { add(s.embed.ptr + r * D, s.posEmbed.ptr + r * D, out: s.layers[0].residPre.ptr + r * D, n: n * D) }
                else { (s.layers[l].residPre.ptr + r * D).update(from: s.layers[l - 1].residPost.ptr + r * D, count: n * D) }
            }
        case .ln1Scale:
            let a = s.layers[l]
            runs { r, n in layernormStats(a.residPre.ptr + r * D, mean: a.ln1Mean.ptr + r, scale: a.ln1Scale.ptr + r, N: n, C: D, eps: eps) }
        case .ln1Normalized:
            let a = s.layers[l]
            runs { r, n in
                layernormNormalize(a.residPre.ptr + r * D, mean: a.ln1Mean.ptr + r, scale: a.ln1Scale.ptr + r, norm: a.ln1Norm.ptr + r * D, N: n, C: D)
            }
        case .qkv:
            let a = s.layers[l]
            let projections = [("W_Q", s.packedQ[l], a.q), ("W_K", s.packedK[l], a.k), ("W_V", s.packedV[l], a.v)]
            for (name, packed, _) in projections { packHeads(bw(l, "attn." + name), into: packed.ptr, H: H, D: D, dh: dh) }
            runs { r, n in
                if c.hasLayerNorm {
                    layernormAffine(a.ln1Norm.ptr + r * D, w: bw(l, "ln1.w"), b: bw(l, "ln1.b"), out: a.ln1Out.ptr + r * D, N: n, C: D)
                } else {
                    (a.ln1Out.ptr + r * D).update(from: a.residPre.ptr + r * D, count: n * D)
                }
            }
            for (name, packed, out) in projections {
                linear(a.ln1Out.ptr, packed.ptr, bw(l, "attn.b_" + name.dropFirst(2)), out.ptr, C: D, OC: HD)
            }
        case .attnScores:
            let a = s.layers[l]
            attentionScores(q: a.q.ptr, k: a.k.ptr, scores: a.scores.ptr, B: B, T: T, H: H, dh: dh, queries: rows)
        case .pattern:
            let a = s.layers[l]
            attentionSoftmax(causal: !s.modified, scores: a.scores.ptr, pattern: a.pattern.ptr, rows: B * H * T, T: T, queries: rows, H: H)
        case .z:
            let a = s.layers[l]
            attentionMix(pattern: a.pattern.ptr, v: a.v.ptr, z: a.z.ptr, B: B, T: T, H: H, dh: dh, queries: rows)
        case .headResults:
            guard let res = s.layers[l].result else { return }
            let WO = bw(l, "attn.W_O"), z = s.layers[l].z
            runs { r, n in
                for h in 0..<H {
                    BLAS.gemm(m: n, n: D, k: dh, a: z.ptr + r * HD + h * dh, lda: HD, b: WO + h * dh * D, ldb: D,
                              c: res.ptr + r * H * D + h * D, ldc: H * D)
                }
            }
        case .attnOut:
            let a = s.layers[l]
            if let res = a.result {
                let bO = bw(l, "attn.b_O")
                runs { r, n in
                    for i in r..<(r + n) {
                        let o = a.attnOut.ptr + i * D
                        o.update(from: bO, count: D)
                        for h in 0..<H { accumulate(o, res.ptr + (i * H + h) * D, n: D) }
                    }
                }
            } else {
                linear(a.z.ptr, bw(l, "attn.W_O"), bw(l, "attn.b_O"), a.attnOut.ptr, C: HD, OC: D)
            }
        case .residMid:
            let a = s.layers[l]
            runs { r, n in add(a.residPre.ptr + r * D, a.attnOut.ptr + r * D, out: a.residMid.ptr + r * D, n: n * D) }
        case .ln2Scale:
            let a = s.layers[l]
            runs { r, n in layernormStats(a.residMid.ptr + r * D, mean: a.ln2Mean.ptr + r, scale: a.ln2Scale.ptr + r, N: n, C: D, eps: eps) }
        case .ln2Normalized:
            let a = s.layers[l]
            runs { r, n in
                layernormNormalize(a.residMid.ptr + r * D, mean: a.ln2Mean.ptr + r, scale: a.ln2Scale.ptr + r, norm: a.ln2Norm.ptr + r * D, N: n, C: D)
            }
        case .mlpPre:
            let a = s.layers[l]
            runs { r, n in
                if c.hasLayerNorm {
                    layernormAffine(a.ln2Norm.ptr + r * D, w: bw(l, "ln2.w"), b: bw(l, "ln2.b"), out: a.ln2Out.ptr + r * D, N: n, C: D)
                } else {
                    (a.ln2Out.ptr + r * D).update(from: a.residMid.ptr + r * D, count: n * D)
                }
            }
            linear(a.ln2Out.ptr, bw(l, "mlp.W_in"), bw(l, "mlp.b_in"), a.mlpPre.ptr, C: D, OC: M)
        case .mlpPost:
            let a = s.layers[l]
            runs { r, n in
                activationForward(Activation(c.act_fn), pre: a.mlpPre.ptr + r * M, post: a.mlpPost.ptr + r * M, saved: a.mlpSaved.ptr + r * M, n: n * M)
            }
        case .mlpOut:
            let a = s.layers[l]
            linear(a.mlpPost.ptr, bw(l, "mlp.W_out"), bw(l, "mlp.b_out"), a.mlpOut.ptr, C: M, OC: D)
        case .residPost:
            let a = s.layers[l]
            runs { r, n in add(a.residMid.ptr + r * D, a.mlpOut.ptr + r * D, out: a.residPost.ptr + r * D, n: n * D) }
        case .lnFinalScale:
            let x = s.layers[c.n_layers - 1].residPost
            runs { r, n in layernormStats(x.ptr + r * D, mean: s.lnfMean.ptr + r, scale: s.lnfScale.ptr + r, N: n, C: D, eps: eps) }
        case .lnFinalNormalized:
            let x = s.layers[c.n_layers - 1].residPost
            runs { r, n in
                layernormNormalize(x.ptr + r * D, mean: s.lnfMean.ptr + r, scale: s.lnfScale.ptr + r, norm: s.lnfNorm.ptr + r * D, N: n, C: D)
            }
        case .lnFinalOut:
            runs { r, n in
                if c.hasLayerNorm {
                    layernormAffine(s.lnfNorm.ptr + r * D, w: w("ln_final.w"), b: w("ln_final.b"), out: s.lnfOut.ptr + r * D, N: n, C: D)
                } else {
                    (s.lnfOut.ptr + r * D).update(from: s.layers[c.n_layers - 1].residPost.ptr + r * D, count: n * D)
                }
            }
        case .logits:
            linear(s.lnfOut.ptr, w("unembed.W_U"), w("unembed.b_U"), s.logits.ptr, C: D, OC: V)
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

/// The positions a late start recomputes, when the caller knows more than the engine can: the new
/// activation differs from the base only at positions `from ..< to` (nil: to the end). Row-wise steps
/// recompute only those; once an attention layer reads changed keys or values, every position from
/// `from` on (causal attention: a change at position p reaches only positions >= p). With `readAt`,
/// only one position of each sequence has its logits read, so the last block computes only that
/// position once its keys and values are done. Skipped positions keep what the buffers hold. With
/// `readAt`, only those rows of the logits and of the last block's later activations are meaningful,
/// so a plan (caches or interventions) is refused.
public struct LateStartRows: Sendable, Equatable {
    public var from: Int
    public var to: Int?
    public var readAt: [Int]?

    public init(from: Int, to: Int? = nil, readAt: [Int]? = nil) { self.from = from; self.to = to; self.readAt = readAt }

    func check(_ s: ForwardState, plan: HookPlan) throws(ModelError) {
        guard from >= 0 && from < s.length else { throw .shapeMismatch("late start from position \(from), outside 0..<\(s.length)") }
        if let to, !(to > from && to <= s.length) { throw .shapeMismatch("late start positions \(from)..<\(to), outside 0..<\(s.length)") }
        if let readAt {
            guard readAt.count == s.batch else { throw .shapeMismatch("readAt has \(readAt.count) positions for \(s.batch) sequences") }
            if let bad = readAt.first(where: { $0 < 0 || $0 >= s.length }) {
                throw .shapeMismatch("readAt position \(bad) outside 0..<\(s.length)")
            }
            if !plan.isEmpty { throw .unsupported("a plan on a late start that reads only some positions (its other rows are stale)") }
        }
    }

    /// Per sequence, the rows a stage computes, given the positions that differ so far.
    func selection(_ stage: Stage, _ s: ForwardState, changed: Range<Int>) -> [Range<Int>] {
        let lastLayer = s.config.n_layers - 1
        let tail: Bool
        switch stage.step {
        case .embed: tail = false
        case .lnFinalScale, .lnFinalNormalized, .lnFinalOut, .logits: tail = true
        case .residPre, .ln1Scale, .ln1Normalized, .qkv: tail = false
        default: tail = stage.layer == lastLayer
        }
        if tail, let readAt { return readAt.map { $0..<($0 + 1) } }
        return [Range<Int>](repeating: changed, count: s.batch)
    }
}
