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
        let n = state.batch * state.length * config.d_model
        var out = [Float](repeating: 0, count: ResidualGraph.readers(config) * n)
        try readerGradients(state, dlogits: dlogits, group: ResidualGraph.readers(config)) { first, count, g in
            out.withUnsafeMutableBufferPointer { ob in (ob.baseAddress! + first * n).update(from: g, count: count * n) }
        }
        return out
    }

    /// The same, handed over `group` readers at a time, in reader order: consume(first reader, count,
    /// gradients [count, B, T, D]). The buffer is reused, so memory stays at `group` readers, not all of them.
    public func readerGradients(_ state: ForwardState, dlogits: [Float], group: Int,
                                consume: (_ first: Int, _ count: Int, _ gradients: UnsafePointer<Float>) -> Void) throws(ModelError) {
        let c = config, B = state.batch, T = state.length, BT = B * T, D = c.d_model, H = c.n_heads, dh = c.d_head
        let M = c.d_mlp, V = c.d_vocab, L = c.n_layers, n = BT * D, G = max(1, group)
        var names = Set<String>()
        for l in 0..<L { for h in [Hook.q, .k, .v, .mlpPre] { names.insert(h.name(layer: l)) } }
        let grads = try activationGradients(state, dlogits: dlogits, hooks: names)
        var buffer = [Float](repeating: 0, count: G * n)
        var dln = [Float](repeating: 0, count: n)
        var first = 0, filled = 0
        params.data.withUnsafeBufferPointer { pb in
            let P = pb.baseAddress!
            func w(_ name: String) -> UnsafePointer<Float> { P + params.layout.offset(name) }
            buffer.withUnsafeMutableBufferPointer { ob in
                // dln [BT, D] (the gradient at the LayerNorm's output) -> the next reader's input gradient;
                // readers come in reader order, so the buffer is flushed whenever it is full
                func through(_ ln: String, norm: Buffer?, scale: Buffer?, reader r: Int) {
                    precondition(r == first + filled, "readers out of order")
                    let dst = ob.baseAddress! + filled * n
                    dln.withUnsafeMutableBufferPointer { g in
                        guard c.hasLayerNorm, let norm, let scale else { dst.update(from: g.baseAddress!, count: n); return }
                        layernormAffineBackward(dout: g.baseAddress!, norm: norm.ptr, w: w(ln + ".w"), dnorm: g.baseAddress!, dw: nil, db: nil, N: BT, C: D)
                        dst.update(repeating: 0, count: n)
                        layernormBackward(dnorm: g.baseAddress!, norm: norm.ptr, scale: scale.ptr, dinp: dst, dscale: nil, N: BT, C: D)
                    }
                    filled += 1
                    if filled == G { consume(first, filled, ob.baseAddress!); first += filled; filled = 0 }
                }
                for l in 0..<L {
                    let a = state.layers[l], lp = "blocks.\(l)."
                    for (slot, (hook, name)) in [(Hook.q, "W_Q"), (Hook.k, "W_K"), (Hook.v, "W_V")].enumerated() {
                        let g = grads[hook.name(layer: l)]!.data
                        for h in 0..<H {
                            // d x_ln = d slot[:, h] [BT, dh] x W[h]^T [dh, D]
                            g.withUnsafeBufferPointer { gb in dln.withUnsafeMutableBufferPointer { d in
                                BLAS.gemm(transB: true, m: BT, n: D, k: dh, a: gb.baseAddress! + h * dh, lda: H * dh,
                                          b: w(lp + "attn." + name) + h * D * dh, ldb: dh, beta: 0, c: d.baseAddress!, ldc: D)
                            } }
                            through(lp + "ln1", norm: a.ln1Norm, scale: a.ln1Scale, reader: ResidualGraph.headReader(c, layer: l, head: h, slot: slot))
                        }
                    }
                    let g = grads[Hook.mlpPre.name(layer: l)]!.data
                    g.withUnsafeBufferPointer { gb in dln.withUnsafeMutableBufferPointer { d in
                        BLAS.gemm(transB: true, m: BT, n: D, k: M, a: gb.baseAddress!, lda: M, b: w(lp + "mlp.W_in"), ldb: M,
                                  beta: 0, c: d.baseAddress!, ldc: D)
                    } }
                    through(lp + "ln2", norm: a.ln2Norm, scale: a.ln2Scale, reader: ResidualGraph.mlpReader(c, layer: l))
                }
                dlogits.withUnsafeBufferPointer { gb in dln.withUnsafeMutableBufferPointer { d in
                    BLAS.gemm(transB: true, m: BT, n: D, k: V, a: gb.baseAddress!, lda: V, b: w("unembed.W_U"), ldb: V,
                              beta: 0, c: d.baseAddress!, ldc: D)
                } }
                through("ln_final", norm: state.lnfNorm, scale: state.lnfScale, reader: ResidualGraph.logitsReader(c))
                if filled > 0 { consume(first, filled, ob.baseAddress!) }
            }
        }
    }
}
