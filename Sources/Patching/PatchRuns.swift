import Tensors
import Transformer

/// The two runs of an experiment, computed once and reused by every kind, direction and method:
/// the clean and the corrupted forward pass (their activations are the caches patches are read
/// from and the bases late starts resume), and the metric of each pair on each. One call at a time:
/// the calls split their own work over threads, and attribution keeps its scratch gradients in the runs.
public struct PatchRuns: Sendable {
    public let model: Transformer
    public let pairs: PatchPairs
    public let metric: PatchMetric
    /// Per-pair metric of the clean and the corrupted run [N].
    public let clean: [Double]
    public let corrupted: [Double]
    let cleanState: ForwardState
    let corruptedState: ForwardState
    let cleanLogProbs: [[Double]]       // [N][V], KL's reference (empty for other metrics)
    /// Patched variants stacked per batch are capped at this many tokens (variants x pairs x length):
    /// one batch of activations at a time, whatever the number of patches.
    public var maxBatchTokens: Int

    public init(model: Transformer, pairs: PatchPairs, metric: PatchMetric = .logitDiff,
                maxBatchTokens: Int = 2048) throws(PatchError) {
        try pairs.validate(for: model.config)
        let N = pairs.count, T = pairs.length, V = model.config.d_vocab
        // the two runs at once, one thread each (one after the other on one thread)
        var outs = [Result<ForwardOutput, ModelError>?](repeating: nil, count: 2)
        let workers = min(2, Engine.threads)
        outs.withUnsafeMutableBufferPointer { o in
            Engine.shards(workers) { w in
                for i in stride(from: w, to: 2, by: workers) {
                    o[i] = Result { () throws(ModelError) in try model.forward(tokens: pairs.tokens(i == 0 ? .clean : .corrupted), batch: N, length: T) }
                }
            }
        }
        let c = try engine { () throws(ModelError) in try outs[0]!.get() }
        let x = try engine { () throws(ModelError) in try outs[1]!.get() }
        self.model = model; self.pairs = pairs; self.metric = metric; self.maxBatchTokens = maxBatchTokens
        cleanState = c.state; corruptedState = x.state
        cleanLogProbs = metric == .kl ? Patching.cleanLogProbs(c.logits.data, T: T, V: V, pairs: pairs) : []
        clean = pairMetrics(metric, logits: c.logits.data, firstRow: 0, T: T, V: V, pairs: pairs, cleanLogProbs: cleanLogProbs)
        corrupted = pairMetrics(metric, logits: x.logits.data, firstRow: 0, T: T, V: V, pairs: pairs, cleanLogProbs: cleanLogProbs)
    }

    func state(_ run: PatchRun) -> ForwardState { run == .clean ? cleanState : corruptedState }

    /// One run's forward pass (its activations; the base a late start or a backward pass needs).
    public func forwardState(_ run: PatchRun) -> ForwardState { state(run) }

    /// d metric / d logits for a batch of logits [N, T, V] of these pairs: each pair's metric reads one
    /// row, and rows of a batch do not interact, so one backward pass of the summed metric gives every
    /// pair its own gradient.
    public func metricGradient(logits: [Float]) -> [Float] {
        let N = pairs.count, T = pairs.length, V = model.config.d_vocab
        var dlogits = [Float](repeating: 0, count: N * T * V)
        logits.withUnsafeBufferPointer { lb in
            for i in 0..<N {
                let row = (i * T + pairs.position[i]) * V
                let g = metric.gradient(UnsafeBufferPointer(rebasing: lb[row..<(row + V)]), correct: Int(pairs.correct[i]),
                                        wrong: Int(pairs.wrong[i]), cleanLogProbs: cleanLogProbs.isEmpty ? [] : cleanLogProbs[i])
                for v in 0..<V { dlogits[row + v] = g[v] }
            }
        }
        return dlogits
    }
    func metrics(_ run: PatchRun) -> [Double] { run == .clean ? clean : corrupted }

    /// The metric of every pair from one logit row per sequence [rows, V], pair i at row firstRow + i.
    func metrics(rows logits: [Float], firstRow: Int) -> [Double] {
        let V = model.config.d_vocab
        return logits.withUnsafeBufferPointer { lb in
            (0..<pairs.count).map { i in
                metric.value(UnsafeBufferPointer(rebasing: lb[((firstRow + i) * V)..<((firstRow + i + 1) * V)]),
                             correct: Int(pairs.correct[i]), wrong: Int(pairs.wrong[i]),
                             cleanLogProbs: cleanLogProbs.isEmpty ? [] : cleanLogProbs[i])
            }
        }
    }

    /// The metric of every pair in a batch of logits [rows, T, V], pair i at row firstRow + i.
    public func metrics(logits: [Float], firstRow: Int) -> [Double] {
        pairMetrics(metric, logits: logits, firstRow: firstRow, T: pairs.length, V: model.config.d_vocab,
                    pairs: pairs, cleanLogProbs: cleanLogProbs)
    }

