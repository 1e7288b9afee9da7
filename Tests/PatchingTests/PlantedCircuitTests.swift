import Testing
import Tensors
import Transformer
@testable import Patching

// Ground truth: on the planted circuit (PlantedCircuit.swift) every method must find exactly the
// circuit: L0H0 at the last position (and the token it reads at `source`), L1H1 at the last position,
// the path L0H0 -> L1H1's value input -> logits.
@Suite struct PlantedCircuitTests {
    let model = try! Planted.model()
    let pairs = try! Planted.pairs()

    /// Normalised effects of a result (denoising and noising alike: (m - m_corrupted) / (m_clean - m_corrupted)).
    func normalised(_ r: PatchResult) -> [Double] {
        let s = summarise(r, resamples: 200)
        #expect(s.defined)
        return s.normalised.map { $0! }
    }

    @Test func theRunsAreWhatTheWeightsSay() throws {
        let runs = try PatchRuns(model: model, pairs: pairs)
        for i in 0..<pairs.count {
            #expect(abs(runs.clean[i] - 1) < 1e-6)       // logit[clean token] = 1, logit[corrupted token] = 0
            #expect(abs(runs.corrupted[i] + 1) < 1e-6)
        }
    }

    @Test func patchingFindsExactlyTheCircuit() throws {
        let runs = try PatchRuns(model: model, pairs: pairs)
        let T = Planted.T, H = 2
        // head_out_by_pos [layer, pos, head]: 1 at (0, last, 0) and (1, last, 1), 0 everywhere else
        let z = normalised(try runs.patch(.headOutByPos))
        for l in 0..<2 { for p in 0..<T { for h in 0..<H {
            let want: Double = p == Planted.last && h == l ? 1 : 0
            #expect(abs(z[(l * T + p) * H + h] - want) < 1e-5, "head_out L\(l)H\(h) pos \(p): \(z[(l * T + p) * H + h])")
        } } }
        // resid_pre [layer, pos]: the token at `source` before layer 0; the carrier at the last position before layer 1
        let resid = normalised(try runs.patch(.residPre))
        for l in 0..<2 { for p in 0..<T {
            let want: Double = (l == 0 && p == Planted.source) || (l == 1 && p == Planted.last) ? 1 : 0
            #expect(abs(resid[l * T + p] - want) < 1e-5, "resid_pre \(l) \(p)")
        } }
        // head_v_by_pos: the copier's value at `source`, the mover's at the last position
        let v = normalised(try runs.patch(.headVByPos))
        for l in 0..<2 { for p in 0..<T { for h in 0..<H {
            let want: Double = (l == 0 && h == 0 && p == Planted.source) || (l == 1 && h == 1 && p == Planted.last) ? 1 : 0
            #expect(abs(v[(l * T + p) * H + h] - want) < 1e-5, "head_v L\(l)H\(h) pos \(p)")
        } } }
        // heads over all positions; patterns and queries do not change between the runs, MLPs are off
        let heads = normalised(try runs.patch(.headOutAllPos))
        #expect(heads.enumerated().allSatisfy { abs($0.element - ($0.offset == 0 || $0.offset == 3 ? 1 : 0)) < 1e-5 })
        for kind in [PatchKind.headPatternAllPos, .headQAllPos, .headKAllPos, .mlpOut] {
            #expect(normalised(try runs.patch(kind)).allSatisfy { abs($0) < 1e-5 }, "\(kind)")
        }
    }

