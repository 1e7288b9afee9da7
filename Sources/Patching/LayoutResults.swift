/// What one checkpoint computed on one layout's pairs, before it becomes records: the two runs' metrics,
/// every patch result, and the logit attribution and logit lens of each run. Pooling over layouts joins
/// these pair by pair.
struct LayoutResults {
    var clean: [Double]
    var corrupted: [Double]
    var patches: [PatchResult] = []
    var logitAttribution: [LogitAttribution] = []
    var logitLens: [LogitLens] = []

    init(clean: [Double], corrupted: [Double]) { self.clean = clean; self.corrupted = corrupted }

    /// Only the results without a position axis (the rest cannot pool across layouts).
    func filter(_ keep: (PatchResult) -> Bool) -> LayoutResults {
        var out = self
        out.patches = patches.filter(keep)
        return out
    }

    /// Several layouts' results as one set over all their pairs, in order; every part computed the same
    /// results in the same order.
    static func concatenate(_ parts: [LayoutResults]) -> LayoutResults {
        var out = LayoutResults(clean: parts.flatMap(\.clean), corrupted: parts.flatMap(\.corrupted))
        out.patches = parts[0].patches.indices.map { i in Patching.concatenate(parts.map { $0.patches[i] }) }
        out.logitAttribution = parts[0].logitAttribution.indices.map { i in
            var a = parts[0].logitAttribution[i]
            a.perPair = parts.flatMap { $0.logitAttribution[i].perPair }
            a.constant = parts.flatMap { $0.logitAttribution[i].constant }
            a.mean = columnMeans(a.perPair, columns: a.components.count)
            return a
        }
        out.logitLens = parts[0].logitLens.indices.map { i in
            var l = parts[0].logitLens[i]
            l.perPair = parts.flatMap { $0.logitLens[i].perPair }
            l.mean = columnMeans(l.perPair, columns: l.hooks.count)
            return l
        }
        return out
    }
}

extension PatchResult {
    var positionFree: Bool { (try? PatchKind.named(kind))?.positionFree ?? false }
}
