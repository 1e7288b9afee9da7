import Foundation
import XCTest
@testable import Circuits
import Patching
import Tensors
import Transformer

/// A small random model whose weights are all non-trivial (LayerNorm gains and biases random too).
func randomCircuitModel(layers: Int = 2, heads: Int = 3, normalization: String? = "LN", seed: UInt64 = 5) -> Transformer {
    let cfg = ModelConfig(n_layers: layers, d_model: 12, n_heads: heads, d_head: 4, d_mlp: 16, n_ctx: 7,
                          d_vocab: 11, act_fn: "gelu_new", normalization_type: normalization, seed: seed)
    var m = try! Transformer(config: cfg)
    var rng = RNG(seed: seed &+ 1)
    for i in 0..<m.params.data.count { m.params.data[i] = Float(rng.normal()) * 0.5 }
    for e in m.params.layout.entries where e.name.hasSuffix(".w") {
        for i in 0..<e.count { m.params.data[e.offset + i] = 1 + Float(rng.normal()) * 0.2 }
    }
    return m
}

/// Random clean prompts; each corrupted prompt changes two tokens; metric positions vary per pair.
func randomCircuitPairs(_ m: Transformer, count N: Int = 6, length T: Int = 6, seed: UInt64 = 9) -> PatchPairs {
    var rng = RNG(seed: seed)
    let V = m.config.d_vocab
    let clean = (0..<N).map { _ in (0..<T).map { _ in Int32(rng.int(V)) } }
    let corrupted = clean.map { row -> [Int32] in
        var r = row
        for _ in 0..<2 { let t = rng.int(T); r[t] = Int32((Int(r[t]) + 1 + rng.int(V - 1)) % V) }
        return r
    }
    let position = (0..<N).map { _ in T - 1 - rng.int(3) }
    let correct = (0..<N).map { _ in Int32(rng.int(V)) }
    let wrong = correct.map { Int32((Int($0) + 1 + rng.int(V - 1)) % V) }
    return try! PatchPairs(clean: clean, corrupted: corrupted, position: position, correct: correct, wrong: wrong)
}

/// The component pass against the engine it decomposes, and single edges against path patching, an
/// independent implementation of the same intervention (Wang et al.'s sender -> receiver patch).
final class EdgePassTests: XCTestCase {
    func testUncutPassEqualsTheEnginesForwardPass() throws {
        for norm in ["LN", nil] as [String?] {
            let m = randomCircuitModel(normalization: norm), pairs = randomCircuitPairs(m)
            let tokens = Array(pairs.clean.joined())
            let plain = try m.forward(tokens: tokens, batch: pairs.count, length: pairs.length).logits.data
            let split = try m.componentForward(tokens: tokens, batch: pairs.count, length: pairs.length).logits
            XCTAssertEqual(plain.count, split.count)
            // relative to the largest logit: without LayerNorm the random model's logits reach the hundreds
            let worst = zip(plain, split).map { abs($0 - $1) }.max()!, scale = plain.map { abs($0) }.max()!
            XCTAssertLessThan(worst / scale, 2e-6, "normalization \(norm ?? "None")")
        }
    }

    /// Reading only each pair's metric row computes the last layer at those rows alone: same logits there.
    func testReadingOneRowPerSequenceGivesTheSameLogitsThere() throws {
        let m = randomCircuitModel(), c = m.config, pairs = randomCircuitPairs(m), N = pairs.count, T = pairs.length
        let tokens = Array(pairs.clean.joined())
        var rng = RNG(seed: 3)
        let W = ResidualGraph.writers(c), R = ResidualGraph.readers(c)
        let cut = EdgeCut(cut: (0..<(W * R)).map { _ in rng.uniform() < 0.3 },
                          replacement: try m.componentForward(tokens: Array(pairs.corrupted.joined()), batch: N, length: T).outputs)
        let full = try m.componentForward(tokens: tokens, batch: N, length: T, edges: cut)
        let rows = try m.componentForward(tokens: tokens, batch: N, length: T, edges: cut, readAt: pairs.position)
        let V = c.d_vocab
        for i in 0..<N {
            let r = (i * T + pairs.position[i]) * V
            for v in 0..<V { XCTAssertEqual(full.logits[r + v], rows.logits[r + v], accuracy: 1e-5) }
        }
        XCTAssertThrowsError(try m.componentForward(tokens: tokens, batch: N, length: T, readAt: [T] + Array(pairs.position.dropFirst())))
    }

