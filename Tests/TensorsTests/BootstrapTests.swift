import Testing
import Tensors

/// `Bootstrap.counts` draws exactly the resamples `Bootstrap.percentile` draws with the same seed, so a mean
/// bootstrapped through the counts (a dot product per resample) has the same interval.
@Suite struct BootstrapTests {
    @Test func countsAreThePercentileResamples() {
        let x = (0..<37).map { Double(($0 * 7919) % 101) / 10 }
        let n = x.count, b = 500
        let viaPositions = Bootstrap.percentile(count: n, resamples: b, seed: 9) { p in p.reduce(0.0) { $0 + x[$1] } / Double(n) }
        let counts = Bootstrap.counts(count: n, resamples: b, seed: 9)
        #expect(counts.count == b * n)
        var means: [Double] = []
        for r in 0..<b {
            let row = counts[(r * n)..<((r + 1) * n)]
            #expect(row.reduce(0, +) == Double(n), "each resample draws n examples")
            means.append(zip(row, x).reduce(0.0) { $0 + $1.0 * $1.1 } / Double(n))
        }
        means.sort()
        #expect(abs(Bootstrap.quantile(means, 0.025) - viaPositions.low) < 1e-12)
        #expect(abs(Bootstrap.quantile(means, 0.975) - viaPositions.high) < 1e-12)
        #expect(Bootstrap.counts(count: n, resamples: b, seed: 10) != counts)
    }
}
