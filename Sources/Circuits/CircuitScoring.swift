import Patching
import Tensors
import Transformer

/// How edges are scored, EAP-IG's `attribute(method=...)`. Every score is, or estimates, the change in the
/// mean metric when that edge alone is cut: m(cut) - m(clean), EAP-IG's sign.
///   exact   cut each edge alone and measure (ground truth; one forward pass per edge)
///   eap     (a_w,replacement - a_w,clean) . dM/d input_r, from one backward pass (Syed et al. 2023)
///   eapIG   the same with dM/d input_r averaged over `steps` inputs interpolated between the replacement's
///           and the clean input embedding, at alpha = k / steps for k = 1 ... steps (Hanna et al. 2024's
///           Riemann sum, so steps = 1 is EAP; EAP-IG's code at 795f560 takes k = 0 ... steps - 1)
///   acdc    Conmy et al. 2023: readers in reverse topological order, each incoming edge cut for good when
///           that changes the metric by less than `tau` (KL: the increase in nats; other metrics: the
///           change as a share of |m(clean) - m(ablated)|); an edge's score is that change, and the graph
///           comes back with ACDC's circuit in it (then pruned)
public enum ScoringMethod: Sendable, Equatable {
    case exact
    case eap
    case eapIG(steps: Int)
    case acdc(tau: Double)

    public var name: String {
        switch self {
        case .exact: "exact"
        case .eap: "eap"
        case .eapIG: "eap-ig"
        case .acdc: "acdc"
        }
    }
}

extension CircuitRuns {
    /// Scores every edge of `graph` by `method` (and, for ACDC, sets the circuit). `progress` is called
    /// with (done, total) forward passes where a method makes many.
    public func attribute(_ graph: inout CircuitGraph, method: ScoringMethod,
                          progress: ((Int, Int) -> Void)? = nil) throws(CircuitError) {
        try check(graph)
        let scores: [Float]
        switch method {
        case .exact: scores = try exactScores(graph, progress: progress)
        case .eap: scores = try gradientScores(graph, steps: nil)
        case .eapIG(let steps):
            guard steps >= 1 && steps <= 1000 else { throw .badArgument("EAP-IG steps must be in 1...1000, got \(steps)") }
            scores = try gradientScores(graph, steps: steps)
        case .acdc(let tau):
            guard tau.isFinite, tau >= 0, metric == .kl || tau <= 1 else {
                throw .badArgument("ACDC tau must be a finite number in [0, \(metric == .kl ? "inf" : "1")], got \(tau)")
            }
            try acdc(&graph, tau: tau, progress: progress)
            return
        }
        for i in graph.edges.indices { graph[edge: i].score = scores[i] }
    }