    /// Pairs of two lengths padded into one batch: the same per-pair metrics, the same scores, as two batches.
    func testPaddingLayoutsIntoOneBatchChangesNothingTheMetricReads() throws {
        let m = randomCircuitModel()
        let short = randomCircuitPairs(m, count: 4, length: 5, seed: 1), long = randomCircuitPairs(m, count: 5, length: 7, seed: 2)
        let apart = try CircuitRuns(batches: [(try PatchRuns(model: m, pairs: short), .resample), (try PatchRuns(model: m, pairs: long), .resample)])
        let one = try CircuitRuns(try PatchRuns(model: m, pairs: try CircuitRuns.padded([short, long])))
        XCTAssertEqual(one.batches.count, 1); XCTAssertEqual(one.batches[0].pairs.length, 7)
        for i in 0..<9 {
            XCTAssertEqual(apart.clean[i], one.clean[i], accuracy: 1e-4); XCTAssertEqual(apart.ablated[i], one.ablated[i], accuracy: 1e-4)
        }
        for method in [ScoringMethod.exact, .eap, .eapIG(steps: 3)] {
            var a = try CircuitGraph(m.config), b = a
            try apart.attribute(&a, method: method); try one.attribute(&b, method: method)
            for (x, y) in zip(a.edges, b.edges) { XCTAssertEqual(x.score, y.score, accuracy: 1e-4 + 1e-3 * abs(x.score), "\(method.name) \(x.name)") }
        }
    }

