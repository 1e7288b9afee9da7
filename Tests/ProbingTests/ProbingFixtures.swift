import Foundation
import Tensors
import TestSupport

// Independent oracles and data generators for the probing tests. Nothing here calls the code
// under test, so a bug there cannot cancel out.

enum Oracle {
    /// Solves A x = b by Gaussian elimination with partial pivoting (A row-major, m x m).
    static func solve(_ a: [Double], _ b: [Double], m: Int) -> [Double] {
        var a = a, b = b
        for col in 0..<m {
            var piv = col
            for r in col..<m where abs(a[r * m + col]) > abs(a[piv * m + col]) { piv = r }
            if piv != col {
                for c in 0..<m { a.swapAt(col * m + c, piv * m + c) }
                b.swapAt(col, piv)
            }
            for r in (col + 1)..<m {
                let f = a[r * m + col] / a[col * m + col]
                for c in col..<m { a[r * m + c] -= f * a[col * m + c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: m)
        for r in stride(from: m - 1, through: 0, by: -1) {
            var v = b[r]
            for c in (r + 1)..<m { v -= a[r * m + c] * x[c] }
            x[r] = v / a[r * m + r]
        }
        return x
    }

    /// Standard normal CDF.
    static func phi(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
}

enum Synthetic {
    /// Examples x = mu_y + N(0, I) with y uniform over the given class means (each of length d).
    static func gaussianClasses(n: Int, d: Int, means: [[Double]], seed: UInt64) -> (x: [Float], y: [Int32]) {
        var rng = RNG(seed: seed)
        var x = [Float](repeating: 0, count: n * d)
        var y = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let k = rng.int(means.count)
            y[i] = Int32(k)
            for j in 0..<d { x[i * d + j] = Float(means[k][j] + rng.normal()) }
        }
        return (x, y)
    }

    static func randomMatrix(_ count: Int, seed: UInt64) -> [Double] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }
}
