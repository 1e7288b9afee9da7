import Testing
import Tensors
@testable import Skills

/// The latent facts an example's text encodes, read from its labels, in TEXT order so that an
/// order corruption (which leaves the clauses in place) shows up only as a new temporal order.
struct Latents: Equatable {
    var start: Int
    var operandA: Int
    var operandB: Int
    /// (op, value) per told clause.
    var toldClauses: [[Int]]
    /// Temporal step index of each told clause.
    var toldOrder: [Int]
    var template: Int

    init(_ e: Example) {
        start = e.label("start")
        operandA = e.label("operand_a")
        operandB = e.label("operand_b")
        template = e.label("template")
        let steps = max(1, e.label("num_steps"))
        if e.label("step1_clause") == -1 {
            toldOrder = [0]
            toldClauses = [[e.label("op1"), -1]]
        } else {
            toldOrder = (0..<steps).map { c in (1...steps).first { e.label("step\($0)_clause") == c }! - 1 }
            toldClauses = toldOrder.map { t in [e.label("op\(t + 1)"), e.label("step\(t + 1)_value")] }
        }
    }
}

@Suite struct CorruptionTests {
    static let cases: [(String, CorruptionKind)] = Tasks.names.flatMap { n in CorruptionKind.allCases.map { (n, $0) } }

    @Test(arguments: cases)
    func corruptionsAreMinimalPairs(name: String, kind: CorruptionKind) throws {
        let task = try Tasks.named(name)
        var rng = RNG(seed: 99)
        var produced = 0
        let trials = 400
        for _ in 0..<trials {
            let clean = task.example(rng: &rng)
            guard let corrupted = task.corrupt(clean, kind: kind, rng: &rng) else { continue }
            produced += 1
            #expect(corrupted.encodedLength == clean.encodedLength)
            // Every position stays where it was; under an order corruption the temporal step numbers
            // attached to them trade places (pos_op1 <-> pos_op2 ...), so compare those as sets.
            let stepNamed = { (name: String) in
                (name.hasPrefix("pos_op") && !name.hasPrefix("pos_operand")) || name.hasPrefix("pos_marker") || name.hasPrefix("pos_step")
            }
            let fixed = clean.positions.filter { !stepNamed($0.key) }
            #expect(corrupted.positions.filter { !stepNamed($0.key) } == fixed, "\(clean.prompt) => \(corrupted.prompt)")
            if kind == .order {
                #expect(corrupted.positions.filter { stepNamed($0.key) }.values.sorted()
                        == clean.positions.filter { stepNamed($0.key) }.values.sorted())
            } else if kind == .operand {
                #expect(corrupted.positions == clean.positions, "\(clean.prompt) => \(corrupted.prompt)")
            }
            #expect(corrupted.prompt != clean.prompt)
            let record = try #require(corrupted.corruption)
            #expect(record.kind == kind)
            #expect(record.cleanAnswer == clean.answer)

            // The corrupted example's answer and labels are its own: re-read them from its text.
            let parsed = try #require(IndependentParser.parse(task: corrupted.task, prompt: corrupted.prompt))
            #expect(corrupted.answer == parsed.answerText, "\(corrupted.prompt)")
            #expect(corrupted.label("answer") == parsed.answer)
            #expect(corrupted.label("order_dependent") == parsed.orderDependent)
            #expect(corrupted.label("told_out_of_order") == parsed.toldOutOfOrder || parsed.toldOutOfOrder == -1)
            #expect(corrupted.label("intermediate") == parsed.intermediate)

            let before = Latents(clean), after = Latents(corrupted)
            #expect(before.template == after.template)
            switch kind {
            case .operand:
                #expect(before.toldOrder == after.toldOrder)
                #expect(before.toldClauses.map { $0[0] } == after.toldClauses.map { $0[0] })
                let changedValues = zip(before.toldClauses, after.toldClauses).filter { $0.0[1] != $0.1[1] }.count
                let changed = changedValues + [before.start != after.start, before.operandA != after.operandA,
                                               before.operandB != after.operandB].filter { $0 }.count
                #expect(changed == 1, "\(clean.prompt) => \(corrupted.prompt)")
                #expect(clean.label(record.changedLatent) != corrupted.label(record.changedLatent))
            case .operation:
                #expect(before.toldOrder == after.toldOrder)
                #expect(before.start == after.start && before.operandA == after.operandA && before.operandB == after.operandB)
                let changedOps = zip(before.toldClauses, after.toldClauses).filter { $0.0[0] != $0.1[0] }.count
                #expect(changedOps == 1, "\(clean.prompt) => \(corrupted.prompt)")
                // Only the operation changes: every step keeps its number, and every position stays.
                #expect(before.toldClauses.map { $0.count > 1 ? $0[1] : -1 } == after.toldClauses.map { $0.count > 1 ? $0[1] : -1 },
                        "\(clean.prompt) => \(corrupted.prompt)")
                #expect(corrupted.positions == clean.positions, "\(clean.prompt) => \(corrupted.prompt)")
                #expect(clean.label(record.changedLatent) != corrupted.label(record.changedLatent))
            case .order:
                #expect(before.toldClauses == after.toldClauses, "\(clean.prompt) => \(corrupted.prompt)")
                #expect(before.start == after.start)
                #expect(before.toldOrder != after.toldOrder)
                #expect(record.changedLatent == "temporal_order")
                // Only order words differ between the two texts.
                let differing = zip(clean.prompt, corrupted.prompt).enumerated().filter { $0.element.0 != $0.element.1 }
                let words = ["first", "later", "final", "after", "prior"]
                for (offset, _) in differing {
                    let p = offset + 1
                    let wordEnds = (0..<5).map { p + $0 }.filter { end in
                        words.contains { String(Array(clean.prompt).prefix(end)).hasSuffix($0) }
                    }
                    #expect(!wordEnds.isEmpty, "\(clean.prompt) => \(corrupted.prompt) differs outside order words")
                }
            }
        }
        let applies: Bool
        switch (name, kind) {
        case ("add", .order), ("sub", .order), ("double", .order), ("order", .operand): applies = false
        default: applies = true
        }
        if applies {
            #expect(produced > trials / 10, "\(name)/\(kind): only \(produced) of \(trials) corruptions")
        } else {
            #expect(produced == 0)
        }
    }

    @Test func orderCorruptionChangesAnswerExactlyWhenOrderDependent() throws {
        let task = MultistepTask()
        var rng = RNG(seed: 5)
        var checked = 0
        for _ in 0..<600 {
            let clean = task.example(rng: &rng)
            guard let corrupted = task.corrupt(clean, kind: .order, rng: &rng) else { continue }
            checked += 1
            #expect((corrupted.answer != clean.answer) == (clean.label("order_dependent") == 1))
            #expect(corrupted.label("told_out_of_order") != clean.label("told_out_of_order"))
        }
        #expect(checked > 100)
    }
}
