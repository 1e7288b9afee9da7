// Tasks `add`, `sub`, `double`: one binary operation written with symbols.
//
// Format (no spaces):   prompt `<a><op><b>=`   answer `<result>`
//   add     `3+6=`   -> `9`      a, b, a+b in 0...maxResult
//   sub     `23-20=` -> `3`      0 <= b <= a <= maxResult (results never negative)
//   double  `7*2=`   -> `14`     a in 0...maxResult (results up to 2 * maxResult), b is always 2
// The range is the stories' whole number range, so every equation a multistep scratchpad writes
// (`14-3=11`) is an item of these tasks. Doubling alone would have only maxResult/2 + 1 items inside
// the range (50 by default, 5 of them held out): too few to learn a digit-wise rule rather than a
// table, and too few to resolve its accuracy; so `double` takes every operand of the range.
// Labels: operand_a, operand_b, op1, answer (+digits), carry (add/double), borrow (sub), num_steps = 1.
// Positions: pos_operand_a, pos_op1 (the symbol), pos_operand_b, equals (the `=`).
// Corruptions: operand (one of a, b; same digit count, same answer length); operation (+ <-> -, and
// to/from * when b == 2: the corrupted item then belongs to the other task); order does not apply.

import Tensors

public struct ArithmeticTask: SkillTask {
    public let operation: StepOperation
    public let config: TaskConfig

    public init(_ operation: StepOperation, config: TaskConfig = TaskConfig()) {
        self.operation = operation
        self.config = config
    }

    public var name: String {
        switch operation {
        case .add: return "add"
        case .sub: return "sub"
        case .double: return "double"
        }
    }

    public var formatDescription: String {
        switch operation {
        case .add: return "`a+b=` -> `a+b` (e.g. `3+6=` -> `9`), a, b, a+b in 0...\(config.maxResult)"
        case .sub: return "`a-b=` -> `a-b` (e.g. `23-20=` -> `3`), 0 <= b <= a <= \(config.maxResult)"
        case .double: return "`a*2=` -> `2a` (e.g. `7*2=` -> `14`), a in 0...\(config.maxResult)"
        }
    }

    public func example(rng: inout RNG) -> Example {
        while true {
            var a = rng.int(in: 0...config.maxResult)
            var b = operation == .double ? 2 : rng.int(in: 0...config.maxResult)
            if operation == .sub && a < b { swap(&a, &b) }
            if let example = render(a: a, b: b) { return example }
        }
    }

    /// The example for operands a, b, or nil if they are outside this task's rules.
    func render(a: Int, b: Int) -> Example? {
        guard a >= 0, b >= 0 else { return nil }
        if operation == .double && b != 2 { return nil }
        let result = operation == .double ? a * 2 : operation.apply(a, b)
        guard (0...(operation == .double ? 2 * config.maxResult : config.maxResult)).contains(result) else { return nil }

        var builder = PromptBuilder()
        builder.append(String(a), marking: "pos_operand_a")
        builder.append(operation.symbol, marking: "pos_op1")
        builder.append(String(b), marking: "pos_operand_b")
        builder.append("=")

        var labels = LabelCatalog.emptyLabels
        labels.set("task_id", taskID)
        labels.set("num_steps", 1)
        labels.set("operand_a", a)
        labels.set("operand_b", b)
        labels.set("op1", operation.rawValue)
        setAnswerLabels(&labels, answer: result)
        switch operation {
        case .add, .double: labels.set("carry", operation.carries(a, b) ? 1 : 0)
        case .sub: labels.set("borrow", operation.borrows(a, b) ? 1 : 0)
        }
        return builder.finish(task: name, answer: String(result), labels: labels)
    }

    public var corruptionKinds: [CorruptionKind] { [.operand, .operation] }

    public func corrupt(_ example: Example, kind: CorruptionKind, rng: inout RNG) -> Example? {
        let a = example.label("operand_a"), b = example.label("operand_b")
        var candidates: [(Example?, String)] = []
        switch kind {
        case .order:
            return nil
        case .operand:
            var targets = operation == .double ? ["operand_a"] : ["operand_a", "operand_b"]
            rng.shuffle(&targets)
            for target in targets {
                for _ in 0..<10 {
                    let old = target == "operand_a" ? a : b
                    guard let new = sameWidthNumber(replacing: old, in: 0...config.maxResult, rng: &rng) else { break }
                    candidates.append((target == "operand_a" ? render(a: new, b: b) : render(a: a, b: new), target))
                }
            }
        case .operation:
            var others = StepOperation.allCases.filter { $0 != operation }
            rng.shuffle(&others)
            for other in others {
                candidates.append((ArithmeticTask(other, config: config).render(a: a, b: b), "op1"))
            }
        }
        for case let (candidate?, latent) in candidates
        where candidate.prompt.count == example.prompt.count && candidate.answer.count == example.answer.count {
            var corrupted = candidate
            corrupted.corruption = Corruption(kind: kind, changedLatent: latent, cleanAnswer: example.answer)
            return corrupted
        }
        return nil
    }

    public func splitKey(of example: Example) -> [Int] {
        let a = example.label("operand_a"), b = example.label("operand_b")
        // Addition commutes: a + b and b + a are one problem, so they share a split.
        return operation == .add ? [min(a, b), max(a, b)] : [a, b]
    }

    /// Uniform over the integers the task can answer: 0...maxResult (add, sub), the even numbers
    /// 0...2 * maxResult (double).
    public func answerSpaceSize(of example: Example) -> Int { config.maxResult + 1 }

    public var maxEncodedLength: Int {
        let b = operation == .double ? 1 : digitCount(config.maxResult)
        let result = digitCount(operation == .double ? 2 * config.maxResult : config.maxResult)
        return 1 + digitCount(config.maxResult) + 1 + b + 1 + result + 1
    }
}
