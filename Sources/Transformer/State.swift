// Every activation of one forward pass over a [B, T] batch, in plain buffers (llm.c's ActivationTensors).
// The backward pass reads them; "start late" copies them and recomputes from a hook onwards.

final class LayerActivations: @unchecked Sendable {
    let residPre, ln1Mean, ln1Scale, ln1Out, q, k, v, scores, pattern, z, attnOut: Buffer
    let residMid, ln2Mean, ln2Scale, ln2Out, mlpPre, mlpPost, mlpOut, residPost: Buffer
    let mlpSaved: Buffer         // tanh(...) of gelu_new per hidden unit, reused by the backward pass
    // hook_normalized, (x - mean) / scale before the gain and bias; ln1Out / ln2Out are the LayerNorm outputs.
    let ln1Norm, ln2Norm: Buffer
    var result: Buffer?          // [B, T, H, D], only when hook_result is in use (TransformerLens's use_attn_result)

    init(_ c: ModelConfig, BT: Int, B: Int, T: Int, arena: Arena?) {
        func buffer(_ n: Int) -> Buffer { arena.map { Buffer(n, in: $0) } ?? Buffer(n) }
        let D = c.d_model, HD = c.n_heads * c.d_head, S = B * c.n_heads * T * T
        residPre = buffer(BT * D); ln1Mean = buffer(BT); ln1Scale = buffer(BT); ln1Out = buffer(BT * D)
        q = buffer(BT * HD); k = buffer(BT * HD); v = buffer(BT * HD)
        scores = buffer(S); pattern = buffer(S); z = buffer(BT * HD); attnOut = buffer(BT * D)
        residMid = buffer(BT * D); ln2Mean = buffer(BT); ln2Scale = buffer(BT); ln2Out = buffer(BT * D)
        mlpPre = buffer(BT * c.d_mlp); mlpPost = buffer(BT * c.d_mlp); mlpOut = buffer(BT * D); residPost = buffer(BT * D)
        mlpSaved = buffer(BT * c.d_mlp)
        ln1Norm = buffer(BT * D); ln2Norm = buffer(BT * D)
    }

    private init(copying o: LayerActivations, arena: Arena?) {
        let copyIn = arena
        residPre = o.residPre.copy(in: copyIn); ln1Mean = o.ln1Mean.copy(in: copyIn); ln1Scale = o.ln1Scale.copy(in: copyIn); ln1Out = o.ln1Out.copy(in: copyIn)
        q = o.q.copy(in: copyIn); k = o.k.copy(in: copyIn); v = o.v.copy(in: copyIn); scores = o.scores.copy(in: copyIn); pattern = o.pattern.copy(in: copyIn)
        z = o.z.copy(in: copyIn); attnOut = o.attnOut.copy(in: copyIn); residMid = o.residMid.copy(in: copyIn); ln2Mean = o.ln2Mean.copy(in: copyIn)
        ln2Scale = o.ln2Scale.copy(in: copyIn); ln2Out = o.ln2Out.copy(in: copyIn); mlpPre = o.mlpPre.copy(in: copyIn); mlpPost = o.mlpPost.copy(in: copyIn)
        mlpOut = o.mlpOut.copy(in: copyIn); residPost = o.residPost.copy(in: copyIn); result = o.result?.copy(in: copyIn)
        mlpSaved = o.mlpSaved.copy(in: copyIn)
        ln1Norm = o.ln1Norm.copy(in: copyIn); ln2Norm = o.ln2Norm.copy(in: copyIn)
    }

    func copy(in arena: Arena?) -> LayerActivations { LayerActivations(copying: self, arena: arena) }

    init(tiling o: LayerActivations, _ tile: (Buffer) -> Buffer) {
        residPre = tile(o.residPre); ln1Mean = tile(o.ln1Mean); ln1Scale = tile(o.ln1Scale); ln1Out = tile(o.ln1Out)
        q = tile(o.q); k = tile(o.k); v = tile(o.v); scores = tile(o.scores); pattern = tile(o.pattern)
        z = tile(o.z); attnOut = tile(o.attnOut); residMid = tile(o.residMid); ln2Mean = tile(o.ln2Mean)
        ln2Scale = tile(o.ln2Scale); ln2Out = tile(o.ln2Out); mlpPre = tile(o.mlpPre); mlpPost = tile(o.mlpPost)
        mlpOut = tile(o.mlpOut); residPost = tile(o.residPost); result = o.result.map(tile)
        mlpSaved = tile(o.mlpSaved)
        ln1Norm = tile(o.ln1Norm); ln2Norm = tile(o.ln2Norm)
    }
}

/// The activations of one forward pass (and, once a backward pass ran, its scratch gradients).
public final class ForwardState: @unchecked Sendable {
    public let config: ModelConfig
    public let batch: Int
    public let length: Int
    public internal(set) var tokens: [Int32]
    let embed, posEmbed: Buffer
    let layers: [LayerActivations]
    let lnfMean, lnfScale, lnfNorm, lnfOut, logits: Buffer
    /// Packed Q/K/V weights [D, H*dh] per layer, rebuilt from the parameters on every forward.
    let packedQ, packedK, packedV: [Buffer]
    /// True once an intervention or a late start changed the pass: its gradients would not be the model's.
    var modified = false
    /// In a modified pass, the position (in firing order, `HookPoints.names`) of the last hook that was
    /// rewritten or started at: activation gradients are exact at that hook and every later one, because
    /// nothing computed after it was rewritten. nil in an unmodified pass.
    var exactGradientsFrom: Int?
    var grads: GradientBuffers?
    /// The config's stages and hook names, built once per pass's buffers (a late start runs many times).
    private(set) lazy var stages: [Stage] = Stage.all(config)
    private(set) lazy var hookNames: [String] = stages.flatMap { $0.hooks.map(\.name) }
    /// Whether the last late start recomputed positions past its changed ones before the last block
    /// (an attention layer read changed keys or values), i.e. whether it left rows >= `from` changed.
    var lastRunWidened = false

