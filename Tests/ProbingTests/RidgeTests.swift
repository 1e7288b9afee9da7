import Testing
import Tensors
import Probing

@Suite struct RidgeTests {
    @Test func matchesNormalEquationsSolvedByGaussianElimination() throws {
        let n = 40, d = 6, lambda = 0.7
        let x = Synthetic.randomMatrix(n * d, seed: 21).map { $0 * 2 + 1 }  // non-centred on purpose
        let y = Synthetic.randomMatrix(n, seed: 22).map { $0 + 5 }
        let model = try RidgeRegression.fit(x: x, n: n, d: d, y: y, lambda: lambda)
        // Oracle: centre, form Xc'Xc + lambda I and Xc'yc with plain loops, eliminate.
        var xm = [Double](repeating: 0, count: d), ym = 0.0
        for i in 0..<n { ym += y[i] / Double(n); for j in 0..<d { xm[j] += x[i * d + j] / Double(n) } }
        var a = [Double](repeating: 0, count: d * d), b = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d {
                b[j] += (x[i * d + j] - xm[j]) * (y[i] - ym)
                for k in 0..<d { a[j * d + k] += (x[i * d + j] - xm[j]) * (x[i * d + k] - xm[k]) }
            }
        }
        for j in 0..<d { a[j * d + j] += lambda }
        let w = Oracle.solve(a, b, m: d)
        var intercept = ym
        for j in 0..<d { intercept -= xm[j] * w[j] }
        #expect(zip(model.weights, w).allSatisfy { abs($0 - $1) < 1e-10 }, "\(model.weights) vs \(w)")
        #expect(abs(model.intercept - intercept) < 1e-10)
    }

    /// d = 150 crosses the 64-wide blocks, so the dgemm trailing update is exercised.
    @Test func blockedCholeskyMatchesGaussianElimination() throws {
        let d = 150
        let m = Synthetic.randomMatrix(d * d, seed: 31)
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for k in 0..<d { a[i * d + j] += m[k * d + i] * m[k * d + j] } } }
        for i in 0..<d { a[i * d + i] += 1 }
        let b = Synthetic.randomMatrix(d, seed: 32)
        let x = try Cholesky(a, d: d).solve(b)
        let oracle = Oracle.solve(a, b, m: d)
        let err = zip(x, oracle).map { abs($0 - $1) }.max()!
        #expect(err < 1e-8, "max difference \(err)")
    }

    @Test func choleskyRejectsAnIndefiniteMatrix() {
        #expect(throws: ProbeError.notPositiveDefinite(pivot: 1)) {
            _ = try Cholesky([1, 2, 2, 1], d: 2)
        }
    }

    /// Noiseless planted linear target through the full entry point: test R^2 ~ 1.
    @Test func recoversAPlantedLinearTarget() throws {
        let n = 300, d = 12
        let x = Synthetic.randomMatrix(n * d, seed: 41).map { Float($0) }
        let w = Synthetic.randomMatrix(d, seed: 42)
        var y = [Double](repeating: 3, count: n)
        for i in 0..<n { for j in 0..<d { y[i] += Double(x[i * d + j]) * w[j] } }
        let r = try fitProbe(features: x, n: n, d: d, targets: y, trainIdx: Array(0..<200),
                             testIdx: Array(200..<n), lambda: .fixed(1e-8), seed: 1)
        #expect(r.metric == "r2")
        #expect(r.score > 1 - 1e-9, "R^2 = \(r.score)")
        #expect(abs(r.baseline) < 0.1, "mean predictor R^2 = \(r.baseline)")
        #expect(r.ciLow <= r.score && r.score <= r.ciHigh)
    }

    /// Ridge with lambda = 0 and a constant feature: the zero column must not break Cholesky.
    @Test func constantFeatureWithZeroLambda() throws {
        let n = 60, d = 3
        var x = Synthetic.randomMatrix(n * d, seed: 51).map { Float($0) }
        for i in 0..<n { x[i * d + 2] = 4 }
        let y = (0..<n).map { 2 * Double(x[$0 * d]) - Double(x[$0 * d + 1]) }
        let r = try fitProbe(features: x, n: n, d: d, targets: y, trainIdx: Array(0..<40),
                             testIdx: Array(40..<n), lambda: .fixed(0))
        #expect(r.score > 1 - 1e-9)
    }
}
