import Tensors

// Causal multi-head attention core, TransformerLens semantics, one (batch, head) pair at a time.
// q, k, v, z are [B, T, H, dh] (hook_q/k/v/z); scores and pattern are [B, H, T, T]
// (hook_attn_scores: scaled, causally masked with -inf, pre-softmax; hook_pattern: softmax of it).
// Softmax and the weighted sum run over every key position, so an intervention that writes into the
// masked part is honoured exactly as TransformerLens would.
// Each (b, h) pair's products are small sgemm calls straight on the strided head slices
// (leading dimension H * dh), so nothing is gathered or transposed by hand.

// `queries`: per sequence, the query rows to compute (a late start's changed positions); nil = all.
// Other rows of scores, pattern and z are left as they are.

// Below this many multiply-adds per (sequence, head) a BLAS call costs more than the arithmetic (a late
// start's single metric row, or short prompts), so plain loops do it.
let smallProduct = 4096

// x . y over n floats; eight lanes summed in a fixed order, so results are deterministic.
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: 0), j = 0
    while j + 8 <= n {
        lanes += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var s: Float = 0
    for i in 0..<8 { s += lanes[i] }
    while j < n { s += x[j] * y[j]; j += 1 }
    return s
}

// q, k [B, T, H, dh] -> scores [B, H, T, T]
func attentionScores(q: UnsafePointer<Float>, k: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>,
                     B: Int, T: Int, H: Int, dh: Int, queries: [Range<Int>]? = nil) {
    let scale = 1 / Float(dh).squareRoot()
    let ld = H * dh
    Engine.parallelFor(B * H) { bh in
        let rows = queries?[bh / H] ?? 0..<T
        if rows.isEmpty { return }
        let base = (bh / H) * T * ld + (bh % H) * dh
        let s = scores + bh * T * T
        if rows.count * T * dh <= smallProduct {
            for i in rows {
                let qi = q + base + i * ld
                for j in 0..<T { s[i * T + j] = j > i ? -Float.infinity : scale * dot(qi, k + base + j * ld, dh) }
            }
            return
        }
        // S = scale * Q K^T (the selected query rows)
        BLAS.gemm(transB: true, m: rows.count, n: T, k: dh, alpha: scale, a: q + base + rows.lowerBound * ld, lda: ld,
                  b: k + base, ldb: ld, c: s + rows.lowerBound * T, ldc: T)
        for i in rows { for j in (i + 1)..<max(T, i + 1) { s[i * T + j] = -Float.infinity } }
    }
}

// scores [B, H, T, T] -> pattern [B, H, T, T]   (rows that are all -inf give zeros, as TransformerLens does)
// `causal`: the scores are known to be -inf above the diagonal (no intervention touched them).
func attentionSoftmax(causal: Bool, scores: UnsafePointer<Float>, pattern: UnsafeMutablePointer<Float>, rows: Int, T: Int,
                      queries: [Range<Int>]? = nil, H: Int = 1) {
    Engine.parallelFor(rows, minPerThread: 64) { r in
        if let queries, !queries[r / (H * T)].contains(r % T) { return }
        let s = scores + r * T, p = pattern + r * T
        let keys = causal ? r % T + 1 : T
        for j in keys..<T { p[j] = 0 }
        let m = rowMax(s, keys)
        if m == -Float.infinity {
            for j in 0..<keys { p[j] = 0 }
            return
        }
        // No reduction in this loop, so it vectorises; the sum below keeps 8 lanes in a fixed order.
        for j in 0..<keys {
            let e = fastExp(s[j] - m)
            p[j] = s[j] == -Float.infinity ? 0 : e
        }
        let inv = 1 / rowSum(p, keys)
        for j in 0..<keys { p[j] *= inv }
    }
}

// Float reductions do not vectorise on their own (the order of additions is part of the result):
// eight lanes, then the lanes in a fixed order, so results stay deterministic.
@inline(__always)
private func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: -Float.infinity), j = 0
    while j + 8 <= n {
        let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        lanes.replace(with: v, where: v .> lanes)
        j += 8
    }
    var m = lanes.max()
    while j < n { m = max(m, x[j]); j += 1 }
    return m
}

@inline(__always)
private func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: 0), j = 0
    while j + 8 <= n {
        lanes += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var total: Float = 0
    for i in 0..<8 { total += lanes[i] }
    while j < n { total += x[j]; j += 1 }
    return total
}

// pattern [B, H, T, T], v [B, T, H, dh] -> z [B, T, H, dh]
func attentionMix(pattern: UnsafePointer<Float>, v: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>,
                  B: Int, T: Int, H: Int, dh: Int, queries: [Range<Int>]? = nil) {
    let ld = H * dh
    Engine.parallelFor(B * H) { bh in
        let rows = queries?[bh / H] ?? 0..<T
        if rows.isEmpty { return }
        let base = (bh / H) * T * ld + (bh % H) * dh
        if rows.count * T * dh <= smallProduct {
            for i in rows {
                let zi = z + base + i * ld, pi = pattern + bh * T * T + i * T
                for e in 0..<dh { zi[e] = 0 }
                for j in 0..<T {
                    let vj = v + base + j * ld, w = pi[j]
                    for e in 0..<dh { zi[e] += w * vj[e] }
                }
            }
            return
        }
        // Z = P V (the selected query rows)
        BLAS.gemm(m: rows.count, n: dh, k: T, a: pattern + bh * T * T + rows.lowerBound * T, lda: T, b: v + base, ldb: ld,
                  c: z + base + rows.lowerBound * ld, ldc: ld)
    }
}

// dz [B, T, H, dh] -> dq, dk, dv [B, T, H, dh] (+=); dpattern, dscores [B, H, T, T] (=, kept for hook gradients)
func attentionBackward(dz: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                       pattern: UnsafePointer<Float>,
                       dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                       dpattern: UnsafeMutablePointer<Float>, dscores: UnsafeMutablePointer<Float>,
                       B: Int, T: Int, H: Int, dh: Int) {
    let scale = 1 / Float(dh).squareRoot()
    let ld = H * dh
    Engine.parallelFor(B * H) { bh in
        let base = (bh / H) * T * ld + (bh % H) * dh
        let p = pattern + bh * T * T, dp = dpattern + bh * T * T, ds = dscores + bh * T * T
        // through z = P V:  dP = dZ V^T,  dV += P^T dZ
        BLAS.gemm(transB: true, m: T, n: T, k: dh, a: dz + base, lda: ld, b: v + base, ldb: ld, c: dp, ldc: T)
        BLAS.gemm(transA: true, m: T, n: dh, k: T, a: p, lda: T, b: dz + base, ldb: ld, beta: 1, c: dv + base, ldc: ld)
        // through the softmax, row by row
        for i in 0..<T {
            let pi = p + i * T, dpi = dp + i * T, dsi = ds + i * T
            var inner: Float = 0
            for j in 0..<T { inner += pi[j] * dpi[j] }
            for j in 0..<T { dsi[j] = pi[j] * (dpi[j] - inner) }
        }
        // through S = scale * Q K^T:  dQ += scale dS K,  dK += scale dS^T Q
        BLAS.gemm(m: T, n: dh, k: T, alpha: scale, a: ds, lda: T, b: k + base, ldb: ld, beta: 1, c: dq + base, ldc: ld)
        BLAS.gemm(transA: true, m: T, n: dh, k: T, alpha: scale, a: ds, lda: T, b: q + base, ldb: ld, beta: 1, c: dk + base, ldc: ld)
    }
}
