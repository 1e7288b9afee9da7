import Foundation
import Testing
import Tensors
@testable import Transformer

// The engine pieces patching needs: TransformerLens's `normalization_type: None`, activation gradients
// without parameter gradients, backward through a late start or an intervention, batch tiling, and the
// in-place late start. Each is checked against an independent computation (the Double reference pass,
// finite differences, or the engine's own unmodified pass).

private func close(_ fd: Double, _ an: Double) -> Bool { abs(fd - an) <= 0.02 * max(abs(fd), abs(an)) + 2e-3 }

@Suite struct ActivationGradientTests {
    /// TransformerLens's hook list for a 2-layer model with normalization_type None (printed by
    /// TransformerLens 3.9's run_with_cache): no ln1 / ln2 / ln_final hooks, unembed.hook_in kept.
    @Test func noLayerNormHasTransformerLensHooksAndParameters() throws {
        let m = tinyModel(normalization: nil)
        let expected = ["hook_embed", "hook_pos_embed"] + (0..<2).flatMap { l in
            ["hook_resid_pre", "attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_attn_scores", "attn.hook_pattern",
             "attn.hook_z", "hook_attn_out", "hook_resid_mid", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out",
             "hook_resid_post"].map { "blocks.\(l).\($0)" }
        } + ["unembed.hook_in", "unembed.hook_out"]
        // hook_result exists in the table but only fires when used (use_attn_result), as with LayerNorm.
        #expect(HookPoints.names(m.config).filter { !$0.hasSuffix("hook_result") } == expected)
        #expect(!m.params.layout.entries.contains { $0.name.contains("ln") })
        #expect(m.config.parameterCount == m.params.count)
        #expect(HookPoints.locate("blocks.0.ln1.hook_scale", m.config) == nil)
    }

