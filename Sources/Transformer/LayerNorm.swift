// LayerNorm, TransformerLens semantics (components/layer_norm.py): scale = sqrt(var + eps) is
// `hook_scale` [N, 1]; `hook_normalized` is (x - mean) / scale, BEFORE the gain and bias; the layer's
// output is normalized * w + b. Three kernels so each hook sees exactly what TransformerLens's does and
// an intervention on either hook is seen by what follows.

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

// inp [N, C], mean [N], scale [N] -> norm [N, C] = (inp - mean) / scale
func layernormNormalize(_ inp: UnsafePointer<Float>, mean: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                        norm: UnsafeMutablePointer<Float>, N: Int, C: Int) {
    Engine.parallelFor(N, minPerThread: 256) { i in
        let x = inp + i * C, o = norm + i * C
        let m = mean[i], r = 1 / scale[i]
        for c in 0..<C { o[c] = (x[c] - m) * r }
    }
}

// norm [N, C], w [C], b [C] -> out [N, C] = norm * w + b
func layernormAffine(_ norm: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>,
                     out: UnsafeMutablePointer<Float>, N: Int, C: Int) {
    Engine.parallelFor(N, minPerThread: 256) { i in
        let x = norm + i * C, o = out + i * C
        for c in 0..<C { o[c] = x[c] * w[c] + b[c] }
    }
}

// dout [N, C] (gradient of the affine output) -> dnorm [N, C] (=), dw [C] (+=), db [C] (+=); without
// dw / db (activation gradients only) just dnorm.
func layernormAffineBackward(dout: UnsafePointer<Float>, norm: UnsafePointer<Float>, w: UnsafePointer<Float>,
                             dnorm: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                             N: Int, C: Int) {
    guard let dw, let db else {
        for i in 0..<N { for c in 0..<C { dnorm[i * C + c] = dout[i * C + c] * w[c] } }
        return
    }
    for i in 0..<N {
        let g = dout + i * C, x = norm + i * C, d = dnorm + i * C
        for c in 0..<C {
            d[c] = g[c] * w[c]
            dw[c] += g[c] * x[c]
            db[c] += g[c]
        }
    }
}

// dnorm [N, C] -> dinp [N, C] (+=), dscale [N] (=: d loss / d hook_scale with the centred input held
// fixed, as a backward hook on hook_scale would see it)
func layernormBackward(dnorm: UnsafePointer<Float>, norm: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                       dinp: UnsafeMutablePointer<Float>, dscale: UnsafeMutablePointer<Float>?, N: Int, C: Int) {
    Engine.parallelFor(N, minPerThread: 256) { i in
        let g = dnorm + i * C, xhat = norm + i * C, d = dinp + i * C
        let r = 1 / scale[i]
        var meanG: Float = 0, meanGX: Float = 0
        for c in 0..<C {
            meanG += g[c]
            meanGX += g[c] * xhat[c]
        }
        if let dscale { dscale[i] = -meanGX * r }
        meanG /= Float(C); meanGX /= Float(C)
        for c in 0..<C { d[c] += r * (g[c] - meanG - xhat[c] * meanGX) }
    }
}
