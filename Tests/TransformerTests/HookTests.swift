import Testing
import Tensors
@testable import Transformer

@Suite struct HookTests {
    let m = tinyModel()
    let B = 3, T = 6

    @Test(arguments: ["gelu_new", "gelu", "relu"])
    func cacheEqualsAnIndependentRecomputation(act: String) throws {
        let m = tinyModel(act: act)
        let tokens = randomTokens(m, batch: B, length: T)
        let hooks = HookPoints.names(m.config)
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: hooks))
        let ref = referenceForward(m, tokens: tokens, B: B, T: T)
        #expect(Set(out.cache.keys) == Set(hooks))
        for name in hooks {
            let got = out.cache[name]!, want = ref[name]!
            #expect(got.shape == HookPoints.shape(name, m.config, batch: B, length: T)!, "\(name) shape")
            #expect(got.count == want.count, "\(name) size")
            var worst = 0.0
            for i in 0..<min(got.count, want.count) {
                if want[i].isInfinite { #expect(got.data[i] == -.infinity, "\(name)[\(i)] should be -inf"); continue }
                worst = max(worst, abs(Double(got.data[i]) - want[i]) / (1 + abs(want[i])))
            }
            #expect(worst < 2e-5, "\(act) \(name): max relative error \(worst)")
        }
    }

    /// Longer rows take the softmax's eight-lane path (T >= 9): the same comparison at T = 19.
    @Test func cacheEqualsTheReferenceOnLongRows() throws {
        let (B, T) = (2, 19)
        let m = tinyModel(ctx: T)
        let tokens = randomTokens(m, batch: B, length: T)
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: HookPoints.names(m.config)))
        let ref = referenceForward(m, tokens: tokens, B: B, T: T)
        for name in ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post"] {
            let got = out.cache[name]!, want = ref[name]!
            var worst = 0.0
            for i in 0..<want.count where !want[i].isInfinite {
                worst = max(worst, abs(Double(got.data[i]) - want[i]) / (1 + abs(want[i])))
            }
            #expect(worst < 2e-5, "\(name): max relative error \(worst)")
        }
    }

    @Test func cacheKeepsOnlyTheSelectedHooks() throws {
        let names = try HookPoints.resolve(["blocks.*.attn.hook_pattern", "hook_embed"], m.config)
        #expect(names == ["hook_embed", "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"])
        let out = try m.forward(tokens: randomTokens(m, batch: B, length: T), batch: B, length: T, plan: HookPlan(cache: names))
        #expect(Set(out.cache.keys) == Set(names))
        #expect(throws: ModelError.self) { _ = try HookPoints.resolve(["blocks.9.hook_resid_pre"], m.config) }
    }

    @Test func identityInterventionLeavesLogitsBitForBit() throws {
        let tokens = randomTokens(m, batch: B, length: T)
        let plain = try m.forward(tokens: tokens, batch: B, length: T).logits
        let resultHooks = HookPlan(cache: HookPoints.names(m.config).filter { $0.hasSuffix("hook_result") })
        let withResult = try m.forward(tokens: tokens, batch: B, length: T, plan: resultHooks).logits
        for hook in HookPoints.names(m.config) {
            var plan = HookPlan()
            plan.intervene(hook, Intervention { _, a in a = Tensor(shape: a.shape, data: a.data) })
            let logits = try m.forward(tokens: tokens, batch: B, length: T, plan: plan).logits
            // hook_result switches attn_out to the per-head sum (TransformerLens's use_attn_result),
            // so its baseline is a pass that also uses it.
            let baseline = hook.hasSuffix("hook_result") ? withResult : plain
            #expect(logits.data == baseline.data, "identity at \(hook) changed the logits")
        }
        #expect(withResult.maxAbsDiff(plain) < 1e-5)
    }

    @Test func zeroingAttentionOutputChangesLogits() throws {
        let tokens = randomTokens(m, batch: B, length: T)
        let plain = try m.forward(tokens: tokens, batch: B, length: T).logits
        var plan = HookPlan(cache: ["blocks.0.hook_attn_out"])
        plan.intervene("blocks.0.hook_attn_out", .zero)
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: plan)
        #expect(out.cache["blocks.0.hook_attn_out"]!.data.allSatisfy { $0 == 0 })
        #expect(out.logits.maxAbsDiff(plain) > 1e-3)
    }

    @Test func startLateFromAnyHookEqualsTheFullPass() throws {
        let tokens = randomTokens(m, batch: B, length: T)
        let hooks = HookPoints.names(m.config)
        let full = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: hooks))
        for hook in hooks {
            let late = try m.forward(startingAt: hook, with: full.cache[hook]!, base: full.state)
            #expect(late.logits.data == full.logits.data, "start late at \(hook) differs")
        }
    }

    @Test func patchingASliceCopiesOnlyThatSlice() throws {
        let clean = randomTokens(m, batch: 1, length: T, seed: 1)
        let corrupt = randomTokens(m, batch: 1, length: T, seed: 2)
        let hook = "blocks.1.attn.hook_z"
        let cleanRun = try m.forward(tokens: clean, batch: 1, length: T, plan: HookPlan(cache: [hook]))
        var plan = HookPlan(cache: [hook])
        plan.intervene(hook, .patch(from: cleanRun.cache[hook]!, positions: [4], heads: [1]))
        let patched = try m.forward(tokens: corrupt, batch: 1, length: T, plan: plan)
        let corruptRun = try m.forward(tokens: corrupt, batch: 1, length: T, plan: HookPlan(cache: [hook]))
        let a = patched.cache[hook]!, c = cleanRun.cache[hook]!, k = corruptRun.cache[hook]!
        for t in 0..<T { for h in 0..<2 { for e in 0..<3 {
            let want = (t == 4 && h == 1) ? c[0, t, h, e] : k[0, t, h, e]
            #expect(a[0, t, h, e] == want)
        } } }
        // Causality: positions before the patch keep the corrupted logits exactly.
        let V = m.config.d_vocab
        #expect(Array(patched.logits.data[0..<(4 * V)]) == Array(corruptRun.logits.data[0..<(4 * V)]))
        #expect(patched.logits.data != corruptRun.logits.data)
    }

    @Test func badInputsAreClearErrors() throws {
        #expect(throws: ModelError.self) { _ = try m.forward(tokens: [1, 2, 3], batch: 1, length: 4) }
        #expect(throws: ModelError.self) { _ = try m.forward(tokens: [1, 2, 99], batch: 1, length: 3) }
        #expect(throws: ModelError.self) { _ = try m.forward(tokens: [Int32](repeating: 1, count: 7), batch: 1, length: 7) }
        #expect(throws: ModelError.self) { _ = try m.forward(tokens: [1, 2], batch: 1, length: 2, plan: HookPlan(cache: ["nope"])) }
        var bad = m.config; bad.d_head = 0
        #expect(throws: ModelError.self) { _ = try Transformer(config: bad) }
        bad = m.config; bad.act_fn = "swish"
        do { _ = try Transformer(config: bad); Issue.record("accepted act_fn swish") }
        catch { #expect(error.description.contains("act_fn")) }
    }
}
