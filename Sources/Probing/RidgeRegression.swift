import Tensors

/// Closed-form ridge regression:  min_w,b  ||y - X w - b||^2 + lambda * ||w||^2.
/// The intercept is left unpenalised by centring X and y on the training rows, then solving
/// (Xc^T Xc + lambda I) w = Xc^T yc with `Cholesky`, and b = mean(y) - mean(X) w.
/// This is scikit-learn's `Ridge(alpha=lambda, fit_intercept=True)` objective exactly (sum of
/// squares, not mean), so lambda here equals sklearn's alpha.
public struct RidgeModel: Sendable, Codable, Equatable {
    public var weights: [Double]
    public var intercept: Double

    public func predict(x: [Double], m: Int) -> [Double] {
        let d = weights.count
        var out = [Double](repeating: intercept, count: m)
        if m == 0 || d == 0 { return out }
        x.withUnsafeBufferPointer { xp in
            weights.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    BLAS.dgemm(m: m, n: 1, k: d, a: xp.baseAddress!, lda: d, b: wp.baseAddress!, ldb: 1,
                               beta: 1, c: op.baseAddress!, ldc: 1)
                }
            }
        }
        return out
    }
}

public enum RidgeRegression {
    public static func fit(x: [Double], n: Int, d: Int, y: [Double], lambda: Double) throws(ProbeError) -> RidgeModel {
        guard x.count == n * d, y.count == n else { throw .shapeMismatch("ridge: x has \(x.count) values, y \(y.count), n=\(n) d=\(d)") }
        guard lambda.isFinite, lambda >= 0 else { throw .invalidLambda(lambda) }
        var xm = [Double](repeating: 0, count: d)
        var ym = 0.0
        for i in 0..<n {
            ym += y[i]
            for j in 0..<d { xm[j] += x[i * d + j] }
        }
        let invN = 1 / Double(max(n, 1))
        ym *= invN
        for j in 0..<d { xm[j] *= invN }
        var xc = x
        var yc = y
        for i in 0..<n {
            yc[i] -= ym
            for j in 0..<d { xc[i * d + j] -= xm[j] }
        }
        var gram = [Double](repeating: 0, count: d * d)
        var rhs = [Double](repeating: 0, count: d)
        xc.withUnsafeBufferPointer { xp in
            gram.withUnsafeMutableBufferPointer { gp in
                BLAS.dgemm(transA: true, m: d, n: d, k: n, a: xp.baseAddress!, lda: d,
                           b: xp.baseAddress!, ldb: d, c: gp.baseAddress!, ldc: d)
            }
            yc.withUnsafeBufferPointer { yp in
                rhs.withUnsafeMutableBufferPointer { rp in
                    BLAS.dgemm(transA: true, m: d, n: 1, k: n, a: xp.baseAddress!, lda: d,
                               b: yp.baseAddress!, ldb: 1, c: rp.baseAddress!, ldc: 1)
                }
            }
        }
        for j in 0..<d {
            gram[j * d + j] += lambda
            // An all-zero column (a constant feature after centring) makes row and column j of the
            // Gram matrix zero; a unit pivot there decouples it and yields w_j = 0 exactly, instead
            // of failing the factorisation when lambda = 0.
            if gram[j * d + j] == 0 { gram[j * d + j] = 1 }
        }
        let w = try Cholesky(gram, d: d).solve(rhs)
        var b = ym
        for j in 0..<d { b -= xm[j] * w[j] }
        return RidgeModel(weights: w, intercept: b)
    }
}
