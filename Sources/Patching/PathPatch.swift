import Tensors
import Transformer

/// A component whose output is added to the residual stream: one attention head (its z W_O, without
/// b_O, TransformerLens's hook_result) or one MLP (hook_mlp_out).
public enum PathSender: Hashable, Sendable, Codable {
    case head(layer: Int, head: Int)
    case mlp(layer: Int)

    public var name: String {
        switch self {
        case .head(let l, let h): "L\(l)H\(h)"
        case .mlp(let l): "mlp\(l)"
        }
    }

    /// Every sender of a model, in layer order (heads before the MLP of their layer).
    public static func all(_ c: ModelConfig) -> [PathSender] {
        (0..<c.n_layers).flatMap { l in (0..<c.n_heads).map { PathSender.head(layer: l, head: $0) } + [.mlp(layer: l)] }
    }
}

/// What reads the residual stream: one head's query, key or value input, one MLP's input, or the
/// unembedding (the logits).
public enum PathReceiver: Hashable, Sendable, Codable {
    case head(layer: Int, head: Int, input: HeadInput)
    case mlp(layer: Int)
    case logits

    public enum HeadInput: String, Sendable, Codable, CaseIterable { case q, k, v }

    public var name: String {
        switch self {
        case .head(let l, let h, let x): "L\(l)H\(h).\(x.rawValue)"
        case .mlp(let l): "mlp\(l)"
        case .logits: "logits"
        }
    }

    /// Whether a sender's output reaches this receiver directly: a head reads what every earlier
    /// layer wrote, an MLP also what its own layer's heads wrote, the logits everything.
    public func reads(_ s: PathSender) -> Bool {
        switch (self, s) {
        case (.logits, _): true
        case (.head(let l, _, _), .head(let ls, _)), (.head(let l, _, _), .mlp(let ls)): l > ls
        case (.mlp(let l), .head(let ls, _)): l >= ls
        case (.mlp(let l), .mlp(let ls)): l > ls
        }
    }

    /// Every receiver of a model: each head's q, k, v, each MLP, then the logits.
    public static func all(_ c: ModelConfig) -> [PathReceiver] {
        (0..<c.n_layers).flatMap { l in
            (0..<c.n_heads).flatMap { h in HeadInput.allCases.map { PathReceiver.head(layer: l, head: h, input: $0) } } + [.mlp(layer: l)]
        } + [.logits]
    }
}

/// Path patching results: the metric after patching each sender's effect on each receiver alone
/// [senders][receivers]; nil where the receiver cannot read the sender.
public struct PathPatchResult: Sendable, Codable, Equatable {
    public var direction: PatchDirection
    public var metric: PatchMetric
    public var senders: [String]
    public var receivers: [String]
    public var raw: [[Double?]]            // [S][R], mean over pairs
    public var perPair: [[[Double]?]]      // [S][R][N]
    public var clean: [Double]
    public var corrupted: [Double]
}

