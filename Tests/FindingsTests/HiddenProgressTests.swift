import Testing
import Findings

/// Section 7 on one run whose composite EM rises at u = 3.0 (step ~1000), with probe and patching series
/// whose onsets are planted before, after, or nowhere.
@Suite struct HiddenProgressTests {
    static let steps = Synthetic.steps()
    static let behaviour = Synthetic.task("multistep_pad", seeds: 1, curve: Synthetic.logistic(mid: 3.0, scale: 0.15, high: 0.95))

    /// A probe at chance (0.5 ± 0.05, control 0.5) until `onset`, then 0.75 ± 0.05; nil: never.
    static func probe(onset: Int?) -> ProbeScores {
        let scores = steps.map { s in (onset.map { s >= $0 } ?? false) ? ScoreInterval(low: 0.7, high: 0.8) : ScoreInterval(low: 0.45, high: 0.55) }
        return ProbeScores(steps: steps, scores: scores, control: steps.map { _ in 0.5 }, stepZero: ScoreInterval(low: 0.45, high: 0.55))
    }

    /// One patching decision whose best component's effect is [0.5, 0.7] from `onset` on, [0, 0.3] before,
    /// with step-0 effects up to 0.35 (so tau = 0.35, not 0.2); nil: never.
    static func causal(onset: Int?) -> CausalScores {
        let effects: [[ScoreInterval]?] = steps.map { s in
            if s == 0 { return nil }                      // normalisation undefined where the runs do not differ
            let on = onset.map { s >= $0 } ?? false
            return [ScoreInterval(low: 0, high: 0.1), on ? ScoreInterval(low: 0.5, high: 0.7) : ScoreInterval(low: 0.3, high: 0.34)]
        }
        return CausalScores(name: "operand", steps: steps, effects: effects,
                            stepZero: [ScoreInterval(low: 0, high: 0.35), ScoreInterval(low: 0, high: 0.1)])
    }

    @Test func structureBeforeBehaviourIsHiddenProgress() throws {
        let r = try HiddenProgressReport(composite: Self.behaviour, probe: Self.probe(onset: 100), causal: [Self.causal(onset: nil)],
                                         settings: Synthetic.quick)
        #expect(r.probeOnset == Self.steps.first { $0 >= 100 }, "the first dumped checkpoint at or after the planted step")
        #expect(consistent(r.behaviour.t50!.interval, 3.0))
        #expect(r.decision.verdict == .supported, "\(r.decision.because)")
        let causalFirst = try HiddenProgressReport(composite: Self.behaviour, probe: Self.probe(onset: nil), causal: [Self.causal(onset: 300)],
                                                   settings: Synthetic.quick)
        #expect(causalFirst.causal[0].onset == Self.steps.first { $0 >= 300 } && causalFirst.causal[0].tau == 0.35)
        #expect(causalFirst.decision.verdict == .supported)
    }

    /// Both onsets after the behaviour's (step 3162 = u 3.5), or the probe never decoding while measured
    /// to the end: not supported.
    @Test func structureAfterBehaviourIsNotHiddenProgress() throws {
        let late = Self.steps.first { $0 >= 3000 }!
        for probeOnset in [late, nil] {
            let r = try HiddenProgressReport(composite: Self.behaviour, probe: Self.probe(onset: probeOnset),
                                             causal: [Self.causal(onset: late)], settings: Synthetic.quick)
            #expect(r.decision.verdict == .notSupported, "\(r.decision.because)")
        }
    }

    @Test func aMissingMeasurementOrBehaviourOnsetIsInconclusive() throws {
        let noProbe = try HiddenProgressReport(composite: Self.behaviour, probe: nil, causal: [Self.causal(onset: 100)], settings: Synthetic.quick)
        #expect(noProbe.decision.verdict == .inconclusive)
        let noCausal = try HiddenProgressReport(composite: Self.behaviour, probe: Self.probe(onset: 100), causal: nil, settings: Synthetic.quick)
        #expect(noCausal.decision.verdict == .inconclusive)
        let flat = Synthetic.task("multistep_pad", seeds: 1, curve: { _ in 0 })
        let noBehaviour = try HiddenProgressReport(composite: flat, probe: Self.probe(onset: 100), causal: [Self.causal(onset: 100)],
                                                   settings: Synthetic.quick)
        #expect(noBehaviour.decision.verdict == .inconclusive)
    }

    /// The rules of the onsets themselves: a probe must beat both its step-0 score and its control; a
    /// component must beat tau where the normalisation is defined; tau is 0.2 without a defined step 0.
    @Test func onsetRules() {
        var p = Self.probe(onset: 100)
        p.control = Self.steps.map { $0 < 300 ? 0.75 : 0.5 }          // the control task as good as the probe until 300
        #expect(p.onset == Self.steps.first { $0 >= 300 })
        var c = Self.causal(onset: nil)
        #expect(c.onset == nil, "0.3 > 0.2 but not > tau 0.35")
        c.stepZero = nil
        #expect(c.tau == 0.2 && c.onset == Self.steps[1], "with tau 0.2 the first defined checkpoint counts")
    }

    /// Plan 11.1: computed targets on the composite count; stated inputs, sub-skill probes and probes
    /// without named tasks do not.
    @Test func onlyComputedTargetsOnTheCompositeCount() {
        #expect(HiddenProgressProbes.exclusion(target: "intermediate", tasks: ["multistep_pad", "multistep"], composite: "multistep_pad") == nil)
        #expect(HiddenProgressProbes.exclusion(target: "op1", tasks: ["multistep"], composite: "multistep") == nil)
        #expect(HiddenProgressProbes.exclusion(target: "answer_ones", tasks: ["multistep"], composite: "multistep") == nil)
        #expect(HiddenProgressProbes.exclusion(target: "start", tasks: ["multistep_pad"], composite: "multistep_pad") != nil)
        #expect(HiddenProgressProbes.exclusion(target: "operand_a", tasks: ["multistep_pad"], composite: "multistep_pad") != nil)
        #expect(HiddenProgressProbes.exclusion(target: "borrow", tasks: ["sub"], composite: "multistep_pad") != nil)
        #expect(HiddenProgressProbes.exclusion(target: "intermediate", tasks: [], composite: "multistep_pad") != nil)
    }
}
