// LayerNorm, TransformerLens semantics: scale = sqrt(var + eps) is `hook_scale` [N, 1];
// `hook_normalized` is the output after the affine map, (x - mean) / scale * w + b.
// Split in two so that an intervention on hook_scale is seen by the normalisation.

// inp [N, C] -> mean [N], scale [N]
func layernormStats(_ inp: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>,
                    N: Int, C: Int, eps: Float) {
    Engine.parallelFor(N, minPerThread: 256) { i in
        let x = inp + i * C
        var m: Float = 0
        for c in 0..<C { m += x[c] }
        m /= Float(C)
        var v: Float = 0
        for c in 0..<C { let d = x[c] - m; v += d * d }
        v /= Float(C)
        mean[i] = m
        scale[i] = (v + eps).squareRoot()
    }
}

// inp [N, C], mean [N], scale [N], w [C], b [C] -> out [N, C]
func layernormApply(_ inp: UnsafePointer<Float>, mean: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                    w: UnsafePointer<Float>, b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, N: Int, C: Int) {
    Engine.parallelFor(N, minPerThread: 256) { i in
        let x = inp + i * C, o = out + i * C
        let m = mean[i], r = 1 / scale[i]
        for c in 0..<C { o[c] = (x[c] - m) * r * w[c] + b[c] }
    }
}

// dout [N, C] -> dinp [N, C] (+=), dw [C] (+=), db [C] (+=), dscale [N] (=, optional: d loss / d hook_scale
// with the normalisation's inputs held fixed, as a backward hook on hook_scale would see it).
func layernormBackward(dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                       scale: UnsafePointer<Float>, w: UnsafePointer<Float>,
                       dinp: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                       dscale: UnsafeMutablePointer<Float>?, N: Int, C: Int) {
    // Rows in parallel for dinp; dw/db reduced serially afterwards so the sum order never depends on threads.
    Engine.parallelFor(N, minPerThread: 256) { i in
        let x = inp + i * C, g = dout + i * C, d = dinp + i * C
        let m = mean[i], r = 1 / scale[i]
        var meanG: Float = 0, meanGX: Float = 0
        for c in 0..<C {
            let xhat = (x[c] - m) * r
            let gn = g[c] * w[c]
            meanG += gn
            meanGX += gn * xhat
        }
        if let dscale { dscale[i] = -meanGX * r }
        meanG /= Float(C); meanGX /= Float(C)
        for c in 0..<C {
            let xhat = (x[c] - m) * r
            d[c] += r * (g[c] * w[c] - meanG - xhat * meanGX)
        }
    }
    for i in 0..<N {
        let x = inp + i * C, g = dout + i * C
        let m = mean[i], r = 1 / scale[i]
        for c in 0..<C {
            dw[c] += g[c] * (x[c] - m) * r
            db[c] += g[c]
        }
    }
}
