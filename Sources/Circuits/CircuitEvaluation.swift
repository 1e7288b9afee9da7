import CircuitRecords
import Foundation
import Patching
import Tensors
import Transformer

extension CircuitRuns {
    /// The faithfulness of the circuit in `graph` (edges with inGraph), bootstrapped over pairs. Throws when
    /// the clean and all-cut metrics are equal: the ratio is 0/0, and "no circuit" would be the wrong answer.
    public func faithfulness(_ graph: CircuitGraph, resamples: Int = 1000, seed: UInt64 = 0) throws(CircuitError) -> Faithfulness {
        try checkGap()
        let cut = try cut(outside: graph)
        return faithfulness(of: try metrics(cut: cut, fromLayer: lowestLayer(cut)), resamples: resamples, seed: seed)
    }

    /// Faithfulness of per-pair metrics measured under some cut.
    public func faithfulness(of m: [Double], resamples: Int = 1000, seed: UInt64 = 0) -> Faithfulness {
        let N = m.count
        func ratio(_ idx: [Int]) -> Double {
            var mc = 0.0, cl = 0.0, ab = 0.0
            for i in idx { mc += m[i]; cl += clean[i]; ab += ablated[i] }
            return (mc - ab) / (cl - ab)
        }
        let all = Array(0..<N)
        let ci = Bootstrap.percentile(count: N, resamples: resamples, seed: seed, statistic: ratio)
        var per: [Double] = []
        for i in 0..<N where abs(clean[i] - ablated[i]) > 1e-6 { per.append((m[i] - ablated[i]) / (clean[i] - ablated[i])) }
        per.sort()
        let qs = per.isEmpty ? [] : [0.1, 0.25, 0.5, 0.75, 0.9].map { Bootstrap.quantile(per, $0) }
        return Faithfulness(value: ratio(all), low: ci.low, high: ci.high, perPairQuantiles: qs, pairsUsed: per.count,
                            circuitMetric: mean(m), cleanMetric: mean(clean), ablatedMetric: mean(ablated))
    }

    /// Faithfulness divides by mean(clean) - mean(all cut); equal means leave nothing to recover.
    func checkGap() throws(CircuitError) {
        guard mean(clean) != mean(ablated) else {
            throw .badArgument("the clean and the all-cut metric are equal (\(mean(clean))): faithfulness is 0/0, so no circuit can be measured")
        }
    }

    /// Mean-only faithfulness (the curve and the searches need no interval).
    func meanFaithfulness(_ graph: CircuitGraph) throws(CircuitError) -> Double {
        try checkGap()
        let cut = try cut(outside: graph)
        return meanFaithfulness(of: try metrics(cut: cut, fromLayer: lowestLayer(cut)))
    }

    /// Faithfulness of the mean of per-pair metrics measured under some cut (no interval).
    func meanFaithfulness(of m: [Double]) -> Double { (mean(m) - mean(ablated)) / (mean(clean) - mean(ablated)) }

    /// The sizes a curve visits: 1, 2, 3, 5, 8, ... (each about 1.5 times the last) and the whole graph.
    public static func curveSizes(_ total: Int) -> [Int] {
        var sizes: [Int] = [], n = 1
        while n < total { sizes.append(n); n = max(n + 1, Int((Double(n) * 1.5).rounded())) }
        return sizes + [total]
    }

    /// Faithfulness of the n-edge circuits of a scored graph at `curveSizes` (`selection`: topn or greedy).
    public func curve(_ scored: CircuitGraph, method: String, selection: String = "topn") throws(CircuitError) -> FaithfulnessCurve {
        var g = scored
        var out = FaithfulnessCurve(method: method, edges: [], kept: [], faithfulness: [])
        for n in CircuitRuns.curveSizes(scored.edgeCount) {
            try g.select(n, by: selection)
            out.edges.append(n); out.kept.append(g.includedEdgeCount); out.faithfulness.append(try meanFaithfulness(g))
        }
        return out
    }

