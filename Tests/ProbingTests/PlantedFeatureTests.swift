import Foundation
import Testing
import Tensors
import Probing

/// Synthetic activations with a known answer: class-conditional Gaussians with identity covariance
/// in a few dimensions plus irrelevant dimensions, so the Bayes-optimal accuracy is computable.
@Suite struct PlantedFeatureTests {
    /// Two classes, means +-m with m = (a/2, a/2, 0, ...): Mahalanobis distance D = a*sqrt(2) = 2,
    /// so the Bayes accuracy is Phi(D/2) = Phi(1) = 0.8413.
    @Test func binaryProbeReachesBayesAccuracy() throws {
        let d = 10, n = 2000, a = 2.0.squareRoot()
        var mu1 = [Double](repeating: 0, count: d); mu1[0] = a / 2; mu1[1] = a / 2
        let mu0 = mu1.map { -$0 }
        let data = Synthetic.gaussianClasses(n: n, d: d, means: [mu0, mu1], seed: 100)
        let bayes = Oracle.phi(1)
        let keys = (0..<n).map { ProbeInputKey.int($0) }  // every example its own type
        let r = try fitProbe(features: data.x, n: n, d: d, labels: data.y, kind: .binary,
                             trainIdx: Array(0..<1000), testIdx: Array(1000..<n),
                             controlKeys: keys, seed: 7)
        #expect(r.converged, "\(r.warnings)")
        #expect(r.ciLow <= bayes && bayes <= r.ciHigh, "Bayes \(bayes) outside [\(r.ciLow), \(r.ciHigh)], acc \(r.score)")
        // The Bayes rule (sign of x0 + x1) on the very same test examples: sampling noise cancels.
        var bayesHits = 0
        for i in 1000..<n where (data.x[i * d] + data.x[i * d + 1] > 0 ? 1 : 0) == data.y[i] { bayesHits += 1 }
        let bayesOnTest = Double(bayesHits) / 1000
        #expect(abs(r.score - bayesOnTest) < 0.02, "probe \(r.score) vs Bayes rule \(bayesOnTest)")
        #expect(r.baseline < 0.6)
        // Control labels are coin flips per example: control near chance, selectivity large.
        #expect(abs(r.controlScore! - 0.5) < 0.06, "control \(r.controlScore!)")
        #expect(r.selectivity! > 0.25)
        #expect(r.selectivityCILow! > 0.2)
        #expect(r.nClasses == 2 && r.nTrain == 1000 && r.nTest == 1000 && r.nFeatures == d)
    }

    /// Four classes at the corners of a square in dims 0-1 (side 3) plus 14 noise dims; compared
    /// with the Bayes rule (nearest class mean, equal priors) on the same test set.
    @Test func multiclassProbeMatchesBayesRule() throws {
        let d = 16, n = 2400
        let corners: [(Double, Double)] = [(0, 0), (3, 0), (0, 3), (3, 3)]
        let means = corners.map { c -> [Double] in
            var m = [Double](repeating: 0, count: d); m[0] = c.0; m[1] = c.1; return m
        }
        let data = Synthetic.gaussianClasses(n: n, d: d, means: means, seed: 200)
        let labels = data.y.map { $0 * 10 - 7 }  // arbitrary Int32 label values
        let r = try fitProbe(features: data.x, n: n, d: d, labels: labels, kind: .multiclass,
                             trainIdx: Array(0..<1600), testIdx: Array(1600..<n), seed: 3)
        var hits = 0
        for i in 1600..<n {
            let x0 = Double(data.x[i * d]), x1 = Double(data.x[i * d + 1])
            let k = (0..<4).min { p, q in
                let dp = (x0 - corners[p].0) * (x0 - corners[p].0) + (x1 - corners[p].1) * (x1 - corners[p].1)
                let dq = (x0 - corners[q].0) * (x0 - corners[q].0) + (x1 - corners[q].1) * (x1 - corners[q].1)
                return dp < dq
            }!
            if Int32(k) == data.y[i] { hits += 1 }
        }
        let bayesOnTest = Double(hits) / 800
        // Analytic Bayes accuracy: each coordinate is classified independently, Phi(1.5)^2 = 0.8708.
        let bayes = Oracle.phi(1.5) * Oracle.phi(1.5)
        #expect(abs(r.score - bayesOnTest) < 0.025, "probe \(r.score) vs Bayes rule \(bayesOnTest)")
        #expect(r.ciLow - 0.01 <= bayes && bayes <= r.ciHigh + 0.01, "Bayes \(bayes), CI [\(r.ciLow), \(r.ciHigh)]")
        #expect(r.classes == [-7, 3, 13, 23])
        #expect(r.lambdaSearch.count == LambdaChoice.defaultGrid(for: .multiclass).count)
        #expect(r.converged, "\(r.warnings)")
    }

    /// Labels independent of x: accuracy at chance within the CI, selectivity near zero.
    @Test func noFeatureGivesChanceAndNoSelectivity() throws {
        let d = 16, n = 900
        let x = Synthetic.randomMatrix(n * d, seed: 300).map { Float($0) }
        var rng = RNG(seed: 301)
        let labels = (0..<n).map { _ in Int32(rng.int(3)) }
        // One type per example, so control labels are iid from the same marginal as the real ones.
        // (With few types, say 60, the control marginal itself is skewed by the 60 draws and a
        // majority-leaning control probe beats chance: a real property of control tasks, not a bug.)
        let keys = (0..<n).map { ProbeInputKey.int($0) }
        let r = try fitProbe(features: x, n: n, d: d, labels: labels, kind: .multiclass,
                             trainIdx: Array(0..<600), testIdx: Array(600..<n), controlKeys: keys, seed: 9)
        let chance = 1.0 / 3
        #expect(r.ciLow <= chance && chance <= r.ciHigh, "chance outside [\(r.ciLow), \(r.ciHigh)]")
        #expect(abs(r.selectivity!) < 0.08, "selectivity \(r.selectivity!) acc \(r.score) control \(r.controlScore!) base \(r.baseline) lambda \(r.lambda)")
        #expect(r.selectivityCILow! <= 0 && 0 <= r.selectivityCIHigh!)
    }
}
