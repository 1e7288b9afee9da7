// Every activation of one forward pass over a [B, T] batch, in plain buffers (llm.c's ActivationTensors).
// The backward pass reads them; "start late" copies them and recomputes from a hook onwards.

final class LayerActivations: @unchecked Sendable {
    let residPre, ln1Mean, ln1Scale, ln1Out, q, k, v, scores, pattern, z, attnOut: Buffer
    let residMid, ln2Mean, ln2Scale, ln2Out, mlpPre, mlpPost, mlpOut, residPost: Buffer
    let mlpSaved: Buffer         // tanh(...) of gelu_new per hidden unit, reused by the backward pass
    // hook_normalized, (x - mean) / scale before the gain and bias; ln1Out / ln2Out are the LayerNorm outputs.
    let ln1Norm, ln2Norm: Buffer
    var result: Buffer?          // [B, T, H, D], only when hook_result is in use (TransformerLens's use_attn_result)

    init(_ c: ModelConfig, BT: Int, B: Int, T: Int) {
        let D = c.d_model, HD = c.n_heads * c.d_head, S = B * c.n_heads * T * T
        residPre = Buffer(BT * D); ln1Mean = Buffer(BT); ln1Scale = Buffer(BT); ln1Out = Buffer(BT * D)
        q = Buffer(BT * HD); k = Buffer(BT * HD); v = Buffer(BT * HD)
        scores = Buffer(S); pattern = Buffer(S); z = Buffer(BT * HD); attnOut = Buffer(BT * D)
        residMid = Buffer(BT * D); ln2Mean = Buffer(BT); ln2Scale = Buffer(BT); ln2Out = Buffer(BT * D)
        mlpPre = Buffer(BT * c.d_mlp); mlpPost = Buffer(BT * c.d_mlp); mlpOut = Buffer(BT * D); residPost = Buffer(BT * D)
        mlpSaved = Buffer(BT * c.d_mlp)
        ln1Norm = Buffer(BT * D); ln2Norm = Buffer(BT * D)
    }

    private init(copying o: LayerActivations) {
        residPre = o.residPre.copy(); ln1Mean = o.ln1Mean.copy(); ln1Scale = o.ln1Scale.copy(); ln1Out = o.ln1Out.copy()
        q = o.q.copy(); k = o.k.copy(); v = o.v.copy(); scores = o.scores.copy(); pattern = o.pattern.copy()
        z = o.z.copy(); attnOut = o.attnOut.copy(); residMid = o.residMid.copy(); ln2Mean = o.ln2Mean.copy()
        ln2Scale = o.ln2Scale.copy(); ln2Out = o.ln2Out.copy(); mlpPre = o.mlpPre.copy(); mlpPost = o.mlpPost.copy()
        mlpOut = o.mlpOut.copy(); residPost = o.residPost.copy(); result = o.result?.copy()
        mlpSaved = o.mlpSaved.copy()
        ln1Norm = o.ln1Norm.copy(); ln2Norm = o.ln2Norm.copy()
    }

    func copy() -> LayerActivations { LayerActivations(copying: self) }

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
        let BT = B * T, D = c.d_model
        embed = Buffer(BT * D); posEmbed = Buffer(BT * D)
        layers = (0..<c.n_layers).map { _ in LayerActivations(c, BT: BT, B: B, T: T) }
        lnfMean = Buffer(BT); lnfScale = Buffer(BT); lnfNorm = Buffer(BT * D); lnfOut = Buffer(BT * D); logits = Buffer(BT * c.d_vocab)
        let wq = c.d_model * c.n_heads * c.d_head
        packedQ = (0..<c.n_layers).map { _ in Buffer(wq) }
        packedK = (0..<c.n_layers).map { _ in Buffer(wq) }
        packedV = (0..<c.n_layers).map { _ in Buffer(wq) }
    }

    private init(copying o: ForwardState) {
        config = o.config; batch = o.batch; length = o.length; tokens = o.tokens
        embed = o.embed.copy(); posEmbed = o.posEmbed.copy(); layers = o.layers.map { $0.copy() }
        lnfMean = o.lnfMean.copy(); lnfScale = o.lnfScale.copy(); lnfNorm = o.lnfNorm.copy(); lnfOut = o.lnfOut.copy(); logits = o.logits.copy()
        packedQ = o.packedQ.map { $0.copy() }; packedK = o.packedK.map { $0.copy() }; packedV = o.packedV.map { $0.copy() }
        modified = o.modified; exactGradientsFrom = o.exactGradientsFrom
    }

    func copy() -> ForwardState { ForwardState(copying: self) }

    private init(_ o: ForwardState, repeated k: Int) {
        config = o.config; batch = o.batch * k; length = o.length
        tokens = Array([[Int32]](repeating: o.tokens, count: k).joined())
        func tile(_ b: Buffer) -> Buffer { Buffer(repeating: b, times: k) }
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
