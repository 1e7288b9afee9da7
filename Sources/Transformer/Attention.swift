// Causal multi-head attention core, TransformerLens semantics, one (batch, head) pair at a time.
// q, k, v, z are [B, T, H, dh] (hook_q/k/v/z); scores and pattern are [B, H, T, T]
// (hook_attn_scores: scaled, causally masked with -inf, pre-softmax; hook_pattern: softmax of it).
// Softmax and the weighted sum run over every key position, so an intervention that writes into the
// masked part is honoured exactly as TransformerLens would.

// q, k [B, T, H, dh] -> scores [B, H, T, T]
func attentionScores(q: UnsafePointer<Float>, k: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>,
                     B: Int, T: Int, H: Int, dh: Int) {
    let scale = 1 / Float(dh).squareRoot()
    let rowStride = H * dh
    Engine.parallelFor(B * H) { bh in
        let b = bh / H, h = bh % H
        let base = b * T * rowStride + h * dh
        let s = scores + bh * T * T
        for i in 0..<T {
            let qi = q + base + i * rowStride
            for j in 0...i {
                let kj = k + base + j * rowStride
                var dot: Float = 0
                for d in 0..<dh { dot += qi[d] * kj[d] }
                s[i * T + j] = dot * scale
            }
            for j in (i + 1)..<max(T, i + 1) { s[i * T + j] = -Float.infinity }
        }
    }
}

// scores [B, H, T, T] -> pattern [B, H, T, T]   (rows that are all -inf give zeros, as TransformerLens does)
func attentionSoftmax(scores: UnsafePointer<Float>, pattern: UnsafeMutablePointer<Float>, rows: Int, T: Int) {
    Engine.parallelFor(rows, minPerThread: 64) { r in
        let s = scores + r * T, p = pattern + r * T
        var m = -Float.infinity
        for j in 0..<T { m = max(m, s[j]) }
        if m == -Float.infinity {
            for j in 0..<T { p[j] = 0 }
            return
        }
        var sum: Float = 0
        for j in 0..<T {
            let e: Float = s[j] == -Float.infinity ? 0 : fastExp(s[j] - m)
            p[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<T { p[j] *= inv }
    }
}

// pattern [B, H, T, T], v [B, T, H, dh] -> z [B, T, H, dh]
func attentionMix(pattern: UnsafePointer<Float>, v: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>,
                  B: Int, T: Int, H: Int, dh: Int) {
    let rowStride = H * dh
    Engine.parallelFor(B * H) { bh in
        let b = bh / H, h = bh % H
        let base = b * T * rowStride + h * dh
        let p = pattern + bh * T * T
        for i in 0..<T {
            let zi = z + base + i * rowStride
            for d in 0..<dh { zi[d] = 0 }
            for j in 0..<T {
                let w = p[i * T + j]
                if w == 0 { continue }
                let vj = v + base + j * rowStride
                for d in 0..<dh { zi[d] += w * vj[d] }
            }
        }
    }
}

// dz [B, T, H, dh] -> dq, dk, dv [B, T, H, dh] (+=); dpattern, dscores [B, H, T, T] (=, kept for hook gradients)
func attentionBackward(dz: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                       pattern: UnsafePointer<Float>,
                       dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                       dpattern: UnsafeMutablePointer<Float>, dscores: UnsafeMutablePointer<Float>,
                       B: Int, T: Int, H: Int, dh: Int) {
    let scale = 1 / Float(dh).squareRoot()
    let rowStride = H * dh
    Engine.parallelFor(B * H) { bh in
        let b = bh / H, h = bh % H
        let base = b * T * rowStride + h * dh
        let p = pattern + bh * T * T, dp = dpattern + bh * T * T, ds = dscores + bh * T * T
        for i in 0..<T {
            let dzi = dz + base + i * rowStride
            // through z = pattern @ v
            for j in 0..<T {
                let vj = v + base + j * rowStride, dvj = dv + base + j * rowStride
                var dot: Float = 0
                for d in 0..<dh { dot += dzi[d] * vj[d] }
                dp[i * T + j] = dot
                let w = p[i * T + j]
                if w != 0 { for d in 0..<dh { dvj[d] += w * dzi[d] } }
            }
            // through the softmax
            var inner: Float = 0
            for j in 0..<T { inner += p[i * T + j] * dp[i * T + j] }
            for j in 0..<T { ds[i * T + j] = p[i * T + j] * (dp[i * T + j] - inner) }
            // through scores = q k^T * scale
            let qi = q + base + i * rowStride, dqi = dq + base + i * rowStride
            for j in 0..<T {
                let g = ds[i * T + j] * scale
                if g == 0 { continue }
                let kj = k + base + j * rowStride, dkj = dk + base + j * rowStride
                for d in 0..<dh {
                    dqi[d] += g * kj[d]
                    dkj[d] += g * qi[d]
                }
            }
        }
    }
}