    /// Denoising shows what suffices, noising what is needed; on this circuit they name the same cells
    /// with the same sign: the metric rises when the clean value goes in, falls when it is taken out.
    @Test func noisingAndDenoisingAgreeInSign() throws {
        let runs = try PatchRuns(model: model, pairs: pairs)
        for kind in [PatchKind.headOutByPos, .residPre, .attnOut, .headVAllPos] {
            let d = try runs.patch(kind, direction: .denoising), n = try runs.patch(kind, direction: .noising)
            for cell in 0..<d.cells {
                let gain = d.raw[cell] - d.baseMean, loss = mean(runs.clean) - n.raw[cell]
                #expect(abs(gain - loss) < 1e-5, "\(kind) cell \(cell): denoising +\(gain), noising -\(loss)")
                #expect(gain >= -1e-6 && loss >= -1e-6)
            }
            #expect(d.raw.contains { $0 - d.baseMean > 1 })      // the circuit's cells move the metric by 2
        }
    }

    @Test func pathPatchingFindsExactlyThePath() throws {
        let runs = try PatchRuns(model: model, pairs: pairs)
        let senders = PathSender.all(model.config), receivers = PathReceiver.all(model.config)
        let r = try runs.pathPatch(senders: senders, receivers: receivers)
        #expect(r.raw.count == senders.count && r.raw[0].count == receivers.count)
        for (si, s) in senders.enumerated() {
            for (ri, rc) in receivers.enumerated() {
                guard let m = r.raw[si][ri] else {
                    #expect(!rc.reads(s), "\(s.name) -> \(rc.name) should be defined")
                    continue
                }
                let onPath = (s == .head(layer: 0, head: 0) && rc == .head(layer: 1, head: 1, input: .v))
                    || (s == .head(layer: 1, head: 1) && rc == .logits)
                let normalisedEffect = (m - mean(runs.corrupted)) / (mean(runs.clean) - mean(runs.corrupted))
                #expect(abs(normalisedEffect - (onPath ? 1 : 0)) < 1e-5, "\(s.name) -> \(rc.name): \(normalisedEffect)")
            }
        }
        // later layers cannot send to earlier ones
        #expect(r.raw[senders.firstIndex(of: .head(layer: 1, head: 1))!][receivers.firstIndex(of: .head(layer: 0, head: 0, input: .v))!] == nil)
    }

    /// The model is linear along every patched path (no LayerNorm, attention fixed by position), so
    /// attribution patching's first-order estimate is exact, cell for cell and pair for pair.
    @Test func attributionEqualsExactPatchingOnALinearPath() throws {
        let runs = try PatchRuns(model: model, pairs: pairs)
        let kinds = PatchKind.allCases
        let attribution = try runs.attribution(kinds)
        for (kind, a) in zip(kinds, attribution) {
            let e = try runs.patch(kind)
            #expect(a.shape == e.shape)
            #expect(maxDiff(a.perPair, e.perPair) < 1e-5, "\(kind): \(maxDiff(a.perPair, e.perPair))")
            for dir in [PatchDirection.noising] where kind == .headOutByPos {
                #expect(maxDiff(try runs.attribution([kind], direction: dir)[0].raw, try runs.patch(kind, direction: dir).raw) < 1e-5)
            }
        }
        let agree = agreement(attribution[PatchKind.allCases.firstIndex(of: .headOutByPos)!], try runs.patch(.headOutByPos), topK: 2)
        #expect(abs(agree.pearson - 1) < 1e-9 && abs(agree.spearman - 1) < 1e-9 && agree.topKOverlap == 1)
    }

    /// Direct logit attribution credits the mover alone; the logit lens sees the answer only after the last block.
    @Test func logitAttributionAndLensSeeOnlyTheMover() throws {
        let runs = try PatchRuns(model: model, pairs: pairs)
        let dla = runs.directLogitAttribution()
        for (k, name) in dla.components.enumerated() {
            #expect(abs(dla.mean[k] - (name == "L1H1" ? 1 : 0)) < 1e-5, "\(name): \(dla.mean[k])")
        }
        let lens = try runs.logitLens()
        #expect(lens.hooks == ["blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"])
        #expect(abs(lens.mean[0]) < 1e-6 && abs(lens.mean[1]) < 1e-6 && abs(lens.mean[2] - 1) < 1e-6)
    }
}