    private func meanDifference(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] - b[i] }
        return s / Double(a.count)
    }

    /// Each edge cut alone, from its reader's layer on.
    func exactScores(_ graph: CircuitGraph, progress: ((Int, Int) -> Void)?) throws(CircuitError) -> [Float] {
        var cut = [Bool](repeating: false, count: writers * readers)
        var scores = [Float](repeating: 0, count: graph.edgeCount)
        for (i, e) in graph.edges.enumerated() {
            let k = e.source * readers + e.input
            cut[k] = true
            let m = try metrics(cut: cut, fromLayer: ResidualGraph.layer(ofReader: e.input, config))
            cut[k] = false
            scores[i] = Float(meanDifference(m, clean))
            progress?(i + 1, graph.edgeCount)
        }
        return scores
    }

    /// EAP (steps nil) and EAP-IG: sum over pairs and positions of (replacement - clean) . gradient, over
    /// the pairs of every batch. The scores are linear in the gradient, so each IG step adds its own
    /// product (difference [W, n] x gradient^T [n, R], scaled by 1 / (steps x pairs)) and no averaged
    /// gradient is kept. IG's last step (alpha = 1) is the clean input itself, EAP's gradient: EAP's
    /// products, computed once per CircuitRuns, stand in for it.
    func gradientScores(_ graph: CircuitGraph, steps: Int?) throws(CircuitError) -> [Float] {
        let R = readers
        var products = try eapProducts()
        if let steps {
            for i in products.indices { products[i] /= Float(steps) }
            if steps > 1 { try addProducts(to: &products, steps: steps) }
        }
        return graph.edges.map { products[$0.source * R + $0.input] }
    }

    /// EAP's products [W, R]: the gradient at the clean input.
    func eapProducts() throws(CircuitError) -> [Float] {
        if let p = measured.eap { return p }
        var products = [Float](repeating: 0, count: writers * readers)
        try addProducts(to: &products, steps: nil)
        measured.eap = products
        return products
    }

    /// Each batch's (replacement - clean) writer outputs [W, n], which EAP and EAP-IG both read.
    private func differences() -> [[Float]] {
        if let d = measured.differences { return d }
        let d = batches.map { b in zip(b.replacement, b.cleanPass.outputs).map { $0 - $1 } }
        measured.differences = d
        return d
    }

    /// products[w, r] += weight / pairs x sum over rows of difference[w] . gradient[r], at the clean input
    /// (steps nil, weight 1) or at IG's inputs alpha = k / steps for k = 1 ..< steps (weight 1 / steps).
    private func addProducts(to products: inout [Float], steps: Int?) throws(CircuitError) {
        let W = writers, R = readers
        for (bi, b) in batches.enumerated() {
            let model = b.runs.model, N = b.pairs.count, T = b.pairs.length, n = N * T * config.d_model
            let cleanState = b.runs.forwardState(.clean)
            let difference = differences()[bi]
            // products += weight / pairs x difference [W, n] x gradients^T [n, R], 64 token rows at a time (the
            // gradients stay in cache), the chunks split over the engine's threads; each chunk's [W, R] has its
            // own slot and the slots are added in row order, so the bits do not depend on --threads
            func add(_ state: ForwardState, _ logits: [Float], weight: Float) throws(CircuitError) {
                let D = config.d_model, rowsPerChunk = 64, chunks = (N * T + rowsPerChunk - 1) / rowsPerChunk
                let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * W * R)
                defer { partial.deallocate() }
                try circuitEngine { () throws(ModelError) in
                    try model.readerGradients(state, dlogits: b.runs.metricGradient(logits: logits), rowsPerChunk: rowsPerChunk,
                                              shards: Engine.threads) { _, row0, rows, g in
                        difference.withUnsafeBufferPointer { a in
                            BLAS.gemm(transB: true, m: W, n: R, k: rows * D, alpha: weight / Float(pairCount), a: a.baseAddress! + row0 * D, lda: n,
                                      b: g, ldb: rows * D, beta: 0, c: partial + row0 / rowsPerChunk * W * R, ldc: R)
                        }
                    }
                }
                for ci in 0..<chunks { for j in 0..<(W * R) { products[j] += partial[ci * W * R + j] } }
            }
            guard let steps else {
                try add(cleanState, cleanState.logitsTensor.data, weight: 1)
                continue
            }
            // the input writer (blocks.0.hook_resid_pre) moves from the replacement's to the clean one
            // (one copy of the clean pass, rerun in place from that hook at each step: nothing before it changes)
            let hook = Hook.residPre.name(layer: 0)
            var scratch: ForwardState? = nil
            for k in 1..<steps {
                let alpha = Float(k) / Float(steps)
                var x = [Float](repeating: 0, count: n)
                for j in 0..<n { x[j] = b.replacement[j] + alpha * (b.cleanPass.outputs[j] - b.replacement[j]) }
                let input = Tensor(shape: [N, T, config.d_model], data: x)
                let out = try circuitEngine { () throws(ModelError) in
                    if let scratch { return try model.forward(startingAt: hook, with: input, inPlace: scratch) }
                    return try model.forward(startingAt: hook, with: input, base: cleanState)
                }
                scratch = out.state
                try add(out.state, out.logits.data, weight: 1 / Float(steps))
            }
        }
    }

    /// ACDC over readers from the logits down; within a reader, its writers from the latest down.
    func acdc(_ graph: inout CircuitGraph, tau: Double, progress: ((Int, Int) -> Void)?) throws(CircuitError) {
        let R = readers, kl = metric == .kl
        let gap = abs(mean(clean) - mean(ablated))
        guard kl || gap > 0 else {
            throw .badArgument("ACDC with \(metric.rawValue): the clean and the ablated metric are equal, so no change can be normalised")
        }
        // edges grouped by reader, readers and writers in reverse order
        var byReader = [[Int]](repeating: [], count: R)
        for (i, e) in graph.edges.enumerated() { byReader[e.input].append(i) }
        var cut = [Bool](repeating: false, count: writers * R)
        var current = mean(clean), done = 0
        var scores = [Float](repeating: 0, count: graph.edgeCount), kept = [Bool](repeating: true, count: graph.edgeCount)
        // Each trial differs from the current cut by one edge, so only its reader's head is recomputed in its
        // layer: the others come from `state`, the clean pass with the current cut's heads of that layer put
        // in as each removal is accepted (every reader below that layer is still uncut, so nothing else differs).
        var state = (passes: batches.map(\.cleanPass), cut: cut)
        for r in stride(from: R - 1, through: 0, by: -1) {
            let layer = ResidualGraph.layer(ofReader: r, config), head = ResidualGraph.headWriter(ofReader: r, config)
            for i in byReader[r].sorted(by: { graph.edges[$0].source > graph.edges[$1].source }) {
                let k = graph.edges[i].source * R + r
                cut[k] = true
                let trial = try metrics(cut: cut, fromLayer: layer, from: state, capture: head)
                let m = mean(trial.metrics)
                let change = kl ? m - current : abs(m - current) / gap
                scores[i] = Float(kl ? m - current : (m - current) / gap)
                if change < tau {
                    current = m; kept[i] = false
                    state.cut = cut
                    if let head { for b in state.passes.indices { state.passes[b].replace(writer: head, with: trial.captured[b]) } }
                } else { cut[k] = false }
                done += 1
                progress?(done, graph.edgeCount)
            }
        }
        for i in graph.edges.indices { graph[edge: i].score = scores[i]; graph[edge: i].inGraph = kept[i] }
        graph.prune()
    }
}

func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
