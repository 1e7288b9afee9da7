import Testing
@testable import Transformer

/// Finite weights can still overflow float32 (issue 10's fuzz suite, seed 7: one weight of 3.4e38 in a
/// checkpoint). The forward pass must give NaN or infinity for the callers' checks to refuse, not trap in
/// the debug build (or compute garbage from an undefined conversion in the unchecked release build).
@Suite struct OverflowTests {
    @Test func fastExpGivesNaNBackAndClampsInfinities() {
        #expect(fastExp(.nan).isNaN)
        #expect(fastExp(-.infinity) >= 0 && fastExp(-.infinity) < 1e-37)
        #expect(fastExp(.infinity) > 1e38 && fastExp(.infinity).isFinite)
        #expect(abs(fastExp(1) - 2.7182817) < 1e-6)
    }

    @Test func aForwardPassThatOverflowsGivesNonFiniteLogits() throws {
        var m = tinyModel()
        let wq = try #require(m.params.layout.entries.first { $0.name == "blocks.0.attn.W_Q" })
        let wk = try #require(m.params.layout.entries.first { $0.name == "blocks.0.attn.W_K" })
        for e in [wq, wk] { for i in e.offset..<e.offset + e.count { m.params.data[i] = .greatestFiniteMagnitude } }
        let logits = try m.forward(tokens: [1, 2, 3, 4, 5, 6], batch: 1, length: 6).logits
        #expect(logits.data.contains { !$0.isFinite })
    }
}
