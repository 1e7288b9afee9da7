import Testing
import Tensors
@testable import Skills

@Suite struct LabelTests {
    /// Character of the encoded sequence at position p (BOS at 0), from the example's own text.
    func character(_ example: Example, at p: Int) -> Character? {
        let text = Array(example.prompt + example.answer)
        return p >= 1 && p <= text.count ? text[p - 1] : nil
    }

    /// The text of the encoded sequence up to and including position p.
    func prefix(_ example: Example, through p: Int) -> String {
        String(Array(example.prompt + example.answer).prefix(p))
    }

    /// The maximal run of digits ending at p (the number whose last digit is at p).
    func number(_ example: Example, endingAt p: Int) -> Int? {
        guard let c = character(example, at: p), c.isNumber else { return nil }
        if let next = character(example, at: p + 1), next.isNumber { return nil }
        return Int(String(prefix(example, through: p).reversed().prefix { $0.isNumber }.reversed()))
    }

    @Test(arguments: Tasks.names)
    func labelsMatchAnIndependentReadingOfTheText(name: String) throws {
        let task = try Tasks.named(name)
        var rng = RNG(seed: 2024)
        for _ in 0..<2000 {
            let e = task.example(rng: &rng)
            let parsed = try #require(IndependentParser.parse(task: name, prompt: e.prompt), "unparsable \(e.prompt)")
            #expect(e.task == name)
            #expect(e.answer == parsed.answerText, "\(e.prompt) -> \(e.answer)")
            #expect(e.label("answer") == parsed.answer)
            #expect(e.label("intermediate") == parsed.intermediate)
            #expect(e.label("carry") == parsed.carry, "\(e.prompt)")
            #expect(e.label("borrow") == parsed.borrow, "\(e.prompt)")
            #expect(e.label("operand_a") == parsed.operandA)
            #expect(e.label("operand_b") == parsed.operandB)
            #expect(e.label("start") == parsed.start)
            #expect(e.label("task_id") == Tasks.names.firstIndex(of: name))
            if !parsed.temporal.isEmpty {
                #expect(e.label("told_out_of_order") == parsed.toldOutOfOrder, "\(e.prompt)")
                #expect(e.label("order_dependent") == parsed.orderDependent, "\(e.prompt)")
                #expect(e.label("num_steps") == parsed.temporal.count)
                for (k, step) in parsed.temporal.enumerated() {
                    #expect(e.label("op\(k + 1)") == step.op, "\(e.prompt) step \(k + 1)")
                    #expect(e.label("step\(k + 1)_value") == step.value, "\(e.prompt)")
                }
            } else {
                #expect(e.label("op1") == ["add": 0, "sub": 1, "double": 2][name])
                #expect(e.label("num_steps") == 1)
            }
            if parsed.answer >= 0 {
                #expect(e.label("answer_ones") == parsed.answer % 10)
                #expect(e.label("answer_tens") == parsed.answer / 10 % 10)
                #expect(e.label("answer_hundreds") == parsed.answer / 100 % 10)
                #expect(e.label("answer_digits") == String(parsed.answer).count)
                #expect((0...(name == "double" ? 198 : 99)).contains(parsed.answer), "\(e.prompt)")
                #expect(parsed.intermediate == -1 || (0...99).contains(parsed.intermediate))
            }
        }
    }

    @Test(arguments: Tasks.names)
    func everyExampleHasEveryLabelAndPosition(name: String) throws {
        let task = try Tasks.named(name)
        var rng = RNG(seed: 3)
        for _ in 0..<300 {
            let e = task.example(rng: &rng)
            #expect(Set(e.labels.keys) == Set(LabelCatalog.labelNames))
            #expect(Set(e.positions.keys) == Set(LabelCatalog.positionNames))
            #expect(e.encodedLength <= task.maxEncodedLength)
        }
    }

