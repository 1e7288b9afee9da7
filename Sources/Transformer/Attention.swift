// Causal multi-head attention core, TransformerLens semantics, one (batch, head) pair at a time.
// q, k, v, z are [B, T, H, dh] (hook_q/k/v/z); scores and pattern are [B, H, T, T]
// (hook_attn_scores: scaled, causally masked with -inf, pre-softmax; hook_pattern: softmax of it).
// Softmax and the weighted sum run over every key position, so an intervention that writes into the
// masked part is honoured exactly as TransformerLens would.
// Each (b, h) first gathers its strided head slices into small contiguous tiles, so every inner loop
// runs unit-stride over d_head or over key positions and vectorises.

// x [B, T, H, dh] at (b, h) -> tile [T, dh]
@inline(__always)
private func gather(_ x: UnsafePointer<Float>, _ tile: UnsafeMutablePointer<Float>, base: Int, T: Int, dh: Int, stride: Int) {
    for t in 0..<T { (tile + t * dh).update(from: x + base + t * stride, count: dh) }
}

// tile [T, dh] -> tileT [dh, T]
@inline(__always)
private func transpose(_ tile: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, T: Int, dh: Int) {
    for t in 0..<T { for d in 0..<dh { out[d * T + t] = tile[t * dh + d] } }
}

// q, k [B, T, H, dh] -> scores [B, H, T, T]
func attentionScores(q: UnsafePointer<Float>, k: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>,
                     B: Int, T: Int, H: Int, dh: Int) {
    let scale = 1 / Float(dh).squareRoot()
    let stride = H * dh
    Engine.parallelFor(B * H) { bh in
        let base = (bh / H) * T * stride + (bh % H) * dh
        let s = scores + bh * T * T
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * T * dh) { buf in
            let Q = buf.baseAddress!, K = Q + T * dh, KT = K + T * dh
            gather(q, Q, base: base, T: T, dh: dh, stride: stride)
            gather(k, K, base: base, T: T, dh: dh, stride: stride)
            transpose(K, KT, T: T, dh: dh)
            for i in 0..<T {
                let row = s + i * T
                for j in 0..<T { row[j] = 0 }
                for d in 0..<dh {
                    let qv = Q[i * dh + d] * scale
                    let kt = KT + d * T
                    for j in 0...i { row[j] += qv * kt[j] }
                }
                for j in (i + 1)..<max(T, i + 1) { row[j] = -Float.infinity }
            }
        }
    }
}

// scores [B, H, T, T] -> pattern [B, H, T, T]   (rows that are all -inf give zeros, as TransformerLens does)
// `causal`: the scores are known to be -inf above the diagonal (no intervention touched them).
func attentionSoftmax(causal: Bool, scores: UnsafePointer<Float>, pattern: UnsafeMutablePointer<Float>, rows: Int, T: Int) {
    Engine.parallelFor(rows, minPerThread: 64) { r in
        let s = scores + r * T, p = pattern + r * T
        let keys = causal ? r % T + 1 : T
        var m = -Float.infinity
        for j in 0..<keys { m = max(m, s[j]) }
        for j in keys..<T { p[j] = 0 }
        if m == -Float.infinity {
            for j in 0..<keys { p[j] = 0 }
            return
        }
        var sum: Float = 0
        for j in 0..<keys {
            let e = fastExp(s[j] - m)
            let kept: Float = s[j] == -Float.infinity ? 0 : e
            p[j] = kept
            sum += kept
        }
        let inv = 1 / sum
        for j in 0..<keys { p[j] *= inv }
    }
}

