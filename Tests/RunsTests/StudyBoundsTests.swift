import Testing
import TestSupport
@testable import Runs
import Transformer

/// Sizes that used to crash or hang (issue 10, point 3) are one-line errors naming the file and key.
@Suite struct StudyBoundsTests {
    static let cases: [(yaml: String, expected: String)] = [
        (StudyFixtures.parseOnly(tasks: "add: .inf"), "tasks.add: weight must be a positive number"),
        (StudyFixtures.parseOnly(extra: "lr: .nan\n"), "lr: must be a number"),
        (StudyFixtures.parseOnly(extra: "steps: 1000000000000000000\n"), "steps: must be <= 100000000"),
        (StudyFixtures.parseOnly(extra: "batch: 1000000000\n"), "batch: must be <= 1048576"),
        (StudyFixtures.parseOnly(extra: "batch: 1000000\n"), "of activations; at most half of this machine's"),
        (StudyFixtures.parseOnly(extra: "checkpoints: {dense_count: 1000000000000}\n"), "checkpoints.dense_count: must be <= 10000"),
        (StudyFixtures.parseOnly(extra: "steps: 100000000\ncheckpoints: {every: 1}\n"), "checkpoints for 100000000 steps"),
        (StudyFixtures.parseOnly(extra: "eval: {n: 1000000000}\n"), "eval.n: must be <= 100000"),
        // Found by the fuzz suite: an empty list silently meant the default.
        (StudyFixtures.parseOnly(extra: "eval_tasks: []\n"), "eval_tasks: must list at least one task"),
        (StudyFixtures.parseOnly(extra: "eval_tasks: [add, sub, add]\n"), "eval_tasks: \"add\" is listed twice"),
        ("name: t\ntasks: {add: 1}\nmodels:\n  - {name: a, n_layers: 1, d_model: 4611686018427387904, n_heads: 2, d_mlp: 16}\n",
         "models[0]: impossible size"),
        ("name: t\ntasks: {add: 1}\nmodels:\n  - {name: a, n_layers: 1000000000, d_model: 8, n_heads: 2, d_mlp: 16}\n",
         "more than half of this machine's"),
        ("name: t\ntasks: {add: 1}\nmodels:\n  - {name: a, n_layers: 1, d_model: 8, n_heads: 4611686018427387904, d_mlp: 16}\n",
         "models[0]: impossible size"),
    ]

    @Test(arguments: 0..<cases.count)
    func anImpossibleSizeIsOneLineNamingTheKey(index: Int) {
        let (yaml, expected) = Self.cases[index]
        do { _ = try StudySpec.parse(yaml, file: "s.yaml"); Issue.record("accepted: \(yaml)") } catch {
            #expect(error.description.hasPrefix("s.yaml: "), "\(error)")
            #expect(error.description.contains(expected), "\(error.description) should contain \(expected)")
        }
    }

    @Test func theParameterCountEqualsTheLayouts() {
        for c in [ModelConfig(n_layers: 2, d_model: 64, n_heads: 8, d_head: 8, d_mlp: 256, n_ctx: 59, d_vocab: 39),
                  ModelConfig(n_layers: 3, d_model: 48, n_heads: 3, d_head: 12, d_mlp: 96, n_ctx: 7, d_vocab: 11)] {
            #expect(c.parameterCount == ParameterLayout(c).totalCount)
        }
        #expect(ModelConfig(n_layers: 1, d_model: 1 << 40, n_heads: 1 << 20, d_head: 1 << 20, d_mlp: 1, n_ctx: 1, d_vocab: 1).parameterCount == nil)
    }
}

/// Names become directories: they cannot climb out of the output directory (issue 10, point 4).
@Suite struct StudyNameTests {
    @Test(arguments: ["../../x", "a/b", "..", ".hidden", "-rf", ""])
    func aNameThatIsNotOnePathComponentIsAnError(name: String) {
        let study = "name: \"\(name)\"\ntasks: {add: 1}\nmodels:\n  - \(StudyFixtures.smallestModel)\n"
        do { _ = try StudySpec.parse(study, file: "s.yaml"); Issue.record("accepted name \(name)") } catch {
            #expect(error.description.hasPrefix("s.yaml: name: "), "\(error)")
        }
        let model = "name: t\ntasks: {add: 1}\nmodels:\n  - {name: \"\(name)\", n_layers: 1, d_model: 8, n_heads: 2, d_mlp: 16}\n"
        do { _ = try StudySpec.parse(model, file: "s.yaml"); Issue.record("accepted model name \(name)") } catch {
            #expect(error.description.hasPrefix("s.yaml: models[0].name: "), "\(error)")
        }
    }
}
