import Tensors

/// Activation patching's inner loop: k stacked copies of one pass (k patched variants of a batch),
/// resumed again and again at late hooks, each run recomputing only the positions that can change
/// (`LateStartRows`). One workspace is reused; before each run, whatever an earlier run left in the
/// rows and hooks this run will read without recomputing is restored from the pristine copy, so every
/// run sees the base pass there. Cheapest when runs start at one kind of hook (`hook_z` of any layer),
/// layers from last to first and, within a layer, positions from last to first: then only the positions
/// a run changed before its first attention over changed keys are put back after it.
public final class LateStartBatch: @unchecked Sendable {
    public let model: Transformer
    let pristine: ForwardState      // the base pass itself (one copy): stacked sequence s is its s % B
    let work: ForwardState
    let names: [String]
    // What earlier runs changed in `work`: hooks at or after index `dirtyHook`, rows >= `dirtyRow`.
    var dirtyHook: Int
    var dirtyRow: Int
    var lastKind: Hook?
    var stackedCache: [String: Buffer] = [:]

    /// `base` stacked `copies` times along the batch.
    public init(model: Transformer, base: ForwardState, copies: Int) throws(ModelError) {
        guard base.config == model.config else { throw .shapeMismatch("the base pass is of another model config") }
        self.model = model
        pristine = base
        work = base.repeated(copies)
        names = HookPoints.names(model.config)
        dirtyHook = names.count
        dirtyRow = base.length
    }

    public var batch: Int { work.batch }

    // The first block a run starting at hook index i can change (-1: the embeddings too).
    private func layer(_ i: Int) -> Int {
        guard i < names.count, let (hook, l) = HookPoints.locate(names[i], model.config) else { return model.config.n_layers }
        return hook.inBlock ? l : (hook == .embed || hook == .posEmbed ? -1 : model.config.n_layers)
    }

    /// Resumes the stacked pass at `hook` after `patch` rewrites its activation [copies * B, ...] in
    /// place: the buffer holds the base pass's values, and `patch` must change nothing outside
    /// `positions` (writing in place saves copying whole activations per run). Returns the logits: with
    /// `readAt` (a position per stacked sequence) only those rows, [copies * B, V]; else [copies * B, T, V].
    public func run(startingAt hook: String, positions: Range<Int>, readAt: [Int]? = nil,
                    patch: (UnsafeMutableBufferPointer<Float>) -> Void) throws(ModelError) -> [Float] {
        guard let i = names.firstIndex(of: hook) else { throw .unknownHook(hook, available: names) }
        let from = positions.lowerBound
        let rows = LateStartRows(from: from, to: positions.upperBound, readAt: readAt)
        try rows.check(work, plan: HookPlan())
        let kind = HookPoints.locate(hook, model.config)!.hook
        if i > dirtyHook || (lastKind != nil && lastKind != kind) {
            // A hook before this start was changed, or runs of another kind of hook (whose changes
            // spread differently) left rows this run would read unrecomputed: start clean.
            work.restore(from: pristine, rows: dirtyRow..<work.length, fromLayer: layer(dirtyHook))
        } else if dirtyRow < from {
            work.restore(from: pristine, rows: dirtyRow..<from, fromLayer: layer(dirtyHook))  // rows this run reads as the base's
        }
        _ = try model.resume(at: hook, work, plan: HookPlan(), rows: rows) { buffer in
            patch(UnsafeMutableBufferPointer(start: buffer.ptr, count: buffer.count))
        }
        let V = model.config.d_vocab, T = work.length
        let logits: [Float]
        if let readAt {
            logits = [Float](unsafeUninitializedCapacity: work.batch * V) { out, n in
                for b in 0..<work.batch { (out.baseAddress! + b * V).initialize(from: work.logits.ptr + (b * T + readAt[b]) * V, count: V) }
                n = work.batch * V
            }
        } else {
            logits = work.logits.array
        }
        // Before its first attention over changed keys, the run rewrote only `positions` (the patched
        // activation included), which a later run may read as the base's without recomputing them (keys,
        // values, the residual): put them back. What it rewrote after that lies at `from` or later, which
        // later runs recompute or restore.
        if positions != 0..<T {
            work.restore(from: pristine, rows: positions, fromLayer: layer(i))
        } else {
            work.buffer(hook)!.ptr.update(from: pristineStacked(hook), count: work.buffer(hook)!.count)
        }
        lastKind = kind
        dirtyHook = i
        // Changed now: rows >= from where the run widened before the last block, and the read rows.
        dirtyRow = min(work.lastRunWidened || positions == 0..<T ? from : T, readAt?.min() ?? from)
        return logits
    }

    // The base pass's activation at `hook`, stacked like the workspace (kept for restoring whole hooks).
    private func pristineStacked(_ hook: String) -> UnsafePointer<Float> {
        if let b = stackedCache[hook] { return UnsafePointer(b.ptr) }
        let b = Buffer(repeating: pristine.buffer(hook)!, times: work.batch / pristine.batch)
        stackedCache[hook] = b
        return UnsafePointer(b.ptr)
    }
}

extension ForwardState {
    /// Copies rows (positions) `rows` of every sequence, in every activation buffer of blocks
    /// `fromLayer` on and after them (the embeddings too when it is below 0), from `other`: a pass of the
    /// same shape, or one this pass stacks (sequence s from its s % other.batch).
    func restore(from other: ForwardState, rows: Range<Int>, fromLayer: Int = -1) {
        if rows.isEmpty { return }
        let B = batch, T = length, Bo = other.batch
        // [B, T, X] buffers: rows are (b, t); [B, H, T, T] buffers: rows are ((b, h), t).
        func copy(_ dst: Buffer, _ src: Buffer, sequences: Int) {
            let x = dst.count / (sequences * T), perCopy = sequences / B * Bo
            for s in 0..<sequences {
                (dst.ptr + (s * T + rows.lowerBound) * x).update(from: src.ptr + ((s % perCopy) * T + rows.lowerBound) * x, count: rows.count * x)
            }
        }
        if fromLayer < 0 { copy(embed, other.embed, sequences: B); copy(posEmbed, other.posEmbed, sequences: B) }
        for (d, s) in [(lnfMean, other.lnfMean), (lnfScale, other.lnfScale), (lnfNorm, other.lnfNorm), (lnfOut, other.lnfOut),
                       (logits, other.logits)] {
            copy(d, s, sequences: B)
        }
        for (a, o) in zip(layers, other.layers).dropFirst(max(fromLayer, 0)) {
            for (d, s) in [(a.residPre, o.residPre), (a.ln1Mean, o.ln1Mean), (a.ln1Scale, o.ln1Scale), (a.ln1Out, o.ln1Out),
                           (a.q, o.q), (a.k, o.k), (a.v, o.v), (a.z, o.z), (a.attnOut, o.attnOut), (a.residMid, o.residMid),
                           (a.ln2Mean, o.ln2Mean), (a.ln2Scale, o.ln2Scale), (a.ln2Out, o.ln2Out), (a.mlpPre, o.mlpPre),
                           (a.mlpPost, o.mlpPost), (a.mlpOut, o.mlpOut), (a.residPost, o.residPost), (a.mlpSaved, o.mlpSaved),
                           (a.ln1Norm, o.ln1Norm), (a.ln2Norm, o.ln2Norm)] {
                copy(d, s, sequences: B)
            }
            if let d = a.result, let s = o.result { copy(d, s, sequences: B) }
            copy(a.scores, o.scores, sequences: B * config.n_heads)
            copy(a.pattern, o.pattern, sequences: B * config.n_heads)
        }
    }
}
