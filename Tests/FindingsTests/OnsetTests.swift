import Testing
import Findings

/// Section 1 on planted logistic curves: the onset, t10, t90 and width of the expected curve fall inside
/// the intervals computed from Bernoulli items; flat curves give "no onset", never a number.
@Suite struct OnsetTests {
    /// Midpoints across the step range; scale 0.15 decades (width 4.39 x 0.15 = 0.66 decades).
    @Test(arguments: [1.6, 2.5, 3.1])
    func plantedOnsetIsInsideItsInterval(mid: Double) throws {
        let scale = 0.15
        let t = Synthetic.task("add", curve: Synthetic.logistic(mid: mid, scale: scale, high: 0.95))
        let report = try OnsetReport(t)
        let times = try #require(report.times, "a planted rise must give an onset")
        #expect(consistent(times.t50.interval, mid), "t50 \(times.t50.interval) vs planted \(mid)")
        #expect(consistent(times.t10.interval, Synthetic.quantile(mid: mid, scale: scale, 0.1)), "t10 \(times.t10.interval)")
        #expect(consistent(times.t90.interval, Synthetic.quantile(mid: mid, scale: scale, 0.9)), "t90 \(times.t90.interval)")
        let plantedWidth = Synthetic.quantile(mid: mid, scale: scale, 0.9) - Synthetic.quantile(mid: mid, scale: scale, 0.1)
        #expect(consistent(times.widthInterval, plantedWidth), "width \(times.widthInterval) vs planted \(plantedWidth)")
        // The interval is informative, not just wide: within a quarter decade.
        #expect(times.t50.interval.width! < 0.25)
        // The resolution is the spacing of the two checkpoints that bracket the onset.
        let u = t.u
        let k = try #require(u.firstIndex { $0 > times.t50.u })
        #expect(times.t50.crossing.resolution == u[k] - u[k - 1])
        #expect(!times.partialRise && times.t50.censoredShare == 0)
        #expect(report.rise.interval.liesAbove(0.9))
    }

    /// At chance, and at exactly 0 with chance 0: the interval of f − c does not lie above 0.
    @Test func flatCurvesHaveNoOnset() throws {
        let atChance = Synthetic.task("order", chance: 0.25, curve: { _ in 0.25 })
        let zero = Synthetic.task("multistep", curve: { _ in 0 })
        for t in [atChance, zero] {
            let report = try OnsetReport(t)
            #expect(report.result == .noOnset, "\(t.task): \(report.result)")
            #expect(report.t50 == nil)
            #expect(!report.rise.interval.liesAbove(0))
        }
    }

    /// A skill already learnt at the first checkpoint: "at or before step 0", and only a lower bound on the width.
    @Test func onsetAtTheFirstCheckpointIsCensored() throws {
        let t = Synthetic.task("double", curve: Synthetic.logistic(mid: -1, scale: 0.2, high: 0.9))
        let times = try #require(try OnsetReport(t).times)
        #expect(times.t50.crossing == .atOrBefore(u: 0))
        #expect(times.t50.censoredShare == 1)
        guard case .atLeast = times.width else { Issue.record("width \(times.width) should be a lower bound"); return }
        #expect(!times.widthInterval.isDefined, "every resample's width is only a bound")
    }

    /// f = 0.3 < c + 0.5 (1 − c) = 0.5: the onset is of a partial rise.
    @Test func lowFinalValueIsAPartialRise() throws {
        let t = Synthetic.task("multistep", curve: Synthetic.logistic(mid: 2.5, scale: 0.15, high: 0.3))
        let report = try OnsetReport(t)
        #expect(report.times?.partialRise == true)
        #expect(report.caveats.contains(.partialRise(task: "multistep", group: "base")))
        #expect(consistent(report.times!.t50.interval, 2.5))
    }

    /// Edit distance falls as the skill is learnt; read negated, its onset is where it has fallen half way.
    @Test func editDistanceIsReadNegated() throws {
        let mid = 2.2, scale = 0.15
        let steps = Synthetic.steps()
        // ED per item: 4 tokens wrong before, 0 after: 4 x (1 − Bernoulli(p)).
        let runs = (0..<3).map { s in
            RunOutcomes(seed: s, values: Synthetic.bernoulli(items: 300, steps: steps, seed: 90 + UInt64(s),
                                                             p: Synthetic.logistic(mid: mid, scale: scale)).map { $0.map { 4 * (1 - $0) } })
        }
        let t = TaskOutcomes(group: "base", task: "sub", metric: .editDistance, steps: steps, chance: 4, runs: runs)
        #expect(!t.higherIsBetter)
        let times = try #require(try OnsetReport(t).times)
        #expect(consistent(times.t50.interval, mid), "\(times.t50.interval)")
    }

    @Test func malformedInputIsRefused() {
        var t = Synthetic.task("add", seeds: 1, items: 4, steps: [0, 10, 100], curve: { _ in 0.5 })
        t.steps = [0, 100, 10]
        #expect(throws: FindingsError.stepsNotIncreasing(task: "add", index: 2)) { try OnsetReport(t) }
        t.steps = [0, 10, 100]
        t.runs[0].values[1] = [0, 1]
        #expect(throws: FindingsError.raggedItem(task: "add", seed: 1, item: 1, count: 2, checkpoints: 3)) { try OnsetReport(t) }
        t.runs[0].values[1] = [0, .nan, 1]
        #expect(throws: FindingsError.nonFinite(task: "add", seed: 1, item: 1, checkpoint: 1)) { try OnsetReport(t) }
    }
}
