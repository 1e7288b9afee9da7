import Testing
import Tensors
import Probing

@Suite struct LBFGSTests {
    /// f(x) = 0.5 x'Ax - b'x with A = M'M + I (d = 20), whose minimiser solves A x = b.
    static func quadratic() -> (a: [Double], b: [Double], d: Int) {
        let d = 20
        let m = Synthetic.randomMatrix(d * d, seed: 5)
        var a = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for k in 0..<d { a[i * d + j] += m[k * d + i] * m[k * d + j] } } }
        for i in 0..<d { a[i * d + i] += 1 }
        return (a, Synthetic.randomMatrix(d, seed: 6), d)
    }

    static func evaluate(_ q: (a: [Double], b: [Double], d: Int), _ x: [Double], _ g: inout [Double]) -> Double {
        let d = q.d
        g = [Double](repeating: 0, count: d)
        var f = 0.0
        for i in 0..<d {
            for j in 0..<d { g[i] += q.a[i * d + j] * x[j] }
            f += 0.5 * x[i] * g[i] - q.b[i] * x[i]
            g[i] -= q.b[i]
        }
        return f
    }

    /// Gradient test only (no f-change stop): 1e-7 sits above the ~1e-8 floor where f differences
    /// drown in rounding and no line search can verify a decrease any more.
    @Test func reachesTheOptimumOfAConvexQuadratic() {
        let q = Self.quadratic()
        var opts = LBFGSOptions(); opts.gradientTolerance = 1e-7; opts.relativeFunctionTolerance = 0
        let r = LBFGS.minimize(x0: [Double](repeating: 0, count: q.d), options: opts) { x, g in Self.evaluate(q, x, &g) }
        let exact = Oracle.solve(q.a, q.b, m: q.d)
        let err = zip(r.x, exact).map { abs($0 - $1) }.max()!
        #expect(r.converged)
        #expect(r.stop == .gradient)
        #expect(r.warning == nil)
        #expect(err < 1e-6, "distance to the exact minimiser \(err)")
        #expect(r.iterations < 200)
    }

    @Test func oneIterationCapReportsNonConvergence() {
        let q = Self.quadratic()
        var opts = LBFGSOptions(); opts.maxIterations = 1
        let r = LBFGS.minimize(x0: [Double](repeating: 0, count: q.d), options: opts) { x, g in Self.evaluate(q, x, &g) }
        #expect(!r.converged)
        #expect(r.stop == .maxIterations)
        #expect(r.iterations == 1)
        #expect(r.warning?.contains("did not converge") == true)
    }

    /// Non-convex and badly scaled: exercises the bracketing/zoom line search and pair skipping.
    @Test func solvesRosenbrock() {
        var opts = LBFGSOptions(); opts.gradientTolerance = 1e-9; opts.maxIterations = 2000
        let r = LBFGS.minimize(x0: [-1.2, 1], options: opts) { x, g in
            let a = 1 - x[0], b = x[1] - x[0] * x[0]
            g = [-2 * a - 400 * x[0] * b, 200 * b]
            return a * a + 100 * b * b
        }
        #expect(r.converged)
        #expect(abs(r.x[0] - 1) < 1e-6 && abs(r.x[1] - 1) < 1e-6, "ended at \(r.x)")
    }
}
