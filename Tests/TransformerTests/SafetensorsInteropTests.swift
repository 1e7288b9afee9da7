import Foundation
import Testing
import Tensors
import TestSupport
@testable import Transformer

@Suite struct SafetensorsInteropTests {
    /// A real client: Python's `safetensors.numpy.load_file` reads a checkpoint written by lens, and a
    /// numpy forward pass written from TransformerLens's definitions gives the same logits.
    @Test func pythonSafetensorsReadsOurCheckpointAndReproducesTheLogits() throws {
        let m = tinyModel(act: "gelu_new")
        let dir = try TempDir("interop")
        try Checkpoint.save(m, step: 42, run: "interop", to: dir.path("m.safetensors"))
        let B = 2, T = 5
        let tokens = randomTokens(m, batch: B, length: T)
        let rows = (0..<B).map { b in (0..<T).map { Int(tokens[b * T + $0]) } }
        try JSONSerialization.data(withJSONObject: rows).write(to: URL(fileURLWithPath: dir.path("tokens.json")))
        let r = try runPython([Repo.root + "/python/lens_numpy.py", dir.path("m.safetensors"), dir.path("tokens.json")])
        guard r.status == 0 else {
            Issue.record("python failed (run `make pydeps` for safetensors; `apt-get install python3-numpy`): \(r.err)")
            return
        }
        let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(json["format"] as? String == "emergence-lens.checkpoint/1")
        #expect(json["step"] as? String == "42")
        #expect(json["run"] as? String == "interop")
        #expect(json["names"] as? [String] == m.params.layout.entries.map(\.name).sorted())
        #expect(json["dtypes"] as? [String] == ["float32"])
        let shapes = json["shapes"] as! [String: [Int]]
        for e in m.params.layout.entries {
            #expect(shapes[e.name] == e.shape, "\(e.name)")
            #expect((json["first_values"] as! [String: Double])[e.name].map { Float($0) } == m.params.data[e.offset], "\(e.name) value")
        }
        let cfg = json["config"] as! [String: Any]
        #expect(cfg["d_model"] as? Int == 8 && cfg["n_heads"] as? Int == 2 && cfg["act_fn"] as? String == "gelu_new")
        let theirs = json["logits"] as! [Double]
        let ours = try m.forward(tokens: tokens, batch: B, length: T).logits.data
        #expect(theirs.count == ours.count)
        let worst = zip(theirs, ours).map { abs($0 - Double($1)) }.max() ?? .infinity
        #expect(worst < 1e-4, "numpy forward vs lens logits: max abs diff \(worst)")
    }
}
