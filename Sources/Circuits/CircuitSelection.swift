// Circuit selection on a scored graph, with the edge-level semantics of EAP-IG's `Graph.apply_topn`,
// `apply_threshold`, `apply_greedy` and `prune` (hannamw/EAP-IG 795f560, src/eap/graph.py). Every
// selection starts from an empty graph (EAP-IG's `reset=True`, its default), leaves node scores alone, and
// prunes afterwards unless told not to (EAP-IG's `prune=True`, its default). `logits` is always in.
//
// Where EAP-IG leaves ties to `torch.argsort` (not stable) or to the iteration order of a Python set, ties
// here go to the edge earlier in graph order (the order of EAP-IG's JSON), so a selection is a function of
// the scores. A NaN score cannot be ranked and is refused; infinite scores rank as numbers.
extension CircuitGraph {
    /// The edges with the n largest |score| (score, if `absolute` is false) in the graph, all others out;
    /// ties to the earlier edge. Then a node other than `logits` is in the graph iff it has an in-graph
    /// outgoing edge and (unless it is `input`) an in-graph incoming edge, as in EAP-IG's `apply_topn`.
    /// Then `prune()`, if `prune`, which may take edges out again (so fewer than n may remain).
    public mutating func applyTopN(_ n: Int, absolute: Bool = true, prune: Bool = true) throws(CircuitGraphError) {
        try checkCount(n)
        let keys = try rankingKeys(absolute: absolute)
        let order = edges.indices.sorted { keys[$0] > keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        var chosen = Array(repeating: false, count: edges.count)
        for i in order.prefix(n) { chosen[i] = true }
        setEdgesAndNodes(chosen)
        if prune { self.prune() }
    }

    /// The edges with |score| (score, if `absolute` is false) >= t in the graph, all others out; nodes as
    /// in `applyTopN`; then `prune()`, if `prune`. As EAP-IG's `apply_threshold`.
    public mutating func applyThreshold(_ t: Float, absolute: Bool = true, prune: Bool = true) throws(CircuitGraphError) {
        guard t.isFinite else { throw .invalidSelection("threshold must be a finite number, got \(t)") }
        let keys = try rankingKeys(absolute: absolute)
        setEdgesAndNodes(keys.map { $0 >= t })
        if prune { self.prune() }
    }

    /// EAP-IG's `apply_greedy`: the circuit grows backwards from `logits`. The candidates are the edges into
    /// a node already in the graph (at first only `logits`); n times, the best candidate (largest |score|,
    /// or score if `absolute` is false; ties to the earlier edge) goes in, and if its source was not yet in
    /// the graph, the source goes in and its incoming edges become candidates. So before pruning every
    /// in-graph edge has a path of in-graph edges to `logits`, and a node other than `logits` is in iff it
    /// is the source of an in-graph edge. Then `prune()`, if `prune`.
    public mutating func applyGreedy(_ n: Int, absolute: Bool = true, prune: Bool = true) throws(CircuitGraphError) {
        try checkCount(n)
        let keys = try rankingKeys(absolute: absolute)
        var candidates = EdgeHeap(keys: keys)
        var chosen = Array(repeating: false, count: edges.count)
        var nodeIn = Array(repeating: false, count: nodes.count)
        let logits = nodes.count - 1
        nodeIn[logits] = true
        for e in nodes[logits].incoming { candidates.push(e) }
        for _ in 0..<n {
            // Every edge becomes a candidate before the candidates run out (each node feeds `logits`), and n is
            // at most the number of edges, so there is always one.
            let e = candidates.pop()!
            chosen[e] = true
            let source = edges[e].source
            if !nodeIn[source] {
                nodeIn[source] = true
                for f in nodes[source].incoming { candidates.push(f) }
            }
        }
        for i in edges.indices { self[edge: i].inGraph = chosen[i] }
        for v in nodes.indices { self[node: v].inGraph = nodeIn[v] }
        if prune { self.prune() }
    }

    /// Takes out what is not connected: afterwards an edge is in the graph iff it was in and lies on a path
    /// of in-graph edges input -> ... -> logits, and a node other than `logits` is in iff it touches an
    /// in-graph edge. This is the fixed point EAP-IG's `prune` reaches by repeatedly taking out nodes without
    /// an in-graph outgoing edge or (but for `input`) an in-graph incoming edge, then edges with an end out:
    /// an edge on such a path is never taken out, and at the fixed point every in-graph edge extends, edge by
    /// edge, back to `input` and forward to `logits` (the graph is acyclic). Node state before the call is
    /// ignored, as in EAP-IG.
    public mutating func prune() {
        // Node indices are a topological order: every edge runs from a lower index to a higher one.
        var fromInput = Array(repeating: false, count: nodes.count)
        fromInput[0] = true
        for v in nodes.indices.dropFirst() {
            fromInput[v] = nodes[v].incoming.contains { edges[$0].inGraph && fromInput[edges[$0].source] }
        }
        var toLogits = Array(repeating: false, count: nodes.count)
        toLogits[nodes.count - 1] = true
        for v in nodes.indices.dropLast().reversed() {
            toLogits[v] = nodes[v].outgoing.contains { edges[$0].inGraph && toLogits[edges[$0].target] }
        }
        var touched = Array(repeating: false, count: nodes.count)
        touched[nodes.count - 1] = true
        for i in edges.indices {
            let e = edges[i]
            let keep = e.inGraph && fromInput[e.source] && toLogits[e.target]
            if keep { touched[e.source] = true; touched[e.target] = true }
            if e.inGraph != keep { self[edge: i].inGraph = keep }
        }
        for v in nodes.indices where nodes[v].inGraph != touched[v] { self[node: v].inGraph = touched[v] }
    }

    /// The number of edges in the graph (EAP-IG's `count_included_edges`).
    public var includedEdgeCount: Int { edges.reduce(0) { $0 + ($1.inGraph ? 1 : 0) } }
    /// The number of nodes in the graph, `logits` included.
    public var includedNodeCount: Int { nodes.reduce(0) { $0 + ($1.inGraph ? 1 : 0) } }

    private func checkCount(_ n: Int) throws(CircuitGraphError) {
        guard n >= 0 else { throw .invalidSelection("the number of edges must be >= 0, got \(n)") }
        guard n <= edges.count else {
            throw .invalidSelection("the number of edges \(n) is more than the graph's \(edges.count)")
        }
    }

    private func rankingKeys(absolute: Bool) throws(CircuitGraphError) -> [Float] {
        var keys: [Float] = []
        keys.reserveCapacity(edges.count)
        for e in edges {
            guard !e.score.isNaN else { throw .invalidSelection("edge \(e.name) has score nan, which cannot be ranked") }
            keys.append(absolute ? abs(e.score) : e.score)
        }
        return keys
    }

    /// Edges as given; a node other than `logits` in iff it has an in-graph outgoing edge and, unless it is
    /// `input`, an in-graph incoming edge (the node rule of EAP-IG's `apply_topn` and `apply_threshold`).
    private mutating func setEdgesAndNodes(_ chosen: [Bool]) {
        var hasOut = Array(repeating: false, count: nodes.count)
        var hasIn = hasOut
        hasIn[0] = true
        for i in edges.indices {
            self[edge: i].inGraph = chosen[i]
            if chosen[i] { hasOut[edges[i].source] = true; hasIn[edges[i].target] = true }
        }
        let logits = nodes.count - 1
        for v in nodes.indices { self[node: v].inGraph = v == logits || (hasOut[v] && hasIn[v]) }
    }
}

/// A max-heap of edge indices: the larger key first, and of equal keys the lower index.
private struct EdgeHeap {
    let keys: [Float]
    private var items: [Int] = []

    init(keys: [Float]) { self.keys = keys }

    private func before(_ a: Int, _ b: Int) -> Bool { keys[a] > keys[b] || (keys[a] == keys[b] && a < b) }

    mutating func push(_ e: Int) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard before(items[i], items[parent]) else { break }
            items.swapAt(i, parent); i = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return top }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count && before(items[l], items[best]) { best = l }
            if r < items.count && before(items[r], items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best); i = best
        }
        return top
    }
}
