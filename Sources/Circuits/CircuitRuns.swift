import Patching
import Tensors
import Transformer

/// The passes every circuit method reads, computed once per experiment: the clean pass split into its
/// components (each writer's output), what a cut edge carries instead (the corrupted run's outputs, the
/// mean over reference prompts, or zeros), and the metric of each pair with nothing cut (`clean`) and with
/// everything cut (`ablated`: the corrupted run itself under resample ablation). An edge w -> r is cut by
/// giving reader r writer w's replacement output, every other contribution kept, LayerNorm recomputed on
/// the sum (`Transformer.componentForward`); EAP-IG's `evaluate_graph` intervenes the same way.
///
/// The pairs may come in batches of different lengths (a decision's pair layouts): the graph is the same
/// for all, so scores are means over every pair of every batch (EAP-IG sums over its batches and divides
/// by the items), and per-pair metrics are concatenated in batch order.
public struct CircuitRuns: Sendable {
    public struct Batch: Sendable {
        public let runs: PatchRuns
        /// The clean pass's writer outputs [writers, N, T, D] and logits.
        public let cleanPass: ComponentPass
        /// What each writer's output is replaced by on a cut edge [writers, N, T, D].
        public let replacement: [Float]
        let tokens: [Int32]
        /// The clean pass's and the replacement's layer-start sums, for passes that reuse the clean pass.
        let sums: ComponentSums
        /// Lent to this batch's evaluations, one at a time (a CircuitRuns is used by one thread at a time).
        let scratch = ComponentScratch()
        public var pairs: PatchPairs { runs.pairs }
    }

    public let batches: [Batch]
    public let config: ModelConfig
    public let metric: PatchMetric
    public let ablationName: String
    /// Per-pair metric with nothing cut, and with every edge cut [pairs of every batch].
    public let clean: [Double]
    public let ablated: [Double]
    /// Per-pair metrics of the cuts already measured: a curve's sizes that prune to one circuit, the
    /// circuit it then picks, and its interval are one pass, not three.
    let measured = MeasuredCuts()

    public var writers: Int { ResidualGraph.writers(config) }
    public var readers: Int { ResidualGraph.readers(config) }
    public var pairCount: Int { clean.count }

    public init(_ runs: PatchRuns, ablation: PatchAblation = .resample) throws(CircuitError) {
        try self.init(batches: [(runs, ablation)])
    }

    /// Batches of one model and one metric, each with its own ablation (a mean is per layout).
    public init(batches list: [(PatchRuns, PatchAblation)]) throws(CircuitError) {
        guard let first = list.first else { throw .badArgument("no pairs to find a circuit on") }
        let model = first.0.model, c = model.config
        for (r, a) in list {
            guard r.model.config == c, r.model.params.data == model.params.data else { throw .mismatch("batches of different models") }
            guard r.metric == first.0.metric, a.name == first.1.name else { throw .mismatch("batches with different metrics or ablations") }
        }
        config = c; metric = first.0.metric; ablationName = first.1.name
        let W = ResidualGraph.writers(c), all = [Bool](repeating: true, count: W * ResidualGraph.readers(c))
        var batches: [Batch] = [], clean: [Double] = [], ablated: [Double] = []
        for (runs, ablation) in list {
            let N = runs.pairs.count, T = runs.pairs.length, n = N * T * c.d_model
            let tokens = Array(runs.pairs.clean.joined())
            let cleanPass = try circuitEngine { () throws(ModelError) in try model.componentForward(tokens: tokens, batch: N, length: T) }
            let replacement: [Float]
            switch ablation {
            case .resample:
                let corrupted = Array(runs.pairs.corrupted.joined())
                replacement = try circuitEngine { () throws(ModelError) in try model.componentForward(tokens: corrupted, batch: N, length: T).outputs }
            case .zero:
                replacement = [Float](repeating: 0, count: W * n)
            case .mean(let reference):
                replacement = try CircuitRuns.means(model, reference, pairs: N, length: T)
            }
            let everything = try circuitEngine { () throws(ModelError) in
                try model.componentForward(tokens: tokens, batch: N, length: T, edges: EdgeCut(cut: all, replacement: replacement),
                                           readAt: runs.pairs.position)
            }
            clean += runs.metrics(logits: cleanPass.logits, firstRow: 0)
            ablated += runs.metrics(logits: everything.logits, firstRow: 0)
            let sums = try circuitEngine { () throws(ModelError) in
                ComponentSums(pass: try model.layerStartSums(cleanPass.outputs, batch: N, length: T),
                              replacement: try model.layerStartSums(replacement, batch: N, length: T))
            }
            batches.append(Batch(runs: runs, cleanPass: cleanPass, replacement: replacement, tokens: tokens, sums: sums))
        }
        self.batches = batches; self.clean = clean; self.ablated = ablated
    }

