import Testing
import Tensors
@testable import Skills

@Suite struct SplitTests {
    @Test(arguments: Tasks.names)
    func splitsNeverShareOperandTuples(name: String) throws {
        let task = try Tasks.named(name)
        let policy = SplitPolicy(seed: 17)
        var keys: [Split: Set<[Int]>] = [:]
        for split in Split.allCases {
            let examples = try Dataset.generate(task: task, split: split, count: split == .train ? 3000 : 600,
                                                seed: 42, policy: policy)
            #expect(examples.allSatisfy { policy.split(of: $0, task: task) == split })
            keys[split] = Set(examples.map { task.splitKey(of: $0) })
        }
        #expect(keys[.train]!.isDisjoint(with: keys[.test]!))
        // Validation also holds the stories set aside because a part of them is a held-out sub-skill
        // item (SplitPolicy.split), so for stories only train and test keys must be disjoint.
        if !name.hasPrefix("multistep") {
            #expect(keys[.train]!.isDisjoint(with: keys[.validation]!))
            #expect(keys[.validation]!.isDisjoint(with: keys[.test]!))
        }
        // Operand tuples read from labels, independent of splitKey: a test (start, {k1, k2}) never
        // appears in training.
        if name.hasPrefix("multistep") {
            func tuple(_ e: Example) -> [Int] { [e.label("start")] + [e.label("step1_value"), e.label("step2_value")].sorted() }
            let train = Set(try Dataset.generate(task: task, split: .train, count: 2000, seed: 7, policy: policy).map(tuple))
            let test = Set(try Dataset.generate(task: task, split: .test, count: 500, seed: 7, policy: policy).map(tuple))
            #expect(train.isDisjoint(with: test))
        }
    }

    @Test func fractionsAreRoughlyRespected() {
        let policy = SplitPolicy(seed: 3, validationFraction: 0.2, testFraction: 0.1)
        var counts: [Split: Int] = [:]
        for a in 0..<100 { for b in 0..<100 { counts[policy.split(ofKey: [a, b]), default: 0] += 1 } }
        #expect(abs(Double(counts[.test]!) / 10_000 - 0.1) < 0.02)
        #expect(abs(Double(counts[.validation]!) / 10_000 - 0.2) < 0.02)
    }

    @Test func splitSeedChangesTheAssignmentButNotItsDeterminism() {
        let keys = (0..<500).map { [$0, $0 * 7 % 13] }
        let a = SplitPolicy(seed: 1), b = SplitPolicy(seed: 2)
        #expect(keys.map(a.split(ofKey:)) == keys.map(SplitPolicy(seed: 1).split(ofKey:)))
        #expect(keys.map(a.split(ofKey:)) != keys.map(b.split(ofKey:)))
    }

    @Test func multistepAndScratchpadShareSplits() throws {
        let direct = MultistepTask(), pad = MultistepTask(scratchpad: true)
        var rng = RNG(seed: 12)
        let policy = SplitPolicy()
        for _ in 0..<500 {
            let e = pad.example(rng: &rng)
            #expect(policy.split(of: e, task: pad) == policy.split(of: e, task: direct))
        }
    }

    @Test func dedupeAndExhaustion() throws {
        let double = try Tasks.named("double")
        let unique = try Dataset.generate(task: double, split: .train, count: 20, seed: 1, dedupe: true)
        #expect(Set(unique.map(\.prompt)).count == 20)
        // There are only 100 distinct doubling items; asking for 100 distinct test items must fail, not hang.
        #expect(throws: SkillsError.self) {
            try Dataset.generate(task: double, split: .test, count: 100, seed: 1, dedupe: true, maxDraws: 20_000)
        }
    }

    /// Training and test stories are built from training items of the sub-skill tasks only.
    @Test func noHeldOutSubSkillItemIsTrainedInsideAComposite() throws {
        let policy = SplitPolicy(seed: 5)
        let pad = MultistepTask(scratchpad: true)
        let arithmetic = ["+": ArithmeticTask(.add), "-": ArithmeticTask(.sub), "*": ArithmeticTask(.double)]
        var rng = RNG(seed: 11)
        var trained = 0, demoted = 0
        for _ in 0..<3000 {
            let e = pad.example(rng: &rng)
            let split = policy.split(of: e, task: pad)
            if split == .train || split == .test {
                trained += split == .train ? 1 : 0
                // Every scratchpad equation, read back from the answer text, is a training item of its task.
                for equation in e.answer.split(separator: ";") {
                    let sides = equation.split(separator: "=")
                    let symbol = try #require(["+", "-", "*"].first { sides[0].contains($0) })
                    let operands = sides[0].split(separator: Character(symbol)).map { Int($0)! }
                    let task = arithmetic[symbol]!
                    let item = try #require(task.render(a: operands[0], b: operands[1]))
                    #expect(policy.split(of: item, task: task) == .train, "\(e.prompt) -> \(e.answer)")
                }
                // And the telling, as an order item, is a training item.
                let story = try #require(Story(labels: e))
                #expect(policy.split(of: OrderTask().render(story), task: OrderTask()) == .train)
            } else if split == .validation && policy.split(ofKey: pad.splitKey(of: e)) == .train {
                demoted += 1
            }
        }
        // About 0.8^4 of all items are trained (own key, telling, two equations); the rest of the own-key
        // training items are demoted to validation.
        #expect(trained > 900 && demoted > 600, "trained \(trained), demoted \(demoted)")
    }
}
