import Testing
@testable import Findings

/// The intervals are 95% intervals in fact, not only in name: over 30 planted data sets (the same
/// curves, fresh Bernoulli items and seeds each time), the interval of a planted lag between a sub-skill
/// and the composite holds the planted lag in at least 25 (P(X <= 24) = 0.3% for a calibrated 95%
/// interval; a two-level bootstrap is, if anything, conservative), and is not vacuously wide.
@Suite struct CoverageTests {
    @Test func lagIntervalsCoverThePlantedLag() {
        let planted = 0.5
        var hits = 0, widths = 0.0
        for salt in 0..<30 {
            let composite = Synthetic.task("multistep_pad", seeds: 2, items: 150, salt: 100 + UInt64(salt),
                                           curve: Synthetic.logistic(mid: 2.8, scale: 0.15, high: 0.95))
            let sub = Synthetic.task("sub", seeds: 2, items: 150, salt: 100 + UInt64(salt),
                                     curve: Synthetic.logistic(mid: 2.3, scale: 0.15, high: 0.98))
            let lag = OnsetLag.estimate(composite, minus: [sub], settings: BootstrapSettings(resamples: 200, seed: UInt64(salt)))
            if lag.interval.contains(planted) { hits += 1 }
            widths += lag.interval.width ?? .infinity
        }
        #expect(hits >= 25, "coverage \(hits)/30")
        #expect(widths / 30 < 0.2, "mean width \(widths / 30) decades")
    }
}
