import Foundation
import Tensors

/// Model checkpoints: safetensors with TransformerLens names (CONTRACTS section 2), metadata
/// `config`, `step`, `run`, `format`. Written atomically.
public enum Checkpoint {
    public static let format = "emergence-lens.checkpoint/1"

    public static func save(_ model: Transformer, step: Int, run: String, to path: String) throws {
        let entries = model.params.layout.entries.map {
            Safetensors.Entry(name: $0.name, shape: $0.shape, values: Array(model.params.data[$0.offset..<$0.offset + $0.count]))
        }
        let meta = ["config": model.config.jsonString(), "step": String(step), "run": run, "format": format]
        try AtomicFile.write(Safetensors.encode(entries, metadata: meta), to: path)
    }

    public struct Loaded: Sendable {
        public let model: Transformer
        public let step: Int
        public let run: String
    }

    /// Loads and checks every name, dtype, shape and byte count; the first mismatch is the error.
    public static func load(_ path: String) throws(ModelError) -> Loaded {
        let data = try Safetensors.read(path: path)
        let header = try Safetensors.readHeader(data, path: path)
        guard header.metadata["format"] == format else {
            throw .checkpoint(path: path, problem: "metadata format is \(header.metadata["format"].map { "\"\($0)\"" } ?? "missing"), expected \"\(format)\"")
        }
        guard let cfgText = header.metadata["config"],
              let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(cfgText.utf8)) else {
            throw .checkpoint(path: path, problem: "metadata config is missing or not a model config")
        }
        do { try config.validate() } catch { throw .checkpoint(path: path, problem: error.description) }
        var params = Parameters(zerosFor: config)
        let expected = Set(params.layout.entries.map(\.name))
        if let unknown = header.tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw .checkpoint(path: path, problem: "unknown tensor \(unknown) for this config")
        }
        for e in params.layout.entries {
            let (shape, values) = try Safetensors.floats(data, header, e.name, path: path)
            guard shape == e.shape else {
                throw .checkpoint(path: path, problem: "tensor \(e.name) has shape \(shape), expected \(e.shape)")
            }
            // A trained model never holds one (training stops at the first non-finite weight), and
            // evaluating one only spreads NaN into the metrics (which then cannot be written as JSON).
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw .checkpoint(path: path, problem: "tensor \(e.name) holds \(values[i]) at element \(i); weights must be finite")
            }
            params.data.replaceSubrange(e.offset..<e.offset + e.count, with: values)
        }
        var step = 0
        if let text = header.metadata["step"] {
            guard let s = Int(text), s >= 0 else { throw .checkpoint(path: path, problem: "metadata step \"\(text)\" is not a step number") }
            step = s
        }
        let model = try Transformer(config: config, params: params)
        return Loaded(model: model, step: step, run: header.metadata["run"] ?? "")
    }
}
