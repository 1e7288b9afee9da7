import Foundation
import Testing
import Tensors
import Probing

/// Not a pass/fail benchmark: prints wall time of the size the lead compares with scikit-learn
/// (10 classes, n = 2000, d = 128). Correctness is still asserted so the timing is of a real fit.
@Suite struct TimingTests {
    @Test func tenClassProbeTiming() throws {
        let n = 2000, d = 128, k = 10
        var rng = RNG(seed: 900)
        let means = (0..<k).map { _ in (0..<d).map { j in j < 8 ? 1.5 * rng.normal() : 0 } }
        let data = Synthetic.gaussianClasses(n: n, d: d, means: means, seed: 901)
        let train = Array(0..<1600), test = Array(1600..<n)
        let clock = ContinuousClock()
        var result: ProbeResult? = nil
        let fixed = try clock.measure {
            result = try fitProbe(features: data.x, n: n, d: d, labels: data.y, kind: .multiclass,
                                  trainIdx: train, testIdx: test, lambda: .fixed(1e-3), seed: 1)
        }
        let r = try #require(result)
        let grid = try clock.measure {
            _ = try fitProbe(features: data.x, n: n, d: d, labels: data.y, kind: .multiclass,
                             trainIdx: train, testIdx: test, lambda: .defaultGrid, seed: 1)
        }
        func ms(_ t: Duration) -> Double { Double(t.components.seconds) * 1e3 + Double(t.components.attoseconds) * 1e-15 }
        print("timing: 10-class n=2000 (1600 train) d=128 lambda=1e-3: \(String(format: "%.1f", ms(fixed))) ms "
              + "(\(r.iterations) L-BFGS iterations, converged \(r.converged), acc \(String(format: "%.3f", r.score)), incl. 1000 bootstrap); "
              + "5-value lambda grid + refit: \(String(format: "%.1f", ms(grid))) ms")
        #expect(r.converged)
        #expect(r.score > r.baseline + 0.3)
    }
}