// pattern [B, H, T, T], v [B, T, H, dh] -> z [B, T, H, dh]
// `causal`: the pattern is known to be zero above the diagonal (no intervention touched it), so only
// keys <= query are summed.
func attentionMix(causal: Bool, pattern: UnsafePointer<Float>, v: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>,
                  B: Int, T: Int, H: Int, dh: Int) {
    let stride = H * dh
    Engine.parallelFor(B * H) { bh in
        let base = (bh / H) * T * stride + (bh % H) * dh
        let p = pattern + bh * T * T
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * T * dh) { buf in
            let V = buf.baseAddress!, Z = V + T * dh
            gather(v, V, base: base, T: T, dh: dh, stride: stride)
            for i in 0..<T {
                let zi = Z + i * dh
                for d in 0..<dh { zi[d] = 0 }
                for j in 0..<(causal ? i + 1 : T) {
                    let w = p[i * T + j]
                    let vj = V + j * dh
                    for d in 0..<dh { zi[d] += w * vj[d] }
                }
                (z + base + i * stride).update(from: zi, count: dh)
            }
        }
    }
}

// dz [B, T, H, dh] -> dq, dk, dv [B, T, H, dh] (+=); dpattern, dscores [B, H, T, T] (=, kept for hook gradients)
// With `fullPattern` false, dpattern is computed for the causal part only (key <= query): enough for
// every gradient except hook_pattern's own at masked entries, and half the work.
func attentionBackward(fullPattern: Bool, dz: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                       pattern: UnsafePointer<Float>,
                       dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                       dpattern: UnsafeMutablePointer<Float>, dscores: UnsafeMutablePointer<Float>,
                       B: Int, T: Int, H: Int, dh: Int) {
    let scale = 1 / Float(dh).squareRoot()
    let stride = H * dh
    Engine.parallelFor(B * H) { bh in
        let base = (bh / H) * T * stride + (bh % H) * dh
        let p = pattern + bh * T * T, dp = dpattern + bh * T * T, ds = dscores + bh * T * T
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * T * dh) { buf in
            let Q = buf.baseAddress!, K = Q + T * dh, V = K + T * dh, VT = V + T * dh, DZ = VT + T * dh
            let DQ = DZ + T * dh, DK = DQ + T * dh, DV = DK + T * dh
            gather(q, Q, base: base, T: T, dh: dh, stride: stride)
            gather(k, K, base: base, T: T, dh: dh, stride: stride)
            gather(v, V, base: base, T: T, dh: dh, stride: stride)
            gather(dz, DZ, base: base, T: T, dh: dh, stride: stride)
            transpose(V, VT, T: T, dh: dh)
            DQ.update(repeating: 0, count: 3 * T * dh)
            for i in 0..<T {
                let dzi = DZ + i * dh, dpi = dp + i * T, pi = p + i * T, dsi = ds + i * T
                // through z = pattern @ v
                let keys = fullPattern ? T : i + 1
                for j in 0..<T { dpi[j] = 0 }
                for d in 0..<dh {
                    let g = dzi[d], vt = VT + d * T
                    for j in 0..<keys { dpi[j] += g * vt[j] }
                }
                for j in 0..<(i + 1) {       // pattern is zero above the diagonal in an unmodified pass
                    let w = pi[j]
                    let dvj = DV + j * dh
                    for d in 0..<dh { dvj[d] += w * dzi[d] }
                }
                // through the softmax
                var inner: Float = 0
                for j in 0..<T { inner += pi[j] * dpi[j] }
                for j in 0..<T { dsi[j] = pi[j] * (dpi[j] - inner) }
                // through scores = q k^T * scale
                let qi = Q + i * dh, dqi = DQ + i * dh
                for j in 0..<(i + 1) {       // so is d scores
                    let g = dsi[j] * scale
                    let kj = K + j * dh, dkj = DK + j * dh
                    for d in 0..<dh {
                        dqi[d] += g * kj[d]
                        dkj[d] += g * qi[d]
                    }
                }
            }
            for t in 0..<T {
                accumulate(dq + base + t * stride, DQ + t * dh, n: dh)
                accumulate(dk + base + t * stride, DK + t * dh, n: dh)
                accumulate(dv + base + t * stride, DV + t * dh, n: dh)
            }
        }
    }
}
