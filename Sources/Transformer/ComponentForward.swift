import Tensors

// The residual stream split into who writes it and who reads it, so that one edge can be cut.
//
// Writers (EAP-IG's forward index): 0 is the input (hook_embed + hook_pos_embed), then per layer l its
// heads (hook_result, z W_O without b_O) and its MLP (hook_mlp_out): 1 + l (H + 1) + h and 1 + l (H + 1) + H.
// Readers (EAP-IG's backward index): per layer l the q inputs of its heads, then their k inputs, their v
// inputs, then its MLP's input: l (3H + 1) + s H + h and l (3H + 1) + 3H; the unembedding (logits) last.
// The attention biases b_O belong to no writer: every reader downstream always sees them, as in EAP-IG.
//
// In a plain pass every reader of a layer reads the same sum. In a component pass each reader reads its
// own: each writer's output from this pass, or, for the edges the caller cuts, from `replacement` (the
// corrupted run's, a mean, zeros); LayerNorm is recomputed on each reader's own sum. With nothing cut it is
// the plain forward pass, up to the order of the additions.
public enum ResidualGraph {
    public static func writers(_ c: ModelConfig) -> Int { 1 + c.n_layers * (c.n_heads + 1) }
    public static func readers(_ c: ModelConfig) -> Int { c.n_layers * (3 * c.n_heads + 1) + 1 }
    public static func headWriter(_ c: ModelConfig, layer: Int, head: Int) -> Int { 1 + layer * (c.n_heads + 1) + head }
    public static func mlpWriter(_ c: ModelConfig, layer: Int) -> Int { 1 + layer * (c.n_heads + 1) + c.n_heads }
    /// slot 0, 1, 2: the head's q, k, v input.
    public static func headReader(_ c: ModelConfig, layer: Int, head: Int, slot: Int) -> Int {
        layer * (3 * c.n_heads + 1) + slot * c.n_heads + head
    }
    public static func mlpReader(_ c: ModelConfig, layer: Int) -> Int { layer * (3 * c.n_heads + 1) + 3 * c.n_heads }
    public static func logitsReader(_ c: ModelConfig) -> Int { c.n_layers * (3 * c.n_heads + 1) }

    /// The layer a reader belongs to (n_layers for the logits).
    public static func layer(ofReader r: Int, _ c: ModelConfig) -> Int { r / (3 * c.n_heads + 1) }

    /// The writer of the head whose q, k or v input reader r is (nil for an MLP or the logits).
    public static func headWriter(ofReader r: Int, _ c: ModelConfig) -> Int? {
        let l = layer(ofReader: r, c), slot = r - l * (3 * c.n_heads + 1)
        return l < c.n_layers && slot < 3 * c.n_heads ? headWriter(c, layer: l, head: slot % c.n_heads) : nil
    }

    /// How many writers (a prefix of the writer order) a reader can read: a head reads the input and
    /// the layers below it; an MLP also its own layer's heads; the logits everything.
    public static func upstream(ofReader r: Int, _ c: ModelConfig) -> Int {
        let l = layer(ofReader: r, c)
        if l == c.n_layers { return writers(c) }
        return r == mlpReader(c, layer: l) ? 1 + l * (c.n_heads + 1) + c.n_heads : 1 + l * (c.n_heads + 1)
    }
}

/// The outputs of every writer in one pass [writers, B, T, D], and the logits [B, T, V].
public struct ComponentPass: Sendable {
    public let batch: Int
    public let length: Int
    public var outputs: [Float]
    public var logits: [Float]
    /// The output of the writer the caller asked to `capture` [B, T, D] (empty if none).
    public var captured: [Float] = []

    public init(batch: Int, length: Int, outputs: [Float], logits: [Float]) {
        self.batch = batch; self.length = length; self.outputs = outputs; self.logits = logits
    }
}

/// What a pass that starts at a layer would otherwise re-add for every call: at each layer l's start, the
/// sum of the writers below it and of the biases b_O of the layers below it (l = n_layers: the unembedding's
/// input), for the reused pass and for the replacement [n_layers + 1, B, T, D] each
/// (Transformer.layerStartSums). A search of hundreds of passes from one reused pass computes them once.
public struct ComponentSums: Sendable {
    public let pass: [Float]
    public let replacement: [Float]

    public init(pass: [Float], replacement: [Float]) { self.pass = pass; self.replacement = replacement }
}

