import Foundation
@testable import ActivationStore

/// A small synthetic activation file: every value is a known function of (example, index), so any slice
/// can be computed independently of the reader.
struct Fixture {
    static let t = 5, d = 3, heads = 2, dMLP = 4
    static let vocab = ["<pad>", "0", "1", "2", "+", "=", "é", "→"]
    static let hooks: [(name: String, shapeAfterBatch: [Int])] = [
        ("blocks.0.hook_resid_post", [t, d]),
        ("blocks.0.attn.hook_pattern", [heads, t, t]),
        ("blocks.0.mlp.hook_post", [t, dMLP]),
    ]
    static let attributes = FileAttributes(config: #"{"n_layers":1,"d_model":3,"act_fn":"gelu_new"}"#,
                                           run: "run-α/1", step: 1200, tasks: ["add", "compare"],
                                           seed: 18_446_744_073_709_551_615, vocab: vocab)

    let n: Int
    static func value(_ hook: Int, _ row: Int, _ j: Int) -> Float { Float(hook * 100_000 + row * 1000 + j) * 0.25 }
    func tokens(_ r: Int) -> [Int32] { (0..<Fixture.t).map { Int32((r + $0) % Fixture.vocab.count) } }
    func length(_ r: Int) -> Int32 { Int32(1 + r % Fixture.t) }
    func prompt(_ r: Int) -> String { "\(r)+\(r % 3)= ünïcödé ✓" }
    func task(_ r: Int) -> String { r % 2 == 0 ? "add" : "compare" }
    func answerStart(_ r: Int) -> Int32 { Int32(r % Fixture.t) }
    func equals(_ r: Int) -> Int32 { Int32((r + 1) % Fixture.t) }
    func operand(_ r: Int) -> Int32 { Int32(r * 7 - 3) }
    func carry(_ r: Int) -> Float { Float(r) / 8 - 0.5 }
    func hookRow(_ h: Int, _ r: Int) -> [Float] {
        (0..<Fixture.hooks[h].shapeAfterBatch.reduce(1, *)).map { Fixture.value(h, r, $0) }
    }
    func hookRows(_ h: Int, _ rows: Range<Int>) -> [Float] { rows.flatMap { hookRow(h, $0) } }

    /// Writes the file in batches of `batch` rows; `finish: false` leaves the `.partial`.
    func write(_ path: String, compress: Bool, batch: Int = 3, finish: Bool = true, chunkRows: Int? = 2) throws {
        let w = try ActivationFileWriter(path: path, attributes: Fixture.attributes, n: n, seqLen: Fixture.t,
                                         hooks: Fixture.hooks, labels: [("operand", .int32), ("carry", .float32)],
                                         positionNames: ["answer_start", "equals"], compress: compress, chunkRows: chunkRows)
        var s = 0
        while s < n {
            let rows = s..<min(n, s + batch)
            var acts: [String: [Float]] = [:]
            for (h, hook) in Fixture.hooks.enumerated() { acts[hook.name] = hookRows(h, rows) }
            try w.appendBatch(tokens: rows.flatMap(tokens), lengths: rows.map(length), prompts: rows.map(prompt),
                              tasks: rows.map(task),
                              positions: ["answer_start": rows.map(answerStart), "equals": rows.map(equals)],
                              labels: ["operand": .int32(rows.map(operand)), "carry": .float32(rows.map(carry))],
                              activations: acts)
            s = rows.upperBound
        }
        if finish { try w.finish() }
    }
}
