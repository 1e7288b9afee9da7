import CircuitRecords
import Foundation
import Patching
import Tensors
import Testing
import Transformer
@testable import Circuits

// Ground truth for every circuit method: the hand-set model of PlantedArithmetic.swift, whose circuit is
// exactly three edges, input->a0.h0<v> (the operand's token, read by the mover's value), a0.h0->m0 (the
// carrier, read by the MLP) and m0->logits (the output subspace, read by W_U):
//   - input->a0.h0<q> and <k> are not in it: the mover's query is b_Q and its key reads the position
//     embedding only; both runs have the same positions, so cutting these edges changes nothing.
//   - every edge into or out of a0.h1, a0.h2, a1.*, m1 is not in it: those write only to junk, which no
//     reader on the way to the logits reads, though their outputs change with the operand (test 8).
//   - input->m0, a0.h1->m0, a0.h2->m0 carry changes only in dimensions m0's carrier neurons do not read.
//   - a0.h0->logits, a0.h0->a1.*, m0->m1, m0->a1.*: W_U reads the output subspace only, and only m0 writes
//     it; the layer-1 readers of the carrier and the output are inert.
// Cutting any of the three edges sends the corrupted operand on: the logit difference goes from 1 (clean)
// to -1, so each scores m(cut) - m(clean) = -2, and every other edge 0.
@Suite struct PlantedCircuitTests {
    let model = try! PlantedArithmetic.model()
    let pairs = try! PlantedArithmetic.pairs()
    let truth = PlantedArithmetic.truth

    func runs(_ m: Transformer? = nil) throws -> CircuitRuns {
        try CircuitRuns(PatchRuns(model: m ?? model, pairs: pairs, metric: .logitDiff), ablation: .resample)
    }

    func scored(_ cr: CircuitRuns, _ method: ScoringMethod) throws -> CircuitGraph {
        var g = try CircuitGraph(cr.config)
        try cr.attribute(&g, method: method)
        return g
    }

    func labels(_ g: CircuitGraph) -> [Bool] { g.edges.map { truth.contains($0.name) } }
    func auc(_ g: CircuitGraph) -> Double { rocAUC(g.edges.map { Double(abs($0.score)) }, labels(g)) }
    func inEdges(_ g: CircuitGraph) -> Set<String> { Set(g.edges.filter(\.inGraph).map(\.name)) }
    func score(_ g: CircuitGraph, _ name: String) -> Float { g.edge(named: name)!.score }

    /// A graph whose in-graph edges are exactly those `keep` says (nodes untouched: `cut(outside:)` reads
    /// edges only).
    func graph(keeping keep: (String) -> Bool) throws -> CircuitGraph {
        var g = try CircuitGraph(PlantedArithmetic.config)
        for i in g.edges.indices { g[edge: i].inGraph = keep(g.edges[i].name) }
        return g
    }

