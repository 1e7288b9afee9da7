// Per-feature z-scoring. Statistics come from the training rows only: using test rows would leak
// their distribution into the probe. Output is Double because the solvers work in Double.

public struct Standardizer: Sendable, Codable, Equatable {
    public var mean: [Double]
    /// 1/std per feature, or 0 for a (numerically) constant feature so it becomes all zeros
    /// instead of 0/0 = NaN or amplified Float rounding noise.
    public var inverseStd: [Double]

    public var dimension: Int { mean.count }

    /// Fits on `rows` of a row-major n x d Float matrix (population std, like scikit-learn's StandardScaler).
    public init(features x: [Float], d: Int, rows: [Int]) {
        var mean = [Double](repeating: 0, count: d)
        var m2 = [Double](repeating: 0, count: d)
        // Two passes in Double: exact enough for Float inputs and no catastrophic cancellation.
        for r in rows {
            let base = r * d
            for j in 0..<d { mean[j] += Double(x[base + j]) }
        }
        let count = Double(max(rows.count, 1))
        for j in 0..<d { mean[j] /= count }
        for r in rows {
            let base = r * d
            for j in 0..<d { let t = Double(x[base + j]) - mean[j]; m2[j] += t * t }
        }
        var inv = [Double](repeating: 0, count: d)
        for j in 0..<d {
            let std = (m2[j] / count).squareRoot()
            // Floor: one Float ulp of the mean (relative 1.2e-7) plus a tiny absolute term.
            // Below it the "variation" is rounding noise, so the feature is treated as constant.
            let floor = 1.2e-7 * abs(mean[j]) + 1e-12
            inv[j] = std > floor ? 1 / std : 0
        }
        self.mean = mean
        self.inverseStd = inv
    }

    /// Standardised copy of `rows`, as a row-major rows.count x d Double matrix.
    public func transform(features x: [Float], d: Int, rows: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: rows.count * d)
        for (i, r) in rows.enumerated() {
            let src = r * d, dst = i * d
            for j in 0..<d { out[dst + j] = (Double(x[src + j]) - mean[j]) * inverseStd[j] }
        }
        return out
    }
}
