import Tensors

/// Mean cross-entropy of a linear classifier plus an L2 penalty on the weights (not the intercepts):
///
///     J(W, b) = (1/n) * sum_i CE(y_i, x_i W + b) + (lambda/2) * ||W||_F^2
///
/// Softmax mode (multiclass): W is d x K, one column per class, and CE is the negative log-softmax.
/// Sigmoid mode (binary): W is d x 1 and CE is the logistic loss with y in {0, 1}.
///
/// Mapping to scikit-learn's `LogisticRegression(C=..., solver="lbfgs")`, which minimises
/// `C * sum_i CE_i + 0.5 * ||W||^2` with an unpenalised intercept: dividing our J by lambda gives
/// `(1/(lambda*n)) * sum_i CE_i + 0.5 * ||W||^2`, so **C = 1 / (lambda * n_train)** and
/// lambda = 1 / (C * n_train), where n_train is the number of rows the model is fitted on.
/// Sigmoid mode matches sklearn's binary model exactly; softmax mode matches its multinomial
/// model (all K columns penalised). Softmax with K = 2 equals sigmoid mode with lambda/2, since the
/// optimum splits the logit difference u = w1 - w0 as w1 = -w0 = u/2, costing (lambda/4)||u||^2.
///
/// Everything, including the two big products X*W and X^T*G, is Double through BLAS.dgemm, so the
/// finite-difference check holds to ~1e-7 relative and no Float tolerance needs documenting.
public struct LogisticObjective: Sendable {
    public let x: [Double]       // n x d, row-major, standardised
    public let n: Int
    public let d: Int
    public let labels: [Int]     // class index per row, 0..<numClasses
    public let numClasses: Int
    public let sigmoid: Bool
    public let lambda: Double
    /// X transposed (d x n), made once: the gradient X^T G is then a plain product, which OpenBLAS's
    /// small-matrix kernels do several times faster than the transposed one for these thin shapes.
    let xT: [Double]

    /// Columns of W: 1 for sigmoid mode, K for softmax mode.
    public var columns: Int { sigmoid ? 1 : numClasses }
    /// Parameter layout: W row-major (d x columns), then the intercepts (columns).
    public var parameterCount: Int { (d + 1) * columns }

    public init(x: [Double], n: Int, d: Int, labels: [Int], numClasses: Int, sigmoid: Bool, lambda: Double) {
        precondition(x.count == n * d && labels.count == n, "LogisticObjective: shapes disagree")
        precondition(!sigmoid || numClasses == 2, "LogisticObjective: sigmoid mode is for 2 classes")
        self.x = x; self.n = n; self.d = d; self.labels = labels
        self.numClasses = numClasses; self.sigmoid = sigmoid; self.lambda = lambda
        var t = [Double](repeating: 0, count: n * d)
        for i in 0..<n { for j in 0..<d { t[j * n + i] = x[i * d + j] } }
        self.xT = t
    }

    /// Logits Z = X W + b for any row-major m x d matrix (used by fit and predict).
    public static func logits(x: [Double], m: Int, d: Int, params: [Double], columns c: Int) -> [Double] {
        var z = [Double](repeating: 0, count: m * c)
        if m == 0 { return z }
        // Broadcast the intercepts first, then accumulate X W on top (beta = 1).
        for i in 0..<m { for k in 0..<c { z[i * c + k] = params[d * c + k] } }
        x.withUnsafeBufferPointer { xp in
            params.withUnsafeBufferPointer { wp in
                z.withUnsafeMutableBufferPointer { zp in
                    BLAS.dgemm(m: m, n: c, k: d, a: xp.baseAddress!, lda: d,
                               b: wp.baseAddress!, ldb: c, beta: 1, c: zp.baseAddress!, ldc: c)
                }
            }
        }
        return z
    }

    /// J at `params`; writes dJ/dparams into `grad` (resized if needed).
    public func evaluate(_ params: [Double], _ grad: inout [Double]) -> Double {
        let c = columns
        var z = Self.logits(x: x, m: n, d: d, params: params, columns: c)
        var loss = 0.0
        // Turn logits into dCE/dz in place: softmax(z) - onehot(y), or sigmoid(z) - y.
        // Raw pointers: this loop runs once per L-BFGS evaluation over n x K values.
        z.withUnsafeMutableBufferPointer { zb in
        labels.withUnsafeBufferPointer { lb in
            let zp = zb.baseAddress!, yp = lb.baseAddress!
            if sigmoid {
                for i in 0..<n {
                    let t = zp[i], yi = Double(yp[i])
                    // log(1 + e^t) - y t, written to stay finite for large |t|.
                    loss += max(t, 0) + log1p(exp(-abs(t))) - yi * t
                    zp[i] = (t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t))) - yi
                }
                return
            }
            // Softmax in three passes so the exp pass is one long loop without a reduction in it
            // (LLVM vectorises it; a per-row loop with a running sum stays scalar).
            var shiftedTarget = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let row = zp + i * c
                var mx = -Double.infinity
                for k in 0..<c { mx = max(mx, row[k]) }
                for k in 0..<c { row[k] -= mx }
                shiftedTarget[i] = row[yp[i]]
            }
            for j in 0..<(n * c) { zp[j] = expDouble(zp[j]) }
            for i in 0..<n {
                let row = zp + i * c, y = yp[i]
                var sum = 0.0
                for k in 0..<c { sum += row[k] }
                // CE = logsumexp(z) - z_y = log(sum) - (z_y - max); finite even if exp(z_y - max) underflows.
                loss += log(sum) - shiftedTarget[i]
                let inv = 1 / sum
                for k in 0..<c { row[k] *= inv }
                row[y] -= 1
            }
        }
        }
        let invN = 1 / Double(n)
        if grad.count != parameterCount { grad = [Double](repeating: 0, count: parameterCount) }
        let wCount = d * c
        var penalty = 0.0
        for j in 0..<wCount { penalty += params[j] * params[j]; grad[j] = lambda * params[j] }
        // grad_W = X^T G / n + lambda W  (beta = 1 keeps the penalty term already written).
        xT.withUnsafeBufferPointer { xp in
            z.withUnsafeBufferPointer { gp in
                grad.withUnsafeMutableBufferPointer { out in
                    BLAS.dgemm(m: d, n: c, k: n, alpha: invN, a: xp.baseAddress!, lda: n,
                               b: gp.baseAddress!, ldb: c, beta: 1, c: out.baseAddress!, ldc: c)
                }
            }
        }
        // Intercept gradients: column sums of G. One running sum per column in a register (a row-major
        // "grad[k] += z[i][k]" loop re-stores the same few values every row and stalls on them).
        z.withUnsafeBufferPointer { zb in
            for k in 0..<c {
                var sum = 0.0
                for i in 0..<n { sum += zb[i * c + k] }
                grad[wCount + k] = sum * invN
            }
        }
        return loss * invN + 0.5 * lambda * penalty
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
