import Foundation
import Testing
import Tensors
import Probing

@Suite struct ObjectiveTests {
    static func problem(sigmoid: Bool, seed: UInt64) -> (LogisticObjective, [Double]) {
        let n = 20, d = 5, k = sigmoid ? 2 : 3
        var rng = RNG(seed: seed)
        let x = Synthetic.randomMatrix(n * d, seed: seed &+ 1)
        let y = (0..<n).map { _ in rng.int(k) }
        let obj = LogisticObjective(x: x, n: n, d: d, labels: y, numClasses: k, sigmoid: sigmoid, lambda: 0.3)
        let p = (0..<obj.parameterCount).map { _ in rng.normal() }
        return (obj, p)
    }

    @Test(arguments: [false, true], [UInt64(1), 2, 3])
    func gradientMatchesCentralDifferences(sigmoid: Bool, seed: UInt64) {
        let (obj, p) = Self.problem(sigmoid: sigmoid, seed: seed)
        var g = [Double]()
        _ = obj.evaluate(p, &g)
        #expect(g.count == obj.parameterCount)
        var scratch = [Double]()
        let h = 1e-5
        var worst = 0.0
        for j in 0..<p.count {
            var plus = p, minus = p
            plus[j] += h; minus[j] -= h
            let fd = (obj.evaluate(plus, &scratch) - obj.evaluate(minus, &scratch)) / (2 * h)
            worst = max(worst, abs(fd - g[j]) / max(1, abs(fd)))
        }
        #expect(worst < 1e-7, "max relative gradient error \(worst)")
    }

    /// The doc comment's claim: with C = 1/(lambda n), C * sum CE + 0.5||W||^2 equals J / lambda.
    /// The sklearn-style objective is recomputed here row by row, independently of the BLAS path.
    @Test func sklearnMappingOfLambdaToC() {
        for sigmoid in [false, true] {
            let (obj, p) = Self.problem(sigmoid: sigmoid, seed: 7)
            var g = [Double]()
            let ours = obj.evaluate(p, &g)
            let c = obj.columns, d = obj.d
            var sumCE = 0.0, w2 = 0.0
            for j in 0..<(d * c) { w2 += p[j] * p[j] }
            for i in 0..<obj.n {
                var z = (0..<c).map { p[d * c + $0] }
                for k in 0..<c { for j in 0..<d { z[k] += obj.x[i * d + j] * p[j * c + k] } }
                if sigmoid {
                    let prob = 1 / (1 + exp(-z[0]))
                    sumCE -= obj.labels[i] == 1 ? log(prob) : log(1 - prob)
                } else {
                    let lse = log(z.map { exp($0) }.reduce(0, +))
                    sumCE += lse - z[obj.labels[i]]
                }
            }
            let bigC = 1 / (obj.lambda * Double(obj.n))
            let sklearn = bigC * sumCE + 0.5 * w2
            #expect(abs(sklearn - ours / obj.lambda) < 1e-9 * max(1, sklearn))
        }
    }

    /// Documented equivalence: softmax with K = 2 and lambda equals sigmoid with lambda / 2.
    @Test func twoClassSoftmaxEqualsSigmoidWithHalfLambda() {
        let n = 200, d = 4
        let x = Synthetic.randomMatrix(n * d, seed: 11)
        var rng = RNG(seed: 12)
        var y = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let score: Double = x[i * d] + 0.5 * x[i * d + 1] + rng.normal()
            y[i] = score > 0 ? 1 : 0
        }
        var opts = LBFGSOptions(); opts.gradientTolerance = 1e-9
        let soft = LogisticRegression.fit(x: x, n: n, d: d, y: y, classes: [0, 1], sigmoid: false, lambda: 0.2, options: opts)
        let sig = LogisticRegression.fit(x: x, n: n, d: d, y: y, classes: [0, 1], sigmoid: true, lambda: 0.1, options: opts)
        #expect(soft.report.converged && sig.report.converged)
        let zs = soft.model.decision(x: x, m: n), zg = sig.model.decision(x: x, m: n)
        var worst = 0.0
        for i in 0..<n {
            let diff: Double = zs[2 * i + 1] - zs[2 * i]
            worst = max(worst, abs(diff - zg[i]))
        }
        #expect(worst < 1e-6, "decision values differ by \(worst)")
    }
}