    /// The weights say what they should: the metric is 1 clean and -1 with everything cut (the corrupted run),
    /// and the true edges exist under these names (a misspelt name would make every test below vacuous).
    @Test func theRunsAreWhatTheWeightsSay() throws {
        let cr = try runs()
        for i in 0..<pairs.count {
            #expect(abs(cr.clean[i] - 1) < 1e-6, "pair \(i) clean \(cr.clean[i])")
            #expect(abs(cr.ablated[i] + 1) < 1e-6, "pair \(i) ablated \(cr.ablated[i])")
            #expect(abs(cr.batches[0].runs.corrupted[i] + 1) < 1e-6)
        }
        let g = try CircuitGraph(model.config)
        #expect(g.edgeCount == 75)
        for name in truth { #expect(g.edgeIndex(named: name) != nil, "\(name) is not an edge") }
        #expect(labels(g).filter { $0 }.count == 3)
    }

    /// The component pass, writer by writer, against the plain pass's hooks, on a model whose d_mlp (12)
    /// is not its d_model (32): each head's output is its slice of hook_result, each MLP's is hook_mlp_out,
    /// the logits are the logits. (Every circuit method reads these outputs: the clean pass, the
    /// resample replacement and each cut pass.) At 99e4ea1 this fails, and with it every test below:
    /// ComponentForward.swift:199 runs the MLP's W_out as `linearForward(post, W_out, ..., C: D, OC: D)`,
    /// taking post [BT, d_mlp] as [BT, d_model] and W_out [d_mlp, D] as [D, D]; it must be `C: M`. Models
    /// with d_mlp == d_model are the only ones it gets right (here it reads past both buffers: NaN).
    @Test func componentPassIsThePlainPass() throws {
        let c = model.config, B = pairs.count, T = pairs.length, D = c.d_model, H = c.n_heads, n = B * T * D
        let tokens = Array(pairs.clean.joined())
        let names = (0..<c.n_layers).flatMap { [Hook.result.name(layer: $0), Hook.mlpOut.name(layer: $0)] }
        let plain = try model.forward(tokens: tokens, batch: B, length: T, plan: HookPlan(cache: names))
        let pass = try model.componentForward(tokens: tokens, batch: B, length: T)
        // the largest |a - b|, NaN if any difference is NaN (so that `gap < tol` fails on it)
        func gap(_ a: [Float], _ b: [Float]) -> Float {
            precondition(a.count == b.count)
            var m: Float = 0
            for (x, y) in zip(a, b) { let d = abs(x - y); if d.isNaN { return .nan }; m = max(m, d) }
            return m
        }
        for l in 0..<c.n_layers {
            let result = try #require(plain.cache[Hook.result.name(layer: l)])      // [B, T, H, D]
            for h in 0..<H {
                let w = ResidualGraph.headWriter(c, layer: l, head: h)
                var want = [Float]()
                for i in 0..<(B * T) { let from = (i * H + h) * D; want += result.data[from..<(from + D)] }
                let g = gap(Array(pass.outputs[(w * n)..<((w + 1) * n)]), want)
                #expect(g < 1e-5, "a\(l).h\(h): max |component pass - hook_result| = \(g)")
            }
            let w = ResidualGraph.mlpWriter(c, layer: l)
            let g = gap(Array(pass.outputs[(w * n)..<((w + 1) * n)]), try #require(plain.cache[Hook.mlpOut.name(layer: l)]).data)
            #expect(g < 1e-5, "m\(l): max |component pass - hook_mlp_out| = \(g)")
        }
        let g = gap(pass.logits, plain.logits.data)
        #expect(g < 1e-5, "logits: max |component pass - plain pass| = \(g)")
    }

    /// 1. Exact edge patching: the three edges score -2 (the whole logit-difference gap), the other 72
    /// under 1e-5, so |score| separates them perfectly.
    @Test func exactScoresAreTheCircuit() throws {
        let g = try scored(try runs(), .exact)
        for e in g.edges {
            if truth.contains(e.name) { #expect(abs(e.score + 2) < 1e-5, "\(e.name): \(e.score)") }
            else { #expect(abs(e.score) < 1e-5, "\(e.name) is off the circuit but scores \(e.score)") }
        }
        #expect(auc(g) == 1)
    }

    /// 2. EAP: AUC 1, and on this model the path is linear (the mover's pattern is fixed, m0's carrier
    /// neurons have pre-activation 1 or 2, never 0), so the first-order estimate is exact: EAP equals exact
    /// patching on the true edges, and is 0 on the others (their readers' gradients are 0: they write junk).
    @Test func eapIsExactOnALinearPath() throws {
        let cr = try runs()
        let eap = try scored(cr, .eap), exact = try scored(cr, .exact)
        #expect(auc(eap) == 1)
        for (a, b) in zip(eap.edges, exact.edges) {
            #expect(abs(a.score - b.score) < 1e-5, "\(a.name): eap \(a.score), exact \(b.score)")
        }
    }

    /// 2b. What relu's kink does (and that test 2's equality is not vacuous). With layer 0's b_O offset at
    /// 0, the carrier neuron of the corrupted operand sits at pre-activation 0 in the clean run, where relu's
    /// derivative is 0 (`pre > 0`). Exact patching still scores -2 (the corrupted neuron fires: +1 on the
    /// wrong logit; the clean one drops: -1 on the right one). EAP, from the clean run's gradient, sees only
    /// the clean neuron's drop: -1 on the two edges before m0 (m0->logits is after the relu and stays -2).
    /// EAP-IG(5) sees the corrupted neuron at 4 of its 5 points (pre = 1 - k/5 > 0 for k = 1...4): -1.8.
    /// A knife edge: the mover's softmax leaks e^-40 = 4e-18 onto the other positions, so in a pair whose
    /// corrupted operand also stands elsewhere in the prompt (pair 4: [1, 4, 0, 2], operand 4 -> 1) that
    /// neuron sits at +4e-18 instead, its derivative is 1, and both methods give that pair the exact -2.
    /// The ranking holds throughout.
    @Test func eapAtReluKinkUnderestimates() throws {
        let cr = try runs(try PlantedArithmetic.model(offset: 0))
        #expect(cr.clean.allSatisfy { abs($0 - 1) < 1e-6 } && cr.ablated.allSatisfy { abs($0 + 1) < 1e-6 })
        let s = PlantedArithmetic.source, N = pairs.count
        let lifted = (0..<N).filter { i in (0..<pairs.length).contains { $0 != s && pairs.clean[i][$0] == pairs.corrupted[i][s] } }
        #expect(lifted == [4])
        // and no clean operand stands elsewhere in its corrupted prompt, so the gradient at alpha = 0 (the
        // corrupted input) differs from the clean one: EAP-IG's points k / steps, k = 1...steps, are told
        // apart from EAP-IG's code's k = 0...steps - 1 (here and in test 3).
        #expect((0..<N).allSatisfy { i in !(0..<pairs.length).contains { $0 != s && pairs.corrupted[i][$0] == pairs.clean[i][s] } })
        func perPair(_ kink: Double) -> Float { Float((kink * Double(N - lifted.count) - 2 * Double(lifted.count)) / Double(N)) }
        let exact = try scored(cr, .exact), eap = try scored(cr, .eap), ig = try scored(cr, .eapIG(steps: 5))
        for name in truth { #expect(abs(score(exact, name) + 2) < 1e-5, "exact \(name)") }
        for name in ["input->a0.h0<v>", "a0.h0->m0"] {
            #expect(abs(score(eap, name) - perPair(-1)) < 1e-5, "eap \(name): \(score(eap, name)), want \(perPair(-1))")
            #expect(abs(score(ig, name) - perPair(-1.8)) < 1e-5, "eap-ig \(name): \(score(ig, name)), want \(perPair(-1.8))")
        }
        #expect(abs(score(eap, "m0->logits") + 2) < 1e-5 && abs(score(ig, "m0->logits") + 2) < 1e-5)
        #expect(auc(exact) == 1 && auc(eap) == 1 && auc(ig) == 1)
    }

    /// 3. EAP-IG: AUC 1 with 5 steps (and, the path being linear, the exact scores); with 1 step its only
    /// point is alpha = 1, the clean input, so it is EAP, edge for edge. On the linear model the gradient is
    /// the same at every alpha, so the kink model (test 2b) checks it too: there the gradient at alpha = 0
    /// (the corrupted input, EAP-IG's code's first point) differs from the clean one.
    @Test func eapIGFindsTheCircuitAndOneStepIsEAP() throws {
        let cr = try runs()
        let ig5 = try scored(cr, .eapIG(steps: 5))
        #expect(auc(ig5) == 1)
        for e in ig5.edges {
            let want: Float = truth.contains(e.name) ? -2 : 0
            #expect(abs(e.score - want) < 1e-5, "\(e.name): \(e.score)")
        }
        for r in [cr, try runs(try PlantedArithmetic.model(offset: 0))] {
            let ig1 = try scored(r, .eapIG(steps: 1)), eap = try scored(r, .eap)
            for (a, b) in zip(ig1.edges, eap.edges) { #expect(abs(a.score - b.score) <= 1e-6, "\(a.name): \(a.score) vs \(b.score)") }
        }
    }

    /// 4. ACDC (tau 0.1 of the gap): each true edge moves the metric by the whole gap (score -1 after
    /// normalisation), every other edge by nothing, so exactly the circuit is left.
    @Test func acdcKeepsExactlyTheCircuit() throws {
        let g = try scored(try runs(), .acdc(tau: 0.1))
        #expect(inEdges(g) == truth)
        #expect(Set(g.nodes.filter(\.inGraph).map(\.name)) == ["input", "a0.h0", "m0", "logits"])
        for e in g.edges {
            let want: Float = truth.contains(e.name) ? -1 : 0
            #expect(abs(e.score - want) < 1e-5, "\(e.name): \(e.score)")
        }
    }

    /// 5. Faithfulness: the circuit alone does everything (1), the model without it nothing (0); the empty
    /// graph is the ablated run (0), the full graph the clean one (1).
    @Test func faithfulnessOfTheCircuitAndItsComplement() throws {
        let cr = try runs()
        var circuit = try graph { truth.contains($0) }
        let before = inEdges(circuit)
        circuit.prune()
        #expect(inEdges(circuit) == before)                  // a connected path: pruning keeps all three
        let complement = try graph { !truth.contains($0) }
        #expect(complement.includedEdgeCount == 72)
        let cases: [(String, CircuitGraph, Double)] = [
            ("circuit", circuit, 1), ("complement", complement, 0),
            ("empty", try graph { _ in false }, 0), ("full", try graph { _ in true }, 1),
        ]
        for (name, g, want) in cases {
            let f = try cr.faithfulness(g, resamples: 50)
            #expect(abs(f.value - want) < 1e-5, "\(name): \(f.value)")
            #expect(abs(f.low - want) < 1e-5 && abs(f.high - want) < 1e-5, "\(name): [\(f.low), \(f.high)]")
            #expect(f.pairsUsed == pairs.count)
        }
    }

    /// 6. The smallest top-n circuit reaching 0.8 is the three edges (n = 1 and 2 prune to nothing: 0), for
    /// exact patching and for EAP; and so is the smallest greedy one (grown from the logits up).
    @Test func smallestCircuitIsTheCircuit() throws {
        let cr = try runs()
        for method in [ScoringMethod.exact, .eap] {
            for selection in CircuitGraph.selections {
                let found = try #require(try cr.smallestCircuit(try scored(cr, method), target: 0.8, selection: selection), "\(method.name)")
                #expect(inEdges(found) == truth, "\(method.name), \(selection): \(inEdges(found).sorted())")
                #expect(abs(try cr.faithfulness(found, resamples: 10).value - 1) < 1e-5)
            }
        }
        #expect(throws: CircuitError.self) { try cr.smallestCircuit(try scored(cr, .eap), selection: "threshold") }
    }

    /// 7. Completeness: knocking the circuit out leaves nothing (0), and with any subset K of it cut, the
    /// circuit and the model agree (the rest of the model adds nothing). Minimality: each edge is needed,
    /// its removal taking faithfulness from 1 to 0.
    @Test func completenessAndMinimality() throws {
        let cr = try runs()
        let circuit = try graph { truth.contains($0) }
        let c = try cr.completeness(circuit, subsets: 10)
        #expect(abs(c.knockout) < 1e-5, "knockout \(c.knockout)")
        #expect(c.maxGap < 1e-5 && c.meanGap < 1e-5, "gaps \(c.meanGap) \(c.maxGap)")
        let m = try cr.minimality(circuit, fraction: 0.01)
        #expect(m.edges == 3 && m.minimal == 3, "\(m)")
        #expect(m.notMinimal.isEmpty)
    }

    /// 8. The inert components are not idle: each of a0.h1, a0.h2, a1.h0, a1.h1, a1.h2 and m1 changes its
    /// output between the clean and the corrupted prompts, yet writes only to junk. And the circuit's
    /// writers write where the construction says (a0.h0 the carrier only, m0 the output and junk only).
    @Test func inertComponentsAreActiveAndWriteJunkOnly() throws {
        let B = pairs.count, T = pairs.length, D = PlantedArithmetic.D, n = B * T * D
        let clean = try model.componentForward(tokens: Array(pairs.clean.joined()), batch: B, length: T).outputs
        let corrupted = try model.componentForward(tokens: Array(pairs.corrupted.joined()), batch: B, length: T).outputs
        func check(_ name: String, _ w: Int, writes allowed: Range<Int>...) {
            var change: Float = 0, outside: Float = 0
            for j in 0..<n {
                change = max(change, abs(clean[w * n + j] - corrupted[w * n + j]))
                if !allowed.contains(where: { $0.contains(j % D) }) {
                    outside = max(outside, abs(clean[w * n + j]), abs(corrupted[w * n + j]))
                }
            }
            #expect(change > 0.1, "\(name) does not change between the runs (max |diff| \(change))")
            #expect(outside == 0, "\(name) writes outside \(allowed) (\(outside))")
        }
        let junk = PlantedArithmetic.junk..<D
        for (name, w) in PlantedArithmetic.inertWriters { check(name, w, writes: junk) }
        check("a0.h0", 1, writes: PlantedArithmetic.carrier..<PlantedArithmetic.carrier + PlantedArithmetic.V)
        check("m0", 4, writes: PlantedArithmetic.output..<PlantedArithmetic.output + PlantedArithmetic.V, junk)
    }

    /// 9. Negative control: m0's carrier neurons zeroed, every other weight as before (all components still
    /// active). Nothing reaches the logits, so clean and ablated metrics are equal (0) and every method
    /// scores every edge 0. Faithfulness is then 0 / 0, an error: the curve, the circuit search and
    /// faithfulness itself throw rather than report "no circuit reaches 0.8", and ACDC, which normalises by
    /// the same gap, refuses.
    @Test func withoutTheReaderNothingIsFound() throws {
        let cr = try runs(try PlantedArithmetic.model(carrierReader: false))
        #expect(cr.clean.allSatisfy { abs($0) < 1e-6 } && cr.ablated.allSatisfy { abs($0) < 1e-6 })
        for method in [ScoringMethod.exact, .eap, .eapIG(steps: 5)] {
            let g = try scored(cr, method)
            #expect(g.edges.allSatisfy { abs($0.score) < 1e-5 }, "\(method.name): \(g.edges.map(\.score).max(by: { abs($0) < abs($1) })!)")
            // 0/0 is an error, not "no circuit reaches the target"
            #expect(throws: CircuitError.self, "\(method.name)") { try cr.smallestCircuit(g, target: 0.8) }
            #expect(throws: CircuitError.self, "\(method.name)") { try cr.curve(g, method: method.name) }
        }
        #expect(throws: CircuitError.self) { try cr.faithfulness(try graph { _ in true }, resamples: 10) }
        var g = try CircuitGraph(cr.config)
        do {
            try cr.attribute(&g, method: .acdc(tau: 0.1))
            Issue.record("ACDC ran with clean == ablated")
        } catch {
            guard case .badArgument = error else { Issue.record("ACDC: \(error)"); return }
        }
    }
}
