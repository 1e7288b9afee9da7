import Testing
import Tensors
@testable import Transformer

// Finite differences in Float32 (the engine's precision): central differences with step h = 1e-2
// on a metric linear in the logits. Tolerance: 2% relative plus 2e-3 absolute, which a wrong term
// in any backward formula exceeds by orders of magnitude (checked by breaking them by hand).
private let h: Float = 1e-2
private func close(_ fd: Double, _ an: Double) -> Bool { abs(fd - an) <= 0.02 * max(abs(fd), abs(an)) + 2e-3 }

@Suite struct GradientTests {
    @Test(arguments: ["gelu_new", "gelu", "relu"])
    func parameterGradientsMatchFiniteDifferences(act: String) throws {
        let m = tinyModel(act: act)
        let B = 2, T = 5
        let tokens = randomTokens(m, batch: B, length: T)
        let R = metricWeights(count: B * T * m.config.d_vocab)
        let out = try m.forward(tokens: tokens, batch: B, length: T)
        let g = try m.backward(out.state, dlogits: R)
        func metric(_ p: Parameters) throws -> Double {
            let mm = try Transformer(config: m.config, params: p)
            return dot(try mm.forward(tokens: tokens, batch: B, length: T).logits.data, R)
        }
        // ReLU has kinks: a smaller step keeps the perturbation from crossing them.
        let h: Float = act == "relu" ? 1e-3 : 1e-2
        var rng = RNG(seed: 5)
        for e in m.params.layout.entries {
            // A random direction within this one tensor, so every parameter tensor is checked on its own.
            let u = (0..<e.count).map { _ in Float(rng.normal()) }
            var plus = m.params, minus = m.params
            for i in 0..<e.count { plus.data[e.offset + i] += h * u[i]; minus.data[e.offset + i] -= h * u[i] }
            let fd = (try metric(plus) - metric(minus)) / Double(2 * h)
            let an = dot(Array(g.params.data[e.offset..<e.offset + e.count]), u)
            #expect(close(fd, an), "\(act) \(e.name): finite difference \(fd) vs backward \(an)")
        }
    }

    @Test func activationGradientsMatchFiniteDifferencesAtEveryHook() throws {
        let m = tinyModel()
        let B = 2, T = 5
        let tokens = randomTokens(m, batch: B, length: T)
        let R = metricWeights(count: B * T * m.config.d_vocab)
        let hooks = HookPoints.names(m.config)
        let out = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: hooks))
        let g = try m.backward(out.state, dlogits: R, activationGradients: Set(hooks))
        // hook_result only exists when in use (TransformerLens's use_attn_result)
        let withResult = try m.forward(tokens: tokens, batch: B, length: T,
                                       plan: HookPlan(cache: hooks.filter { $0.hasSuffix("hook_result") }))
        var rng = RNG(seed: 9)
        for hook in hooks {
            let base = hook.hasSuffix("hook_result") ? withResult : out
            let act = base.cache[hook] ?? out.cache[hook]!
            guard let grad = g.activations[hook] else { Issue.record("no gradient for \(hook)"); continue }
            #expect(grad.shape == act.shape, "\(hook) gradient shape")
            // Masked scores are -inf: perturbing them is meaningless, so those entries get u = 0.
            let u = act.data.map { $0.isFinite ? Float(rng.normal()) : 0 }
            var plus = act, minus = act
            for i in 0..<act.count { plus.data[i] += h * u[i]; minus.data[i] -= h * u[i] }
            let lp = dot(try m.forward(startingAt: hook, with: plus, base: base.state).logits.data, R)
            let lm = dot(try m.forward(startingAt: hook, with: minus, base: base.state).logits.data, R)
            let fd = (lp - lm) / Double(2 * h)
            let an = dot(grad.data, u)
            #expect(close(fd, an), "\(hook): finite difference \(fd) vs backward \(an)")
        }
    }

    @Test func crossEntropyGradientMatchesFiniteDifferences() throws {
        let N = 4, V = 5
        var rng = RNG(seed: 2)
        var logits = (0..<(N * V)).map { _ in Float(rng.normal()) }
        let targets: [Int32] = [1, -1, 4, 0]
        let mask: [Float] = [1, 1, 0.5, 1]
        let r = crossEntropy(logits: logits, targets: targets, mask: mask, N: N, V: V)
        #expect(r.counted == 3)
        for i in [0, 3, 7, 12, 19] {
            let old = logits[i]
            logits[i] = old + 1e-2
            let lp = crossEntropy(logits: logits, targets: targets, mask: mask, N: N, V: V).loss
            logits[i] = old - 1e-2
            let lm = crossEntropy(logits: logits, targets: targets, mask: mask, N: N, V: V).loss
            logits[i] = old
            let fd = Double(lp - lm) / 2e-2
            #expect(abs(fd - Double(r.dlogits[i])) < 1e-3, "dlogits[\(i)]: \(fd) vs \(r.dlogits[i])")
        }
    }

    @Test func backwardRefusesAModifiedPass() throws {
        let m = tinyModel()
        var plan = HookPlan()
        plan.intervene("blocks.0.hook_attn_out", .zero)
        let out = try m.forward(tokens: randomTokens(m, batch: 1, length: 4), batch: 1, length: 4, plan: plan)
        #expect(throws: ModelError.self) { _ = try m.backward(out.state, dlogits: [Float](repeating: 0, count: 4 * 11)) }
    }
}
