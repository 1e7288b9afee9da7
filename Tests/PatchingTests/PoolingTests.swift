import Testing
import Tensors
import Transformer
@testable import Patching

// Pairs of different prompt layouts (lengths) pool for the results without a position axis: on the planted
// circuit the pool still finds exactly the circuit's heads, and its numbers are those of one set of all the
// pairs (a ratio of means over every pair, not a mean of the layouts' ratios).
@Suite struct PoolingTests {
    let model = try! Planted.model()

    /// The planted pairs cut to their first three tokens: the metric reads position 2, the copier still
    /// reads `source`, the mover still moves the carrier at the last position.
    func shortPairs() throws -> PatchPairs {
        let long = try Planted.pairs()
        let rows = Array(0..<4)
        return try PatchPairs(clean: rows.map { Array(long.clean[$0].prefix(3)) }, corrupted: rows.map { Array(long.corrupted[$0].prefix(3)) },
                              position: [Int](repeating: 2, count: rows.count), correct: rows.map { long.correct[$0] },
                              wrong: rows.map { long.wrong[$0] })
    }

    @Test func pooledLayoutsFindTheCircuitAsOneSetOfPairs() throws {
        let a = try PatchRuns(model: model, pairs: Planted.pairs()), b = try PatchRuns(model: model, pairs: shortPairs())
        for kind in [PatchKind.headOutAllPos, .headAllPosEvery] {
            let ra = try a.patch(kind), rb = try b.patch(kind)
            let pooled = concatenate([ra, rb])
            #expect(pooled.pairs == 10 && pooled.shape == ra.shape)
            for j in 0..<pooled.cells {
                #expect(abs(pooled.raw[j] - (6 * ra.raw[j] + 4 * rb.raw[j]) / 10) < 1e-12, "raw is the mean over every pair")
                #expect(pooled.pairValues(cell: j) == ra.pairValues(cell: j) + rb.pairValues(cell: j))
            }
            let s = summarise(pooled, resamples: 200)
            #expect(s.defined)
            // head_out_all_pos [layer, head]: the copier L0H0 and the mover L1H1 restore everything, the rest nothing
            if kind == .headOutAllPos {
                let want: [Double] = [1, 0, 0, 1]
                #expect(zip(s.normalised, want).allSatisfy { abs($0! - $1) < 1e-5 }, "\(s.normalised)")
            }
        }
    }

    /// The pool's logit attribution is the pairs' mean over both layouts: the mover carries the whole
    /// logit difference on every pair.
    @Test func pooledLogitAttributionAndLensAreMeansOverEveryPair() throws {
        let a = try PatchRuns(model: model, pairs: Planted.pairs()), b = try PatchRuns(model: model, pairs: shortPairs())
        var pa = LayoutResults(clean: a.clean, corrupted: a.corrupted), pb = LayoutResults(clean: b.clean, corrupted: b.corrupted)
        pa.patches = [try a.patch(.headOutAllPos)]; pb.patches = [try b.patch(.headOutAllPos)]
        pa.logitAttribution = [a.directLogitAttribution()]; pb.logitAttribution = [b.directLogitAttribution()]
        pa.logitLens = [try a.logitLens()]; pb.logitLens = [try b.logitLens()]
        let pooled = LayoutResults.concatenate([pa, pb])
        #expect(pooled.clean.count == 10 && pooled.clean.allSatisfy { abs($0 - 1) < 1e-6 })
        let dla = pooled.logitAttribution[0]
        let mover = try #require(dla.components.firstIndex(of: "L1H1"))
        #expect(abs(dla.mean[mover] - 1) < 1e-6)
        #expect(dla.components.indices.allSatisfy { $0 == mover || abs(dla.mean[$0]) < 1e-6 })
        let lens = pooled.logitLens[0]
        for k in lens.hooks.indices {
            let column = (0..<10).map { lens.perPair[$0 * lens.hooks.count + k] }
            #expect(abs(lens.mean[k] - column.reduce(0, +) / 10) < 1e-12)
        }
    }
}
