// Tasks `multistep` (direct answer) and `multistep_pad` (scratchpad answer): a start value and two
// operations told, possibly out of temporal order, with the order words of Story.swift.
//
// Format:  prompt `had <S>. <clause>. <clause>. now?`   (clause: `[<order word> ]<op word>[ <k>]`)
//   multistep      `had 7. later sub 3. first twice. now?`   -> `11`     (7*2 = 14, then 14-3 = 11)
//   multistep_pad  `had 7. later sub 3. first twice. now?`   -> `7*2=14;14-3=11`
//                  (a scratchpad: each step written as the equation of its arithmetic task, in
//                  temporal order, so every token of the answer is one sub-skill applied once)
//   relative       `had 7. sub 3. prior twice. now?`          -> `11`
// S in 0...maxOperand, k in 1...maxStep, ops uniform among add/sub/double, told order uniform,
// template uniform among config.templates. Items whose intermediate or final value leaves
// 0...maxResult are rejected and redrawn. About 4/9 of items are order dependent (exactly one step
// doubles); about half are told out of order.
// Labels: start, op1, op2, step1_value, step2_value, step1_clause, step2_clause, template,
// told_out_of_order, order_dependent, intermediate, answer (+digits), carry, borrow.
// Corruptions: operand (start or one k, same digit count), order (swap the two order words),
// operation (add k <-> sub k: one latent; "twice" steps have no operation corruption, since swapping
// them with "add k" would also change the step's number).

import Tensors

public struct MultistepTask: SkillTask {
    /// Scratchpad form: the answer is `<intermediate>;<final>`.
    public let scratchpad: Bool
    public let config: TaskConfig

    public init(scratchpad: Bool = false, config: TaskConfig = TaskConfig()) {
        self.scratchpad = scratchpad
        self.config = config
    }

    public var name: String { scratchpad ? "multistep_pad" : "multistep" }

    public var formatDescription: String {
        "`had S. [first|later] <op>. [first|later|after|prior] <op>. now?` with <op> one of `add k`, `sub k`, `twice`"
            + " -> " + (scratchpad ? "`<step 1 equation>;<step 2 equation>`" : "`<final>`")
            + " (e.g. `had 7. later sub 3. first twice. now?` -> `" + (scratchpad ? "7*2=14;14-3=11" : "11") + "`);"
            + " S in 0...\(config.maxOperand), k in 1...\(config.maxStep)"
    }

    public func example(rng: inout RNG) -> Example {
        while true {
            let start = rng.int(in: 0...config.maxOperand)
            let steps = (0..<2).map { _ -> Step in
                let op = StepOperation.allCases[rng.int(StepOperation.allCases.count)]
                return Step(operation: op, value: op.takesValue ? rng.int(in: 1...config.maxStep) : nil)
            }
            let template = config.templates[rng.int(config.templates.count)]
            let story = Story.tell(steps, template: template, rng: &rng)
            if let example = render(start: start, story: story) { return example }
        }
    }

    /// The example for a start value and story, or nil if a value leaves 0...maxResult.
    func render(start: Int, story: Story) -> Example? {
        guard story.steps.count == 2 else { return nil }
        let s1 = story.steps[0], s2 = story.steps[1]
        let intermediate = s1.operation.apply(start, s1.value)
        let final = s2.operation.apply(intermediate, s2.value)
        let range = 0...config.maxResult
        guard range.contains(intermediate), range.contains(final) else { return nil }

        var builder = PromptBuilder()
        builder.append("had ")
        builder.append(String(start), marking: "pos_start")
        builder.append(". ")
        story.render(into: &builder)
        builder.append(" now?")

        var labels = LabelCatalog.emptyLabels
        labels.set("task_id", taskID)
        labels.set("start", start)
        story.setLabels(&labels)
        labels.set("intermediate", intermediate)
        setAnswerLabels(&labels, answer: final)
        // Computed over the integers, so "would the other order give another number" is well defined
        // even when that order would pass below zero.
        let swapped = s1.operation.apply(s2.operation.apply(start, s2.value), s1.value)
        labels.set("order_dependent", swapped != final ? 1 : 0)
        let trace = [(s1, start), (s2, intermediate)]
        let carrying = trace.filter { $0.0.operation != .sub }
        let borrowing = trace.filter { $0.0.operation == .sub }
        if !carrying.isEmpty {
            labels.set("carry", carrying.contains { $0.0.operation.carries($0.1, $0.0.value) } ? 1 : 0)
        }
        if !borrowing.isEmpty {
            labels.set("borrow", borrowing.contains { $0.0.operation.borrows($0.1, $0.0.value) } ? 1 : 0)
        }
        let answer = scratchpad
            ? Self.equation(start, s1, intermediate) + ";" + Self.equation(intermediate, s2, final)
            : String(final)
        return builder.finish(task: name, answer: answer, labels: labels)
    }

    public var corruptionKinds: [CorruptionKind] { [.operand, .order, .operation] }

