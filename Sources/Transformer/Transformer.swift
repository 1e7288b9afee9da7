import Tensors

/// A GPT-2-style decoder (pre-LN, learned positions, biases everywhere, untied unembedding), with
/// TransformerLens parameter names and hook points. The forward pass lives in Forward.swift, the
/// hand-written backward pass in Backward.swift, each layer's kernels in their own file.
public struct Transformer: Sendable {
    public let config: ModelConfig
    public var params: Parameters

    /// A freshly initialised model (deterministic in `config.seed`).
    public init(config: ModelConfig) throws(ModelError) {
        try config.validate()
        self.config = config
        self.params = Parameters(initialFor: config)
    }

    public init(config: ModelConfig, params: Parameters) throws(ModelError) {
        try config.validate()
        guard params.layout == ParameterLayout(config) else { throw .shapeMismatch("parameters do not fit the config") }
        self.config = config
        self.params = params
    }

    public var parameterCount: Int { params.count }
}
