// Masked next-token cross-entropy over logits, with its gradient. The mask selects which tokens count
// (answer tokens only, or all); targets < 0 never count.

public struct LossResult: Sendable {
    public var loss: Float          // mean over counted tokens
    public var counted: Int
    public var dlogits: [Float]     // d loss / d logits, [N, V]
}

// logits [N, V], targets [N], mask [N] -> loss, dlogits [N, V]
// `normalizer` (default: the summed weight of these tokens) lets a shard of a batch use the whole batch's.
public func crossEntropy(logits: UnsafePointer<Float>, targets: [Int32], mask: [Float]?, N: Int, V: Int,
                         normalizer: Float? = nil) -> LossResult {
    var weights = [Float](repeating: 0, count: N)
    var total: Float = 0
    for i in 0..<N where targets[i] >= 0 {
        weights[i] = mask?[i] ?? 1
        total += weights[i]
    }
    var dlogits = [Float](repeating: 0, count: N * V)
    if let normalizer { total = normalizer }
    if total == 0 { return LossResult(loss: 0, counted: 0, dlogits: dlogits) }
    var loss: Double = 0
    dlogits.withUnsafeMutableBufferPointer { dl in
        for i in 0..<N where weights[i] != 0 {
            let row = logits + i * V, g = dl.baseAddress! + i * V
            var m = -Float.infinity
            for v in 0..<V { m = max(m, row[v]) }
            var sum: Float = 0
            for v in 0..<V { let e = fastExp(row[v] - m); g[v] = e; sum += e }
            let target = Int(targets[i])
            loss += Double(weights[i]) * Double(logFloat(sum) + m - row[target])
            let scale = weights[i] / (sum * total)
            for v in 0..<V { g[v] *= scale }
            g[target] -= weights[i] / total
        }
    }
    let counted = weights.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    return LossResult(loss: Float(loss / Double(total)), counted: counted, dlogits: dlogits)
}

/// log softmax of one row of logits [V], in Double for evaluation metrics.
public func logSoftmax(_ row: UnsafePointer<Float>, V: Int) -> [Double] {
    var m = -Double.infinity
    for v in 0..<V { m = max(m, Double(row[v])) }
    var sum = 0.0
    for v in 0..<V { sum += _exp(Double(row[v]) - m) }
    let lse = m + _log(sum)
    return (0..<V).map { Double(row[$0]) - lse }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
#endif
