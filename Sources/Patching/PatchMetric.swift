import Foundation

/// What is measured at each pair's `position`. Per pair; experiments report means over pairs.
///   logit_diff  logit[correct] - logit[wrong]                   (default; TransformerLens's demos)
///   logprob     log softmax(logits)[correct]
///   prob        softmax(logits)[correct]
///   kl          KL(clean || patched) = sum_v p_clean(v) (log p_clean(v) - log p(v))
public enum PatchMetric: String, Sendable, Codable, CaseIterable {
    case logitDiff = "logit_diff", logprob, prob, kl

    /// The metric of one pair from its logit row `l` [V]; `cleanLogProbs` [V] is the clean run's log
    /// softmax at the same position (only KL reads it).
    func value(_ l: UnsafeBufferPointer<Float>, correct: Int, wrong: Int, cleanLogProbs: [Double]) -> Double {
        switch self {
        case .logitDiff: return Double(l[correct] - l[wrong])    // in Float, as TransformerLens computes it
        case .logprob: return logSoftmax(l)[correct]
        case .prob: return exp(logSoftmax(l)[correct])
        case .kl:
            let lp = logSoftmax(l)
            var kl = 0.0
            for v in 0..<lp.count { kl += exp(cleanLogProbs[v]) * (cleanLogProbs[v] - lp[v]) }
            return kl
        }
    }

    /// d metric / d logits of one pair's row [V] (attribution patching's starting gradient).
    func gradient(_ l: UnsafeBufferPointer<Float>, correct: Int, wrong: Int, cleanLogProbs: [Double]) -> [Float] {
        var g = [Float](repeating: 0, count: l.count)
        switch self {
        case .logitDiff:
            g[correct] += 1; g[wrong] -= 1
        case .logprob:       // d log p_c / d l_v = [v == c] - p_v
            let lp = logSoftmax(l)
            for v in 0..<l.count { g[v] = Float(-exp(lp[v])) }
            g[correct] += 1
        case .prob:          // d p_c / d l_v = p_c ([v == c] - p_v)
            let lp = logSoftmax(l)
            let pc = exp(lp[correct])
            for v in 0..<l.count { g[v] = Float(-pc * exp(lp[v])) }
            g[correct] += Float(pc)
        case .kl:            // d KL / d l_v = p_v - p_clean(v)
            let lp = logSoftmax(l)
            for v in 0..<l.count { g[v] = Float(exp(lp[v]) - exp(cleanLogProbs[v])) }
        }
        return g
    }
}

/// log softmax of one logit row, in Double.
func logSoftmax(_ l: UnsafeBufferPointer<Float>) -> [Double] {
    var m = -Double.infinity
    for x in l { m = max(m, Double(x)) }
    var s = 0.0
    for x in l { s += exp(Double(x) - m) }
    let lse = m + log(s)
    return l.map { Double($0) - lse }
}

/// The metric of every pair of one batch of logits. `logits` [rows, T, V]; pair i's row is
/// `firstRow + i`. Returns [N].
func pairMetrics(_ metric: PatchMetric, logits: [Float], firstRow: Int, T: Int, V: Int, pairs: PatchPairs,
                 cleanLogProbs: [[Double]]) -> [Double] {
    logits.withUnsafeBufferPointer { lb in
        (0..<pairs.count).map { i in
            let row = UnsafeBufferPointer(rebasing: lb[(((firstRow + i) * T + pairs.position[i]) * V)...].prefix(V))
            return metric.value(row, correct: Int(pairs.correct[i]), wrong: Int(pairs.wrong[i]),
                                cleanLogProbs: cleanLogProbs.isEmpty ? [] : cleanLogProbs[i])
        }
    }
}

/// The clean run's log softmax at each pair's position [N][V] (KL's reference distribution).
func cleanLogProbs(_ logits: [Float], T: Int, V: Int, pairs: PatchPairs) -> [[Double]] {
    logits.withUnsafeBufferPointer { lb in
        (0..<pairs.count).map { i in logSoftmax(UnsafeBufferPointer(rebasing: lb[((i * T + pairs.position[i]) * V)...].prefix(V))) }
    }
}