    /// "The circuit" of a scored graph: the smallest n edges by `selection` (pruned) whose faithfulness reaches `target`,
    /// searched along `curveSizes` and then by bisection between the last size below and the first size
    /// reaching it. Faithfulness need not grow with n, so a smaller n may reach it elsewhere (the curve
    /// shows every size it visits). nil when even the whole graph falls short. `curve`: the scored graph's
    /// curve, when already computed, so its sizes are not evaluated again.
    public func smallestCircuit(_ scored: CircuitGraph, target: Double = 0.8, curve: FaithfulnessCurve? = nil,
                                selection: String = "topn") throws(CircuitError) -> CircuitGraph? {
        var g = scored
        func reaches(_ n: Int) throws(CircuitError) -> Bool {
            try g.select(n, by: selection)
            return try meanFaithfulness(g) >= target
        }
        var below = 0
        var found: Int? = nil
        for (i, n) in CircuitRuns.curveSizes(scored.edgeCount).enumerated() {
            let passes: Bool
            if let c = curve, c.edges.count > i, c.edges[i] == n { passes = c.faithfulness[i] >= target } else { passes = try reaches(n) }
            if passes { found = n; break }
            below = n
        }
        guard var hi = found else { return nil }
        var lo = below            // fails (or 0)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if try reaches(mid) { hi = mid } else { lo = mid }
        }
        try g.select(hi, by: selection)
        return g
    }

    /// Completeness of the circuit in `graph` over `subsets` random subsets (each edge in with p = 1/2).
    public func completeness(_ graph: CircuitGraph, subsets: Int = 20, seed: UInt64 = 0) throws(CircuitError) -> Completeness {
        let inside = graph.edges.indices.filter { graph.edges[$0].inGraph }
        guard !inside.isEmpty else { throw .emptyCircuit("no edge in the circuit to knock out") }
        func f(cutting removed: [Int], fromCircuit: Bool) throws(CircuitError) -> Double {
            var cut = fromCircuit ? try self.cut(outside: graph) : [Bool](repeating: false, count: writers * readers)
            for i in removed { cut[graph.edges[i].source * readers + graph.edges[i].input] = true }
            return meanFaithfulness(of: try metrics(cut: cut, fromLayer: lowestLayer(cut)))
        }
        let knockout = try f(cutting: inside, fromCircuit: false)
        var rng = RNG(seed: seed)
        var gaps: [Double] = []
        for _ in 0..<subsets {
            let k = inside.filter { _ in rng.bool() }
            gaps.append(abs(try f(cutting: k, fromCircuit: true) - f(cutting: k, fromCircuit: false)))
        }
        return Completeness(knockout: knockout, subsets: subsets, meanGap: mean(gaps), maxGap: gaps.max() ?? 0)
    }

    /// Minimality of the circuit in `graph`: each edge removed alone from the circuit.
    public func minimality(_ graph: CircuitGraph, fraction: Double = 0.01) throws(CircuitError) -> Minimality {
        guard fraction.isFinite, fraction >= 0, fraction < 1 else { throw .badArgument("minimality fraction must be in [0, 1), got \(fraction)") }
        let base = try cut(outside: graph)
        let whole = try meanFaithfulness(graph)
        // Each trial cuts one edge more than the circuit's own pass, so only its reader's layer and the layers
        // above it are recomputed, and in that layer only the head whose input changed.
        let circuit = try passes(cut: base)
        var out = Minimality(fraction: fraction, edges: 0, minimal: 0, notMinimal: [:])
        for e in graph.edges where e.inGraph {
            var cut = base
            cut[e.source * readers + e.input] = true
            let m = try metrics(cut: cut, fromLayer: ResidualGraph.layer(ofReader: e.input, config), from: (circuit.passes, base),
                                sums: circuit.sums).metrics
            let drop = whole - meanFaithfulness(of: m)
            out.edges += 1
            if drop > fraction { out.minimal += 1 } else { out.notMinimal[e.name] = drop }
        }
        return out
    }
}

public func agreement(_ scored: CircuitGraph, exact: CircuitGraph, truth: CircuitGraph, method: String) -> ScoreAgreement {
    let a = scored.edges.map { Double($0.score) }, b = exact.edges.map { Double($0.score) }
    let labels = truth.edges.map(\.inGraph)
    func defined(_ x: Double) -> Double? { x.isFinite ? x : nil }
    return ScoreAgreement(method: method, spearman: defined(spearman(a, b)), auc: defined(rocAUC(a.map(abs), labels)),
                          positives: labels.filter { $0 }.count)
}

/// Spearman's rho: Pearson of average ranks (Patching's); nan when either side is constant.
public func spearman(_ x: [Double], _ y: [Double]) -> Double { pearson(ranks(x), ranks(y)) }

/// ROC AUC (Mann-Whitney): the chance a positive outscores a negative, ties counting half; nan without both.
public func rocAUC(_ score: [Double], _ positive: [Bool]) -> Double {
    let r = ranks(score)
    let p = positive.filter { $0 }.count, q = positive.count - p
    guard p > 0, q > 0 else { return .nan }
    var sum = 0.0
    for i in r.indices where positive[i] { sum += r[i] }
    return (sum - Double(p * (p + 1)) / 2) / Double(p * q)
}

extension CircuitGraph {
    /// The selections a circuit search may grow: "topn" (`applyTopN`) or "greedy" (`applyGreedy`), pruned.
    public static let selections = ["topn", "greedy"]

    mutating func select(_ n: Int, by selection: String) throws(CircuitError) {
        guard Self.selections.contains(selection) else { throw .badArgument("unknown selection \(selection): topn or greedy") }
        do { if selection == "greedy" { try applyGreedy(n) } else { try applyTopN(n) } } catch { throw .graph(error) }
    }
}
