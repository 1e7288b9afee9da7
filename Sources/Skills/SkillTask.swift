// The one protocol every task implements. A task is a seeded generator of examples in a documented
// text format, plus the task-specific knowledge that splits, corruptions and chance levels need.

import Tensors

public protocol SkillTask: Sendable {
    /// Registry name, also written into `Example.task`.
    var name: String { get }
    /// Human-readable description of the text format (prompt -> answer), for reports.
    var formatDescription: String { get }
    var config: TaskConfig { get }

    /// Draws one example; deterministic given the RNG state.
    func example(rng: inout RNG) -> Example

    /// A minimal pair: the example with one latent changed and the encoded length (and every
    /// named position) unchanged. Nil when the kind does not apply or no same-length variant was found.
    func corrupt(_ example: Example, kind: CorruptionKind, rng: inout RNG) -> Example?

    /// The corruption kinds `corrupt` can apply to this task's items (others always give nil).
    var corruptionKinds: [CorruptionKind] { get }

    /// The operand tuple that decides the split. Examples with equal keys always share a split.
    func splitKey(of example: Example) -> [Int]

    /// Number of answers a uniform guesser would choose among for this item (chance = 1 / size).
    func answerSpaceSize(of example: Example) -> Int

    /// Longest encoded sequence (`<bos> prompt answer <eos>`) this task can produce under its config.
    var maxEncodedLength: Int { get }

    /// Items of other tasks that this item contains (a story's telling as an `order` item, each
    /// scratchpad equation as an `add`/`sub`/`double` item). An item is trained on only if all of its
    /// components are training items too, so no held-out sub-skill item is seen inside a composite.
    func components(of example: Example) -> [(task: any SkillTask, example: Example)]
}

extension SkillTask {
    public func components(of example: Example) -> [(task: any SkillTask, example: Example)] { [] }

    /// Index in `Tasks.names`, written as label `task_id` (-1 for unregistered plug-in tasks).
    var taskID: Int { Tasks.names.firstIndex(of: name) ?? -1 }
}

/// Number of decimal digits of a non-negative integer.
func digitCount(_ n: Int) -> Int { String(n).count }

/// A uniformly drawn number in `range` with the same digit count as `old` and different from it,
/// or nil after a few tries (e.g. when old is the only such number).
func sameWidthNumber(replacing old: Int, in range: ClosedRange<Int>, rng: inout RNG) -> Int? {
    let width = digitCount(old)
    let low = max(range.lowerBound, width == 1 ? 0 : Int(pow10(width - 1)))
    let high = min(range.upperBound, Int(pow10(width)) - 1)
    guard low < high || (low == high && low != old) else { return nil }
    for _ in 0..<20 {
        let candidate = rng.int(in: low...high)
        if candidate != old { return candidate }
    }
    return nil
}

private func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { acc, _ in acc * 10 } }
