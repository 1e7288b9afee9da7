import Tensors

/// Cholesky factorisation A = L L^T of a symmetric positive-definite matrix, and solves with it.
/// Blocked right-looking: the O(d^3) trailing updates go through BLAS.dgemm; only the
/// diagonal blocks and panel solves (O(d * block^2)) are plain loops.
public struct Cholesky: Sendable {
    public let d: Int
    /// Row-major d x d; the lower triangle holds L (the strict upper triangle is garbage).
    public private(set) var factor: [Double]

    static let block = 64

    /// Throws `.notPositiveDefinite(pivot:)` when a pivot is <= 0 or not finite.
    public init(_ a: [Double], d: Int) throws(ProbeError) {
        precondition(a.count == d * d, "Cholesky: matrix is not d x d")
        self.d = d
        var l = a
        var failed: Int? = nil
        l.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            var k0 = 0
            while k0 < d {
                let kb = min(Cholesky.block, d - k0)
                // 1. Unblocked factorisation of the diagonal block (already updated by earlier blocks).
                for j in k0..<(k0 + kb) {
                    var s = p[j * d + j]
                    for t in k0..<j { s -= p[j * d + t] * p[j * d + t] }
                    guard s > 0, s.isFinite else { failed = j; return }
                    let ljj = s.squareRoot()
                    p[j * d + j] = ljj
                    for i in (j + 1)..<(k0 + kb) {
                        var v = p[i * d + j]
                        for t in k0..<j { v -= p[i * d + t] * p[j * d + t] }
                        p[i * d + j] = v / ljj
                    }
                }
                let rest = d - k0 - kb
                if rest > 0 {
                    // 2. Panel: L21 = A21 * L11^-T, a forward substitution per row.
                    for i in (k0 + kb)..<d {
                        for j in k0..<(k0 + kb) {
                            var v = p[i * d + j]
                            for t in k0..<j { v -= p[i * d + t] * p[j * d + t] }
                            p[i * d + j] = v / p[j * d + j]
                        }
                    }
                    // 3. Trailing update A22 -= L21 L21^T (full square; only its lower half is used).
                    let l21 = UnsafePointer(p + (k0 + kb) * d + k0)
                    BLAS.dgemm(transB: true, m: rest, n: rest, k: kb, alpha: -1, a: l21, lda: d,
                               b: l21, ldb: d, beta: 1, c: p + (k0 + kb) * d + (k0 + kb), ldc: d)
                }
                k0 += kb
            }
        }
        if let j = failed { throw .notPositiveDefinite(pivot: j) }
        factor = l
    }

    /// Solves A x = b by forward (L z = b) then backward (L^T x = z) substitution.
    public func solve(_ b: [Double]) -> [Double] {
        precondition(b.count == d, "Cholesky.solve: right-hand side has the wrong length")
        var x = b
        for i in 0..<d {
            var v = x[i]
            for t in 0..<i { v -= factor[i * d + t] * x[t] }
            x[i] = v / factor[i * d + i]
        }
        for i in stride(from: d - 1, through: 0, by: -1) {
            var v = x[i]
            for t in (i + 1)..<d { v -= factor[t * d + i] * x[t] }
            x[i] = v / factor[i * d + i]
        }
        return x
    }
}