/// Storage a caller lends to many component passes in a row (one at a time): the writers' outputs
/// of a pass that keeps none (`keepOutputs: false`) live here, so a search of hundreds of passes does
/// not map and zero tens of megabytes for each (glibc maps every allocation above 32 MB afresh).
public final class ComponentScratch: @unchecked Sendable {
    var outputs: [Float] = []
    /// The pass's working arrays (a reader's input, q, k, v, attention, the MLP), kept between passes for
    /// the same reason; each is written before it is read, except the running sums, which are zeroed.
    var work: [String: [Float]] = [:]
    public init() {}

    func take(_ name: String, _ count: Int) -> [Float] {
        let a = work.removeValue(forKey: name) ?? []
        return a.count >= count ? a : [Float](repeating: 0, count: count)
    }
}

/// Which edges a component pass cuts: `cut[w * readers + r]` (EAP-IG's [n_forward, n_backward] layout)
/// makes reader r read writer w from `replacement` [writers, B, T, D] instead of from the pass itself.
public struct EdgeCut: Sendable {
    public var cut: [Bool]
    public var replacement: [Float]

    public init(cut: [Bool], replacement: [Float]) { self.cut = cut; self.replacement = replacement }
}

extension Transformer {
    /// A forward pass with every reader's input built from the writers (see ResidualGraph), cutting the
    /// edges of `edges` (nil: none, the plain pass). `reuse`, with `fromLayer`: the writers of the layers
    /// below `fromLayer` are taken from that pass instead of recomputed (they read nothing that changed);
    /// the caller vouches that `reuse` is a pass of the same tokens whose cuts below that layer are these.
    /// `readAt` (one position per sequence): only those rows' logits are wanted, so the last layer's
    /// attention, head outputs and MLP and the unembedding run at those rows alone; the other rows of the
    /// last layer's outputs and of the logits are left 0. `keepOutputs` false: only the logits are wanted,
    /// so the reused writers are read in place, not copied, and `outputs` comes back empty.
    /// `reuseCut`: the cut `reuse` was made with (nil: nothing cut); a head of layer `fromLayer` whose three
    /// inputs are cut alike in both takes its output from `reuse` (so a search that moves one edge at a time
    /// recomputes one head). `sums`: `reuse`'s and the replacement's layer-start sums, so a pass from a
    /// layer does not re-add every writer below it. `capture`: also return this writer's output.
    /// tokens [B * T] -> ComponentPass (outputs [writers, B, T, D], logits [B, T, V])
    public func componentForward(tokens: [Int32], batch B: Int, length T: Int, edges: EdgeCut? = nil,
                                 reuse: ComponentPass? = nil, reuseCut: [Bool]? = nil, sums: ComponentSums? = nil,
                                 fromLayer: Int = 0, readAt: [Int]? = nil, keepOutputs: Bool = true,
                                 capture: Int? = nil, scratch: ComponentScratch? = nil) throws(ModelError) -> ComponentPass {
        let c = config, D = c.d_model, H = c.n_heads, dh = c.d_head, M = c.d_mlp, V = c.d_vocab, L = c.n_layers
        let BT = B * T, W = ResidualGraph.writers(c), R = ResidualGraph.readers(c), eps = Float(c.eps)
        try config.checkFits(length: T)
        guard B > 0, tokens.count == BT else { throw .shapeMismatch("tokens hold \(tokens.count) ids, expected batch \(B) x length \(T)") }
        for t in tokens where t < 0 || Int(t) >= c.d_vocab { throw .shapeMismatch("token id \(t) outside the vocabulary 0..<\(c.d_vocab)") }
        if let e = edges {
            guard e.cut.count == W * R else { throw .shapeMismatch("edge cut has \(e.cut.count) entries, expected \(W) writers x \(R) readers") }
            guard e.replacement.count == W * BT * D else {
                throw .shapeMismatch("replacement holds \(e.replacement.count) values, expected \(W) writers x \(B) x \(T) x \(D)")
            }
        }
        if let readAt {
            guard readAt.count == B else { throw .shapeMismatch("readAt has \(readAt.count) positions for \(B) sequences") }
            if let bad = readAt.first(where: { $0 < 0 || $0 >= T }) { throw .shapeMismatch("readAt position \(bad) outside 0..<\(T)") }
        }
        // the rows read, as row indices of the [B * T] batch
        let readRows = readAt.map { $0.enumerated().map { $0.offset * T + $0.element } }
        let start = reuse == nil ? 0 : min(max(fromLayer, 0), L)
        if let r = reuse, r.batch != B || r.length != T || r.outputs.count != W * BT * D {
            throw .shapeMismatch("the reused pass is of another shape")
        }
        if let rc = reuseCut, rc.count != W * R { throw .shapeMismatch("reuseCut has \(rc.count) entries, expected \(W) writers x \(R) readers") }
        if let s = sums, s.pass.count != (L + 1) * BT * D || (edges != nil && s.replacement.count != (L + 1) * BT * D) {
            throw .shapeMismatch("layer-start sums of another shape")
        }
        if let capture, !(0..<W).contains(capture) { throw .shapeMismatch("capture writer \(capture) outside 0..<\(W)") }
        let n = BT * D
        // This pass's writers from `firstLocal` on live in `out`; those below it are read from `reuse` in place.
        let firstLocal = keepOutputs || start == 0 ? 0 : 1 + start * (H + 1)
        var out: [Float]
        if !keepOutputs, let scratch {
            // every writer this pass reads from `out` is written before it is read, so stale values are fine
            out = scratch.outputs
            scratch.outputs = []
            if out.count < (W - firstLocal) * n { out = [Float](repeating: 0, count: (W - firstLocal) * n) }
        } else {
            out = keepOutputs ? reuse.map { Array($0.outputs.prefix((1 + start * (H + 1)) * n)) } ?? [] : []
            out.reserveCapacity((W - firstLocal) * n)
            out += [Float](repeating: 0, count: (W - firstLocal) * n - out.count)
        }
        defer { if !keepOutputs, let scratch { scratch.outputs = out } }
        var logits = [Float](repeating: 0, count: BT * V), captured: [Float] = []
        // Working arrays: one reader's input, its LayerNorm, a head's q / k / v, attention, the MLP (the
        // scratch's when lent one: a search of hundreds of passes would otherwise map and zero them each time).
        func take(_ name: String, _ count: Int) -> [Float] { scratch?.take(name, count) ?? [Float](repeating: 0, count: count) }
        var x = take("x", n), xn = take("xn", n), mean = take("mean", BT), scale = take("scale", BT)
        var q = take("q", BT * dh), k = take("k", BT * dh), v = take("v", BT * dh), z = take("z", BT * dh)    // one head at a time
        var scores = take("scores", B * T * T), pattern = take("pattern", B * T * T)
        var pre = take("pre", BT * M), post = take("post", BT * M), saved = take("saved", BT * M)
        var sumThis = take("sumThis", n), sumRep = take("sumRep", edges == nil ? 0 : n)
        defer {
            if let scratch {
                for (name, a) in [("x", x), ("xn", xn), ("mean", mean), ("scale", scale), ("q", q), ("k", k), ("v", v), ("z", z),
                                  ("scores", scores), ("pattern", pattern), ("pre", pre), ("post", post), ("saved", saved),
                                  ("sumThis", sumThis), ("sumRep", sumRep)] { scratch.work[name] = a }
            }
        }
        let cut = edges?.cut, rep = edges?.replacement ?? []
        let act = Activation(c.act_fn)

        params.data.withUnsafeBufferPointer { pb in
            let P = pb.baseAddress!
            func w(_ name: String) -> UnsafePointer<Float> { P + params.layout.offset(name) }
            let reused = reuse?.outputs ?? []
            reused.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer { ob in
                // writer wi's output: this pass's, or the reused pass's (below `firstLocal`, and unchanged heads)
                let O = ob.baseAddress! - firstLocal * n
                var fromReuse = (0..<W).map { $0 < firstLocal }
                func source(_ wi: Int) -> UnsafePointer<Float> { fromReuse[wi] ? ub.baseAddress! + wi * n : UnsafePointer(O + wi * n) }
                if start == 0 {
                    tokens.withUnsafeBufferPointer { tk in
                        // the input writer: W_E[token] + W_pos[position]
                        for i in 0..<BT {
                            let e = w("embed.W_E") + Int(tk[i]) * D, p = w("pos_embed.W_pos") + (i % T) * D
                            for d in 0..<D { O[i * D + d] = e[d] + p[d] }
                        }
                    }
                }
                // Running sums over the writers so far (and the biases b_O of the layers so far): of this pass's
                // outputs, and of the replacements. A reader's input is then the first plus, for each cut
                // writer, (replacement - output); or, when most are cut, the second plus, for each uncut
                // writer, (output - replacement): the cost of a reader grows with the smaller set, not with
                // every writer upstream.
                var summed = 0, biased = 0
                if start > 0, let sums {
                    // the writers below `start` are reuse's, whose sums the caller gives
                    sumThis.withUnsafeMutableBufferPointer { st in sums.pass.withUnsafeBufferPointer { st.baseAddress!.update(from: $0.baseAddress! + start * n, count: n) } }
                    if cut != nil {
                        sumRep.withUnsafeMutableBufferPointer { sr in sums.replacement.withUnsafeBufferPointer { sr.baseAddress!.update(from: $0.baseAddress! + start * n, count: n) } }
                    }
                    summed = 1 + start * (H + 1); biased = start
                } else {
                    sumThis.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: n) }
                    if cut != nil { sumRep.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: n) } }
                }
                // `rows`: only those rows are read from here on (the last layer's MLP and the logits), so only
                // they are summed; the others go stale, and nothing reads them again.
                func advance(writers up: Int, biases: Int, rows: [Int]?) {
                    sumThis.withUnsafeMutableBufferPointer { st in sumRep.withUnsafeMutableBufferPointer { sr in rep.withUnsafeBufferPointer { rb in
                        func add(_ to: UnsafeMutablePointer<Float>, _ from: UnsafePointer<Float>, everyRow: Bool) {
                            if let rows { for row in rows { accumulate(to + row * D, from + (everyRow ? row * D : 0), n: D) } }
                            else if everyRow { accumulate(to, from, n: n) }
                            else { for i in 0..<BT { accumulate(to + i * D, from, n: D) } }
                        }
                        for wi in summed..<max(summed, up) {
                            add(st.baseAddress!, source(wi), everyRow: true)
                            if cut != nil { add(sr.baseAddress!, rb.baseAddress! + wi * n, everyRow: true) }
                        }
                        for bl in biased..<max(biased, biases) {
                            let b = w("blocks.\(bl).attn.b_O")
                            add(st.baseAddress!, b, everyRow: false)
                            if cut != nil { add(sr.baseAddress!, b, everyRow: false) }
                        }
                    } } }
                    summed = max(summed, up); biased = max(biased, biases)
                }
                // reader r's input into x: the biases b_O below its layer (and of its own layer for an MLP),
                // plus each upstream writer from this pass or, where cut, from the replacement. With `rows`,
                // only those rows, packed at the front of x.
                func gather(_ r: Int, rows: [Int]? = nil) {
                    let l = ResidualGraph.layer(ofReader: r, c), up = ResidualGraph.upstream(ofReader: r, c)
                    advance(writers: up, biases: r == ResidualGraph.logitsReader(c) ? L : (r == ResidualGraph.mlpReader(c, layer: l) ? l + 1 : l), rows: rows)
                    let cutHere = cut.map { cut in (0..<up).filter { cut[$0 * R + r] } } ?? []
                    let fromReplacement = 2 * cutHere.count > up
                    let terms = fromReplacement ? (0..<up).filter { !cut![$0 * R + r] } : cutHere
                    x.withUnsafeMutableBufferPointer { xb in sumThis.withUnsafeBufferPointer { st in sumRep.withUnsafeBufferPointer { sr in
                    rep.withUnsafeBufferPointer { rb in
                        let X = xb.baseAddress!, base = fromReplacement ? sr.baseAddress! : st.baseAddress!
                        if let rows { for (k, row) in rows.enumerated() { (X + k * D).update(from: base + row * D, count: D) } }
                        else { X.update(from: base, count: n) }
                        // + (replacement - output) per cut writer, or + (output - replacement) per uncut one
                        for wi in terms {
                            let plus = fromReplacement ? source(wi) : rb.baseAddress! + wi * n
                            let minus = fromReplacement ? rb.baseAddress! + wi * n : source(wi)
                            if let rows {
                                for (k, row) in rows.enumerated() {
                                    let o = X + k * D, a = plus + row * D, b = minus + row * D
                                    for d in 0..<D { o[d] += a[d] - b[d] }
                                }
                            } else {
                                for j in 0..<n { X[j] += plus[j] - minus[j] }
                            }
                        }
                    } } } }
                }
                // LayerNorm of the first `count` rows of x into xn (or a copy without LayerNorm): ln [D] gain and bias names.
                func normalize(_ ln: String, count: Int = BT) {
                    x.withUnsafeBufferPointer { xb in
                        xn.withUnsafeMutableBufferPointer { nb in
                            guard c.hasLayerNorm else { nb.baseAddress!.update(from: xb.baseAddress!, count: count * D); return }
                            mean.withUnsafeMutableBufferPointer { mb in
                                scale.withUnsafeMutableBufferPointer { sb in
                                    layernormStats(xb.baseAddress!, mean: mb.baseAddress!, scale: sb.baseAddress!, N: count, C: D, eps: eps)
                                    layernormNormalize(xb.baseAddress!, mean: mb.baseAddress!, scale: sb.baseAddress!, norm: nb.baseAddress!, N: count, C: D)
                                }
                            }
                            layernormAffine(nb.baseAddress!, w: w(ln + ".w"), b: w(ln + ".b"), out: nb.baseAddress!, N: count, C: D)
                        }
                    }
                }
                // Readers that read the same sum share it: the key is which upstream writers are cut.
                func key(_ r: Int, in edges: [Bool]? = cut) -> [Bool] {
                    (0..<ResidualGraph.upstream(ofReader: r, c)).map { edges?[$0 * R + r] ?? false }
                }
                for l in start..<L {
                    let lp = "blocks.\(l).", tail = l == L - 1 ? readRows : nil
                    let queries = tail == nil ? nil : readAt!.map { $0..<($0 + 1) }
                    // A head of the first recomputed layer whose three inputs are cut as in the reused pass
                    // computes what it computed there: its output is taken from there.
                    func unchanged(_ h: Int) -> Bool {
                        guard reuse != nil, l == start else { return false }
                        return (0..<3).allSatisfy {
                            let r = ResidualGraph.headReader(c, layer: l, head: h, slot: $0)
                            return key(r) == key(r, in: reuseCut)
                        }
                    }
                    var lastKey: [Bool]? = nil
                    for h in 0..<H {
                        let wi = ResidualGraph.headWriter(c, layer: l, head: h), dst = O + wi * n
                        if unchanged(h) {
                            if keepOutputs { dst.update(from: ub.baseAddress! + wi * n, count: n) } else { fromReuse[wi] = true }
                            continue
                        }
                        for (slot, name) in ["W_Q", "W_K", "W_V"].enumerated() {
                            let r = ResidualGraph.headReader(c, layer: l, head: h, slot: slot)
                            let kk = key(r)
                            if kk != lastKey { gather(r); normalize(lp + "ln1"); lastKey = kk }
                            // [BT, D] x W[h] [D, dh] + b[h] -> this head's q / k / v [BT, dh]
                            let Wh = w(lp + "attn." + name) + h * D * dh, bh = w(lp + "attn.b_" + name.dropFirst(2)) + h * dh
                            func project(_ out: inout [Float]) {
                                out.withUnsafeMutableBufferPointer { db in
                                    let Y = db.baseAddress!
                                    for i in 0..<BT { (Y + i * dh).update(from: bh, count: dh) }
                                    xn.withUnsafeBufferPointer { nb in
                                        BLAS.gemm(m: BT, n: dh, k: D, a: nb.baseAddress!, lda: D, b: Wh, ldb: dh, beta: 1, c: Y, ldc: dh)
                                    }
                                }
                            }
                            switch slot { case 0: project(&q); case 1: project(&k); default: project(&v) }
                        }
                        // this head's attention: q, k, v, z [B, T, 1, dh]; scores, pattern [B, 1, T, T]
                        q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                        z.withUnsafeMutableBufferPointer { zb in scores.withUnsafeMutableBufferPointer { sb in pattern.withUnsafeMutableBufferPointer { pb in
                            attentionScores(q: qb.baseAddress!, k: kb.baseAddress!, scores: sb.baseAddress!, B: B, T: T, H: 1, dh: dh, queries: queries)
                            attentionSoftmax(causal: true, scores: sb.baseAddress!, pattern: pb.baseAddress!, rows: B * T, T: T, queries: queries, H: 1)
                            attentionMix(pattern: pb.baseAddress!, v: vb.baseAddress!, z: zb.baseAddress!, B: B, T: T, H: 1, dh: dh, queries: queries)
                        } } } } } }
                        // it writes z W_O[h] ([BT, dh] x [dh, D]), without b_O (in the tail, the read rows only)
                        z.withUnsafeBufferPointer { zb in
                            let WO = w(lp + "attn.W_O") + h * dh * D
                            if let tail {
                                dst.update(repeating: 0, count: n)
                                for row in tail { BLAS.gemm(m: 1, n: D, k: dh, a: zb.baseAddress! + row * dh, lda: dh, b: WO, ldb: D, beta: 0, c: dst + row * D, ldc: D) }
                            } else {
                                BLAS.gemm(m: BT, n: D, k: dh, a: zb.baseAddress!, lda: dh, b: WO, ldb: D, beta: 0, c: dst, ldc: D)
                            }
                        }
                    }
                    // the MLP: its own input, ln2, W_in, activation, W_out (+ b_out: hook_mlp_out includes it); in the
                    // tail on the read rows packed, then put back in place
                    let rows = tail?.count ?? BT
                    gather(ResidualGraph.mlpReader(c, layer: l), rows: tail); normalize(lp + "ln2", count: rows)
                    xn.withUnsafeBufferPointer { nb in pre.withUnsafeMutableBufferPointer { pr in
                        linearForward(nb.baseAddress!, W: w(lp + "mlp.W_in"), b: w(lp + "mlp.b_in"), out: pr.baseAddress!, N: rows, C: D, OC: M)
                    } }
                    pre.withUnsafeBufferPointer { pr in post.withUnsafeMutableBufferPointer { po in saved.withUnsafeMutableBufferPointer { sv in
                        activationForward(act, pre: pr.baseAddress!, post: po.baseAddress!, saved: sv.baseAddress!, n: rows * M)
                    } } }
                    let mlpOut = O + ResidualGraph.mlpWriter(c, layer: l) * n
                    post.withUnsafeBufferPointer { po in
                        guard let tail else {
                            linearForward(po.baseAddress!, W: w(lp + "mlp.W_out"), b: w(lp + "mlp.b_out"), out: mlpOut, N: BT, C: M, OC: D)
                            return
                        }
                        x.withUnsafeMutableBufferPointer { xb in
                            linearForward(po.baseAddress!, W: w(lp + "mlp.W_out"), b: w(lp + "mlp.b_out"), out: xb.baseAddress!, N: rows, C: M, OC: D)
                            mlpOut.update(repeating: 0, count: n)
                            for (k, row) in tail.enumerated() { (mlpOut + row * D).update(from: xb.baseAddress! + k * D, count: D) }
                        }
                    }
                }
                // the unembedding reads its own sum through ln_final (the read rows only, with readAt)
                let rows = readRows?.count ?? BT
                gather(ResidualGraph.logitsReader(c), rows: readRows); normalize("ln_final", count: rows)
                xn.withUnsafeBufferPointer { nb in logits.withUnsafeMutableBufferPointer { lb in
                    guard let readRows else {
                        linearForward(nb.baseAddress!, W: w("unembed.W_U"), b: w("unembed.b_U"), out: lb.baseAddress!, N: BT, C: D, OC: V)
                        return
                    }
                    for (k, row) in readRows.enumerated() {
                        linearForward(nb.baseAddress! + k * D, W: w("unembed.W_U"), b: w("unembed.b_U"), out: lb.baseAddress! + row * V, N: 1, C: D, OC: V)
                    }
                } }
                if let capture { captured = Array(UnsafeBufferPointer(start: source(capture), count: n)) }
            }
            }
        }
        var pass = ComponentPass(batch: B, length: T, outputs: keepOutputs ? out : [], logits: logits)
        pass.captured = captured
        return pass
    }

    /// The layer-start sums of a pass's writer outputs (see ComponentSums): for each layer l (and for the
    /// unembedding, l = n_layers), the writers below it, then the biases b_O of the layers below it, added in
    /// the order a pass started at l adds them.
    /// outputs [writers, B, T, D] -> [n_layers + 1, B, T, D]
    public func layerStartSums(_ outputs: [Float], batch B: Int, length T: Int) throws(ModelError) -> [Float] {
        let c = config, H = c.n_heads, D = c.d_model, L = c.n_layers, n = B * T * D
        guard outputs.count == ResidualGraph.writers(c) * n else { throw .shapeMismatch("writer outputs of another shape") }
        var sums = [Float](repeating: 0, count: (L + 1) * n)
        params.data.withUnsafeBufferPointer { pb in outputs.withUnsafeBufferPointer { ob in sums.withUnsafeMutableBufferPointer { sb in
            for l in 0...L {
                let sum = sb.baseAddress! + l * n
                for wi in 0..<(1 + l * (H + 1)) { accumulate(sum, ob.baseAddress! + wi * n, n: n) }
                for bl in 0..<l {
                    let b = pb.baseAddress! + params.layout.offset("blocks.\(bl).attn.b_O")
                    for i in 0..<(B * T) { accumulate(sum + i * D, b, n: D) }
                }
            }
        } } }
        return sums
    }
}