    public func corrupt(_ example: Example, kind: CorruptionKind, rng: inout RNG) -> Example? {
        guard let story = Story(labels: example) else { return nil }
        let start = example.label("start")
        var candidates: [(start: Int, story: Story, latent: String)] = []
        switch kind {
        case .operand:
            var targets = [-1] + story.steps.indices.filter { story.steps[$0].value != nil }
            rng.shuffle(&targets)
            for target in targets {
                for _ in 0..<10 {
                    if target < 0 {
                        guard let new = sameWidthNumber(replacing: start, in: 0...config.maxOperand, rng: &rng) else { break }
                        candidates.append((new, story, "start"))
                    } else {
                        guard let old = story.steps[target].value,
                              let new = sameWidthNumber(replacing: old, in: 1...config.maxStep, rng: &rng) else { break }
                        var changed = story
                        changed.steps[target].value = new
                        candidates.append((start, changed, "step\(target + 1)_value"))
                    }
                }
            }
        case .order:
            candidates.append((start, story.swappingTime(0, 1), "temporal_order"))
        case .operation:
            var targets = Array(story.steps.indices)
            rng.shuffle(&targets)
            for target in targets {
                for replacement in operationSwaps(of: story.steps[target]) {
                    var changed = story
                    changed.steps[target] = replacement
                    candidates.append((start, changed, "op\(target + 1)"))
                }
            }
        }
        for candidate in candidates {
            guard let corrupted = render(start: candidate.start, story: candidate.story),
                  corrupted.prompt.count == example.prompt.count,
                  corrupted.answer.count == example.answer.count,
                  ["separator", "step1_equals", "step2_equals"].allSatisfy({ corrupted.position($0) == example.position($0) })
            else { continue }
            var result = corrupted
            result.corruption = Corruption(kind: kind, changedLatent: candidate.latent, cleanAnswer: example.answer)
            return result
        }
        return nil
    }

    /// One scratchpad step in the format of the arithmetic tasks: `14-3=11`, `7*2=14`.
    static func equation(_ x: Int, _ step: Step, _ result: Int) -> String {
        "\(x)\(step.operation.symbol)\(step.value ?? 2)=\(result)"
    }

    /// Replacements of one step that change its operation and nothing else: add k <-> sub k (same k, same
    /// clause length). "twice" has no number, so swapping it with "add k" would change two latents (the
    /// operation and the step's value); a step told as "twice" has no operation corruption.
    private func operationSwaps(of step: Step) -> [Step] {
        switch step.operation {
        case .add: return [Step(operation: .sub, value: step.value)]
        case .sub: return [Step(operation: .add, value: step.value)]
        case .double: return []
        }
    }

    /// The story as an `order` item, and each step as its arithmetic task's item (`7*2=`, `14-3=`): what
    /// the split checks so that no held-out sub-skill item is trained on inside a story.
    public func components(of example: Example) -> [(task: any SkillTask, example: Example)] {
        guard let story = Story(labels: example), story.steps.count == 2 else { return [] }
        let order = OrderTask(config: config)
        var parts: [(task: any SkillTask, example: Example)] = [(order, order.render(story))]
        var x = example.label("start")
        for step in story.steps {
            let arithmetic = ArithmeticTask(step.operation, config: config)
            if let item = arithmetic.render(a: x, b: step.value ?? 2) { parts.append((arithmetic, item)) }
            x = step.operation.apply(x, step.value)
        }
        return parts
    }

    /// Start and the step numbers as a multiset (twice counts as -1): the same numbers told in another
    /// order or with other operations stay in the same split, so a test story never reuses a training
    /// story's numbers. Shared by multistep and multistep_pad so their splits agree.
    public func splitKey(of example: Example) -> [Int] {
        [example.label("start")] + [example.label("step1_value"), example.label("step2_value")].sorted()
    }

    /// Uniform over 0...(largest reachable final); for the scratchpad, over (intermediate, final) pairs.
    public func answerSpaceSize(of example: Example) -> Int {
        let finals = largestFinal + 1
        return scratchpad ? (largestIntermediate + 1) * finals : finals
    }

    private var largestIntermediate: Int {
        min(config.maxResult, max(config.maxOperand + config.maxStep, 2 * config.maxOperand))
    }

    private var largestFinal: Int {
        let (s, k) = (config.maxOperand, config.maxStep)
        return min(config.maxResult, max(4 * s, 2 * (s + k), 2 * s + k, s + 2 * k))
    }

    /// `had S. first add k. later add k. now?` with the widest numbers, plus the widest answer.
    public var maxEncodedLength: Int {
        let clause = 5 + 1 + 3 + 1 + digitCount(config.maxStep) + 1   // "first add kk."
        let prompt = 4 + digitCount(config.maxOperand) + 1 + 1 + clause + 1 + clause + 5
        let k = digitCount(max(config.maxStep, 2))
        let answer = scratchpad
            ? (digitCount(config.maxOperand) + 1 + k + 1 + digitCount(largestIntermediate)) + 1
                + (digitCount(largestIntermediate) + 1 + k + 1 + digitCount(largestFinal))
            : digitCount(largestFinal)
        return 1 + prompt + answer + 1
    }
}
