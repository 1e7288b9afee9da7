import Probing
import Testing
import Tensors
import Transformer
@testable import Patching

/// Patching along a probe's subspace, checked against patching the whole activation: a subspace that spans
/// every dimension patches exactly what `resid_post` patching at that layer and position patches, and a
/// probe whose weight rows repeat one direction is one dimension.
@Suite struct ProbeDirectionTests {
    @Test func aFullRankSubspaceIsTheWholeActivation() throws {
        let m = randomModel()
        var rng = RNG(seed: 3)
        let N = 6, T = 6, V = m.config.d_vocab, d = m.config.d_model
        // One metric position for every pair, as a layout has.
        let clean = (0..<N).map { _ in (0..<T).map { _ in Int32(rng.int(V)) } }
        let corrupted = clean.map { r -> [Int32] in var c = r; c[2] = Int32((Int(c[2]) + 3) % V); return c }
        let pairs = try PatchPairs(clean: clean, corrupted: corrupted, position: Array(repeating: T - 1, count: N),
                                   correct: (0..<N).map { _ in Int32(rng.int(V)) }, wrong: (0..<N).map { _ in Int32(rng.int(V)) })
        let runs = try PatchRuns(model: m, pairs: pairs)
        let exact = try runs.patch(.residPost, direction: .denoising)
        // A dense random basis of R^d (full rank with probability 1), so the test does not lean on the identity.
        let weights = (0..<(d * d)).map { _ in rng.normal() }
        let full = ProbeDirections(weights: weights, intercepts: [Double](repeating: 0, count: d), d: d)
        let clean0 = exact.clean.reduce(0, +) / Double(N), corrupted0 = exact.corrupted.reduce(0, +) / Double(N)
        for layer in 0..<m.config.n_layers {
            for p in [2, T - 1] {
                let t = try runs.probeDirectionTest(full, hook: "blocks.\(layer).hook_resid_post", position: p, randomDraws: 2, seed: 1)
                #expect(t.dims == d)
                let whole = (exact.raw[layer * T + p] - corrupted0) / (clean0 - corrupted0)
                #expect(abs(t.patch! - whole) < 1e-4, "layer \(layer) position \(p): along the full basis \(t.patch!) vs resid_post \(whole)")
                // Random subspaces of full dimension are the whole space too.
                #expect(t.patchRandom.allSatisfy { abs($0 - whole) < 1e-4 })
            }
        }
    }

    @Test func repeatedWeightRowsAreOneDimension() {
        let v: [Double] = [1, 2, 0, -1], w = v + v.map { 2 * $0 } + [0, 1, 0, 0]
        let basis = orthonormalRows(w, rows: 3, d: 4)
        #expect(basis.count == 2)
        for b in basis { #expect(abs(b.reduce(0) { $0 + $1 * $1 } - 1) < 1e-6) }
        #expect(abs(zip(basis[0], basis[1]).reduce(0) { $0 + $1.0 * $1.1 }) < 1e-6)
    }
}
