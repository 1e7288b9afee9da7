import Tensors
import Transformer

extension PatchRuns {
    /// Attribution patching (Nanda 2023; Syed et al. 2023): the first-order estimate of every patch of
    /// `kinds`, (a_source - a_base) . dM/da summed over the patched slice, with dM/da from ONE backward
    /// pass of activation gradients through the base run (no parameter gradients, no patched runs).
    /// Reported like exact patching: per pair `m_base + estimate`, so `raw` compares with the exact
    /// `raw` cell for cell; exact where the metric is linear in the patched activation.
    public func attribution(_ kinds: [PatchKind], direction: PatchDirection = .denoising,
                            ablation: PatchAblation = .resample) throws(PatchError) -> [PatchResult] {
        let c = model.config, N = pairs.count, T = pairs.length
        let base = state(direction.base), baseMetric = metrics(direction.base)
        var singles: [PatchKind] = []
        for k in kinds { for p in k.parts where !singles.contains(p) { singles.append(p) } }
        var names: [String] = []
        for k in singles { for l in 0..<c.n_layers where !names.contains(k.single!.hook.name(layer: l)) { names.append(k.single!.hook.name(layer: l)) } }
        let dlogits = metricGradient(logits: base.logitsTensor.data)
        let grads = try engine { () throws(ModelError) in try model.activationGradients(base, dlogits: dlogits, hooks: Set(names)) }
        let sources = try sources(names, direction, ablation)
        // (a_source - a_base) * dM/da, elementwise, per hook
        var products: [String: [Float]] = [:]
        for n in names {
            let a = base.activation(n)!.data, s = sources[n]!.data, g = grads[n]!.data
            products[n] = (0..<a.count).map { (s[$0] - a[$0]) * g[$0] }
        }
        var done: [PatchKind: PatchResult] = [:]
        for k in singles {
            let (hook, axes, setter) = k.single!
            let sizes = axes.map { $0.size(c, length: T) }
            let cells = sizes.reduce(1, *)
            let shape = HookPoints.shape(hook.name(layer: 0), c, batch: N, length: T)!
            var perPair = [Double](repeating: 0, count: N * cells)
            for cell in 0..<cells {
                let index = unflatten(cell, sizes)
                let p = products[hook.name(layer: index[0])]!
                var fixed = setter.slice(index)
                for i in 0..<N {
                    fixed[0] = i
                    var sum = 0.0
                    forEachSlice(shape: shape, fixed: fixed) { off, n in for j in off..<(off + n) { sum += Double(p[j]) } }
                    perPair[i * cells + cell] = baseMetric[i] + sum
                }
            }
            let raw = (0..<cells).map { cell in (0..<N).reduce(0.0) { $0 + perPair[$1 * cells + cell] } / Double(N) }
            done[k] = PatchResult(kind: k.rawValue, method: "attribution", direction: direction, ablation: ablation.name,
                                  metric: metric, shape: sizes, raw: raw, perPair: perPair, clean: clean, corrupted: corrupted)
        }
        return kinds.map { k in k.single != nil ? done[k]! : stackParts(k.parts.map { done[$0]! }, k) }
    }
}

/// How far attribution patching agrees with exact patching of the same kind: correlations of the
/// per-cell effects (raw - the unpatched run's mean) and the share of the top-k cells by |effect|
/// that both methods put in their top k. Attribution is a screen; exact patching confirms.
public struct PatchAgreement: Sendable, Codable, Equatable {
    public var pearson: Double
    public var spearman: Double
    public var topK: Int
    public var topKOverlap: Double
}

public func agreement(_ attribution: PatchResult, _ exact: PatchResult, topK: Int = 10) -> PatchAgreement {
    let a = attribution.raw.map { $0 - attribution.baseMean }, e = exact.raw.map { $0 - exact.baseMean }
    let k = min(topK, a.count)
    func top(_ x: [Double]) -> Set<Int> { Set(x.indices.sorted { (abs(x[$0]), $1) > (abs(x[$1]), $0) }.prefix(k)) }
    let overlap = k == 0 ? 0 : Double(top(a).intersection(top(e)).count) / Double(k)
    return PatchAgreement(pearson: pearson(a, e), spearman: pearson(ranks(a), ranks(e)), topK: k, topKOverlap: overlap)
}

/// Pearson correlation; nan when either side is constant.
public func pearson(_ x: [Double], _ y: [Double]) -> Double {
    let mx = mean(x), my = mean(y)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in x.indices { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my) }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
}

/// Ranks from 1, ties given their average rank (so Spearman is Pearson of ranks).
public func ranks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { (x[$0], $0) < (x[$1], $1) }
    var r = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
        for t in i...j { r[order[t]] = Double(i + j) / 2 + 1 }
        i = j + 1
    }
    return r
}