extension PatchRuns {
    /// Path patching (Wang et al. 2022): the effect of a sender on a receiver through the direct path
    /// only. Everything stays at the base run (corrupted when denoising) except that the receiver's
    /// input is recomputed with the sender's output swapped for the other run's: input = base input +
    /// (sender_source - sender_base), LayerNorm recomputed on that sum. The receiver's new output then
    /// goes through the rest of the model as usual (Wang et al.'s last step); for the logits receiver
    /// the sum goes straight into ln_final and the unembedding.
    public func pathPatch(senders: [PathSender], receivers: [PathReceiver],
                          direction: PatchDirection = .denoising) throws(PatchError) -> PathPatchResult {
        let c = model.config
        let base = state(direction.base), source = state(direction.source)
        for s in senders { try check(s) }
        for r in receivers { try check(r) }
        var raw: [[Double?]] = [], perPair: [[[Double]?]] = []
        for s in senders {
            let from = senderOutput(s, source).data, to = senderOutput(s, base).data
            let delta = (0..<from.count).map { from[$0] - to[$0] }
            var rowRaw: [Double?] = [], rowPairs: [[Double]?] = []
            for r in receivers {
                guard r.reads(s) else { rowRaw.append(nil); rowPairs.append(nil); continue }
                func plus(_ hook: String) -> Tensor {
                    var x = base.activation(hook)!
                    for j in 0..<x.count { x.data[j] += delta[j] }
                    return x
                }
                let logits: [Float]
                switch r {
                case .logits:
                    let last = Hook.residPost.name(layer: c.n_layers - 1)
                    logits = try engine { () throws(ModelError) in try model.forward(startingAt: last, with: plus(last), base: base).logits.data }
                case .mlp(let l):
                    let input = Hook.residMid.name(layer: l), output = Hook.mlpOut.name(layer: l)
                    logits = try engine { () throws(ModelError) in
                        let out = try model.forward(startingAt: input, with: plus(input), base: base, plan: HookPlan(cache: [output]))
                        return try model.forward(startingAt: output, with: out.cache[output]!, base: base).logits.data
                    }
                case .head(let l, let h, let x):
                    let input = Hook.residPre.name(layer: l)
                    let hook = (x == .q ? Hook.q : x == .k ? .k : .v).name(layer: l)
                    logits = try engine { () throws(ModelError) in
                        let out = try model.forward(startingAt: input, with: plus(input), base: base, plan: HookPlan(cache: [hook]))
                        // only this head's q / k / v changes; the other heads keep the base run's
                        var act = base.activation(hook)!
                        let patched = out.cache[hook]!
                        forEachSlice(shape: act.shape, fixed: [nil, nil, h]) { off, n in
                            for j in off..<(off + n) { act.data[j] = patched.data[j] }
                        }
                        return try model.forward(startingAt: hook, with: act, base: base).logits.data
                    }
                }
                let m = metrics(logits: logits, firstRow: 0)
                rowRaw.append(mean(m)); rowPairs.append(m)
            }
            raw.append(rowRaw); perPair.append(rowPairs)
        }
        return PathPatchResult(direction: direction, metric: metric, senders: senders.map(\.name), receivers: receivers.map(\.name),
                               raw: raw, perPair: perPair, clean: clean, corrupted: corrupted)
    }

    /// A sender's output in one run [N, T, d_model]: z[:, :, h] W_O[h] for a head, hook_mlp_out for an MLP.
    func senderOutput(_ s: PathSender, _ st: ForwardState) -> Tensor {
        let c = model.config, N = pairs.count, T = pairs.length, D = c.d_model, H = c.n_heads, dh = c.d_head
        switch s {
        case .mlp(let l): return st.activation(Hook.mlpOut.name(layer: l))!
        case .head(let l, let h):
            let z = st.activation(Hook.z.name(layer: l))!.data
            let WO = model.params.tensor("blocks.\(l).attn.W_O")!.data     // [H, dh, D]
            var out = [Float](repeating: 0, count: N * T * D)
            for r in 0..<(N * T) {
                for e in 0..<dh {
                    let ze = z[(r * H + h) * dh + e]
                    for d in 0..<D { out[r * D + d] += ze * WO[(h * dh + e) * D + d] }
                }
            }
            return Tensor(shape: [N, T, D], data: out)
        }
    }

    private func check(_ s: PathSender) throws(PatchError) {
        let c = model.config
        let ok: Bool
        switch s {
        case .head(let l, let h): ok = l >= 0 && l < c.n_layers && h >= 0 && h < c.n_heads
        case .mlp(let l): ok = l >= 0 && l < c.n_layers
        }
        if !ok { throw .unknownKind("sender \(s.name)", available: PathSender.all(c).map(\.name)) }
    }

    private func check(_ r: PathReceiver) throws(PatchError) {
        let c = model.config
        let ok: Bool
        switch r {
        case .head(let l, let h, _): ok = l >= 0 && l < c.n_layers && h >= 0 && h < c.n_heads
        case .mlp(let l): ok = l >= 0 && l < c.n_layers
        case .logits: ok = true
        }
        if !ok { throw .unknownKind("receiver \(r.name)", available: PathReceiver.all(c).map(\.name)) }
    }
}
