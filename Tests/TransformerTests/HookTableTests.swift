import Foundation
import Synchronization
import Testing
import Tensors
@testable import Transformer

/// The hooks a forward pass fires, checked against lists TransformerLens 3.9 itself wrote
/// (Fixtures/transformer-lens-3.9, copied from ../shared/fixtures/transformer-lens): names, shapes and
/// the order in which they first fire, for three configs.
@Suite struct HookTableTests {
    struct Fixture: Decodable {
        struct Config: Decodable { let n_layers, d_model, n_heads, d_head, d_mlp, n_ctx, d_vocab: Int; let act_fn: String }
        struct Fired: Decodable { let name: String; let shape: [Int] }
        let config: Config
        let batch: Int
        let length: Int
        let hooks: [Fired]
    }

    static let fixtures = ["hooks-tiny.json", "hooks-base.json", "hooks-l3-dhead12.json"]

    static func load(_ file: String) throws -> Fixture {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/transformer-lens-3.9")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: dir.appendingPathComponent(file)))
    }

    /// Records every hook's name and shape as the pass fires it (an identity intervention on every hook).
    final class Recorder: Sendable {
        let fired = Mutex<[(String, [Int])]>([])
        var intervention: Intervention { Intervention { [self] name, a in fired.withLock { $0.append((name, a.shape)) } } }
    }

    @Test(arguments: fixtures)
    func forwardFiresTransformerLensHooksInOrder(file: String) throws {
        let f = try Self.load(file)
        let c = f.config
        let m = try Transformer(config: ModelConfig(n_layers: c.n_layers, d_model: c.d_model, n_heads: c.n_heads, d_head: c.d_head,
                                                    d_mlp: c.d_mlp, n_ctx: c.n_ctx, d_vocab: c.d_vocab, act_fn: c.act_fn))
        let recorder = Recorder()
        var plan = HookPlan()
        for name in HookPoints.names(m.config) { plan.intervene(name, recorder.intervention) }
        let tokens = (0..<(f.batch * f.length)).map { Int32($0 % c.d_vocab) }
        _ = try m.forward(tokens: tokens, batch: f.batch, length: f.length, plan: plan)
        let fired = recorder.fired.withLock { $0 }
        #expect(fired.map(\.0) == f.hooks.map(\.name), "\(file): hook names or order differ from TransformerLens")
        for (got, want) in zip(fired, f.hooks) {
            #expect(got.1 == want.shape, "\(file) \(want.name): shape \(got.1), TransformerLens \(want.shape)")
        }
        // The table's shapes (used by readers and writers without running a pass) agree too.
        for want in f.hooks {
            #expect(HookPoints.shape(want.name, m.config, batch: f.batch, length: f.length) == want.shape, "\(want.name)")
        }
    }

    @Test func namesRoundTripThroughTheTable() {
        let c = tinyModel().config
        for name in HookPoints.names(c) {
            guard let (hook, layer) = HookPoints.locate(name, c) else { Issue.record("\(name) not found"); continue }
            #expect(hook.name(layer: layer) == name)
        }
        for bad in ["blocks.2.hook_resid_pre", "blocks.-1.hook_resid_pre", "blocks.01.hook_resid_pre", "blocks.0.hook_embed",
                    "hook_resid_pre", "unembed.hook_inn", ""] {
            #expect(HookPoints.locate(bad, c) == nil, "\(bad) should not be a hook of a 2-layer model")
        }
    }
}

/// Interventions that cannot apply are errors, never crashes or silent no-ops.
@Suite struct InterventionErrorTests {
    let m = tinyModel()
    let B = 2, T = 5
    var tokens: [Int32] { randomTokens(m, batch: B, length: T) }

    func run(_ hook: String, _ i: Intervention) throws {
        var plan = HookPlan()
        plan.intervene(hook, i)
        _ = try m.forward(tokens: tokens, batch: B, length: T, plan: plan)
    }

    func expectError(_ hook: String, _ i: Intervention, mentioning words: [String]) {
        do { try run(hook, i); Issue.record("\(hook): accepted") } catch let error as ModelError {
            for w in words { #expect(error.description.contains(w), "\(error.description) should mention \(w)") }
        } catch {
            Issue.record("\(hook): not a ModelError: \(error)")
        }
    }

    @Test func wrongShapesAreErrors() {
        let wrong = Tensor(zeros: [B, T, m.config.d_model + 1])
        expectError("blocks.0.hook_resid_post", .replace(with: wrong), mentioning: ["replace", "blocks.0.hook_resid_post"])
        expectError("blocks.0.hook_resid_post", .patch(from: wrong, positions: [1]), mentioning: ["patch", "[2, 5, 9]"])
        expectError("blocks.0.hook_resid_post", Intervention { _, a in a = Tensor(zeros: [1]) }, mentioning: ["changed its shape"])
    }

    @Test func headsOnAHookWithoutAHeadAxisAreAnError() throws {
        let source = Tensor(zeros: [B, T, m.config.d_model])
        expectError("blocks.1.hook_attn_out", .patch(from: source, heads: [0]), mentioning: ["no head axis"])
        // The same selection on a hook with a head axis is accepted.
        try run("blocks.1.attn.hook_z", .patch(from: Tensor(zeros: [B, T, m.config.n_heads, m.config.d_head]), heads: [0]))
    }

    @Test func positionsAndHeadsOutOfRangeAreErrors() {
        let z = Tensor(zeros: [B, T, m.config.n_heads, m.config.d_head])
        expectError("blocks.0.attn.hook_z", .patch(from: z, positions: [T]), mentioning: ["position \(T)"])
        expectError("blocks.0.attn.hook_z", .patch(from: z, positions: [-1]), mentioning: ["position -1"])
        expectError("blocks.0.attn.hook_z", .patch(from: z, heads: [m.config.n_heads]), mentioning: ["head \(m.config.n_heads)"])
    }

    @Test func patchingPatternsSelectsQueryPositionsAndHeads() throws {
        // hook_pattern is [batch, head, query, key]: position selects the query axis (2), heads axis 1.
        let hook = "blocks.0.attn.hook_pattern"
        let clean = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: [hook])).cache[hook]!
        let ones = Tensor(shape: clean.shape, data: [Float](repeating: 1, count: clean.count))
        var plan = HookPlan(cache: [hook])
        plan.intervene(hook, .patch(from: ones, positions: [3], heads: [1]))
        let got = try m.forward(tokens: tokens, batch: B, length: T, plan: plan).cache[hook]!
        for b in 0..<B { for h in 0..<m.config.n_heads { for q in 0..<T { for k in 0..<T {
            #expect(got[b, h, q, k] == ((h == 1 && q == 3) ? 1 : clean[b, h, q, k]))
        } } } }
    }

    @Test func anInterventionOnTheStartHookOfALateStartIsApplied() throws {
        let hook = "blocks.1.hook_resid_mid"
        let full = try m.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: [hook]))
        var zeroed = HookPlan()
        zeroed.intervene(hook, .zero)
        let fullZeroed = try m.forward(tokens: tokens, batch: B, length: T, plan: zeroed)
        let late = try m.forward(startingAt: hook, with: full.cache[hook]!, base: full.state, plan: zeroed)
        #expect(late.logits.data == fullZeroed.logits.data)
        #expect(late.logits.data != full.logits.data)
        // A failing intervention at the start hook is an error there too.
        var bad = HookPlan()
        bad.intervene(hook, .replace(with: Tensor(zeros: [1])))
        #expect(throws: ModelError.self) { _ = try m.forward(startingAt: hook, with: full.cache[hook]!, base: full.state, plan: bad) }
    }
}
