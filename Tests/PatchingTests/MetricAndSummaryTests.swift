import Foundation
import Testing
import Tensors
import Transformer
@testable import Patching

// Each metric, the normalisation, the intervals, direct logit attribution and the logit lens against
// computations written out here from their definitions.
@Suite struct MetricAndSummaryTests {
    @Test(arguments: PatchMetric.allCases)
    func everyMetricEqualsADirectRecomputation(metric: PatchMetric) throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs, metric: metric)
        let N = pairs.count, T = pairs.length
        let clean = try m.forward(tokens: Array(pairs.clean.joined()), batch: N, length: T).logits
        let corrupted = try m.forward(tokens: Array(pairs.corrupted.joined()), batch: N, length: T).logits
        let wantClean = directMetric(metric, logits: clean, pairs: pairs, cleanLogits: clean)
        let wantCorrupted = directMetric(metric, logits: corrupted, pairs: pairs, cleanLogits: clean)
        #expect(maxDiff(runs.clean, wantClean) < 1e-6 * (1 + wantClean.map(abs).max()!))
        #expect(maxDiff(runs.corrupted, wantCorrupted) < 1e-6 * (1 + wantCorrupted.map(abs).max()!))
        if metric == .kl { #expect(runs.clean.allSatisfy { abs($0) < 1e-9 } && runs.corrupted.allSatisfy { $0 > 0 }) }
        if metric == .prob { #expect(runs.clean.allSatisfy { $0 > 0 && $0 < 1 }) }
    }

    /// The gradient each metric starts attribution from is its derivative (central differences in Double).
    @Test(arguments: PatchMetric.allCases)
    func metricGradientsAreDerivatives(metric: PatchMetric) throws {
        var rng = RNG(seed: 3)
        let V = 7
        let logits = (0..<V).map { _ in Float(rng.normal()) }
        let reference = logits.withUnsafeBufferPointer { logSoftmax($0) }.map { $0 * 0.5 }    // any distribution's logs
        let normalisedRef = { () -> [Double] in let lse = Foundation.log(reference.map(Foundation.exp).reduce(0, +)); return reference.map { $0 - lse } }()
        let g = logits.withUnsafeBufferPointer { metric.gradient($0, correct: 2, wrong: 5, cleanLogProbs: normalisedRef) }
        for v in 0..<V {
            var plus = logits, minus = logits
            plus[v] += 1e-2; minus[v] -= 1e-2
            let fp = plus.withUnsafeBufferPointer { metric.value($0, correct: 2, wrong: 5, cleanLogProbs: normalisedRef) }
            let fm = minus.withUnsafeBufferPointer { metric.value($0, correct: 2, wrong: 5, cleanLogProbs: normalisedRef) }
            #expect(abs((fp - fm) / 2e-2 - Double(g[v])) < 1e-3, "\(metric) d/dlogit[\(v)]")
        }
    }

    @Test func normalisedEffectIsARatioOfMeansAndUndefinedWhenTheRunsDoNotDiffer() throws {
        let m = randomModel()
        let pairs = randomPairs(m, count: 12)
        let runs = try PatchRuns(model: m, pairs: pairs)
        let r = try runs.patch(.residPre)
        let s = summarise(r, resamples: 300, seed: 4)
        let c = mean(runs.clean), x = mean(runs.corrupted)
        if s.defined {
            for cell in 0..<r.cells { #expect(abs(s.normalised[cell]! - (r.raw[cell] - x) / (c - x)) < 1e-12) }
        }
        #expect(s.differenceLow <= c - x && c - x <= s.differenceHigh)
        for cell in 0..<r.cells { #expect(s.rawLow[cell] <= r.raw[cell] + 1e-12 && r.raw[cell] <= s.rawHigh[cell] + 1e-12) }
        // deterministic: same seed, same bits; another seed, other intervals
        #expect(summarise(r, resamples: 300, seed: 4) == s)
        #expect(summarise(r, resamples: 300, seed: 5).rawLow != s.rawLow)
        // clean against itself: m_clean - m_corrupted is 0 in every resample, so nothing is normalised
        let same = try PatchPairs(clean: pairs.clean, corrupted: pairs.clean, position: pairs.position, correct: pairs.correct, wrong: pairs.wrong)
        let flat = summarise(try PatchRuns(model: m, pairs: same).patch(.residPre), resamples: 100)
        #expect(!flat.defined && flat.normalised.allSatisfy { $0 == nil } && flat.normalisedLow.allSatisfy { $0 == nil })
    }

    /// Half the pairs agree with the answer and half disagree by the same margin: the interval of
    /// m_clean - m_corrupted straddles 0 and the normalisation is reported undefined.
    @Test func anIntervalThroughZeroLeavesTheNormalisationUndefined() throws {
        let model = try Planted.model()
        let p = try Planted.pairs()
        // swap correct and wrong on every other pair: per-pair differences are +2 and -2
        let flipped = try PatchPairs(clean: p.clean, corrupted: p.corrupted, position: p.position,
                                     correct: p.correct.enumerated().map { $0.offset % 2 == 0 ? $0.element : p.wrong[$0.offset] },
                                     wrong: p.wrong.enumerated().map { $0.offset % 2 == 0 ? $0.element : p.correct[$0.offset] })
        let s = summarise(try PatchRuns(model: model, pairs: flipped).patch(.residPre), resamples: 500)
        #expect(s.differenceLow < 0 && s.differenceHigh > 0 && !s.defined)
    }

    /// With the final LayerNorm's scale frozen, the residual stream is a sum of components and LayerNorm
    /// is linear: the attributions plus the constant terms are exactly the run's logit difference.
    @Test func logitAttributionSumsToTheLogitDifference() throws {
        for norm in ["LN", nil] as [String?] {
            let m = randomModel(normalization: norm)
            let pairs = randomPairs(m)
            let runs = try PatchRuns(model: m, pairs: pairs)
            for run in [PatchRun.clean, .corrupted] {
                let dla = runs.directLogitAttribution(run: run)
                let C = dla.components.count
                #expect(C == 2 + m.config.n_layers * (m.config.n_heads + 2))
                let want = run == .clean ? runs.clean : runs.corrupted
                for i in 0..<pairs.count {
                    let sum = (0..<C).reduce(0.0) { $0 + dla.perPair[i * C + $1] } + dla.constant[i]
                    #expect(abs(sum - want[i]) < 1e-4 * (1 + abs(want[i])), "\(norm ?? "None") \(run) pair \(i): \(sum) vs \(want[i])")
                }
            }
        }
    }

    /// The logit lens at each layer: that layer's residual stream through ln_final and the unembedding,
    /// written out here in Double; its last entry is the run's own metric.
    @Test func logitLensEqualsADirectRecomputation() throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs)
        let lens = try runs.logitLens()
        let N = pairs.count, T = pairs.length, D = m.config.d_model, V = m.config.d_vocab
        let out = try m.forward(tokens: Array(pairs.clean.joined()), batch: N, length: T, plan: HookPlan(cache: lens.hooks))
        let w = m.params.tensor("ln_final.w")!.data, b = m.params.tensor("ln_final.b")!.data
        let WU = m.params.tensor("unembed.W_U")!.data, bU = m.params.tensor("unembed.b_U")!.data
        for (k, hook) in lens.hooks.enumerated() {
            let x = out.cache[hook]!
            for i in 0..<N {
                let row = (0..<D).map { Double(x[i, pairs.position[i], $0]) }
                let mu = row.reduce(0, +) / Double(D)
                let sd = (row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(D) + m.config.eps).squareRoot()
                let y = (0..<D).map { ($0, (row[$0] - mu) / sd * Double(w[$0]) + Double(b[$0])) }
                func logit(_ v: Int) -> Double { y.reduce(Double(bU[v])) { $0 + $1.1 * Double(WU[$1.0 * V + v]) } }
                let want = logit(Int(pairs.correct[i])) - logit(Int(pairs.wrong[i]))
                #expect(abs(lens.perPair[i * lens.hooks.count + k] - want) < 1e-4, "\(hook) pair \(i)")
            }
        }
        #expect(maxDiff([lens.mean.last!], [mean(runs.clean)]) < 1e-9)
    }

    /// Per pair, attribution is the base metric plus sum((a_source - a_base) * dM/da) over the slice,
    /// with dM/da from the engine's activation gradients (checked against finite differences there).
    @Test func attributionIsTheFirstOrderTermPairByPair() throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs)
        let a = try runs.attribution([.headOutByPos])[0]
        let N = pairs.count, T = pairs.length, V = m.config.d_vocab, H = m.config.n_heads, dh = m.config.d_head
        let names = (0..<m.config.n_layers).map { Hook.z.name(layer: $0) }
        let x = try m.forward(tokens: Array(pairs.corrupted.joined()), batch: N, length: T, plan: HookPlan(cache: names))
        let c = try m.forward(tokens: Array(pairs.clean.joined()), batch: N, length: T, plan: HookPlan(cache: names))
        var dlogits = [Float](repeating: 0, count: N * T * V)
        for i in 0..<N { dlogits[(i * T + pairs.position[i]) * V + Int(pairs.correct[i])] += 1; dlogits[(i * T + pairs.position[i]) * V + Int(pairs.wrong[i])] -= 1 }
        let g = try m.backward(x.state, dlogits: dlogits, activationGradients: Set(names)).activations
        for l in 0..<m.config.n_layers { for p in 0..<T { for h in 0..<H { for i in 0..<N {
            var s = 0.0
            for e in 0..<dh { s += Double(c.cache[names[l]]![i, p, h, e] - x.cache[names[l]]![i, p, h, e]) * Double(g[names[l]]![i, p, h, e]) }
            let cell = (l * T + p) * H + h
            #expect(abs(a.perPair[i * a.cells + cell] - (runs.corrupted[i] + s)) < 1e-5)
        } } } }
    }
}
