import Testing
@testable import Tensors

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

    /// Selection gives the sort's quantiles exactly: random values, heavy ties, sorted and reversed input,
    /// tiny arrays, an organ-pipe order; and the sorting fallback (forced) leaves every rank in place.
    @Test func quantilesBySelectionEqualTheSortedOnes() {
        var rng = RNG(seed: 3)
        let qs = [0.025, 0.975, 0.1, 0.5, 0.9, 0, 1]
        var cases: [[Double]] = [[1], [2, 1], [3, 3, 3], (0..<1000).map(Double.init), (0..<1000).reversed().map(Double.init)]
        for n in [5, 17, 999, 1000, 4096] {
            cases.append((0..<n).map { _ in rng.normal() })
            cases.append((0..<n).map { _ in Double(rng.int(4)) })       // most values tied
        }
        // organ pipe: ascending then descending, a classic bad order for median-of-three
        cases.append((0..<2000).map { Double($0 < 1000 ? $0 : 2000 - $0) })
        for values in cases {
            let sorted = values.sorted()
            let got = Bootstrap.quantiles(unsorted: values, qs)
            #expect(got == qs.map { Bootstrap.quantile(sorted, $0) }, "n = \(values.count)")
        }
        #expect(Bootstrap.quantiles(unsorted: [], [0.5])[0].isNaN)
        for rounds in [0, 1, 2] {
            var a = (0..<300).map { _ in rng.normal() }
            let sorted = a.sorted()
            a.withUnsafeMutableBufferPointer { Bootstrap.select($0, from: 0, to: 300, rank: 123, maxRounds: rounds) }
            #expect(a[123] == sorted[123])
            #expect(a[..<123].allSatisfy { $0 <= a[123] } && a[124...].allSatisfy { $0 >= a[123] })
        }
    }
}
