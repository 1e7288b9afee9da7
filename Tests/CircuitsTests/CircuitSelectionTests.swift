import Testing
@testable import Circuits

// Edge order of the 1-layer, 2-head graph (13 edges), which the answers below are worked out on by hand:
//   0-2 input->a0.h0<q,k,v>, 3-5 input->a0.h1<q,k,v>, 6 input->m0, 7 a0.h0->m0, 8 a0.h1->m0,
//   9 input->logits, 10 a0.h0->logits, 11 a0.h1->logits, 12 m0->logits.
private func oneLayer() throws -> CircuitGraph {
    var g = try CircuitGraph(nLayers: 1, nHeads: 2, dModel: 4)
    let scores: [String: Float] = [
        "input->a0.h0<q>": 0.9, "input->a0.h1<v>": -0.8, "a0.h1->m0": 0.7, "m0->logits": -0.6,
        "input->logits": 0.5, "a0.h0->logits": 0.5,  // a tie: input->logits is the earlier edge
    ]
    #expect(g.edgeCount == 13)
    for (name, s) in scores { g[edge: try #require(g.edgeIndex(named: name))].score = s }
    return g
}

private func inEdges(_ g: CircuitGraph) -> Set<String> { Set(g.edges.filter(\.inGraph).map(\.name)) }
private func inNodes(_ g: CircuitGraph) -> Set<String> { Set(g.nodes.filter(\.inGraph).map(\.name)) }

/// SplitMix64, so the random graphs are the same on every run.
private struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func randomlyScored(nLayers: Int, nHeads: Int, seed: UInt64, inGraph fraction: Double = 0.5) throws -> CircuitGraph {
    var g = try CircuitGraph(nLayers: nLayers, nHeads: nHeads, dModel: 4)
    var rng = Seeded(state: seed)
    for i in g.edges.indices {
        // Coarse scores, so there are ties.
        g[edge: i].score = Float(Int.random(in: -8...8, using: &rng)) / 8
        g[edge: i].inGraph = Double.random(in: 0..<1, using: &rng) < fraction
    }
    for v in g.nodes.indices.dropLast() { g[node: v].inGraph = Bool.random(using: &rng) }
    return g
}

/// Nodes reachable from `start` over in-graph edges, by a breadth-first search that follows edges forward
/// (or backward) by scanning the edge list: it uses neither node order nor the graph's adjacency lists.
private func reach(_ g: CircuitGraph, from start: Int, forward: Bool) -> Set<Int> {
    var seen: Set<Int> = [start], queue = [start]
    while let v = queue.popLast() {
        for e in g.edges where e.inGraph && (forward ? e.source : e.target) == v {
            let w = forward ? e.target : e.source
            if seen.insert(w).inserted { queue.append(w) }
        }
    }
    return seen
}

/// EAP-IG's `prune` loop transcribed: nodes in iff an in-graph outgoing edge and (but for input) an in-graph
/// incoming one; edges in iff both ends in (logits always); until nothing changes.
private func eapigPrune(_ g: CircuitGraph) -> (edges: [Bool], nodes: [Bool]) {
    var edges = g.edges.map(\.inGraph), nodes = Array(repeating: false, count: g.nodeCount)
    let logits = g.nodeCount - 1
    while true {
        var out = Array(repeating: false, count: g.nodeCount), inc = out
        inc[0] = true
        for (i, e) in g.edges.enumerated() where edges[i] { out[e.source] = true; inc[e.target] = true }
        let newNodes = nodes.indices.map { out[$0] && inc[$0] }
        let newEdges = g.edges.indices.map { edges[$0] && newNodes[g.edges[$0].source] && (g.edges[$0].target == logits || newNodes[g.edges[$0].target]) }
        if newNodes == nodes && newEdges == edges { break }
        nodes = newNodes; edges = newEdges
    }
    nodes[logits] = true
    return (edges, nodes)
}

@Suite struct CircuitSelectionTests {
    @Test func topNPicksTheLargestAbsoluteScoresAndSetsNodesAsEAPIG() throws {
        var g = try oneLayer()
        try g.applyTopN(3, prune: false)
        #expect(inEdges(g) == ["input->a0.h0<q>", "input->a0.h1<v>", "a0.h1->m0"])
        // a0.h0 has an edge in but none out, m0 one in but none out: both out (EAP-IG needs both).
        #expect(inNodes(g) == ["input", "a0.h1", "logits"])

        try g.applyTopN(5, prune: false)  // the tie at 0.5 goes to the earlier edge, input->logits
        #expect(inEdges(g) == ["input->a0.h0<q>", "input->a0.h1<v>", "a0.h1->m0", "m0->logits", "input->logits"])
        #expect(inNodes(g) == ["input", "a0.h1", "m0", "logits"])

        try g.applyTopN(5)  // pruned: input->a0.h0<q> leads nowhere
        #expect(inEdges(g) == ["input->a0.h1<v>", "a0.h1->m0", "m0->logits", "input->logits"])
        #expect(inNodes(g) == ["input", "a0.h1", "m0", "logits"])

        try g.applyTopN(6)  // both tied edges; now a0.h0 feeds the logits and its q edge stays
        #expect(inEdges(g) == ["input->a0.h0<q>", "input->a0.h1<v>", "a0.h1->m0", "m0->logits", "input->logits", "a0.h0->logits"])
        #expect(inNodes(g) == ["input", "a0.h0", "a0.h1", "m0", "logits"])

        try g.applyTopN(0)
        #expect(inEdges(g).isEmpty && inNodes(g) == ["logits"])
        try g.applyTopN(13, prune: false)
        #expect(g.includedEdgeCount == 13 && g.includedNodeCount == 5)
    }

    @Test func topNWithoutAbsoluteRanksSignedScores() throws {
        var g = try oneLayer()
        try g.applyTopN(2, absolute: false, prune: false)
        #expect(inEdges(g) == ["input->a0.h0<q>", "a0.h1->m0"])
        #expect(inNodes(g) == ["input", "logits"])  // a0.h1 has an edge out but none in
        try g.applyTopN(2, absolute: false)
        #expect(inEdges(g).isEmpty && inNodes(g) == ["logits"])
        try g.applyTopN(4, absolute: false)  // 0.9, 0.7, 0.5, 0.5
        #expect(inEdges(g) == ["input->a0.h0<q>", "input->logits", "a0.h0->logits"])
    }

    @Test func thresholdKeepsScoresAtOrAboveIt() throws {
        var g = try oneLayer()
        try g.applyThreshold(0.6, prune: false)  // |-0.6| >= 0.6
        #expect(inEdges(g) == ["input->a0.h0<q>", "input->a0.h1<v>", "a0.h1->m0", "m0->logits"])
        #expect(inNodes(g) == ["input", "a0.h1", "m0", "logits"])
        try g.applyThreshold(0.6)
        #expect(inEdges(g) == ["input->a0.h1<v>", "a0.h1->m0", "m0->logits"])
        try g.applyThreshold(0.5, absolute: false, prune: false)
        #expect(inEdges(g) == ["input->a0.h0<q>", "a0.h1->m0", "input->logits", "a0.h0->logits"])
        try g.applyThreshold(0.95)
        #expect(inEdges(g).isEmpty && inNodes(g) == ["logits"])
        try g.applyThreshold(-1, absolute: false, prune: false)
        #expect(g.includedEdgeCount == 13)
    }

    @Test func greedyGrowsBackwardsFromTheLogits() throws {
        var g = try oneLayer()
        // m0->logits (0.6) is the best edge into logits; then a0.h1->m0 (0.7) joins the candidates and wins,
        // then input->a0.h1<v> (0.8); then the tie at 0.5 goes to input->logits. input->a0.h0<q> (0.9), the
        // best edge of all, is no candidate while a0.h0 is out of the graph.
        try g.applyGreedy(4, prune: false)
        #expect(inEdges(g) == ["m0->logits", "a0.h1->m0", "input->a0.h1<v>", "input->logits"])
        #expect(inNodes(g) == ["input", "a0.h1", "m0", "logits"])
        try g.applyGreedy(5, prune: false)  // a0.h0->logits: a0.h0 joins, its q edge becomes a candidate
        #expect(inEdges(g) == ["m0->logits", "a0.h1->m0", "input->a0.h1<v>", "input->logits", "a0.h0->logits"])
        try g.applyGreedy(5)  // nothing feeds a0.h0 yet
        #expect(inEdges(g) == ["m0->logits", "a0.h1->m0", "input->a0.h1<v>", "input->logits"])
        try g.applyGreedy(6)  // input->a0.h0<q> (0.9) is the sixth
        #expect(inEdges(g) == ["m0->logits", "a0.h1->m0", "input->a0.h1<v>", "input->logits", "a0.h0->logits", "input->a0.h0<q>"])
        #expect(inNodes(g) == ["input", "a0.h0", "a0.h1", "m0", "logits"])

        // Before pruning a node is in iff it is the source of an in-graph edge; a0.h1 has no way in, so
        // pruning takes both edges out.
        try g.applyGreedy(2, prune: false)
        #expect(inEdges(g) == ["m0->logits", "a0.h1->m0"] && inNodes(g) == ["a0.h1", "m0", "logits"])
        try g.applyGreedy(2)
        #expect(inEdges(g).isEmpty && inNodes(g) == ["logits"])

        try g.applyGreedy(3, absolute: false, prune: false)  // 0.5, 0.5 into logits, then a0.h0's q (0.9)
        #expect(inEdges(g) == ["input->logits", "a0.h0->logits", "input->a0.h0<q>"])
    }

    @Test(arguments: [(2, 2, 1 as UInt64), (3, 2, 2), (2, 3, 3)])
    func greedyEdgesAlwaysReachTheLogitsAndGrowOneByOne(_ nLayers: Int, _ nHeads: Int, _ seed: UInt64) throws {
        var g = try randomlyScored(nLayers: nLayers, nHeads: nHeads, seed: seed)
        var previous: Set<String> = []
        for n in 0...g.edgeCount {
            try g.applyGreedy(n, prune: false)
            #expect(g.includedEdgeCount == n)
            let toLogits = reach(g, from: g.nodeCount - 1, forward: false)
            for e in g.edges where e.inGraph { #expect(toLogits.contains(e.target), "n \(n): \(e.name)") }
            let now = inEdges(g)
            #expect(previous.isSubset(of: now) && now.count == previous.count + (n == 0 ? 0 : 1))
            previous = now
        }
    }

    @Test func pruneRemovesDanglingEdgesAndKeepsAPathFromInputToLogits() throws {
        var g = try CircuitGraph(nLayers: 2, nHeads: 2, dModel: 4)
        let path = ["input->a0.h0<v>", "a0.h0->a1.h1<q>", "a1.h1->logits"]
        let dangling = [
            "input->a1.h0<k>",              // into a head whose output goes nowhere
            "a0.h1->m1", "m1->logits",      // from a head nothing feeds, then from m1 that only it fed
            "input->m0", "m0->a1.h0<v>",    // into m0, then into a1.h0, which goes nowhere
        ]
        for name in path + dangling { g[edge: try #require(g.edgeIndex(named: name))].inGraph = true }
        for name in ["a0.h1", "m0", "m1", "a1.h0"] { g[node: try #require(g.nodeIndex(named: name))].inGraph = true }
        g.prune()
        #expect(inEdges(g) == Set(path))
        #expect(inNodes(g) == ["input", "a0.h0", "a1.h1", "logits"])
    }

    @Test(arguments: Array(UInt64(1)...12))
    func afterPruneEveryEdgeIsOnAPathFromInputToLogitsAndNoSuchEdgeIsLost(_ seed: UInt64) throws {
        let shapes = [(2, 2), (3, 2), (2, 3), (4, 1)]
        let (nLayers, nHeads) = shapes[Int(seed) % shapes.count]
        let before = try randomlyScored(nLayers: nLayers, nHeads: nHeads, seed: seed, inGraph: [0.1, 0.3, 0.6][Int(seed) % 3])
        var g = before
        g.prune()
        let logits = g.nodeCount - 1
        // Independent search on the graph before pruning: an edge is on a path input -> ... -> logits iff its
        // source is reachable from input and its target reaches logits.
        let fromInput = reach(before, from: 0, forward: true), toLogits = reach(before, from: logits, forward: false)
        for (i, e) in before.edges.enumerated() {
            let onPath = e.inGraph && fromInput.contains(e.source) && toLogits.contains(e.target)
            #expect(g.edges[i].inGraph == onPath, "\(e.name)")
        }
        // And on the pruned graph itself.
        let fromInputAfter = reach(g, from: 0, forward: true), toLogitsAfter = reach(g, from: logits, forward: false)
        for e in g.edges where e.inGraph { #expect(fromInputAfter.contains(e.source) && toLogitsAfter.contains(e.target)) }
        // Nodes: in iff touching an in-graph edge; logits always.
        for (v, node) in g.nodes.enumerated() {
            let touches = g.edges.contains { $0.inGraph && ($0.source == v || $0.target == v) }
            #expect(node.inGraph == (touches || v == logits), "\(node.name)")
        }
        // The same as EAP-IG's own loop.
        let eapig = eapigPrune(before)
        #expect(g.edges.map(\.inGraph) == eapig.edges && g.nodes.map(\.inGraph) == eapig.nodes)
        var again = g
        again.prune()
        #expect(again == g)
        #expect(g.edges.map(\.score) == before.edges.map(\.score) && g.nodes.map(\.score) == before.nodes.map(\.score))
    }

    @Test func selectionsAreDeterministicAndIgnoreThePreviousState() throws {
        // All scores equal: top-n is the first n edges in graph order.
        var flat = try CircuitGraph(nLayers: 2, nHeads: 2, dModel: 4)
        try flat.applyTopN(7, prune: false)
        #expect(flat.edges.map(\.inGraph) == (0..<flat.edgeCount).map { $0 < 7 })

        let fresh = try randomlyScored(nLayers: 3, nHeads: 2, seed: 7, inGraph: 0)
        let messy = try randomlyScored(nLayers: 3, nHeads: 2, seed: 7, inGraph: 0.7)
        #expect(fresh.edges.map(\.score) == messy.edges.map(\.score))
        for n in [0, 5, 20, fresh.edgeCount] {
            for absolute in [true, false] {
                for prune in [true, false] {
                    var a = fresh, b = messy, c = fresh
                    try a.applyTopN(n, absolute: absolute, prune: prune)
                    try b.applyTopN(n, absolute: absolute, prune: prune)
                    try c.applyTopN(n, absolute: absolute, prune: prune)
                    #expect(a == b && a == c)
                    try a.applyGreedy(n, absolute: absolute, prune: prune)
                    try b.applyGreedy(n, absolute: absolute, prune: prune)
                    #expect(a == b)
                    try a.applyThreshold(Float(n) / 40, absolute: absolute, prune: prune)
                    try b.applyThreshold(Float(n) / 40, absolute: absolute, prune: prune)
                    #expect(a == b)
                }
            }
        }
    }

    @Test func badInputsAreOneLineErrorsAndLeaveTheGraphAlone() throws {
        var g = try oneLayer()
        try g.applyTopN(4)
        let kept = g
        #expect(throws: CircuitGraphError.invalidSelection("the number of edges must be >= 0, got -1")) { try g.applyTopN(-1) }
        #expect(throws: CircuitGraphError.invalidSelection("the number of edges must be >= 0, got -1")) { try g.applyGreedy(-1) }
        #expect(throws: CircuitGraphError.invalidSelection("the number of edges 14 is more than the graph's 13")) { try g.applyTopN(14) }
        #expect(throws: CircuitGraphError.invalidSelection("the number of edges 14 is more than the graph's 13")) { try g.applyGreedy(14) }
        #expect(throws: CircuitGraphError.invalidSelection("threshold must be a finite number, got nan")) { try g.applyThreshold(.nan) }
        #expect(throws: CircuitGraphError.invalidSelection("threshold must be a finite number, got inf")) { try g.applyThreshold(.infinity) }
        #expect(throws: CircuitGraphError.invalidSelection("threshold must be a finite number, got -inf")) { try g.applyThreshold(-.infinity, absolute: false) }
        #expect(g == kept)

        g[edge: 5].score = .nan
        let nan = CircuitGraphError.invalidSelection("edge input->a0.h1<v> has score nan, which cannot be ranked")
        #expect(throws: nan) { try g.applyTopN(1) }
        #expect(throws: nan) { try g.applyGreedy(1) }
        #expect(throws: nan) { try g.applyThreshold(0.5) }
        #expect(nan.description == "invalid circuit selection: edge input->a0.h1<v> has score nan, which cannot be ranked")
        #expect(!nan.description.contains("\n"))

        g[edge: 5].score = -.infinity  // infinite scores rank
        try g.applyTopN(1, prune: false)
        #expect(inEdges(g) == ["input->a0.h1<v>"])
        try g.applyTopN(1, absolute: false, prune: false)
        #expect(inEdges(g) == ["input->a0.h0<q>"])
    }
}

/// The circuit search's `select(_:by:)` is the selection it names: on the hand-worked graph, top-3 picks the
/// three largest |scores| (input->a0.h0<q>, input->a0.h1<v>, a0.h1->m0), which prune to nothing (no path to
/// the logits), while greedy grows from the logits (m0->logits, a0.h1->m0, input->a0.h1<v>): a connected path.
@Test func theSearchsSelectionIsTheOneItNames() throws {
    var topn = try oneLayer(), greedy = try oneLayer()
    try topn.select(3, by: "topn")
    try greedy.select(3, by: "greedy")
    var expectedTopN = try oneLayer(), expectedGreedy = try oneLayer()
    try expectedTopN.applyTopN(3)
    try expectedGreedy.applyGreedy(3)
    #expect(inEdges(topn) == inEdges(expectedTopN) && inEdges(greedy) == inEdges(expectedGreedy))
    #expect(inEdges(greedy) == ["m0->logits", "a0.h1->m0", "input->a0.h1<v>"], "\(inEdges(greedy))")
    #expect(inEdges(topn).isEmpty, "\(inEdges(topn))")
    #expect(throws: CircuitError.self) { try topn.select(2, by: "threshold") }
}
