import Foundation
import Skills
import Testing
@testable import Patching

/// Patching specs: the shipped ones parse, defaults are what the schema says, and each bad spec is one
/// error naming the file and the key.
@Suite struct PatchSpecTests {
    static let kinds = ["resid_pre", "resid_mid", "attn_out", "mlp_out", "head_out_by_pos"]
    static let base = "name: e\nquestion: q?\ntask: sub\ncorruption: operand\n"

    static func parse(_ extra: String) throws(PatchSpecError) -> PatchSpec {
        try PatchSpec.parse(base + extra, file: "e.yaml", kinds: kinds)
    }

    @Test func defaults() throws {
        let s = try Self.parse("")
        #expect(s.decisions == [.answer] && s.pairs == 200 && s.minPairs == 20 && s.metric == "logit_diff")
        #expect(s.directions == ["denoising"] && s.ablation == "resample" && s.attribution && s.seed == 0)
        #expect(try Self.parse("kinds: all").kinds == Self.kinds)
        let full = try Self.parse("decisions: [answer]\npairs: 50\nmin_pairs: 5\nmetric: kl\nkinds: [mlp_out, resid_pre]\n"
                                  + "directions: [noising, denoising]\nablation: zero\nattribution: false\nseed: 7\n")
        #expect(full.kinds == ["mlp_out", "resid_pre"] && full.directions == ["noising", "denoising"])
        #expect(full.pairs == 50 && full.minPairs == 5 && full.metric == "kl" && full.ablation == "zero" && !full.attribution && full.seed == 7)
    }

    @Test(arguments: [
        ("colour: red\n", "unknown key \"colour\""),
        ("kinds: [resid_pre, head_every_thing]\n", "kinds: \"head_every_thing\" is not one of"),
        ("kinds: []\n", "kinds: must list at least one"),
        ("metric: [logit_diff, kl]\n", "metric: must be one of"),
        ("ablation: mean_of_nothing\n", "ablation: must be one of"),
        ("directions: [sideways]\n", "directions: \"sideways\" is not one of"),
        ("decisions: [step1]\n", "decisions: task sub has no step1 decision"),
        ("pairs: 0\n", "pairs: must be an integer in 1...100000"),
        ("pairs: 1e12\n", "pairs: must be an integer"),
        ("pairs: 10\nmin_pairs: 11\n", "min_pairs: 11 is more than pairs (10)"),
        ("attribution: maybe\n", "attribution: must be true or false"),
        ("seed: -1\n", "seed: must be a non-negative integer"),
        ("pairs: 3\npairs: 4\n", "duplicate"),
    ])
    func badSpecsAreOneLineNamingFileAndKey(extra: String, expected: String) {
        let e = #expect(throws: PatchSpecError.self) { try Self.parse(extra) }
        #expect(e?.description.hasPrefix("e.yaml: ") == true)
        #expect(e?.description.contains(expected) == true, "\(e?.description ?? "no error")")
        #expect(e?.description.contains("\n") == false)
    }

    @Test func aCorruptionOrTaskTheStudyLacksIsAnError() {
        let order = #expect(throws: PatchSpecError.self) {
            try PatchSpec.parse("name: e\nquestion: q?\ntask: sub\ncorruption: order\n", file: "e.yaml", kinds: Self.kinds)
        }
        #expect(order?.description.contains("task sub has no order corruption (it has: operand, operation)") == true)
        let task = #expect(throws: PatchSpecError.self) {
            try PatchSpec.parse("name: e\nquestion: q?\ntask: divide\ncorruption: operand\n", file: "e.yaml", kinds: Self.kinds)
        }
        #expect(task?.description.contains("task: unknown task \"divide\"") == true)
        let escape = #expect(throws: PatchSpecError.self) {
            try PatchSpec.parse("name: ../x\nquestion: q?\ntask: sub\ncorruption: operand\n", file: "e.yaml", kinds: Self.kinds)
        }
        #expect(escape?.description.contains("name: must not contain a path separator") == true)
    }
}
