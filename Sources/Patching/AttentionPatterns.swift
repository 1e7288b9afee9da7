import Skills
import Tensors
import Transformer

extension PatchExperiment {
    /// The clean run's attention patterns of the three strongest heads on the layout's first two pairs.
    /// Heads are ranked by the largest |effect| over positions of the head kinds this checkpoint patched
    /// (`head_out_*` first, exact before attribution), else by |direct logit attribution| on the clean run;
    /// none when no result ranks heads.
    func attentionPatterns(_ runs: PatchRuns, record: CheckpointRecord, heads: Int = 3, pairs: Int = 2) -> [PatternRecord] {
        let ranking = headRanking(record, heads: runs.model.config.n_heads)
        guard !ranking.scores.isEmpty else { return [] }
        let top = ranking.scores.sorted { abs($0.value) != abs($1.value) ? abs($0.value) > abs($1.value) : $0.key < $1.key }.prefix(heads)
        let N = min(pairs, runs.pairs.count), T = runs.pairs.length, H = runs.model.config.n_heads
        let state = runs.state(.clean)
        // [batch, head, dest, src] per layer, copied once however many of its heads are shown
        var patterns: [Int: Tensor] = [:]
        return top.compactMap { key, score in
            let (layer, head) = (key / H, key % H)
            if patterns[layer] == nil { patterns[layer] = state.activation("blocks.\(layer).attn.hook_pattern") }
            guard let pattern = patterns[layer] else { return nil }
            var values: [Double] = []
            for i in 0..<N {
                let base = (i * H + head) * T * T
                values += pattern.data[base..<(base + T * T)].map(Double.init)
            }
            let tokens = (0..<N).map { i in runs.pairs.clean[i].map { Tokenizer.standard.decode([$0]) } }
            return PatternRecord(layer: layer, head: head, rankedBy: ranking.source, score: score, pairs: Array(0..<N),
                                 tokens: tokens, pattern: NestedArray(shape: [N, T, T], values: values))
        }
    }

    /// Each head's score (key layer * n_heads + head) and the result it comes from.
    private func headRanking(_ record: CheckpointRecord, heads H: Int) -> (source: String, scores: [Int: Double]) {
        let withHeads = record.results.filter { $0.axes.first == "layer" && $0.axes.contains("head") }
        let ordered = withHeads.sorted { a, b in
            func rank(_ r: ResultRecord) -> (Int, Int) { (r.kind.hasPrefix("head_out") ? 0 : 1, r.method == "exact" ? 0 : 1) }
            return rank(a) < rank(b)
        }
        for r in ordered {
            let layer = r.axes.firstIndex(of: "layer")!, head = r.axes.firstIndex(of: "head")!
            var scores: [Int: Double] = [:]
            for (i, v) in r.effect.values.enumerated() {
                guard let v else { continue }
                let idx = unflatten(i, r.shape), key = idx[layer] * H + idx[head]
                if abs(v) > abs(scores[key] ?? 0) || scores[key] == nil { scores[key] = v }
            }
            if !scores.isEmpty { return ("\(r.kind) \(r.direction) \(r.method) (largest |effect| over positions)", scores) }
        }
        if let dla = record.logitAttribution.first(where: { $0.run == "clean" }) {
            var scores: [Int: Double] = [:]
            for (k, name) in dla.components.enumerated() {
                // heads are named L{layer}H{head}
                let parts = name.dropFirst().split(separator: "H")
                guard name.hasPrefix("L"), parts.count == 2, let l = Int(parts[0]), let h = Int(parts[1]) else { continue }
                scores[l * H + h] = dla.mean[k]
            }
            return ("direct logit attribution, clean run", scores)
        }
        return ("", [:])
    }
}