    /// Per-pair metric [pairs] with the edges of `cut` ([writers * readers], EAP-IG's layout) cut.
    /// `fromLayer`: the caller knows nothing below this layer is cut, so those writers are the clean pass's.
    public func metrics(cut: [Bool], fromLayer: Int = 0) throws(CircuitError) -> [Double] {
        let key = MeasuredCuts.Key(cut: cut, fromLayer: fromLayer)
        if let m = measured.values[key] { return m }
        let m = try metrics(cut: cut, fromLayer: fromLayer, from: nil).metrics
        if measured.values.count >= MeasuredCuts.capacity { measured.values.removeAll() }
        measured.values[key] = m
        return m
    }

    /// A search's pass: per-pair metric [pairs] with `cut`, the heads of `fromLayer` whose inputs are cut as
    /// in `from` (one pass per batch, made with `from.cut`; every writer below `fromLayer` clean) taken from
    /// there; nil: from the clean pass. `capture`: each batch's output of that writer, to update `from` with.
    /// `sums`: `from`'s own layer-start sums, where its writers below `fromLayer` are not the clean pass's.
    func metrics(cut: [Bool], fromLayer: Int, from: (passes: [ComponentPass], cut: [Bool])?, sums: [ComponentSums]? = nil,
                 capture: Int? = nil) throws(CircuitError) -> (metrics: [Double], captured: [[Float]]) {
        var out: [Double] = [], captured: [[Float]] = []
        out.reserveCapacity(pairCount)
        for (i, b) in batches.enumerated() {
            let model = b.runs.model, N = b.pairs.count, T = b.pairs.length
            let pass = try circuitEngine { () throws(ModelError) in
                try model.componentForward(tokens: b.tokens, batch: N, length: T, edges: EdgeCut(cut: cut, replacement: b.replacement),
                                           reuse: from?.passes[i] ?? b.cleanPass, reuseCut: from?.cut, sums: sums?[i] ?? b.sums,
                                           fromLayer: fromLayer, readAt: b.pairs.position, keepOutputs: false, capture: capture,
                                           scratch: b.scratch)
            }
            out += b.runs.metrics(logits: pass.logits, firstRow: 0)
            captured.append(pass.captured)
        }
        return (out, captured)
    }

    /// Each batch's pass with `cut`, every writer's output kept, and its layer-start sums: a search that adds
    /// one edge at a time to `cut` recomputes from that edge's reader's layer on.
    func passes(cut: [Bool]) throws(CircuitError) -> (passes: [ComponentPass], sums: [ComponentSums]) {
        var passes: [ComponentPass] = [], sums: [ComponentSums] = []
        for b in batches {
            let model = b.runs.model, N = b.pairs.count, T = b.pairs.length
            let pass = try circuitEngine { () throws(ModelError) in
                try model.componentForward(tokens: b.tokens, batch: N, length: T, edges: EdgeCut(cut: cut, replacement: b.replacement),
                                           readAt: b.pairs.position)
            }
            passes.append(pass)
            sums.append(ComponentSums(pass: try circuitEngine { () throws(ModelError) in try model.layerStartSums(pass.outputs, batch: N, length: T) },
                                      replacement: b.sums.replacement))
        }
        return (passes, sums)
    }

    /// The cut of a circuit: every edge not in the graph is cut.
    public func cut(outside graph: CircuitGraph) throws(CircuitError) -> [Bool] {
        try check(graph)
        var cut = [Bool](repeating: false, count: writers * readers)
        for e in graph.edges where !e.inGraph { cut[e.source * readers + e.input] = true }
        return cut
    }

    /// The lowest layer whose readers a cut touches (n_layers for only the logits).
    func lowestLayer(_ cut: [Bool]) -> Int {
        var lowest = config.n_layers
        for r in 0..<readers { for w in 0..<writers where cut[w * readers + r] { lowest = min(lowest, ResidualGraph.layer(ofReader: r, config)); break } }
        return lowest
    }

