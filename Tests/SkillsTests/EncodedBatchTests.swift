import Testing
import Tensors
@testable import Skills

@Suite struct EncodedBatchTests {
    let examples = [
        Example(task: "add", prompt: "3+6=", answer: "9"),
        Example(task: "double", prompt: "17*2=", answer: "34"),
    ]

    @Test func tokensTargetsAndAnswerMaskLineUp() throws {
        let tokenizer = Tokenizer.standard
        let batch = try EncodedBatch(examples: examples, length: 10)
        #expect(batch.tokens.count == 20 && batch.targets.count == 20 && batch.lossMask.count == 20)
        #expect(batch.lengths == [7, 9])
        #expect(batch.answerStarts == [5, 6])
        for (i, example) in examples.enumerated() {
            let row = Array(batch.tokens[(i * 10)..<(i * 10 + 10)])
            let sequence = try tokenizer.encode(example)
            #expect(Array(row.prefix(sequence.count)) == sequence)
            #expect(row.dropFirst(sequence.count).allSatisfy { $0 == Tokenizer.pad })
            let targets = Array(batch.targets[(i * 10)..<(i * 10 + 10)])
            let mask = Array(batch.lossMask[(i * 10)..<(i * 10 + 10)])
            for t in 0..<10 {
                #expect(targets[t] == (t + 1 < sequence.count ? sequence[t + 1] : -1))
            }
            // The masked targets are exactly the answer tokens followed by EOS.
            let masked = (0..<10).filter { mask[$0] == 1 }.map { targets[$0] }
            #expect(masked == (try tokenizer.encode(example.answer)) + [Tokenizer.eos])
            #expect(tokenizer.decode(masked) == example.answer + "<eos>")
        }
    }

    @Test func allTokensMaskCoversEveryRealTarget() throws {
        let batch = try EncodedBatch(examples: examples, length: 12, lossScope: .allTokens)
        for t in 0..<batch.targets.count {
            #expect((batch.lossMask[t] == 1) == (batch.targets[t] != -1))
        }
        #expect(batch.lossMask.reduce(0, +) == Float(7 - 1 + 9 - 1))
    }

    @Test func tooLongExampleIsAnError() {
        #expect(throws: SkillsError.exampleTooLong(length: 9, limit: 8, prompt: "17*2=")) {
            try EncodedBatch(examples: examples, length: 8)
        }
    }

    @Test func generatedExamplesFitTheTasksBound() throws {
        for task in Tasks.all() {
            let examples = try Dataset.generate(task: task, split: .train, count: 200, seed: 3)
            let batch = try EncodedBatch(examples: examples, length: task.maxEncodedLength)
            #expect(batch.count == 200)
        }
    }
}
