import Testing
import Findings

/// Section 4 on planted onsets: sub-skills at known midpoints, the composite at a known lag after (or
/// before) them; the lag's interval must hold the planted lag and the verdicts must follow.
@Suite struct OrderingTests {
    /// A group whose composite rises at `composite` and whose sub-skills rise at `subs` (midpoints in u).
    static func group(_ name: String, composite: Double?, subs: [(String, Double)], seeds: Int = 3, items: Int = 300) -> CompositeGroup {
        let c = Synthetic.task("multistep_pad", group: name, seeds: seeds, items: items,
                               curve: composite.map { Synthetic.logistic(mid: $0, scale: 0.15, high: 0.95) } ?? { _ in 0 })
        let s = subs.map { task, mid in
            Synthetic.task(task, group: name, seeds: seeds, items: items, curve: Synthetic.logistic(mid: mid, scale: 0.15, high: 0.98))
        }
        return CompositeGroup(composite: c, subSkills: s)
    }

    /// Planted lags of 1.0 (add, at 2.0) and 0.6 (order, at 2.4) before a composite at 3.0, in two sizes.
    @Test func plantedLagsAreRecoveredAndPrecede() throws {
        let groups = [Self.group("small", composite: 3.0, subs: [("add", 2.0), ("order", 2.4)]),
                      Self.group("base", composite: 2.7, subs: [("add", 2.0), ("order", 2.4)])]
        let r = try OrderingReport(groups, settings: Synthetic.quick)
        let planted = ["small": ["add": 1.0, "order": 0.6], "base": ["add": 0.7, "order": 0.3]]
        #expect(r.lags.count == 4)
        for lag in r.lags {
            let want = planted[lag.group]![lag.subSkill]!
            let est = try #require(lag.lag)
            #expect(consistent(est.interval, want), "\(lag.group) \(lag.subSkill): \(est.interval) vs planted \(want)")
            #expect(lag.decision.verdict == .precedes)
        }
        #expect(r.decision.verdict == .supported, "\(r.decision.because)")
        #expect(r.decision.caveats.contains(.threatOfConstruction))
    }

    /// The composite rises half a decade before `order`: that sub-skill does not precede.
    @Test func compositeBeforeASubSkillIsNotSupported() throws {
        let r = try OrderingReport([Self.group("base", composite: 2.2, subs: [("add", 1.6), ("order", 2.7)])], settings: Synthetic.quick)
        let order = try #require(r.lags.first { $0.subSkill == "order" })
        #expect(order.decision.verdict == .doesNotPrecede)
        #expect(consistent(order.lag!.interval, -0.5), "\(order.lag!.interval)")
        #expect(r.lags.first { $0.subSkill == "add" }?.decision.verdict == .precedes)
        #expect(r.decision.verdict == .notSupported)
    }

    /// The composite never rises: right-censored, the sub-skill precedes by at least the distance to the
    /// last checkpoint; with no size having a composite onset the verdict stays open.
    @Test func noCompositeOnsetIsRightCensored() throws {
        let r = try OrderingReport([Self.group("tiny", composite: nil, subs: [("add", 2.0)])], settings: Synthetic.quick)
        let add = try #require(r.lags.first)
        #expect(add.decision.verdict == .precedes)
        #expect(add.lag == nil)
        let bound = try #require(add.atLeast)
        #expect(bound > 1.9 && bound < 2.1, "u(last) = 4 minus the upper end of an onset near 2.0: \(bound)")
        #expect(r.decision.verdict == .inconclusive)
    }

    /// The planted lag with one seed (no seed variation), or with a sub-skill that never rises: cannot tell.
    @Test func oneSeedOrASubSkillWithoutOnsetCannotTell() throws {
        let one = try OrderingReport([Self.group("base", composite: 3.0, subs: [("add", 2.0)], seeds: 1)], settings: Synthetic.quick)
        #expect(one.lags[0].decision.verdict == .cannotTell)
        #expect(one.decision.verdict == .inconclusive)
        #expect(one.decision.caveats.contains(.singleSeed(group: "base")) || one.lags[0].decision.caveats.contains(.singleSeed(group: "base")))
        var flatSub = Self.group("base", composite: 3.0, subs: [("add", 2.0)])
        flatSub.subSkills[0] = Synthetic.task("add", group: "base", curve: { _ in 0 })
        let r = try OrderingReport([flatSub], settings: Synthetic.quick)
        #expect(r.lags[0].decision.verdict == .cannotTell)
        #expect(r.decision.verdict == .inconclusive)
    }

    /// Verdicts are decided on EM, on sub-skills named once, from the same runs.
    @Test func inputsAreChecked() {
        var g = Self.group("base", composite: 3.0, subs: [("add", 2.0)], items: 10)
        g.composite.metric = .tokenAccuracy
        #expect(throws: FindingsError.wrongMetric(task: "multistep_pad", found: .tokenAccuracy, expected: .exactMatch)) { try OrderingReport([g]) }
        g = Self.group("base", composite: 3.0, subs: [("add", 2.0), ("add", 2.2)], items: 10)
        #expect(throws: FindingsError.invalid("base: sub-skill add is listed twice")) { try OrderingReport([g]) }
        g = Self.group("base", composite: 3.0, subs: [("add", 2.0)], items: 10)
        g.subSkills[0].runs.removeLast()
        #expect(throws: FindingsError.seedsDiffer(group: "base", task: "add", seeds: [1, 2], expected: [1, 2, 3])) { try OrderingReport([g]) }
    }

    /// A sub-skill learnt before the first checkpoint still precedes a composite that rises later (its lag
    /// is only a lower bound, and that bound is above 0); when both are censored, the lag of 0 between
    /// their bounds says nothing, so: cannot tell, not "does not precede".
    @Test func censoredOnsetsBoundTheLag() throws {
        let early = try OrderingReport([Self.group("base", composite: 2.5, subs: [("double", -1)])], settings: Synthetic.quick)
        #expect(early.lags[0].decision.verdict == .precedes, "\(early.lags[0].decision.because)")
        let both = try OrderingReport([Self.group("base", composite: -1, subs: [("double", -1)])], settings: Synthetic.quick)
        #expect(both.lags[0].decision.verdict == .cannotTell, "\(both.lags[0].decision.because)")
        #expect(both.decision.verdict == .inconclusive)
    }
}
