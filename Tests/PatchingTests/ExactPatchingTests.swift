import Testing
import Tensors
import Transformer
@testable import Patching

// Exact activation patching against TransformerLens's algorithm written out naively (a full forward
// pass per index with one intervention): the late starts, stacking, row restriction and workspace
// reuse must not change any number.
@Suite struct ExactPatchingTests {
    static let singles = PatchKind.allCases.filter { $0.single != nil }

    @Test(arguments: singles)
    func everySingleKindEqualsTheNaiveAlgorithm(kind: PatchKind) throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        // a small batch budget forces several chunks per layer
        var runs = try PatchRuns(model: m, pairs: pairs)
        runs.maxBatchTokens = 3 * pairs.count * pairs.length
        for direction in PatchDirection.allCases {
            let got = try runs.patch(kind, direction: direction)
            let want = try naivePatch(m, pairs, kind, direction: direction)
            #expect(got.shape == kind.shape(m.config, length: pairs.length))
            #expect(got.raw.count == want.count)
            #expect(maxDiff(got.raw, want) < 2e-5, "\(kind) \(direction): \(maxDiff(got.raw, want))")
            // per-pair values average to raw
            for cell in [0, got.cells / 2, got.cells - 1] {
                let v = got.pairValues(cell: cell)
                #expect(abs(v.reduce(0, +) / Double(v.count) - got.raw[cell]) < 1e-12)
            }
        }
    }

    @Test func noLayerNormModelAndOtherMetricsEqualTheNaiveAlgorithm() throws {
        let m = randomModel(normalization: nil)
        let pairs = randomPairs(m, count: 4)
        for metric in PatchMetric.allCases {
            let runs = try PatchRuns(model: m, pairs: pairs, metric: metric)
            for kind in [PatchKind.residPre, .headVByPos, .headPatternByPos] {
                let got = try runs.patch(kind).raw
                let want = try naivePatch(m, pairs, kind, metric: metric)
                #expect(maxDiff(got, want) < 2e-5 * (1 + want.map(abs).max()!), "\(metric) \(kind)")
            }
        }
    }

    @Test func zeroAndMeanAblationsEqualTheNaiveAlgorithm() throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs)
        let reference = randomPairs(m, count: 7, seed: 77).clean
        for kind in [PatchKind.residMid, .headOutByPos, .headPatternAllPos] {
            let zero = try runs.patch(kind, direction: .noising, ablation: .zero).raw
            let wantZero = try naivePatch(m, pairs, kind, direction: .noising) { name in
                Tensor(zeros: HookPoints.shape(name, m.config, batch: pairs.count, length: pairs.length)!)
            }
            #expect(maxDiff(zero, wantZero) < 2e-5, "zero \(kind)")
            let mean = try runs.patch(kind, direction: .noising, ablation: .mean(try MeanReference(tokens: reference))).raw
            let wantMean = try naivePatch(m, pairs, kind, direction: .noising) { name in
                let a = try! m.forward(tokens: Array(reference.joined()), batch: reference.count, length: pairs.length,
                                       plan: HookPlan(cache: [name])).cache[name]!
                let per = a.count / reference.count
                let avg = (0..<per).map { j in (0..<reference.count).reduce(0.0) { $0 + Double(a.data[$1 * per + j]) } / Double(reference.count) }
                return Tensor(shape: [pairs.count] + a.shape.dropFirst(), data: (0..<pairs.count).flatMap { _ in avg.map(Float.init) })
            }
            #expect(maxDiff(mean, wantMean) < 2e-5, "mean \(kind)")
            // the same means, computed here and passed in
            var given: [String: Tensor] = [:]
            for l in 0..<m.config.n_layers {
                let name = kind.single!.hook.name(layer: l)
                let a = try m.forward(tokens: Array(reference.joined()), batch: reference.count, length: pairs.length,
                                      plan: HookPlan(cache: [name])).cache[name]!
                let per = a.count / reference.count
                given[name] = Tensor(shape: [1] + a.shape.dropFirst(), data: (0..<per).map { j in
                    Float((0..<reference.count).reduce(0.0) { $0 + Double(a.data[$1 * per + j]) } / Double(reference.count)) })
            }
            let passed = try runs.patch(kind, direction: .noising, ablation: .mean(try MeanReference(means: given))).raw
            #expect(maxDiff(passed, mean) < 1e-6, "given means \(kind)")
        }
    }

    /// The stacked kinds are their parts, stacked (head_by_pos_every's pattern part transposed).
    @Test func everyKindsEqualTheirParts() throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs)
        let T = pairs.length, L = m.config.n_layers, H = m.config.n_heads
        for kind in [PatchKind.blockEvery, .headAllPosEvery, .headByPosEvery] {
            let all = try runs.patch(kind)
            #expect(all.shape == kind.shape(m.config, length: T))
            let partSize = all.cells / kind.parts.count
            for (p, part) in kind.parts.enumerated() {
                let single = try runs.patch(part)
                var want = single.raw
                if part == .headPatternByPos {      // [layer, head, pos] -> [layer, pos, head]
                    want = (0..<(L * T * H)).map { j in single.raw[(j / (T * H)) * H * T + (j % H) * T + (j / H) % T] }
                }
                #expect(Array(all.raw[(p * partSize)..<((p + 1) * partSize)]) == want, "\(kind) part \(part)")
            }
        }
    }

    /// Patching every position of resid_pre at layer 0 is the source run itself; clean into clean
    /// changes nothing.
    @Test func wholeResidPreRestoresTheCleanRunAndCleanIntoCleanChangesNothing() throws {
        let m = randomModel()
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs)
        let allPositions = try runs.patch(hook: .residPre, axes: [.layer], setter: PatchSetter { _ in [] })
        #expect(abs(allPositions.raw[0] - mean(runs.clean)) < 1e-5)
        for i in 0..<pairs.count { #expect(abs(allPositions.pairValues(cell: 0)[i] - runs.clean[i]) < 1e-5) }
        let same = try PatchPairs(clean: pairs.clean, corrupted: pairs.clean, position: pairs.position,
                                  correct: pairs.correct, wrong: pairs.wrong)
        let cleanRuns = try PatchRuns(model: m, pairs: same)
        for kind in [PatchKind.residPre, .headOutByPos, .headPatternDestSrcPos, .mlpOut] {
            let r = try cleanRuns.patch(kind)
            // perPair is [pairs, cells]: every patch of pair i gives the clean metric of pair i
            let worst = r.perPair.indices.map { abs(r.perPair[$0] - cleanRuns.clean[$0 / r.cells]) }.max()!
            #expect(worst < 1e-5, "\(kind): clean into clean moved the metric by \(worst)")
        }
    }

    @Test func badInputIsATypedError() throws {
        let m = randomModel()
        #expect(throws: PatchError.unknownKind("head_out", available: PatchKind.allCases.map(\.rawValue))) { try PatchKind.named("head_out") }
        #expect(throws: PatchError.self) { try PatchPairs(clean: [[1, 2, 3]], corrupted: [[1, 2]], position: [1], correct: [1], wrong: [2]) }
        #expect(throws: PatchError.self) { try PatchPairs(clean: [[1, 2, 3], [1, 2]], corrupted: [[1, 2, 4], [1, 3]], position: [1, 1], correct: [1, 1], wrong: [2, 2]) }
        #expect(throws: PatchError.self) { try PatchPairs(clean: [[1, 2, 3]], corrupted: [[1, 2, 4]], position: [3], correct: [1], wrong: [2]) }
        #expect(throws: PatchError.self) { try PatchPairs(clean: [[1, 2, 3]], corrupted: [[1, 2, 4]], position: [-1], correct: [1], wrong: [2]) }
        #expect(throws: PatchError.self) { try PatchPairs(clean: [[1, 2, 3]], corrupted: [[1, 2, 4]], position: [1, 2], correct: [1], wrong: [2]) }
        #expect(throws: PatchError.self) { try PatchPairs(clean: [], corrupted: [], position: [], correct: [], wrong: []) }
        let outOfVocab = try PatchPairs(clean: [[1, 2, 99]], corrupted: [[1, 2, 4]], position: [1], correct: [1], wrong: [2])
        #expect(throws: PatchError.self) { try PatchRuns(model: m, pairs: outOfVocab) }
        let badAnswer = try PatchPairs(clean: [[1, 2, 3]], corrupted: [[1, 2, 4]], position: [1], correct: [11], wrong: [2])
        #expect(throws: PatchError.self) { try PatchRuns(model: m, pairs: badAnswer) }
        let tooLong = try PatchPairs(clean: [[Int32]](repeating: [Int32](repeating: 1, count: 8), count: 1),
                                     corrupted: [[Int32]](repeating: [Int32](repeating: 2, count: 8), count: 1), position: [7], correct: [1], wrong: [2])
        #expect(throws: PatchError.self) { try PatchRuns(model: m, pairs: tooLong) }
        #expect(throws: PatchError.self) { try MeanReference(tokens: [[1, 2], [1]]) }
        #expect(throws: PatchError.self) { try MeanReference(means: ["blocks.0.hook_resid_pre": Tensor(zeros: [2, 3, 8])]) }
        let pairs = randomPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs)
        #expect(throws: PatchError.self) { try runs.patch(.residPre, ablation: .mean(try MeanReference(tokens: [[1, 2]]))) }
        #expect(throws: PatchError.self) {
            try runs.patch(.residPre, ablation: .mean(try MeanReference(means: ["blocks.0.hook_resid_pre": Tensor(zeros: [1, 6, 8])])))
        }
        #expect(throws: PatchError.self) { try runs.pathPatch(senders: [.head(layer: 2, head: 0)], receivers: [.logits]) }
        #expect(throws: PatchError.self) { try runs.pathPatch(senders: [.mlp(layer: 0)], receivers: [.head(layer: 0, head: 5, input: .q)]) }
    }
}
