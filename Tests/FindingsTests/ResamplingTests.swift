import Foundation
import Testing
import Tensors
import Findings

/// Section 0's bootstrap: deterministic from its seed, two levels (seeds, then items within each drawn
/// run), undefined resamples counted and the >5% rule applied.
@Suite struct ResamplingTests {
    static let planted = Synthetic.task("add", curve: Synthetic.logistic(mid: 2.5, scale: 0.2, high: 0.95))

    /// The same seed gives bitwise-identical results, down to every encoded byte; another seed does not.
    @Test func rerunIsBitwiseIdentical() throws {
        let a = try OnsetReport(Self.planted), b = try OnsetReport(Self.planted)
        #expect(a == b)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys      // key order of a keyed container is not fixed otherwise
        #expect(try encoder.encode(a) == encoder.encode(b))
        let low = try #require(a.t50?.interval.low), again = try #require(b.t50?.interval.low)
        #expect(low.bitPattern == again.bitPattern)
        let other = try OnsetReport(Self.planted, settings: BootstrapSettings(resamples: 1000, seed: 1))
        #expect(other.t50?.interval != a.t50?.interval, "a different seed draws different resamples")
    }

    /// Seeds that learnt at different times (midpoints 2.2, 2.5, 2.8) with many items: the interval must
    /// carry the seed spread, which items alone cannot (one seed's interval is much narrower).
    @Test func seedVariationEntersTheInterval() throws {
        let mids = [2.2, 2.5, 2.8]
        let spread = Synthetic.task("add", items: 400) { s in Synthetic.logistic(mid: mids[s], scale: 0.1) }
        let acrossSeeds = try #require(try OnsetReport(spread).t50?.interval.width)
        let oneSeed = try #require(try OnsetReport(spread.run(1)).t50?.interval.width)
        #expect(acrossSeeds > 0.3, "seed-level interval width \(acrossSeeds)")
        #expect(oneSeed < 0.1, "item-only interval width \(oneSeed)")
        #expect(acrossSeeds > 3 * oneSeed)
    }

    /// One seed is never redrawn; several are, with replacement. Items are drawn per task, so EM and TA
    /// of one task see the same items and another task sees others; a rerun draws the same.
    @Test func drawsAreKeyedByGroupTaskAndPosition() {
        let settings = BootstrapSettings()
        var sawRepeat = false
        for b in 0..<50 {
            let draws = Draws(settings: settings, resample: b)
            #expect(draws.group("tiny", seedCount: 1).runs == [0])
            let three = draws.group("base", seedCount: 3).runs
            #expect(three.count == 3 && three.allSatisfy { (0..<3).contains($0) })
            sawRepeat = sawRepeat || Set(three).count < 3
            let g = draws.group("base", seedCount: 3)
            #expect(g.items(task: "add", position: 0, count: 50) == Draws(settings: settings, resample: b)
                .group("base", seedCount: 3).items(task: "add", position: 0, count: 50))
            #expect(g.items(task: "add", position: 0, count: 50) != g.items(task: "sub", position: 0, count: 50))
            #expect(g.items(task: "add", position: 0, count: 50) != g.items(task: "add", position: 1, count: 50))
        }
        #expect(sawRepeat, "seeds are drawn with replacement")
        #expect(Draws.point.group("base", seedCount: 3).runs == [0, 1, 2])
        #expect(Draws.point.group("base", seedCount: 3).items(task: "add", position: 2, count: 4) == [0, 1, 2, 3])
    }

    /// Percentiles as numpy's linear method over the defined resamples; more than 5% undefined: no bounds,
    /// and the interval excludes nothing.
    @Test func undefinedResamplesFollowTheFivePercentRule() {
        let settings = BootstrapSettings(resamples: 100)
        let values: [Double?] = (0..<100).map { Double($0) }
        let all = PercentileInterval.of(values, settings: settings)
        #expect(abs(all.low! - Bootstrap.quantile(values.map { $0! }, 0.025)) < 1e-9)
        #expect(abs(all.high! - Bootstrap.quantile(values.map { $0! }, 0.975)) < 1e-9)
        let five = PercentileInterval.of(values.enumerated().map { $0 < 5 ? nil : $1 }, settings: settings)
        #expect(five.isDefined && five.undefinedShare == 0.05)
        let six = PercentileInterval.of(values.enumerated().map { $0 < 6 ? nil : $1 }, settings: settings)
        #expect(!six.isDefined && six.undefinedShare == 0.06)
        #expect(six.contains(-1e9) && six.contains(1e9), "an undefined interval excludes nothing")
        #expect(!six.liesAbove(-1e9) && !six.liesBelow(1e9), "and decides nothing")
    }
}
