import Tensors

// The backward side of ComponentForward.swift: the gradient of the metric with respect to each reader's
// own input (EAP's dM/d(input_r)), from one backward pass of activation gradients.
extension Transformer {
    /// d metric / d (each reader's own input) [readers, B, T, D] in the pass `state` (a plain pass, or
    /// one started late at blocks.0.hook_resid_pre, as EAP-IG's interpolated inputs are): EAP's gradients.
    /// A reader's input feeds only that reader, so its gradient is the reader's own backward: for a head's
    /// q, dq[:, h] W_Q[h]^T through ln1; for an MLP, d mlp_pre W_in^T through ln2; for the logits, dlogits
    /// W_U^T through ln_final. One backward pass of activation gradients gives all of them.
    public func readerGradients(_ state: ForwardState, dlogits: [Float]) throws(ModelError) -> [Float] {
        let R = ResidualGraph.readers(config), D = config.d_model, n = state.batch * state.length * D
        var out = [Float](repeating: 0, count: R * n)
        // one shard: the chunks come one after another
        try readerGradients(state, dlogits: dlogits) { _, row0, rows, g in
            out.withUnsafeMutableBufferPointer { ob in
                for r in 0..<R { (ob.baseAddress! + r * n + row0 * D).update(from: g + r * rows * D, count: rows * D) }
            }
        }
        return out
    }

    /// The same gradients, `rowsPerChunk` token rows (of B x T) at a time: consume(shard, first row, rows,
    /// gradients [readers, rows, D]), the buffer reused for the next chunk. EAP only ever needs these
    /// gradients multiplied into a small [writers, readers] matrix, so a chunk at a time keeps them in cache
    /// instead of writing [readers, B, T, D] (hundreds of megabytes) out and reading it back.
    /// Chunk i goes to shard i % `shards`, and the shards run at once (`Engine.shards`: one thread each,
    /// single-threaded BLAS; one after another when called inside a shard), so consume must write only
    /// memory that no other chunk's call writes; within a shard, chunks come in row order.
    public func readerGradients(_ state: ForwardState, dlogits: [Float], rowsPerChunk: Int = 64, shards: Int = 1,
                                consume: (_ shard: Int, _ firstRow: Int, _ rows: Int, _ gradients: UnsafePointer<Float>) -> Void) throws(ModelError) {
        let c = config, BT = state.batch * state.length, D = c.d_model, H = c.n_heads, dh = c.d_head
        let L = c.n_layers, R = ResidualGraph.readers(c), C = max(1, rowsPerChunk), S = max(1, shards)
        var names = Set<String>()
        for l in 0..<L { for h in [Hook.q, .k, .v, .mlpPre] { names.insert(h.name(layer: l)) } }
        let grads = try activationGradients(state, dlogits: dlogits, hooks: names)

        // Reader r's input gradient is sources[r].data's rows [BT, ld], columns col ..< col + width, times the
        // weight slice [D, width]^T at `weight` (row stride ldw), then back through the LayerNorm before it.
        struct Source { let data: Int, ld: Int, col: Int, width: Int, weight: Int, ldw: Int, gain: Int, norm: Buffer?, scale: Buffer? }
        var data: [[Float]] = [], sources: [Source] = []
        let layout = params.layout
        for l in 0..<L {
            let a = state.layers[l], lp = "blocks.\(l)."
            for (slot, (hook, name)) in [(Hook.q, "W_Q"), (Hook.k, "W_K"), (Hook.v, "W_V")].enumerated() {
                data.append(grads[hook.name(layer: l)]!.data)
                for h in 0..<H {
                    assert(ResidualGraph.headReader(c, layer: l, head: h, slot: slot) == sources.count, "readers out of order")
                    sources.append(Source(data: data.count - 1, ld: H * dh, col: h * dh, width: dh, weight: layout.offset(lp + "attn." + name) + h * D * dh,
                                          ldw: dh, gain: c.hasLayerNorm ? layout.offset(lp + "ln1.w") : 0, norm: a.ln1Norm, scale: a.ln1Scale))
                }
            }
            data.append(grads[Hook.mlpPre.name(layer: l)]!.data)
            assert(ResidualGraph.mlpReader(c, layer: l) == sources.count, "readers out of order")
            sources.append(Source(data: data.count - 1, ld: c.d_mlp, col: 0, width: c.d_mlp, weight: layout.offset(lp + "mlp.W_in"), ldw: c.d_mlp,
                                  gain: c.hasLayerNorm ? layout.offset(lp + "ln2.w") : 0, norm: a.ln2Norm, scale: a.ln2Scale))
        }
        data.append(dlogits)
        assert(ResidualGraph.logitsReader(c) == sources.count && sources.count + 1 == R, "readers out of order")
        sources.append(Source(data: data.count - 1, ld: c.d_vocab, col: 0, width: c.d_vocab, weight: layout.offset("unembed.W_U"), ldw: c.d_vocab,
                              gain: c.hasLayerNorm ? layout.offset("ln_final.w") : 0, norm: state.lnfNorm, scale: state.lnfScale))

        let chunks = (BT + C - 1) / C
        params.data.withUnsafeBufferPointer { pb in
            let P = pb.baseAddress!
            Engine.shards(S) { s in
                var G = [Float](repeating: 0, count: R * C * D), dln = [Float](repeating: 0, count: C * D)
                G.withUnsafeMutableBufferPointer { gp in dln.withUnsafeMutableBufferPointer { dp in
                    let d = dp.baseAddress!
                    for ci in stride(from: s, to: chunks, by: S) {
                        let row0 = ci * C, rows = min(C, BT - row0), k = rows * D
                        for (r, src) in sources.enumerated() {
                            // d x_ln [rows, D] = source rows [rows, width] x weight [D, width]^T
                            data[src.data].withUnsafeBufferPointer { g in
                                BLAS.gemm(transB: true, m: rows, n: D, k: src.width, a: g.baseAddress! + row0 * src.ld + src.col, lda: src.ld,
                                          b: P + src.weight, ldb: src.ldw, beta: 0, c: d, ldc: D)
                            }
                            let dst = gp.baseAddress! + r * k
                            guard c.hasLayerNorm, let norm = src.norm, let scale = src.scale else { dst.update(from: d, count: k); continue }
                            layernormAffineBackward(dout: d, norm: norm.ptr + row0 * D, w: P + src.gain, dnorm: d, dw: nil, db: nil, N: rows, C: D)
                            dst.update(repeating: 0, count: k)
                            layernormBackward(dnorm: d, norm: norm.ptr + row0 * D, scale: scale.ptr + row0, dinp: dst, dscale: nil, N: rows, C: D)
                        }
                        consume(s, row0, rows, gp.baseAddress!)
                    }
                } }
            }
        }
    }
}