    func check(_ graph: CircuitGraph) throws(CircuitError) {
        guard graph.nLayers == config.n_layers, graph.nHeads == config.n_heads else {
            throw .mismatch("the graph is of \(graph.nLayers) layers x \(graph.nHeads) heads, the model \(config.n_layers) x \(config.n_heads)")
        }
    }

    /// Pair sets of different lengths as one: each row padded on the right with token 0 to the longest.
    /// Nothing a metric reads changes: attention is causal, so a token after a pair's metric position never
    /// reaches it, in either run or under any cut (tested). One batch runs far faster than many small ones.
    public static func padded(_ sets: [PatchPairs]) throws(CircuitError) -> PatchPairs {
        let length = sets.map(\.length).max() ?? 0
        func pad(_ rows: [[Int32]]) -> [[Int32]] { rows.map { $0 + [Int32](repeating: 0, count: length - $0.count) } }
        do {
            return try PatchPairs(clean: pad(sets.flatMap(\.clean)), corrupted: pad(sets.flatMap(\.corrupted)), position: sets.flatMap(\.position),
                                  correct: sets.flatMap(\.correct), wrong: sets.flatMap(\.wrong))
        } catch { throw .patch(error) }
    }

    /// Mean writer outputs over reference prompts, at each position, repeated for every pair.
    static func means(_ model: Transformer, _ reference: MeanReference, pairs N: Int, length T: Int) throws(CircuitError) -> [Float] {
        let c = model.config, W = ResidualGraph.writers(c), D = c.d_model
        guard !reference.tokens.isEmpty else {
            throw .unsupported("mean ablation of circuit edges needs reference prompts, not precomputed hook means")
        }
        guard reference.tokens[0].count == T else {
            throw .mismatch("reference prompts have \(reference.tokens[0].count) tokens, the pairs \(T)")
        }
        let rows = reference.tokens.count
        let pass = try circuitEngine { () throws(ModelError) in
            try model.componentForward(tokens: Array(reference.tokens.joined()), batch: rows, length: T)
        }
        var sums = [Double](repeating: 0, count: W * T * D)
        for w in 0..<W { for b in 0..<rows { for j in 0..<(T * D) { sums[w * T * D + j] += Double(pass.outputs[(w * rows + b) * T * D + j]) } } }
        var out = [Float](repeating: 0, count: W * N * T * D)
        for w in 0..<W { for i in 0..<N { for j in 0..<(T * D) { out[(w * N + i) * T * D + j] = Float(sums[w * T * D + j] / Double(rows)) } } }
        return out
    }
}

/// Every failure of a circuit method, as one line.
public enum CircuitError: Error, CustomStringConvertible, Equatable {
    case model(ModelError)
    case patch(PatchError)
    case graph(CircuitGraphError)
    case mismatch(String)
    case unsupported(String)
    case badArgument(String)
    case emptyCircuit(String)

    public var description: String {
        switch self {
        case .model(let e): e.description
        case .patch(let e): e.description
        case .graph(let e): e.description
        case .mismatch(let m): "circuit and model do not match: \(m)"
        case .unsupported(let m): "not supported: \(m)"
        case .badArgument(let m): m
        case .emptyCircuit(let m): "empty circuit: \(m)"
        }
    }
}

@inline(__always)
func circuitEngine<T>(_ body: () throws(ModelError) -> T) throws(CircuitError) -> T {
    do { return try body() } catch { throw .model(error) }
}

extension ComponentPass {
    /// Puts `output` [B, T, D] in as writer `w`'s.
    mutating func replace(writer w: Int, with output: [Float]) {
        let n = output.count
        outputs.withUnsafeMutableBufferPointer { o in output.withUnsafeBufferPointer { (o.baseAddress! + w * n).update(from: $0.baseAddress!, count: n) } }
    }
}

/// Measured cuts of one CircuitRuns (used by one thread at a time, as its scratch is). The layer is part of
/// the key: a pass from a later layer adds the same numbers in another order.
final class MeasuredCuts: @unchecked Sendable {
    struct Key: Hashable { let cut: [Bool]; let fromLayer: Int }
    static let capacity = 4096
    var values: [Key: [Double]] = [:]
    /// EAP's products [writers, readers] (EAP-IG's last step), and each batch's replacement - clean outputs.
    var eap: [Float]?
    var differences: [[Float]]?
}
