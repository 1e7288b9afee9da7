import Foundation
import Tensors
import Transformer

extension PatchRuns {
    /// TransformerLens's `generic_activation_patch`: for every index of `axes` (the first is the layer),
    /// patch the slice `setter` names at `hook` of that layer and measure the metric. Returns the
    /// metric per patch [axes sizes] (mean over pairs) and per pair.
    ///
    /// How it is fast: every patched run starts late, at the patched hook (what comes before it equals
    /// the base run, which is cached), and recomputes only what the patch can change (its positions
    /// until an attention layer reads them, then every later position; in the last block only each
    /// pair's metric position). Patches of one layer can run stacked as variants of one batch (at most
    /// `maxBatchTokens` tokens); each thread resumes its own workspace, layers and positions from last to
    /// first, so it seldom has to restore what an earlier run changed.
    /// Shapes: the hook's activation [N, ...]; the result `raw` [axes sizes], `perPair` [N, axes sizes].
    public func patch(hook: Hook, axes: [PatchAxis], setter: PatchSetter, direction: PatchDirection = .denoising,
                      ablation: PatchAblation = .resample, kind: String? = nil) throws(PatchError) -> PatchResult {
        let c = model.config, N = pairs.count, T = pairs.length
        guard axes.first == .layer, hook.inBlock, hook.exists(in: c) else {
            throw .unknownKind(kind ?? hook.rawValue, available: PatchKind.allCases.map(\.rawValue))
        }
        let sizes = axes.map { $0.size(c, length: T) }
        let cells = sizes.reduce(1, *), perLayer = cells / c.n_layers
        let base = state(direction.base)
        let maxVariants = max(1, maxBatchTokens / (N * T))
        let chunks = (perLayer + maxVariants - 1) / maxVariants
        let K = (perLayer + chunks - 1) / chunks
        // One workspace per thread: patched runs are independent, and each is too small to split well.
        let S = max(1, min(Engine.threads, perLayer))
        var workspaces: [LateStartBatch] = []
        for _ in 0..<S { workspaces.append(try engine { () throws(ModelError) in try LateStartBatch(model: model, base: base, copies: K) }) }
        let readAt = Array([[Int]](repeating: pairs.position, count: K).joined())
        let names = (0..<c.n_layers).map { hook.name(layer: $0) }
        let sources = try sources(names, direction, ablation)
        let positionAxis = HookPoints.axes(names[0])!.position
        // A patch changes only its positions (nothing before them, by causality, and nothing after them
        // until an attention layer reads them). Groups of K patches of one layer, layers from last to
        // first and positions from last to first: each workspace then seldom has to restore rows.
        typealias Slice = (cell: Int, fixed: [Int?], positions: Range<Int>)
        var groups: [(layer: Int, slices: ArraySlice<Slice>)] = []
        for layer in (0..<c.n_layers).reversed() {
            let slices = (layer * perLayer..<(layer + 1) * perLayer).map { cell -> Slice in
                let fixed = setter.slice(unflatten(cell, sizes))
                let p = positionAxis < fixed.count ? fixed[positionAxis] : nil
                return (cell, fixed, p.map { $0..<($0 + 1) } ?? 0..<T)
            }.sorted { ($0.positions.lowerBound, $1.cell) > ($1.positions.lowerBound, $0.cell) }
            for g in Swift.stride(from: 0, to: slices.count, by: K) { groups.append((layer, slices[g..<min(g + K, slices.count)])) }
        }
        let shapes = names.map { HookPoints.shape($0, c, batch: N, length: T)! }
        var perPair = [Double](repeating: 0, count: N * cells)
        var failures = [ModelError?](repeating: nil, count: S)
        let queue = GroupQueue(count: groups.count)
        perPair.withUnsafeMutableBufferPointer { out in
            failures.withUnsafeMutableBufferPointer { fail in
                // Each worker takes the next group in order (whichever worker is free), so a worker's own
                // groups still come layers and positions from last to first.
                Engine.shards(S) { w in
                    while fail[w] == nil, let g = queue.next() {
                        let (layer, group) = groups[g]
                        let shape = shapes[layer], stride = shape.reduce(1, *)
                        let source = sources[names[layer]]!
                        let positions = group.map(\.positions.lowerBound).min()!..<group.map(\.positions.upperBound).max()!
                        do throws(ModelError) {
                            // each stacked copy k gets its patch written into the base's activation
                            let logits = try workspaces[w].run(startingAt: names[layer], positions: positions, readAt: readAt) { a in
                                source.data.withUnsafeBufferPointer { s in
                                    for (k, patch) in group.enumerated() {
                                        forEachSlice(shape: shape, fixed: patch.fixed) { off, n in
                                            (a.baseAddress! + k * stride + off).update(from: s.baseAddress! + off, count: n)
                                        }
                                    }
                                }
                            }
                            for (k, patch) in group.enumerated() {
                                let m = metrics(rows: logits, firstRow: k * N)
                                for i in 0..<N { out[i * cells + patch.cell] = m[i] }
                            }
                        } catch { fail[w] = error }
                    }
                }
            }
        }
        if let e = failures.compactMap({ $0 }).first { throw .model(e) }
        let raw = (0..<cells).map { cell in (0..<N).reduce(0.0) { $0 + perPair[$1 * cells + cell] } / Double(N) }
        return PatchResult(kind: kind ?? hook.rawValue, method: "exact", direction: direction, ablation: ablation.name,
                           metric: metric, shape: sizes, raw: raw, perPair: perPair, clean: clean, corrupted: corrupted)
    }

    /// One patch kind (TransformerLens's `get_act_patch_<kind>`); the `*_every` kinds stack their parts.
    public func patch(_ kind: PatchKind, direction: PatchDirection = .denoising,
                      ablation: PatchAblation = .resample) throws(PatchError) -> PatchResult {
        if let s = kind.single {
            return try patch(hook: s.hook, axes: s.axes, setter: s.setter, direction: direction, ablation: ablation, kind: kind.rawValue)
        }
        var parts: [PatchResult] = []
        for p in kind.parts { parts.append(try patch(p, direction: direction, ablation: ablation)) }
        return stackParts(parts, kind)
    }
}

/// Hands out 0..<count in order to whichever thread asks next.
final class GroupQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next_ = 0
    private let count: Int
    init(count: Int) { self.count = count }
    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next_ < count else { return nil }
        next_ += 1
        return next_ - 1
    }
}

/// A stacked kind from its parts; `head_by_pos_every` turns its pattern part [layer, head, pos] into
/// [layer, pos, head] first, as TransformerLens does.
func stackParts(_ parts: [PatchResult], _ kind: PatchKind) -> PatchResult {
    let aligned = parts.map { $0.kind == PatchKind.headPatternByPos.rawValue && kind == .headByPosEvery ? swapLastAxes($0) : $0 }
    return stack(aligned, kind: kind.rawValue)
}

/// Exact activation patching of one kind (builds the two runs; use `PatchRuns` to reuse them).
public func activationPatch(model: Transformer, pairs: PatchPairs, kind: PatchKind, metric: PatchMetric = .logitDiff,
                            direction: PatchDirection = .denoising, ablation: PatchAblation = .resample) throws(PatchError) -> PatchResult {
    try PatchRuns(model: model, pairs: pairs, metric: metric).patch(kind, direction: direction, ablation: ablation)
}