    func testCuttingEveryEdgeGivesTheCorruptedRun() throws {
        let m = randomCircuitModel(), pairs = randomCircuitPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs, metric: .logitDiff)
        let cr = try CircuitRuns(runs)
        for i in 0..<pairs.count {
            XCTAssertEqual(cr.ablated[i], runs.corrupted[i], accuracy: 1e-4)
            XCTAssertEqual(cr.clean[i], runs.clean[i], accuracy: 1e-4)
        }
    }

    func testOneCutEdgeEqualsPathPatchingInTheNoisingDirection() throws {
        let m = randomCircuitModel(), c = m.config, pairs = randomCircuitPairs(m)
        let runs = try PatchRuns(model: m, pairs: pairs, metric: .logitDiff)
        let cr = try CircuitRuns(runs)
        var graph = try CircuitGraph(c)
        try cr.attribute(&graph, method: .exact)
        let senders = PathSender.all(c), receivers = PathReceiver.all(c)
        let path = try runs.pathPatch(senders: senders, receivers: receivers, direction: .noising)
        var compared = 0
        for (si, s) in senders.enumerated() {
            for (ri, r) in receivers.enumerated() {
                guard let expected = path.raw[si][ri] else { continue }
                let source: String, target: String
                switch s {
                case .head(let l, let h): source = "a\(l).h\(h)"
                case .mlp(let l): source = "m\(l)"
                }
                switch r {
                case .head(let l, let h, let x): target = "a\(l).h\(h)<\(x.rawValue)>"
                case .mlp(let l): target = "m\(l)"
                case .logits: target = "logits"
                }
                let edge = try XCTUnwrap(graph.edge(named: source + "->" + target), source + "->" + target)
                let cleanMean = runs.clean.reduce(0, +) / Double(pairs.count)
                XCTAssertEqual(Double(edge.score), expected - cleanMean, accuracy: 2e-4, edge.name)
                compared += 1
            }
        }
        // every edge but those out of `input` has a path-patching twin
        XCTAssertEqual(compared, graph.edgeCount - graph.nodes[0].outgoing.count)
    }

    /// ACDC recomputes, in each trial, only the head whose input the trial cuts (the others come from the
    /// pass of the current cut). Against ACDC written out with every trial a whole fresh pass, on a random
    /// 3-layer model whose edges ACDC partly keeps and partly removes: the same edges kept, the same scores.
    func testACDCsIncrementalTrialsEqualWholePasses() throws {
        let m = randomCircuitModel(layers: 3), c = m.config, pairs = randomCircuitPairs(m)
        let cr = try CircuitRuns(try PatchRuns(model: m, pairs: pairs, metric: .logitDiff))
        let tau = 0.02
        var graph = try CircuitGraph(c)
        try cr.attribute(&graph, method: .acdc(tau: tau))
        // the reference: readers from the logits down, writers from the latest down, each trial from scratch
        let R = cr.readers, gap = abs(mean(cr.clean) - mean(cr.ablated))
        var cut = [Bool](repeating: false, count: cr.writers * R), current = mean(cr.clean)
        var kept: Set<String> = [], scores: [String: Double] = [:]
        let reference = try CircuitGraph(c)
        for r in stride(from: R - 1, through: 0, by: -1) {
            for e in reference.edges.filter({ $0.input == r }).sorted(by: { $0.source > $1.source }) {
                cut[e.source * R + r] = true
                let value = mean(try cr.metrics(cut: cut, fromLayer: 0))
                scores[e.name] = (value - current) / gap
                if abs(value - current) / gap < tau { current = value } else { cut[e.source * R + r] = false; kept.insert(e.name) }
            }
        }
        XCTAssertGreaterThan(kept.count, 5, "the test needs edges kept")
        XCTAssertLessThan(kept.count, reference.edgeCount - 5, "the test needs edges removed")
        // the graph is pruned after ACDC: an edge kept by the search whose nodes dangle is dropped from it
        var expected = reference
        for i in expected.edges.indices { expected[edge: i].inGraph = kept.contains(expected.edges[i].name) }
        expected.prune()
        XCTAssertEqual(Set(graph.edges.filter(\.inGraph).map(\.name)), Set(expected.edges.filter(\.inGraph).map(\.name)))
        for e in graph.edges { XCTAssertEqual(Double(e.score), scores[e.name]!, accuracy: 1e-4, e.name) }
    }

    /// Minimality's trials start from the circuit's own pass and recompute from the removed edge's reader's
    /// layer on; the reference cuts each edge with a whole fresh pass. Same drops (to float rounding), so the
    /// same edges are minimal, on a random 3-layer model and a random half of its edges.
    func testMinimalitysIncrementalTrialsEqualWholePasses() throws {
        let m = randomCircuitModel(layers: 3), c = m.config, pairs = randomCircuitPairs(m)
        let cr = try CircuitRuns(try PatchRuns(model: m, pairs: pairs, metric: .logitDiff))
        var graph = try CircuitGraph(c), rng = RNG(seed: 17)
        for i in graph.edges.indices { graph[edge: i].inGraph = rng.bool() }
        graph.prune()
        let inside = graph.edges.filter(\.inGraph)
        XCTAssertGreaterThan(inside.count, 20, "the test needs a circuit with edges in every layer")
        XCTAssertEqual(Set(inside.map { ResidualGraph.layer(ofReader: $0.input, c) }).count, c.n_layers + 1)
        let base = try cr.cut(outside: graph)
        func f(_ cut: [Bool]) throws -> Double { (mean(try cr.metrics(cut: cut, fromLayer: 0)) - mean(cr.ablated)) / (mean(cr.clean) - mean(cr.ablated)) }
        let whole = try f(base)
        var drops: [String: Double] = [:]
        for e in inside {
            var cut = base
            cut[e.source * cr.readers + e.input] = true
            drops[e.name] = whole - (try f(cut))
        }
        // a fraction between two drops (not at one: float rounding would decide that edge), about half of them below
        let sorted = drops.values.sorted()
        let k = try XCTUnwrap((sorted.count / 2..<(sorted.count - 1)).first { sorted[$0 + 1] - sorted[$0] > 1e-5 })
        let fraction = min(0.99, (sorted[k] + sorted[k + 1]) / 2)
        let result = try cr.minimality(graph, fraction: fraction)
        XCTAssertEqual(result.edges, inside.count)
        XCTAssertEqual(Set(result.notMinimal.keys), Set(drops.filter { $0.value <= fraction }.keys))
        XCTAssertGreaterThan(result.notMinimal.count, 5)
        XCTAssertGreaterThan(result.minimal, 5)
        for (name, drop) in result.notMinimal { XCTAssertEqual(drop, drops[name]!, accuracy: 1e-4, name) }
    }

    /// EAP's score is the first-order change: cutting an edge to clean + eps (replacement - clean)
    /// changes the metric by eps times it. Checked by central differences for every edge.
    func testEAPScoresAreTheDirectionalDerivativesOfEachCut() throws {
        let m = randomCircuitModel(), c = m.config, pairs = randomCircuitPairs(m)
        let N = pairs.count, T = pairs.length
        let runs = try PatchRuns(model: m, pairs: pairs, metric: .logprob)
        let cr = try CircuitRuns(runs)
        var graph = try CircuitGraph(c)
        try cr.attribute(&graph, method: .eap)
        let W = cr.writers, R = cr.readers, eps: Float = 1e-2
        let tokens = Array(pairs.clean.joined())
        func metricMean(_ e: CircuitGraph.Edge, _ scale: Float) throws -> Double {
            let batch = cr.batches[0]
            var rep = batch.cleanPass.outputs
            for j in 0..<rep.count { rep[j] += scale * (batch.replacement[j] - batch.cleanPass.outputs[j]) }
            var cut = [Bool](repeating: false, count: W * R)
            cut[e.source * R + e.input] = true
            let pass = try m.componentForward(tokens: tokens, batch: N, length: T, edges: EdgeCut(cut: cut, replacement: rep))
            let v = runs.metrics(logits: pass.logits, firstRow: 0)
            return v.reduce(0, +) / Double(N)
        }
        var largest = 0.0
        for e in graph.edges {
            let fd = (try metricMean(e, eps) - metricMean(e, -eps)) / Double(2 * eps)
            XCTAssertEqual(Double(e.score), fd, accuracy: 2e-3 + 2e-2 * abs(fd), e.name)
            largest = max(largest, abs(fd))
        }
        XCTAssertGreaterThan(largest, 0.05, "the check needs edges that matter")
    }

    /// The same check on a batch of 161 token rows: EAP takes its gradients 64 rows at a time, split over
    /// the engine's threads (chunks of 64, 64 and 33, on two shards), so a row dropped, counted twice or
    /// read at another row's offset shows up against the finite differences.
    func testEAPScoresInChunksOfRowsAreTheDirectionalDerivatives() throws {
        let before = Engine.threads
        Engine.setThreads(2)
        defer { Engine.setThreads(before) }
        let m = randomCircuitModel(heads: 2), pairs = randomCircuitPairs(m, count: 23, length: 7)
        let N = pairs.count, T = pairs.length
        XCTAssertGreaterThan(N * T, 128)
        let runs = try PatchRuns(model: m, pairs: pairs, metric: .logitDiff)
        let cr = try CircuitRuns(runs)
        var graph = try CircuitGraph(m.config)
        try cr.attribute(&graph, method: .eap)
        let W = cr.writers, R = cr.readers, eps: Float = 1e-2, tokens = Array(pairs.clean.joined()), batch = cr.batches[0]
        var largest = 0.0
        for e in graph.edges {
            func metricMean(_ scale: Float) throws -> Double {
                var rep = batch.cleanPass.outputs
                for j in 0..<rep.count { rep[j] += scale * (batch.replacement[j] - batch.cleanPass.outputs[j]) }
                var cut = [Bool](repeating: false, count: W * R)
                cut[e.source * R + e.input] = true
                let pass = try m.componentForward(tokens: tokens, batch: N, length: T, edges: EdgeCut(cut: cut, replacement: rep))
                return runs.metrics(logits: pass.logits, firstRow: 0).reduce(0, +) / Double(N)
            }
            let fd = (try metricMean(eps) - metricMean(-eps)) / Double(2 * eps)
            XCTAssertEqual(Double(e.score), fd, accuracy: 2e-3 + 2e-2 * abs(fd), e.name)
            largest = max(largest, abs(fd))
        }
        XCTAssertGreaterThan(largest, 0.05, "the check needs edges that matter")
    }

    /// EAP's scores are the same bits on one thread and on three (each chunk of rows has its own product,
    /// added in row order), as every other result of a given seed is.
    func testEAPScoresDoNotDependOnTheThreadCount() throws {
        let before = Engine.threads
        defer { Engine.setThreads(before) }
        let m = randomCircuitModel(), pairs = randomCircuitPairs(m, count: 31, length: 7)
        var scores: [[Float]] = []
        for threads in [1, 3] {
            Engine.setThreads(threads)
            let cr = try CircuitRuns(try PatchRuns(model: m, pairs: pairs, metric: .logitDiff))
            var g = try CircuitGraph(m.config)
            try cr.attribute(&g, method: .eapIG(steps: 3))
            scores.append(g.edges.map(\.score))
        }
        XCTAssertEqual(scores[0], scores[1])
        XCTAssertGreaterThan(scores[0].map(abs).max()!, 1e-3)
    }

    /// Reader gradients handed over in chunks: every row once, in row order within a shard, and the same
    /// numbers for every chunk size and shard count (each row's gradient depends on that row alone).
    func testReaderGradientsAreTheSameInAnyChunksAndShards() throws {
        let m = randomCircuitModel(), pairs = randomCircuitPairs(m, count: 9, length: 7)
        let runs = try PatchRuns(model: m, pairs: pairs, metric: .logprob)
        let state = runs.forwardState(.clean), dlogits = runs.metricGradient(logits: state.logitsTensor.data)
        let D = m.config.d_model, BT = pairs.count * pairs.length, n = BT * D, R = ResidualGraph.readers(m.config)
        let whole = try m.readerGradients(state, dlogits: dlogits)
        XCTAssertGreaterThan(whole.map(abs).max()!, 1e-3)
        for (chunk, shards) in [(1, 1), (5, 2), (64, 1), (10, 3), (1000, 2)] {
            // the shards run at once: each writes only its own counters and its own rows, through pointers
            let seen = UnsafeMutablePointer<Int>.allocate(capacity: shards * BT), order = UnsafeMutablePointer<Int>.allocate(capacity: shards * 2)
            let got = UnsafeMutablePointer<Float>.allocate(capacity: R * n)
            defer { seen.deallocate(); order.deallocate(); got.deallocate() }
            seen.initialize(repeating: 0, count: shards * BT); got.initialize(repeating: .nan, count: R * n)
            for s in 0..<shards { order[2 * s] = -1; order[2 * s + 1] = 0 }   // last first row, chunks out of order
            try m.readerGradients(state, dlogits: dlogits, rowsPerChunk: chunk, shards: shards) { s, row0, rows, g in
                if row0 <= order[2 * s] { order[2 * s + 1] += 1 }
                order[2 * s] = row0
                for i in row0..<(row0 + rows) { seen[s * BT + i] += 1 }
                for r in 0..<R { for j in 0..<(rows * D) { got[r * n + row0 * D + j] = g[r * rows * D + j] } }
            }
            XCTAssertEqual((0..<shards).map { order[2 * $0 + 1] }, [Int](repeating: 0, count: shards), "chunk \(chunk), shards \(shards)")
            let counts = (0..<BT).map { i in (0..<shards).reduce(0) { $0 + seen[$1 * BT + i] } }
            XCTAssertEqual(counts, [Int](repeating: 1, count: BT), "chunk \(chunk), shards \(shards)")
            for i in 0..<(R * n) { XCTAssertEqual(got[i], whole[i], accuracy: 1e-5 + 1e-4 * abs(whole[i]), "chunk \(chunk), shards \(shards), \(i)") }
        }
    }

    func testEAPIGWithOneStepIsEAP() throws {
        let m = randomCircuitModel(), pairs = randomCircuitPairs(m)
        let cr = try CircuitRuns(try PatchRuns(model: m, pairs: pairs, metric: .logitDiff))
        var eap = try CircuitGraph(m.config), ig = eap
        try cr.attribute(&eap, method: .eap)
        try cr.attribute(&ig, method: .eapIG(steps: 1))
        for (a, b) in zip(eap.edges, ig.edges) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5 + 1e-4 * abs(a.score), a.name) }
        var ig5 = eap
        try cr.attribute(&ig5, method: .eapIG(steps: 5))
        XCTAssertNotEqual(ig5.edges.map(\.score), eap.edges.map(\.score), "five steps interpolate, so they differ on a nonlinear model")
    }

    /// EAP-IG written out: at alpha = k / 5 for k = 1 ... 5 (the last one interpolated too, not taken from
    /// EAP as the library does), every reader's input gradient from a pass started at the interpolated
    /// input embedding, dotted with each writer's (replacement - clean) output, averaged over steps and pairs.
    func testEAPIGIsTheMeanOfGradientsAlongTheInterpolation() throws {
        let m = randomCircuitModel(), c = m.config, pairs = randomCircuitPairs(m), N = pairs.count, T = pairs.length
        let runs = try PatchRuns(model: m, pairs: pairs, metric: .logitDiff)
        let cr = try CircuitRuns(runs)
        var ig = try CircuitGraph(c)
        try cr.attribute(&ig, method: .eapIG(steps: 5))
        let b = cr.batches[0], n = N * T * c.d_model, R = cr.readers
        var sums = [Double](repeating: 0, count: cr.writers * R)
        for k in 1...5 {
            let alpha = Float(k) / 5
            let x = (0..<n).map { b.replacement[$0] + alpha * (b.cleanPass.outputs[$0] - b.replacement[$0]) }
            let out = try m.forward(startingAt: Hook.residPre.name(layer: 0), with: Tensor(shape: [N, T, c.d_model], data: x),
                                    base: runs.forwardState(.clean))
            let g = try m.readerGradients(out.state, dlogits: runs.metricGradient(logits: out.logits.data))
            for w in 0..<cr.writers { for r in 0..<R {
                var dot = 0.0
                for j in 0..<n { dot += Double(b.replacement[w * n + j] - b.cleanPass.outputs[w * n + j]) * Double(g[r * n + j]) }
                sums[w * R + r] += dot / Double(5 * N)
            } }
        }
        for e in ig.edges {
            let expected = sums[e.source * R + e.input]
            XCTAssertEqual(Double(e.score), expected, accuracy: 1e-4 + 1e-3 * abs(expected), e.name)
        }
    }

    /// No LayerNorm, attention that reads no input (W_Q = W_K = 0, so every pattern is uniform), MLPs that
    /// read nothing (W_in = 0, a constant output): the metric is linear in every writer, so EAP is exact.
    func testEAPEqualsExactPatchingOnAModelLinearAlongEveryPath() throws {
        var m = randomCircuitModel(normalization: nil)
        for e in m.params.layout.entries where e.name.hasSuffix("W_Q") || e.name.hasSuffix("W_K") || e.name.hasSuffix("mlp.W_in") {
            for i in 0..<e.count { m.params.data[e.offset + i] = 0 }
        }
        let cr = try CircuitRuns(try PatchRuns(model: m, pairs: randomCircuitPairs(m), metric: .logitDiff))
        var exact = try CircuitGraph(m.config), eap = exact
        try cr.attribute(&exact, method: .exact)
        try cr.attribute(&eap, method: .eap)
        var nonzero = 0
        for (a, b) in zip(exact.edges, eap.edges) {
            XCTAssertEqual(a.score, b.score, accuracy: 1e-4 + 1e-4 * abs(a.score), a.name)
            if abs(a.score) > 1e-2 { nonzero += 1 }
        }
        XCTAssertGreaterThan(nonzero, 20)
    }

    func testFaithfulnessOfTheWholeAndTheEmptyGraph() throws {
        let m = randomCircuitModel(), cr = try CircuitRuns(try PatchRuns(model: m, pairs: randomCircuitPairs(m)))
        var g = try CircuitGraph(m.config)
        for i in g.edges.indices { g[edge: i].inGraph = true }
        // up to Float rounding: the evaluation sums the same outputs in another order than the clean pass
        XCTAssertEqual(try cr.faithfulness(g).value, 1, accuracy: 1e-6)
        for i in g.edges.indices { g[edge: i].inGraph = false }
        XCTAssertEqual(try cr.faithfulness(g).value, 0, accuracy: 1e-9)
    }

    /// The search reuses a curve's evaluations: the same circuit as searching afresh, and it reaches the target.
    func testTheSmallestCircuitIsTheSameWithTheCurvesEvaluations() throws {
        let m = randomCircuitModel(), cr = try CircuitRuns(try PatchRuns(model: m, pairs: randomCircuitPairs(m)))
        var g = try CircuitGraph(m.config)
        try cr.attribute(&g, method: .eapIG(steps: 3))
        let curve = try cr.curve(g, method: "eap-ig")
        let fresh = try cr.smallestCircuit(g, target: 0.8), reused = try cr.smallestCircuit(g, target: 0.8, curve: curve)
        XCTAssertEqual(fresh, reused)
        let found = try XCTUnwrap(fresh)
        XCTAssertGreaterThanOrEqual(try cr.faithfulness(found).value, 0.8)
        XCTAssertLessThan(found.includedEdgeCount, g.edgeCount)
    }

    func testBadArgumentsAreOneLineErrors() throws {
        let m = randomCircuitModel(), cr = try CircuitRuns(try PatchRuns(model: m, pairs: randomCircuitPairs(m)))
        var g = try CircuitGraph(m.config)
        for method in [ScoringMethod.acdc(tau: -1), .acdc(tau: .nan), .acdc(tau: 2), .eapIG(steps: 0)] {
            XCTAssertThrowsError(try cr.attribute(&g, method: method)) { error in
                let text = "\(error)"
                XCTAssertFalse(text.contains("\n")); XCTAssertTrue(text.contains("tau") || text.contains("steps"), text)
            }
        }
        var other = try CircuitGraph(nLayers: 3, nHeads: 3, dModel: 12)
        XCTAssertThrowsError(try cr.attribute(&other, method: .eap)) { XCTAssertTrue("\($0)".contains("3 layers"), "\($0)") }
        XCTAssertThrowsError(try cr.completeness(g)) { XCTAssertTrue("\($0)".contains("empty circuit"), "\($0)") }
    }
}
