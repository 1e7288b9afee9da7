import Testing
import Tensors
@testable import Skills

/// Pairs for patching, checked against what each item says of itself: its text, its labels, and arithmetic
/// recomputed here rather than read back from the builder.
@Suite struct MinimalPairTests {
    static func items(_ task: any SkillTask, _ n: Int, seed: UInt64 = 5) throws -> [Example] {
        try Dataset.generate(task: task, split: .test, count: n, seed: seed)
    }

    @Test func subtractionOperandPairsAtTheFirstAnswerToken() throws {
        let task = try Tasks.named("sub")
        let items = try Self.items(task, 120)
        let set = try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: .answer, seed: 1)
        #expect(set.pairCount + set.dropped.values.reduce(0, +) == items.count, "every item is a pair or a counted drop")
        #expect(set.pairCount > 60)
        let tok = Tokenizer.standard
        for layout in set.layouts {
            #expect(layout.positionLabels.count == layout.length)
            #expect(layout.positionLabels[layout.namedPositions["pos_op1"]!] == "pos_op1")
            for p in 0..<layout.count {
                let item = items[layout.items[p]]
                #expect(tok.decode(layout.clean[p]) == "<bos>" + item.prompt)
                #expect(layout.clean[p].count == layout.length && layout.corrupted[p].count == layout.length)
                // The clean token is the first digit of a - b, computed here.
                let difference = item.label("operand_a") - item.label("operand_b")
                #expect(tok.decode([layout.correct[p]]) == String(String(difference).first!))
                #expect(layout.correct[p] != layout.wrong[p])
                // The corrupted prompt is a subtraction whose own first answer digit is the wrong token,
                // and it differs from the clean one only inside the operands.
                let text = tok.decode(layout.corrupted[p]).dropFirst("<bos>".count).dropLast()
                let parts = text.split(separator: "-").map { Int($0)! }
                #expect(tok.decode([layout.wrong[p]]) == String(String(parts[0] - parts[1]).first!))
                for (name, at) in layout.namedPositions where name == "pos_op1" || name == "equals" {
                    #expect(layout.corrupted[p][at] == layout.clean[p][at])
                }
                #expect(["operand_a", "operand_b"].contains(layout.changedLatents[p]))
            }
            #expect(layout.position.allSatisfy { $0 == layout.length - 1 })
        }
    }

    @Test(arguments: [Decision.step1, .step2])
    func scratchpadDecisionsReadEachStepsResult(decision: Decision) throws {
        let task = try Tasks.named("multistep_pad")
        let items = try Self.items(task, 80)
        let set = try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: decision, seed: 2)
        #expect(set.pairCount > 20)
        let tok = Tokenizer.standard
        for layout in set.layouts {
            for p in 0..<layout.count {
                let item = items[layout.items[p]]
                let text = tok.decode(layout.clean[p])
                // Teacher forcing: the prompt and the clean answer up to this step's `=`.
                let equations = item.answer.split(separator: ";")
                let prefix = decision == .step1 ? equations[0].split(separator: "=")[0] + "="
                                                : equations[0] + ";" + equations[1].split(separator: "=")[0] + "="
                #expect(text == "<bos>" + item.prompt + prefix)
                let value = decision == .step1 ? item.label("intermediate") : item.label("answer")
                #expect(tok.decode([layout.correct[p]]) == String(String(value).first!))
                #expect(layout.correct[p] != layout.wrong[p])
            }
        }
    }

    @Test func aPairDependsOnlyOnItsItemAndTheSeed() throws {
        let task = try Tasks.named("multistep")
        let items = try Self.items(task, 60)
        let full = try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: .answer, seed: 3)
        #expect(full == (try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: .answer, seed: 3)))
        // Building on the first 25 items gives exactly the full build's pairs of those items.
        let head = try MinimalPairSet.build(task: task, items: Array(items.prefix(25)), corruption: .operand, decision: .answer, seed: 3)
        func pairs(_ s: MinimalPairSet, below n: Int) -> [Int: [Int32]] {
            var out: [Int: [Int32]] = [:]
            for l in s.layouts { for p in 0..<l.count where l.items[p] < n { out[l.items[p]] = l.corrupted[p] } }
            return out
        }
        #expect(!pairs(head, below: 25).isEmpty)
        #expect(pairs(head, below: 25) == pairs(full, below: 25))
        let reseeded = try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: .answer, seed: 4)
        #expect(pairs(reseeded, below: 60) != pairs(full, below: 60), "another seed draws other corruptions")
    }

    @Test func aSmallLayoutIsDroppedAndCounted() throws {
        let task = try Tasks.named("sub")
        let items = try Self.items(task, 60)
        let all = try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: .answer, seed: 1)
        let smallest = try #require(all.layouts.map(\.count).min())
        let largest = try #require(all.layouts.map(\.count).max())
        try #require(smallest < largest)
        let kept = try MinimalPairSet.build(task: task, items: items, corruption: .operand, decision: .answer, seed: 1, minPairs: smallest + 1)
        let removed = all.layouts.filter { $0.count <= smallest }.reduce(0) { $0 + $1.count }
        #expect(kept.dropped[.layoutBelowMinimum] == removed)
        #expect(kept.pairCount == all.pairCount - removed)
        #expect(kept.layouts.allSatisfy { $0.count > smallest })
        // The small layouts are kept aside, whole, for results that pool over layouts.
        #expect(kept.smallLayouts.count == all.layouts.filter { $0.count <= smallest }.count)
        #expect(kept.smallLayouts.allSatisfy { l in l.count <= smallest && all.layouts.contains(l) })
        #expect(kept.pooledPairCount == all.pairCount && all.smallLayouts.isEmpty)
    }

    @Test func aCorruptionOrDecisionTheTaskLacksIsAnError() throws {
        let sub = try Tasks.named("sub")
        let items = try Self.items(sub, 10)
        let order = #expect(throws: SkillsError.self) {
            try MinimalPairSet.build(task: sub, items: items, corruption: .order, decision: .answer, seed: 0)
        }
        #expect(order?.description.contains("no order corruption") == true)
        let step = #expect(throws: SkillsError.self) {
            try MinimalPairSet.build(task: sub, items: items, corruption: .operand, decision: .step1, seed: 0)
        }
        #expect(step?.description.contains("no step1 decision") == true)
        #expect(throws: SkillsError.self) {
            try MinimalPairSet.build(task: sub, items: items, corruption: .operand, decision: .answer, seed: 0, minPairs: 0)
        }
    }
}
