import Tensors

// A dense layer in TransformerLens's orientation: W is [in, out] and y = x W + b.

// inp [N, C], W [C, OC], b [OC] -> out [N, OC]
func linearForward(_ inp: UnsafePointer<Float>, W: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                   out: UnsafeMutablePointer<Float>, N: Int, C: Int, OC: Int) {
    if let b {
        for i in 0..<N { (out + i * OC).update(from: b, count: OC) }
    }
    BLAS.gemm(m: N, n: OC, k: C, a: inp, lda: C, b: W, ldb: OC, beta: b == nil ? 0 : 1, c: out, ldc: OC)
}

// dout [N, OC] -> dinp [N, C] (+=, or = when `overwrite`), dW [C, OC] (+=, if given), db [OC] (+=, if given)
func linearBackward(dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, W: UnsafePointer<Float>,
                    dinp: UnsafeMutablePointer<Float>?, overwrite: Bool = false, dW: UnsafeMutablePointer<Float>?,
                    db: UnsafeMutablePointer<Float>?, N: Int, C: Int, OC: Int) {
    if let dinp {
        BLAS.gemm(transB: true, m: N, n: C, k: OC, a: dout, lda: OC, b: W, ldb: OC, beta: overwrite ? 0 : 1, c: dinp, ldc: C)
    }
    if let dW { BLAS.gemm(transA: true, m: C, n: OC, k: N, a: inp, lda: C, b: dout, ldb: OC, beta: 1, c: dW, ldc: OC) }
    if let db {
        for i in 0..<N {
            let g = dout + i * OC
            for o in 0..<OC { db[o] += g[o] }
        }
    }
}

// In-place residual add: out [n] = a [n] + b [n]
func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, n: Int) {
    for i in 0..<n { out[i] = a[i] + b[i] }
}

// acc [n] += x [n]
func accumulate(_ acc: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, n: Int) {
    for i in 0..<n { acc[i] += x[i] }
}
