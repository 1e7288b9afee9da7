/// Study files small enough to parse in microseconds or train in seconds, written in one place so that a
/// change of the study format is one edit here, not one per test file.
public enum StudyFixtures {
    /// The smallest model entry a study may hold (one layer, d_model 8).
    public static let smallestModel = "{name: a, n_layers: 1, d_model: 8, n_heads: 2, d_mlp: 16}"

    /// A study that is only parsed, never trained: `tasks` is the body of the tasks mapping, `extra` more
    /// top-level lines (each ending in a newline).
    public static func parseOnly(tasks: String = "add: 1", extra: String = "") -> String {
        "name: t\ntasks: {\(tasks)}\nmodels:\n  - \(smallestModel)\n" + extra
    }

    /// A study of one d_model-16 model that trains in seconds (tasks weighted 1 each, all evaluated).
    /// Its runs are named `d16-s<seed>`. The defaults are the runs tests: 60 steps, checkpoints at 0,
    /// densely up to 20 and then every 20.
    public static func trainable(name: String = "tiny", tasks: [String] = ["add", "sub"], layers: Int = 1,
                                 seeds: [Int] = [3], steps: Int = 60, batch: Int = 16, warmup: Int = 5,
                                 checkpoints: String = "{dense_until: 20, dense_count: 3, every: 20}",
                                 evalItems: Int = 30) -> String {
        """
        name: \(name)
        tasks: {\(tasks.map { "\($0): 1" }.joined(separator: ", "))}
        eval_tasks: [\(tasks.joined(separator: ", "))]
        problem: {max_operand: 9, max_step: 5}
        models:
          - {name: d16, n_layers: \(layers), d_model: 16, n_heads: 2, d_mlp: 32}
        seeds: [\(seeds.map(String.init).joined(separator: ", "))]
        steps: \(steps)
        batch: \(batch)
        warmup: \(warmup)
        checkpoints: \(checkpoints)
        eval: {n: \(evalItems)}

        """
    }
}