    /// What is patched in at each of `hooks` (full names): the other run's activation (resample), the
    /// reference set's mean at each position (mean), or zeros. Each [N, ...] like the hook's.
    func sources(_ hooks: [String], _ direction: PatchDirection, _ ablation: PatchAblation) throws(PatchError) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        switch ablation {
        case .resample:
            for h in hooks { out[h] = state(direction.source).activation(h)! }
        case .zero:
            for h in hooks { out[h] = Tensor(zeros: HookPoints.shape(h, model.config, batch: pairs.count, length: pairs.length)!) }
        case .mean(let reference):
            let means = try reference.means(hooks, model: model, length: pairs.length, maxBatchTokens: maxBatchTokens)
            for (h, m) in means {
                out[h] = Tensor(shape: [pairs.count] + m.shape.dropFirst(), data: Array([[Float]](repeating: m.data, count: pairs.count).joined()))
            }
        }
        return out
    }
}

/// What replaces a patched activation: the other run's (resample), a reference set's mean, or zero.
public enum PatchAblation: Sendable {
    case resample
    case mean(MeanReference)
    case zero

    public var name: String {
        switch self {
        case .resample: "resample"
        case .mean: "mean"
        case .zero: "zero"
        }
    }
}

/// What mean ablation patches in: the mean activation (over rows, at each position) of a reference set
/// of prompts, or mean activations computed elsewhere, one per hook name, shaped like the hook with a
/// batch of 1. Same length as the pairs, so positions line up.
public struct MeanReference: Sendable {
    public let tokens: [[Int32]]
    public let given: [String: Tensor]

    public init(tokens: [[Int32]]) throws(PatchError) {
        guard let T = tokens.first?.count, T > 0 else { throw .badReference("no reference prompts") }
        if let i = tokens.firstIndex(where: { $0.count != T }) {
            throw .badReference("row \(i) has \(tokens[i].count) tokens, row 0 has \(T)")
        }
        self.tokens = tokens; self.given = [:]
    }

    /// Mean activations given per hook name ([1, ...] in the hook's shape).
    public init(means: [String: Tensor]) throws(PatchError) {
        guard !means.isEmpty else { throw .badReference("no mean activations") }
        if let (name, t) = means.first(where: { $0.value.shape.first != 1 }) {
            throw .badReference("\(name): mean activation has shape \(t.shape), expected a batch of 1")
        }
        self.tokens = []; self.given = means
    }

    /// Mean of each hook over the reference rows, shape [1, ...]; summed in Double, in batches.
    func means(_ hooks: [String], model: Transformer, length T: Int, maxBatchTokens: Int) throws(PatchError) -> [String: Tensor] {
        if tokens.isEmpty {
            var out: [String: Tensor] = [:]
            for h in hooks {
                let want = HookPoints.shape(h, model.config, batch: 1, length: T)!
                guard let m = given[h] else { throw .badReference("no mean activation for \(h)") }
                guard m.shape == want else { throw .badReference("\(h): mean activation has shape \(m.shape), expected \(want)") }
                out[h] = m
            }
            return out
        }
        guard tokens[0].count == T else { throw .badReference("reference prompts have \(tokens[0].count) tokens, the pairs \(T)") }
        let c = model.config
        for (i, row) in tokens.enumerated() {
            if let t = row.first(where: { $0 < 0 || Int($0) >= c.d_vocab }) {
                throw .badReference("row \(i): token \(t) outside the vocabulary 0..<\(c.d_vocab)")
            }
        }
        var sums: [String: [Double]] = [:]
        for h in hooks { sums[h] = [Double](repeating: 0, count: HookPoints.shape(h, c, batch: 1, length: T)!.reduce(1, *)) }
        let rows = max(1, maxBatchTokens / T)
        var start = 0
        while start < tokens.count {
            let end = min(start + rows, tokens.count)
            let flat = Array(tokens[start..<end].joined())
            let out = try engine { () throws(ModelError) in
                try model.forward(tokens: flat, batch: end - start, length: T, plan: HookPlan(cache: hooks))
            }
            for h in hooks {
                let a = out.cache[h]!.data
                let n = sums[h]!.count
                sums[h]!.withUnsafeMutableBufferPointer { s in
                    for r in 0..<(end - start) { for j in 0..<n { s[j] += Double(a[r * n + j]) } }
                }
            }
            start = end
        }
        var out: [String: Tensor] = [:]
        for h in hooks {
            out[h] = Tensor(shape: HookPoints.shape(h, c, batch: 1, length: T)!, data: sums[h]!.map { Float($0 / Double(tokens.count)) })
        }
        return out
    }
}
