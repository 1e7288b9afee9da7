import Foundation
import Testing
import Tensors
import Findings

/// Section 6 on planted answers: each of an item's L tokens is right with probability p(u), a smooth
/// logistic, so TA is smooth and EM = "all L right" is p^L, sharper and later: the mirage. The control
/// makes tokens right or wrong together, so TA is exactly as sharp as EM.
@Suite struct MirageTests {
    /// EM, TA and ED of `seeds` runs; `together`: all tokens of an item share one draw.
    static func group(seeds: Int = 3, items: Int = 300, together: Bool = false) -> MirageGroup {
        let steps = Synthetic.steps(), p = Synthetic.logistic(mid: 2.3, scale: 0.35)
        let lengths = (0..<items).map { 4 + $0 % 5 }                  // 4 to 8 answer tokens
        var em: [RunOutcomes] = [], ta: [RunOutcomes] = [], ed: [RunOutcomes] = []
        for s in 0..<seeds {
            var rng = RNG(seed: 700 + UInt64(s))
            var e = [[Double]](), t = [[Double]](), d = [[Double]]()
            for i in 0..<items {
                let L = lengths[i]
                let right = steps.map { step -> Int in
                    let q = p(StepAxis.u(step))
                    if together { return rng.uniform() < pow(q, Double(L)) ? L : 0 }
                    return (0..<L).reduce(0) { n, _ in n + (rng.uniform() < q ? 1 : 0) }
                }
                e.append(right.map { $0 == L ? 1 : 0 })
                t.append(right.map { Double($0) / Double(L) })
                d.append(right.map { Double(L - $0) })
            }
            em.append(RunOutcomes(seed: s + 1, values: e))
            ta.append(RunOutcomes(seed: s + 1, values: t))
            ed.append(RunOutcomes(seed: s + 1, values: d))
        }
        func task(_ m: Metric, _ runs: [RunOutcomes], chance: Double = 0) -> TaskOutcomes {
            TaskOutcomes(group: "base", task: "multistep_pad", metric: m, steps: steps, chance: chance, runs: runs)
        }
        return MirageGroup(em: task(.exactMatch, em), ta: task(.tokenAccuracy, ta), answerLengths: lengths,
                           others: [task(.editDistance, ed, chance: 6)])
    }

    @Test func sharpExactMatchFromSmoothTokenAccuracyIsAMirage() throws {
        let r = try MirageReport([Self.group()], settings: Synthetic.quick)
        let g = r.perGroup[0]
        #expect(g.onsets.count == 3 && g.onsets.allSatisfy { $0.times != nil })
        #expect(consistent(g.onsets[1].t50!.interval, 2.3), "TA onset \(g.onsets[1].t50!.interval) vs planted 2.3")
        #expect(g.lag!.interval.liesAbove(0), "TA before EM: \(g.lag!.interval)")
        #expect(g.r2.point! >= 0.95, "p^L predicts EM: \(g.r2)")
        #expect(g.decision.verdict == .supported, "\(g.decision.because)")
        #expect(r.decision.verdict == .supported)
    }

    @Test func tokenAccuracyAsSharpAsExactMatchIsNoMirage() throws {
        let r = try MirageReport([Self.group(together: true)], settings: Synthetic.quick)
        #expect(r.perGroup[0].decision.verdict == .notSupported, "\(r.perGroup[0].decision.because)")
        #expect(r.decision.verdict == .notSupported)
    }

    @Test func oneSeedIsInconclusive() throws {
        let r = try MirageReport([Self.group(seeds: 1)], settings: Synthetic.quick)
        #expect(r.decision.verdict == .inconclusive)
        #expect(r.decision.caveats.contains(.singleSeed(group: "base")))
    }
}
