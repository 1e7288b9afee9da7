// Task `order`: a story of 2 or 3 operations told with order words (Story.swift), possibly out of
// temporal order; the answer is the operation symbols in temporal order. The clauses are those of
// `multistep` stories, numbers included, but there is no start value and nothing to compute.
//
// Format:  prompt `<clause>. <clause>.[ <clause>.] order?`   (clause: `[<order word> ]<op word>[ <k>]`)
//   `later sub 3. first twice. order?`                -> `*-`    (double happens first, then sub)
//   `add 5. prior sub 12. order?`                      -> `-+`    (relative: "prior" = before that)
//   `final add 7. first sub 21. later twice. order?`   -> `-*+`
// The operations of one story are distinct (drawn without replacement from add, sub, double), so the
// answer is a permutation and every item is order dependent; k in 1...maxStep. 3-step stories use the
// absolute template.
// Labels: op1..op3 and step1_value..step3_value (temporal), step1_clause..step3_clause, template,
// told_out_of_order, order_dependent (always 1), num_steps. Arithmetic labels are -1.
// Corruptions: order (swap the order words of two steps), operation (add k <-> sub k when the other is
// not already in the story; "twice" has no number); operand does not apply (numbers do not change
// the answer).

import Tensors

public struct OrderTask: SkillTask {
    public let config: TaskConfig

    public init(config: TaskConfig = TaskConfig()) { self.config = config }

    public var name: String { "order" }

    public var formatDescription: String {
        "`[first|later|final|after|prior] <op>. ... order?` with <op> one of `add k`, `sub k`, `twice`"
            + " -> the symbols + - * in temporal order (e.g. `later sub 3. first twice. order?` -> `*-`);"
            + " k in 1...\(config.maxStep)"
    }

    /// (step count, template) pairs the config allows; relative stories have exactly 2 steps.
    private var shapes: [(Int, StoryTemplate)] {
        config.orderStepCounts.flatMap { count in
            config.templates.filter { count == 2 || $0 == .absolute }.map { (count, $0) }
        }
    }

    public func example(rng: inout RNG) -> Example {
        let shapes = self.shapes
        let (count, template) = shapes[rng.int(shapes.count)]
        var operations = StepOperation.allCases
        rng.shuffle(&operations)
        let steps = operations.prefix(count).map {
            Step(operation: $0, value: $0.takesValue ? rng.int(in: 1...config.maxStep) : nil)
        }
        return render(Story.tell(Array(steps), template: template, rng: &rng))
    }

    func render(_ story: Story) -> Example {
        var builder = PromptBuilder()
        story.render(into: &builder)
        builder.append(" order?")
        var labels = LabelCatalog.emptyLabels
        labels.set("task_id", taskID)
        story.setLabels(&labels)
        labels.set("order_dependent", Set(story.steps.map(\.operation)).count > 1 ? 1 : 0)
        let answer = story.steps.map(\.operation.symbol).joined()
        return builder.finish(task: name, answer: answer, labels: labels)
    }

    public var corruptionKinds: [CorruptionKind] { [.order, .operation] }

    public func corrupt(_ example: Example, kind: CorruptionKind, rng: inout RNG) -> Example? {
        guard let story = Story(labels: example) else { return nil }
        var candidates: [(Story, String)] = []
        switch kind {
        case .operand:
            return nil
        case .order:
            var pairs = story.steps.indices.flatMap { i in story.steps.indices.filter { $0 > i }.map { (i, $0) } }
            rng.shuffle(&pairs)
            candidates = pairs.map { (story.swappingTime($0.0, $0.1), "temporal_order") }
        case .operation:
            let present = Set(story.steps.map(\.operation))
            var targets = Array(story.steps.indices)
            rng.shuffle(&targets)
            for t in targets {
                let op = story.steps[t].operation
                for other in StepOperation.allCases where !present.contains(other) && other.word.count == op.word.count {
                    var changed = story
                    changed.steps[t].operation = other
                    candidates.append((changed, "op\(t + 1)"))
                }
            }
        }
        for (candidate, latent) in candidates {
            var corrupted = render(candidate)
            guard corrupted.encodedLength == example.encodedLength else { continue }
            corrupted.corruption = Corruption(kind: kind, changedLatent: latent, cleanAnswer: example.answer)
            return corrupted
        }
        return nil
    }

    /// The whole item (template, told operations and numbers, told order): a test story never occurs in
    /// training, though its skeleton does with other numbers (hold out a template in the config to test
    /// unseen skeletons).
    public func splitKey(of example: Example) -> [Int] {
        guard let story = Story(labels: example) else { return [] }
        return [story.template.rawValue] + story.toldSteps.flatMap { [$0.operation.rawValue, $0.value ?? -1] }
            + story.toldOrder
    }

    /// Uniform over the ordered selections of distinct operations: 3*2 = 6 for 2 steps, 3! = 6 for 3.
    public func answerSpaceSize(of example: Example) -> Int { 6 }

    /// `final add 29. later sub 29. first twice. order?` -> 3 symbols (or the 2-step equivalent).
    public var maxEncodedLength: Int {
        let longest = config.orderStepCounts.max() ?? 2
        // clause "<word> <op>[ k]." = 6 + op + (1 + digits of k) + 1; the ops are distinct
        let number = 1 + digitCount(config.maxStep)
        let clauses = [3 + number, 3 + number, 5].prefix(longest).map { 6 + $0 + 1 }
        let prompt = clauses.reduce(0, +) + (longest - 1) + 7
        return 1 + prompt + longest + 1
    }
}