    init(_ c: ModelConfig, batch B: Int, length T: Int) {
        config = c; batch = B; length = T
        tokens = []
        let arena = ForwardState.arena(c, batch: B, length: T)
        func buffer(_ n: Int) -> Buffer { arena.map { Buffer(n, in: $0) } ?? Buffer(n) }
        let BT = B * T, D = c.d_model
        embed = buffer(BT * D); posEmbed = buffer(BT * D)
        layers = (0..<c.n_layers).map { _ in LayerActivations(c, BT: BT, B: B, T: T, arena: arena) }
        lnfMean = buffer(BT); lnfScale = buffer(BT); lnfNorm = buffer(BT * D); lnfOut = buffer(BT * D); logits = buffer(BT * c.d_vocab)
        let wq = c.d_model * c.n_heads * c.d_head
        packedQ = (0..<c.n_layers).map { _ in buffer(wq) }
        packedK = (0..<c.n_layers).map { _ in buffer(wq) }
        packedV = (0..<c.n_layers).map { _ in buffer(wq) }
    }

    private init(copying o: ForwardState) {
        let arena = ForwardState.arena(o.config, batch: o.batch, length: o.length)
        config = o.config; batch = o.batch; length = o.length; tokens = o.tokens
        embed = o.embed.copy(in: arena); posEmbed = o.posEmbed.copy(in: arena); layers = o.layers.map { $0.copy(in: arena) }
        lnfMean = o.lnfMean.copy(in: arena); lnfScale = o.lnfScale.copy(in: arena); lnfNorm = o.lnfNorm.copy(in: arena); lnfOut = o.lnfOut.copy(in: arena); logits = o.logits.copy(in: arena)
        packedQ = o.packedQ.map { $0.copy(in: arena) }; packedK = o.packedK.map { $0.copy(in: arena) }; packedV = o.packedV.map { $0.copy(in: arena) }
        modified = o.modified; exactGradientsFrom = o.exactGradientsFrom
    }

    func copy() -> ForwardState { ForwardState(copying: self) }

    /// An arena for a pass of this size, or nil below 4 MiB (small passes, such as most of the tests',
    /// keep ordinary heap buffers; an evaluation batch of a `base` model is above it).
    static func arena(_ c: ModelConfig, batch B: Int, length T: Int) -> Arena? {
        let perToken = 20 * c.d_model + 4 * c.n_heads * c.d_head + 3 * c.d_mlp + 2 * c.n_heads * T
        return B * T * perToken * c.n_layers * MemoryLayout<Float>.stride >= 4 << 20 ? Arena() : nil
    }

    private init(_ o: ForwardState, repeated k: Int) {
        config = o.config; batch = o.batch * k; length = o.length
        tokens = Array([[Int32]](repeating: o.tokens, count: k).joined())
        let arena = ForwardState.arena(o.config, batch: o.batch * k, length: o.length)
        func tile(_ b: Buffer) -> Buffer { Buffer(repeating: b, times: k, in: arena) }
        embed = tile(o.embed); posEmbed = tile(o.posEmbed)
        layers = o.layers.map { LayerActivations(tiling: $0, tile) }
        lnfMean = tile(o.lnfMean); lnfScale = tile(o.lnfScale); lnfNorm = tile(o.lnfNorm); lnfOut = tile(o.lnfOut)
        logits = tile(o.logits)
        packedQ = o.packedQ.map { $0.copy() }; packedK = o.packedK.map { $0.copy() }; packedV = o.packedV.map { $0.copy() }
        modified = o.modified; exactGradientsFrom = o.exactGradientsFrom
    }

    /// The same pass `k` times over, stacked along the batch ([B, ...] -> [k B, ...]): the base on which
    /// k patched variants of one batch run as one batch (every buffer is batch-first, so each tiles whole).
    public func repeated(_ k: Int) -> ForwardState { ForwardState(self, repeated: max(k, 1)) }

    /// The buffer behind a hook name, if that hook is materialised in this pass (the table's storage).
    func buffer(_ name: String) -> Buffer? {
        guard let (hook, layer) = HookPoints.locate(name, config) else { return nil }
        switch hook.point.storage {
        case .model(let path): return self[keyPath: path]
        case .block(let path): return layers[layer][keyPath: path]
        case .blockWhenInUse(let path): return layers[layer][keyPath: path]
        }
    }

    /// A copy of one hook's activation in this pass (TransformerLens shape), or nil if the model has no
    /// such hook or it is not materialised (`hook_result` when not in use).
    public func activation(_ name: String) -> Tensor? {
        guard let buf = buffer(name), let shape = HookPoints.shape(name, config, batch: batch, length: length) else { return nil }
        return Tensor(shape: shape, data: buf.array)
    }

    /// Logits as a [B, T, V] tensor.
    public var logitsTensor: Tensor { Tensor(shape: [batch, length, config.d_vocab], data: logits.array) }
}

import Tensors