    @Test(arguments: Tasks.names)
    func positionsPointAtTheNamedTokens(name: String) throws {
        let task = try Tasks.named(name)
        var rng = RNG(seed: 77)
        for _ in 0..<500 {
            let e = task.example(rng: &rng)
            let answerStart = e.position("answer_start"), answerEnd = e.position("answer_end")
            #expect(["=", "?"].contains(character(e, at: e.position("equals"))))
            #expect(answerStart == e.position("equals") + 1)
            #expect(String(Array(e.prompt + e.answer)[(answerStart - 1)...(answerEnd - 1)]) == e.answer)
            #expect(e.position("eos") == e.encodedLength - 1)
            #expect(e.position("separator") == -1 || character(e, at: e.position("separator")) == ";")
            #expect((e.position("separator") != -1) == (name == "multistep_pad"))
            for k in 1...2 {
                // The scratchpad's k-th `=` is followed by the value after temporal step k.
                let equals = e.position("step\(k)_equals")
                #expect((equals != -1) == (name == "multistep_pad"))
                if equals != -1 {
                    #expect(character(e, at: equals) == "=")
                    let after = String(Array(e.prompt + e.answer)[equals...].prefix { $0.isNumber })
                    #expect(Int(after) == (k == 1 ? e.label("intermediate") : e.label("answer")), "\(e.answer)")
                }
            }
            for (position, label) in [("pos_operand_a", "operand_a"), ("pos_operand_b", "operand_b"), ("pos_start", "start"),
                                      ("pos_step1_value", "step1_value"), ("pos_step2_value", "step2_value"),
                                      ("pos_step3_value", "step3_value")] {
                if e.label(label) == -1 {
                    #expect(e.position(position) == -1)
                } else {
                    #expect(number(e, endingAt: e.position(position)) == e.label(label), "\(e.prompt) \(position)")
                }
            }
            for k in 1...3 where e.label("op\(k)") >= 0 && name != "add" && name != "sub" && name != "double" {
                let op = try #require(StepOperation(rawValue: e.label("op\(k)")))
                #expect(prefix(e, through: e.position("pos_op\(k)")).hasSuffix(" " + op.word)
                        || prefix(e, through: e.position("pos_op\(k)")) == op.word, "\(e.prompt) op\(k)")
                let marker = e.position("pos_marker\(k)")
                if marker != -1 {
                    let words = ["first", "later", "final", "after", "prior"]
                    #expect(words.contains { prefix(e, through: marker).hasSuffix($0) }, "\(e.prompt) marker\(k)")
                }
            }
        }
    }

    @Test func storyMixIsBalanced() throws {
        let task = try Tasks.named("multistep")
        var rng = RNG(seed: 9)
        let examples = (0..<3000).map { _ in task.example(rng: &rng) }
        let dependent = Double(examples.filter { $0.label("order_dependent") == 1 }.count) / 3000
        let outOfOrder = Double(examples.filter { $0.label("told_out_of_order") == 1 }.count) / 3000
        let relative = Double(examples.filter { $0.label("template") == 1 }.count) / 3000
        #expect(dependent > 0.3 && dependent < 0.6)
        #expect(outOfOrder > 0.4 && outOfOrder < 0.6)
        #expect(relative > 0.4 && relative < 0.6)
    }

    @Test func defaultRangesFitContext64AndBoundIsReached() throws {
        for task in Tasks.all() {
            #expect(task.maxEncodedLength <= 64, "\(task.name)")
        }
        // The bound is tight: the widest scratchpad story reaches it (49+29=78;78+21=99).
        let pad = MultistepTask(scratchpad: true)
        let widest = Story(steps: [Step(operation: .add, value: 29), Step(operation: .add, value: 21)],
                           toldOrder: [0, 1], template: .absolute)
        #expect(pad.render(start: 49, story: widest)?.answer == "49+29=78;78+21=99")
        #expect(pad.render(start: 49, story: widest)?.encodedLength == pad.maxEncodedLength)
        let order = OrderTask()
        var rng = RNG(seed: 1)
        let longest = (0..<500).map { _ in order.example(rng: &rng).encodedLength }.max()
        #expect(longest == order.maxEncodedLength)
    }

    @Test func heldOutTemplateIsRespected() throws {
        let config = TaskConfig(templates: [.relative], orderStepCounts: [2])
        var rng = RNG(seed: 4)
        for name in ["order", "multistep"] {
            let task = try Tasks.named(name, config: config)
            for _ in 0..<200 { #expect(task.example(rng: &rng).label("template") == 1) }
        }
    }

    @Test func configSizesTheOperands() throws {
        let task = try Tasks.named("add", config: TaskConfig(maxOperand: 9, maxStep: 9, maxResult: 9))
        var rng = RNG(seed: 8)
        for _ in 0..<300 {
            let e = task.example(rng: &rng)
            #expect(e.label("operand_a") + e.label("operand_b") <= 9)
        }
        #expect(task.maxEncodedLength == 1 + 4 + 1 + 1)
    }
}
