// Draws examples of one split. Sampling is rejection sampling from the task's own distribution,
// so each split has the task's item distribution restricted to its operand tuples.

import Tensors

public enum Dataset {
    /// `n` examples of `split`, deterministic in (task, split policy, seed).
    ///
    /// The RNG stream is derived from `seed` and the task name, so tasks generated with the same seed
    /// do not share draws. With `dedupe`, an exact (prompt, answer) repeat is skipped; the order task
    /// has only a few dozen distinct stories, so dedupe there caps n (error, not an endless loop).
    /// Throws `splitExhausted` if `maxDraws` draws do not yield n examples.
    public static func generate(task: any SkillTask, split: Split, count n: Int, seed: UInt64,
                                policy: SplitPolicy = SplitPolicy(), dedupe: Bool = false,
                                maxDraws: Int? = nil) throws(SkillsError) -> [Example] {
        try task.config.validate()
        var rng = RNG(seed: seed).derived(stableHash(task.name))
        let limit = maxDraws ?? max(10_000, 200 * n)
        var examples: [Example] = []
        var seen = Set<String>()
        var draws = 0
        while examples.count < n {
            guard draws < limit else {
                throw .splitExhausted(task: task.name, split: split.rawValue, found: examples.count, wanted: n, attempts: draws)
            }
            draws += 1
            let example = task.example(rng: &rng)
            guard policy.split(of: example, task: task) == split else { continue }
            if dedupe {
                guard seen.insert(example.prompt + "\u{0}" + example.answer).inserted else { continue }
            }
            examples.append(example)
        }
        return examples
    }
}
