import Foundation
import Testing
import TestSupport
import Transformer
@testable import ActivationStore

@Suite struct HookShapeValidationTests {
    /// A file whose hook has the wrong trailing shape, or a name no model of its config has, is rejected.
    @Test(arguments: [("blocks.0.hook_resid_post", [4, 7], "expected [2, 4, 16]"),
                      ("blocks.9.hook_bogus", [4, 16], "no hook named 'blocks.9.hook_bogus'"),
                      ("blocks.0.attn.hook_pattern", [2, 4, 3], "expected [2, 2, 4, 4]")])
    func hookShapesAreCheckedAgainstTheConfig(hook: String, shape: [Int], expected: String) throws {
        let cfg = ModelConfig(n_layers: 1, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, n_ctx: 4, d_vocab: 39)
        let dir = try TempDir("shape")
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("shape.h5")
        let w = try ActivationFileWriter(path: path, attributes: FileAttributes(config: cfg.jsonString(), run: "r", step: 0, tasks: ["add"],
                                                                                seed: 0, vocab: (0..<39).map { "t\($0)" }),
                                         n: 2, seqLen: 4, hooks: [(name: hook, shapeAfterBatch: shape)])
        try w.appendBatch(tokens: [Int32](repeating: 1, count: 8), lengths: [4, 4], prompts: ["a", "b"], tasks: ["add", "add"],
                          activations: [hook: [Float](repeating: 0, count: 2 * shape.reduce(1, *))])
        try w.finish()
        do { _ = try validateActivationFile(path); Issue.record("accepted \(hook) \(shape)") }
        catch { #expect("\(error)".contains(expected) && "\(error)".contains(path), "\(error)") }
    }
}
