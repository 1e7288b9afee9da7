// The story skeleton shared by the `order` and `multistep` tasks: 2 or 3 steps, told in some
// order, each clause carrying an order word that says when it happens.
//
// Clause: `[<order word> ]<op word>[ <k>].`  op words: add, sub, twice (double has no number).
// Both story tasks tell the same clauses, numbers included (`later sub 3.`), so ordering practised
// in `order` is ordering of exactly what `multistep` stories say.
// Order words are all five letters, so swapping them keeps every token position (minimal pairs):
//   absolute template: first / later / final  (= happens 1st / 2nd / 3rd; "final" only with 3 steps)
//                      `first add 3. later twice.`  or out of order  `later twice. first add 3.`
//   relative template (2 steps only): the first told clause has no order word; the second carries
//                      `after` (= "after that": happens after the first told clause) or
//                      `prior` (= "before that": happens before it).
//                      `add 3. after twice.` (add, then double)   `add 3. prior twice.` (double, then add)

import Tensors

public enum StoryTemplate: Int, Sendable, Codable, CaseIterable {
    case absolute = 0
    case relative = 1

    public var name: String { self == .absolute ? "absolute" : "relative" }
}

struct Step: Sendable, Equatable {
    var operation: StepOperation
    var value: Int?
}

struct Story: Sendable, Equatable {
    /// Steps in temporal order.
    var steps: [Step]
    /// `toldOrder[c]` = temporal index of the c-th clause in the text.
    var toldOrder: [Int]
    var template: StoryTemplate

    static let absoluteWords = ["first", "later", "final"]

    var isToldOutOfOrder: Bool { toldOrder != Array(0..<steps.count) }

    /// Order word of the c-th told clause (nil: relative template, first clause).
    func orderWord(clause c: Int) -> String? {
        switch template {
        case .absolute:
            // With 2 steps "later" is the last step; with 3, "final" is.
            return Story.absoluteWords[toldOrder[c]]
        case .relative:
            if c == 0 { return nil }
            return toldOrder[c] > toldOrder[c - 1] ? "after" : "prior"
        }
    }

    /// Writes the clauses, separated by spaces, recording pos_op<k>, pos_step<k>_value, pos_marker<k>
    /// for each temporal step k (1-based).
    func render(into builder: inout PromptBuilder) {
        for (c, t) in toldOrder.enumerated() {
            let step = steps[t]
            if c > 0 { builder.append(" ") }
            if let word = orderWord(clause: c) {
                builder.append(word, marking: "pos_marker\(t + 1)")
                builder.append(" ")
            }
            builder.append(step.operation.word, marking: "pos_op\(t + 1)")
            if let value = step.value {
                builder.append(" ")
                builder.append(String(value), marking: "pos_step\(t + 1)_value")
            }
            builder.append(".")
        }
    }

    /// Labels describing the skeleton: ops and values per temporal step, told positions, order flags.
    func setLabels(_ labels: inout [String: LabelValue]) {
        labels.set("num_steps", steps.count)
        labels.set("template", template.rawValue)
        labels.set("told_out_of_order", isToldOutOfOrder ? 1 : 0)
        for (t, step) in steps.enumerated() {
            labels.set("op\(t + 1)", step.operation.rawValue)
            labels.set("step\(t + 1)_value", step.value)
            labels.set("step\(t + 1)_clause", toldOrder.firstIndex(of: t))
        }
    }

    /// Rebuilds the skeleton from an example's labels (the inverse of setLabels).
    init?(labels example: Example) {
        let count = example.label("num_steps")
        guard count == 2 || count == 3,
              let template = StoryTemplate(rawValue: example.label("template")) else { return nil }
        var steps: [Step] = []
        var toldOrder = [Int](repeating: -1, count: count)
        for t in 0..<count {
            guard let op = StepOperation(rawValue: example.label("op\(t + 1)")) else { return nil }
            let value = example.label("step\(t + 1)_value")
            steps.append(Step(operation: op, value: value >= 0 ? value : nil))
            let clause = example.label("step\(t + 1)_clause")
            guard (0..<count).contains(clause) else { return nil }
            toldOrder[clause] = t
        }
        self.init(steps: steps, toldOrder: toldOrder, template: template)
    }

    init(steps: [Step], toldOrder: [Int], template: StoryTemplate) {
        self.steps = steps
        self.toldOrder = toldOrder
        self.template = template
    }

    /// A random telling of `steps`: a uniformly drawn told order.
    static func tell(_ steps: [Step], template: StoryTemplate, rng: inout RNG) -> Story {
        var order = Array(0..<steps.count)
        rng.shuffle(&order)
        return Story(steps: steps, toldOrder: order, template: template)
    }

    /// The same clauses with the order words of temporal steps i and j exchanged: the text differs only
    /// in those words (relative template: after <-> prior), but the two steps trade places in time.
    func swappingTime(_ i: Int, _ j: Int) -> Story {
        var swapped = self
        swapped.steps.swapAt(i, j)
        swapped.toldOrder = toldOrder.map { $0 == i ? j : ($0 == j ? i : $0) }
        return swapped
    }

    /// Told clauses as (op, value) pairs in text order: what stays fixed under an order corruption.
    var toldSteps: [Step] { toldOrder.map { steps[$0] } }
}
