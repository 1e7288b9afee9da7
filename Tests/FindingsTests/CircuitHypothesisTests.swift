import CircuitRecords
@testable import Findings
import Testing

/// Plan section 12's rule on hand-made `lens circuit` records whose answer is known.
@Suite struct CircuitHypothesisTests {
    static func faith(_ v: Double) -> Faithfulness {
        Faithfulness(value: v, low: v - 0.05, high: v + 0.05, perPairQuantiles: [], pairsUsed: 10, circuitMetric: 0, cleanMetric: 1, ablatedMetric: 0)
    }

    /// One decision of one experiment on one run: a circuit at every step (or none at the last), forming at `formed`.
    static func record(_ experiment: String, task: String, run: String = "base-s1", circuit: Bool = true, formed: Int?) -> CircuitRecord {
        let steps = [0, 1000, 7000].map { step in
            CircuitStepRecord(step: step, cleanMetric: 1, ablatedMetric: 0, gapLow: 0.5, gapHigh: 1.5, gapResolved: true,
                              methods: [MethodRecord(method: "eap-ig", file: "\(run)/\(experiment)/answer/step_\(step)/eap-ig.json", curve: nil,
                                                     circuit: circuit || step < 7000 ? CircuitSummary(edges: 3, nodes: 3, edgeNames: ["a", "b", "c"],
                                                                                                       nodeNames: ["input", "a0.h0", "logits"], faithfulness: faith(0.9),
                                                                                                       completeness: nil, minimality: nil, figure: nil) : nil)],
                              agreement: [])
        }
        let formation = Formation(circuitStep: 7000, steps: [0, 1000, 7000], faithfulness: [0.1, 0.5, 0.9], formedAt: formed)
        return CircuitRecord(experiment: experiment, task: task, run: run, runDir: "/x/\(run)", model: "m", seed: 1, metric: "logit_diff",
                             ablation: "resample", settings: CircuitSettings(), graph: GraphSize(nodes: 20, edges: 310),
                             decisions: [CircuitDecisionRecord(decision: "answer", pairs: 10, layouts: 1, steps: steps, formation: formation)])
    }

    static func overlap(_ sub: String, share: Double, null95: Double, run: String = "base-s1") -> OverlapRecord {
        OverlapRecord(run: run, composite: "comp/answer", subskill: "\(sub)/answer", steps: [0, 1000, 7000], edgeJaccard: [0.1, 0.2, 0.3],
                      nodeJaccard: [0.1, 0.2, 0.3], massShare: [0.1, 0.2, share], massShareNullMean: [0.1, 0.1, 0.1], massShareNull95: [0.2, 0.2, null95])
    }

    @Test func reuseAndLaterFormationIsSupported() {
        let study = CircuitStudyRecord(records: [Self.record("comp", task: "multistep_pad", formed: 7000), Self.record("sub", task: "sub", formed: 1000)],
                                       overlaps: [Self.overlap("sub", share: 0.6, null95: 0.3)])
        let h = CircuitHypothesisReport(study)
        #expect(h.decision.verdict == .supported, "\(h.decision.because)")
        #expect(h.comparisons.map(\.order) == ["after"])
    }

    @Test func noReuseBeyondTheNullIsNotSupported() {
        let study = CircuitStudyRecord(records: [Self.record("comp", task: "multistep_pad", formed: 7000), Self.record("sub", task: "sub", formed: 1000)],
                                       overlaps: [Self.overlap("sub", share: 0.25, null95: 0.3)])
        #expect(CircuitHypothesisReport(study).decision.verdict == .notSupported)
    }

    @Test func formingBeforeEverySubskillItReusesIsNotSupported() {
        let study = CircuitStudyRecord(records: [Self.record("comp", task: "multistep_pad", formed: 1000), Self.record("sub", task: "sub", formed: 7000)],
                                       overlaps: [Self.overlap("sub", share: 0.6, null95: 0.3)])
        let h = CircuitHypothesisReport(study)
        #expect(h.decision.verdict == .notSupported, "\(h.decision.because)")
        #expect(h.comparisons.map(\.order) == ["before"])
    }

    @Test func theSameCheckpointCannotTellTheOrder() {
        let study = CircuitStudyRecord(records: [Self.record("comp", task: "multistep_pad", formed: 1000), Self.record("sub", task: "sub", formed: 1000)],
                                       overlaps: [Self.overlap("sub", share: 0.6, null95: 0.3)])
        let h = CircuitHypothesisReport(study)
        #expect(h.decision.verdict == .inconclusive)
        #expect(h.comparisons.map(\.order) == ["cannot tell"])
    }

    @Test func noCompositeCircuitIsInconclusive() {
        let study = CircuitStudyRecord(records: [Self.record("comp", task: "multistep_pad", circuit: false, formed: nil), Self.record("sub", task: "sub", formed: 1000)],
                                       overlaps: [Self.overlap("sub", share: 0.6, null95: 0.3)])
        let h = CircuitHypothesisReport(study)
        #expect(h.decision.verdict == .inconclusive)
        #expect(h.compositesWithoutCircuit == ["base-s1 comp/answer"])
    }
}