    @Test func noLayerNormForwardEqualsTheReference() throws {
        let m = tinyModel(normalization: nil)
        let B = 2, T = 5
        let tokens = randomTokens(m, batch: B, length: T)
        let hooks = HookPoints.names(m.config)
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: hooks))
        let ref = referenceForward(m, tokens: tokens, B: B, T: T)
        for name in hooks {
            let got = out.cache[name]!, want = ref[name]!
            var worst = 0.0
            for i in 0..<got.count where want[i].isFinite { worst = max(worst, abs(Double(got.data[i]) - want[i]) / (1 + abs(want[i]))) }
            #expect(worst < 2e-5, "\(name): max relative error \(worst)")
        }
    }

    /// The config's JSON says None as null (TransformerLens reads a missing key as "LN"), and an old
    /// config without the key still reads as "LN".
    @Test func noneIsWrittenAsNullAndAMissingKeyReadsAsLayerNorm() throws {
        let m = tinyModel(normalization: nil)
        let json = m.config.jsonString()
        #expect(json.contains("\"normalization_type\":null"))
        let back = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
        #expect(back == m.config)
        let old = tinyModel().config.jsonString().replacingOccurrences(of: ",\"normalization_type\":\"LN\"", with: "")
        #expect(!old.contains("normalization_type"))
        #expect(try JSONDecoder().decode(ModelConfig.self, from: Data(old.utf8)).normalization_type == "LN")
        var bad = m.config
        bad.normalization_type = "RMS"
        #expect(throws: ModelError.self) { try bad.validate() }
    }

    @Test func noLayerNormGradientsMatchFiniteDifferences() throws {
        let m = tinyModel(act: "gelu", normalization: nil)
        let B = 2, T = 5
        let tokens = randomTokens(m, batch: B, length: T)
        let R = metricWeights(count: B * T * m.config.d_vocab)
        let hooks = HookPoints.names(m.config).filter { !$0.hasSuffix("hook_result") }
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: hooks))
        let g = try m.backward(out.state, dlogits: R, activationGradients: Set(hooks))
        var rng = RNG(seed: 4)
        let h: Float = 1e-2
        for e in m.params.layout.entries {
            let u = (0..<e.count).map { _ in Float(rng.normal()) }
            var plus = m.params, minus = m.params
            for i in 0..<e.count { plus.data[e.offset + i] += h * u[i]; minus.data[e.offset + i] -= h * u[i] }
            let lp = dot(try Transformer(config: m.config, params: plus).forward(tokens: tokens, batch: B, length: T).logits.data, R)
            let lm = dot(try Transformer(config: m.config, params: minus).forward(tokens: tokens, batch: B, length: T).logits.data, R)
            let an = dot(Array(g.params.data[e.offset..<e.offset + e.count]), u)
            #expect(close((lp - lm) / Double(2 * h), an), "\(e.name)")
        }
        // Without LayerNorm the residual is not rescaled and the softmax sees larger scores: a smaller
        // step keeps the second-order term of the central difference under the tolerance.
        let hAct: Float = 3e-3
        for hook in hooks {
            let act = out.cache[hook]!
            let u = act.data.map { $0.isFinite ? Float(rng.normal()) : 0 }
            var plus = act, minus = act
            for i in 0..<act.count { plus.data[i] += hAct * u[i]; minus.data[i] -= hAct * u[i] }
            let lp = dot(try m.forward(startingAt: hook, with: plus, base: out.state).logits.data, R)
            let lm = dot(try m.forward(startingAt: hook, with: minus, base: out.state).logits.data, R)
            #expect(close((lp - lm) / Double(2 * hAct), dot(g.activations[hook]!.data, u)), "\(hook)")
        }
    }

    /// Activation gradients alone are the full backward pass's, bit for bit, at every hook.
    @Test func activationGradientsAloneEqualTheFullBackward() throws {
        for norm in ["LN", nil] as [String?] {
            let m = tinyModel(normalization: norm)
            let B = 2, T = 5
            let R = metricWeights(count: B * T * m.config.d_vocab)
            let hooks = Set(HookPoints.names(m.config).filter { !$0.hasSuffix("hook_result") })
            let out = try m.forward(tokens: randomTokens(m, batch: B, length: T), batch: B, length: T)
            let full = try m.backward(out.state, dlogits: R, activationGradients: hooks).activations
            let only = try m.activationGradients(out.state, dlogits: R, hooks: hooks)
            #expect(Set(only.keys) == hooks)
            for h in hooks { #expect(only[h] == full[h], "\(norm ?? "None") \(h)") }
            // Asking for one late hook only stops early and gives the same values.
            let late = try m.activationGradients(out.state, dlogits: R, hooks: ["blocks.1.attn.hook_z"])
            #expect(late["blocks.1.attn.hook_z"] == full["blocks.1.attn.hook_z"])
        }
    }

    /// Through a late start: at the start hook and after it, the gradients are those of the unmodified
    /// pass when the pass starts from its own activation; before it, asking is an error.
    @Test func backwardThroughALateStart() throws {
        let m = tinyModel()
        let B = 2, T = 5
        let R = metricWeights(count: B * T * m.config.d_vocab)
        let start = "blocks.1.hook_resid_pre"
        let out = try m.forward(tokens: randomTokens(m, batch: B, length: T), batch: B, length: T, plan: HookPlan(cache: [start]))
        let names = HookPoints.names(m.config).filter { !$0.hasSuffix("hook_result") }
        let after = Set(names[names.firstIndex(of: start)!...])
        let want = try m.activationGradients(out.state, dlogits: R, hooks: after)
        let late = try m.forward(startingAt: start, with: out.cache[start]!, base: out.state)
        let got = try m.activationGradients(late.state, dlogits: R, hooks: after)
        for h in after {
            // The late pass runs the softmax over every key (it cannot know the scores are still masked),
            // so sums may round differently in the last place.
            #expect(got[h]!.maxAbsDiff(want[h]!) <= 1e-5 * (1 + want[h]!.data.map(abs).max()!), "\(h)")
        }
        #expect(throws: ModelError.self) { _ = try m.activationGradients(late.state, dlogits: R, hooks: ["blocks.0.hook_z"]) }
        #expect(throws: ModelError.self) { _ = try m.backward(late.state, dlogits: R) }
    }

    /// Through an intervention (blocks.0.hook_attn_out zeroed, blocks.1.attn.hook_pattern halved): the
    /// gradient at every hook from the last rewritten one on matches finite differences of that
    /// modified model; hooks before it are refused.
    @Test func backwardThroughInterventionsMatchesFiniteDifferences() throws {
        let m = tinyModel()
        let B = 2, T = 5
        let tokens = randomTokens(m, batch: B, length: T)
        let R = metricWeights(count: B * T * m.config.d_vocab)
        var plan = HookPlan(cache: HookPoints.names(m.config))
        plan.intervene("blocks.0.hook_attn_out", .zero)
        plan.intervene("blocks.1.attn.hook_pattern", Intervention { _, a in for i in 0..<a.count { a.data[i] *= 0.5 } })
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: plan)
        let names = HookPoints.names(m.config).filter { !$0.hasSuffix("hook_result") }
        let from = names.firstIndex(of: "blocks.1.attn.hook_pattern")!
        let exact = Set(names[from...])
        let g = try m.activationGradients(out.state, dlogits: R, hooks: exact)
        var rng = RNG(seed: 8)
        let h: Float = 3e-3
        for hook in exact.sorted() {
            let act = out.cache[hook]!
            let u = act.data.map { $0.isFinite ? Float(rng.normal()) : 0 }
            var plus = act, minus = act
            for i in 0..<act.count { plus.data[i] += h * u[i]; minus.data[i] -= h * u[i] }
            // Later hooks carry no interventions, so starting late there runs the modified model's rest.
            let lp = dot(try m.forward(startingAt: hook, with: plus, base: out.state).logits.data, R)
            let lm = dot(try m.forward(startingAt: hook, with: minus, base: out.state).logits.data, R)
            #expect(close((lp - lm) / Double(2 * h), dot(g[hook]!.data, u)), "\(hook)")
        }
        #expect(throws: ModelError.self) { _ = try m.activationGradients(out.state, dlogits: R, hooks: ["blocks.1.attn.hook_v"]) }
    }

    /// k stacked copies of a pass, resumed in place, give each copy's own late start.
    @Test func repeatedStateAndInPlaceLateStartEqualSeparatePasses() throws {
        let m = tinyModel()
        let B = 2, T = 5, k = 3
        let hook = "blocks.0.hook_resid_mid"
        let out = try m.forward(tokens: randomTokens(m, batch: B, length: T), batch: B, length: T, plan: HookPlan(cache: [hook]))
        let base = out.cache[hook]!
        var stacked: [Float] = []
        var singles: [Tensor] = []
        for i in 0..<k {
            var a = base
            for j in 0..<a.count { a.data[j] += Float(i) * 0.1 * Float(j % 7) }
            stacked += a.data
            singles.append(try m.forward(startingAt: hook, with: a, base: out.state).logits)
        }
        let tiled = out.state.repeated(k)
        #expect(tiled.batch == k * B)
        let together = try m.forward(startingAt: hook, with: Tensor(shape: [k * B, T, m.config.d_model], data: stacked), inPlace: tiled).logits
        let V = m.config.d_vocab
        // Not bit for bit: BLAS blocks a k-times-taller product differently, so sums round differently.
        for i in 0..<k {
            let part = Tensor(shape: [B, T, V], data: Array(together.data[(i * B * T * V)..<((i + 1) * B * T * V)]))
            #expect(part.maxAbsDiff(singles[i]) < 1e-5, "copy \(i)")
        }
        // Running again in place from the same hook gives the same result (nothing before it was touched).
        let again = try m.forward(startingAt: hook, with: Tensor(shape: [k * B, T, m.config.d_model], data: stacked), inPlace: tiled).logits
        #expect(again == together)
    }
}

