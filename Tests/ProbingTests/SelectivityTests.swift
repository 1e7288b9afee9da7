import Testing
import Tensors
import Probing

/// Ridge selectivity floors both R²s at 0, so a control fit that predicts held-out items worse than
/// their mean cannot push selectivity above 1; classifier selectivity is the plain difference.
@Suite struct SelectivityTests {
    static func gaussian(_ count: Int, seed: UInt64) -> [Double] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }

    /// Features that carry nothing about the target: selectivity ~ 0 and its interval covers 0.
    @Test func nullFeaturesGiveSelectivityNearZero() throws {
        let n = 600, d = 12
        let x = Self.gaussian(n * d, seed: 41).map { Float($0) }
        let y = Self.gaussian(n, seed: 42)
        let keys = (0..<n).map { ProbeInputKey.int($0 % 30) }  // 30 recurring input types
        let r = try fitProbe(features: x, n: n, d: d, targets: y, trainIdx: Array(0..<450), testIdx: Array(450..<n),
                             lambda: .fixed(1), controlKeys: keys, seed: 5)
        #expect(r.score < 0.05, "R² \(r.score) on noise")
        #expect(abs(r.selectivity!) < 0.05, "selectivity \(r.selectivity!), R² \(r.score), control \(r.controlScore!)")
        #expect(r.selectivityCILow! <= 0 && 0 <= r.selectivityCIHigh!, "[\(r.selectivityCILow!), \(r.selectivityCIHigh!)]")
        #expect(r.selectivityDefinition == "max(r2, 0) - max(control_r2, 0)")
    }

    /// A planted linear target with many features per training item: the ridge fit to the control's
    /// per-example random labels overfits and scores well below 0 on test, where the old difference
    /// (R² - control R²) exceeded 1. The floored selectivity equals the probe's own R² there.
    @Test func plantedFeatureGivesHighSelectivityAtMostOne() throws {
        let n = 300, d = 60
        let x = Self.gaussian(n * d, seed: 51)
        let w = Self.gaussian(d, seed: 52)
        let noise = Self.gaussian(n, seed: 53)
        let y = (0..<n).map { i in (0..<d).reduce(0.05 * noise[i]) { $0 + w[$1] * x[i * d + $1] } }
        let keys = (0..<n).map { ProbeInputKey.int($0) }  // every item its own type: control labels are noise
        let r = try fitProbe(features: x.map { Float($0) }, n: n, d: d, targets: y,
                             trainIdx: Array(0..<150), testIdx: Array(150..<n), lambda: .fixed(0.01), controlKeys: keys, seed: 6)
        let control = try #require(r.controlScore)
        #expect(r.score > 0.95, "R² \(r.score)")
        #expect(control < -0.1, "the case this test is about: control R² \(control) well below 0")
        #expect(r.score - control > 1, "the old definition would exceed 1 here")
        let s = try #require(r.selectivity)
        #expect(s == max(r.score, 0) - max(control, 0))
        #expect(s > 0.9 && s <= 1, "selectivity \(s)")
        #expect(r.selectivityCIHigh! <= 1 && r.selectivityCILow! >= -1 && r.selectivityCILow! > 0.8)
    }

    @Test func classifierSelectivityIsTheAccuracyDifference() throws {
        let n = 400, d = 4
        let x = Self.gaussian(n * d, seed: 61)
        let labels = (0..<n).map { Int32(x[$0 * d] > 0 ? 1 : 0) }
        let keys = (0..<n).map { ProbeInputKey.int($0 % 17) }
        let r = try fitProbe(features: x.map { Float($0) }, n: n, d: d, labels: labels, kind: .binary,
                             trainIdx: Array(0..<300), testIdx: Array(300..<n), controlKeys: keys, seed: 7)
        #expect(r.selectivity == r.score - r.controlScore!)
        #expect(r.selectivityDefinition == "accuracy - control_accuracy")
        #expect(Selectivity.of(score: 0.9, control: -0.4, kind: .ridge) == 0.9)
        #expect(Selectivity.of(score: -0.2, control: -0.4, kind: .ridge) == 0)
        #expect(Selectivity.of(score: 0.5, control: 0.7, kind: .ridge) == 0.5 - 0.7)
        #expect(Selectivity.of(score: 0.5, control: 0.7, kind: .multiclass) == 0.5 - 0.7)
    }
}