/// The patching workspace: any sequence of stacked late starts, each changing a few positions, in any
/// order (later starts after earlier ones, positions going up, hooks of different kinds), gives at
/// every read position the logits of a fresh late start from the base pass.
@Suite struct LateStartBatchTests {
    @Test func anySequenceOfRunsEqualsFreshLateStarts() throws {
        let m = tinyModel()
        let B = 3, T = 6, k = 2, V = m.config.d_vocab
        let tokens = randomTokens(m, batch: B, length: T)
        let base = try m.forward(tokens: tokens, batch: B, length: T).state
        let readAt = [5, 3, 4]
        let w = try LateStartBatch(model: m, base: base, copies: k)
        var rng = RNG(seed: 21)
        // First the order activation patching uses (one kind of hook, layers and positions from last to
        // first, the positions of a run spread out), then any order.
        // ([] = every position)
        let ordered: [(String, [Int]?)] = [("blocks.1.attn.hook_v", []), ("blocks.1.attn.hook_v", []), ("blocks.1.attn.hook_v", [4, 2]),
                                           ("blocks.1.attn.hook_q", [5, 3]), ("blocks.1.attn.hook_q", [2, 0]),
                                           ("blocks.0.attn.hook_q", [5, 3]), ("blocks.0.attn.hook_q", [2, 0]),
                                           ("blocks.1.hook_resid_pre", [5, 4]), ("blocks.1.hook_resid_pre", [3, 1]),
                                           ("blocks.0.hook_resid_pre", [4, 2]), ("blocks.0.hook_resid_pre", [1, 0])]
        let hooks = ordered + ["blocks.1.attn.hook_z", "blocks.0.attn.hook_z", "blocks.0.attn.hook_z", "blocks.1.hook_resid_pre",
                               "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.1.attn.hook_v", "blocks.0.hook_resid_pre",
                               "blocks.0.attn.hook_pattern", "blocks.1.hook_mlp_out", "blocks.0.hook_resid_mid"].map { ($0, nil) }
        for (n, (hook, given)) in hooks.enumerated() {
            // each copy changes one position (some runs change every position from one on)
            let one = base.activation(hook)!
            let posAxis = HookPoints.axes(hook)!.position
            let rows = given.flatMap { $0.isEmpty ? nil : $0 } ?? (0..<k).map { _ in rng.int(T) }
            let everyPosition = given == nil ? n % 4 == 3 : given!.isEmpty
            var variants: [Tensor] = []
            for c in 0..<k {
                var a = one
                let strides = a.strides
                for j in 0..<a.count where everyPosition || (j / strides[posAxis]) % T == rows[c] { a.data[j] += Float(rng.normal()) }
                variants.append(a)
            }
            let positions = everyPosition ? 0..<T : rows.min()!..<(rows.max()! + 1)
            let stacked = variants.flatMap(\.data)
            let strides = one.strides
            let logits = try w.run(startingAt: hook, positions: positions, readAt: readAt + readAt) { a in
                // the buffer must hold the base's values: write only the changed positions
                for j in 0..<a.count where positions.contains((j / strides[posAxis]) % T) { a[j] = stacked[j] }
            }
            for c in 0..<k {
                let fresh = try m.forward(startingAt: hook, with: variants[c], base: base).logits
                for b in 0..<B {
                    for v in 0..<V {
                        let got = logits[(c * B + b) * V + v]
                        #expect(abs(got - fresh[b, readAt[b], v]) < 1e-4, "run \(n) \(hook) copy \(c) row \(b)")
                    }
                }
            }
        }
    }
}
