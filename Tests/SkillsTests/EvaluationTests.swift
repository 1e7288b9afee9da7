import Foundation
import Testing
import Tensors
@testable import Skills

/// A causal lookup-table model: it knows some full sequences; while the input so far equals a prefix of
/// one of them, it puts a large logit on that sequence's next token, otherwise all logits are 0
/// (so argmax falls to the lowest id, PAD).
struct LookupModel: NextTokenModel {
    let contextLength = 48
    let vocabSize = Tokenizer.standard.vocabSize
    let sequences: [[Int32]]
    let peak: Float = 1000

    init(texts: [(prompt: String, answer: String)]) throws {
        sequences = try texts.map { try Tokenizer.standard.encode(Example(task: "", prompt: $0.prompt, answer: $0.answer)) }
    }

    func logits(tokens: [Int32], batch: Int, length: Int) -> [Float] {
        var out = [Float](repeating: 0, count: batch * length * vocabSize)
        for b in 0..<batch {
            let row = Array(tokens[(b * length)..<((b + 1) * length)])
            for t in 0..<length {
                let seen = Array(row[0...t])
                if let known = sequences.first(where: { $0.count > t + 1 && Array($0[0...t]) == seen }) {
                    out[(b * length + t) * vocabSize + Int(known[t + 1])] = peak
                }
            }
        }
        return out
    }
}

@Suite struct EvaluationTests {
    let examples = [
        Example(task: "add", prompt: "3+6=", answer: "9"),
        Example(task: "double", prompt: "7*2=", answer: "14"),
        Example(task: "sub", prompt: "23-20=", answer: "3"),
    ]
    let task = ArithmeticTask(.add)

    @Test(arguments: [1, 2, 64])
    func perfectModelScoresPerfectly(batchSize: Int) throws {
        let model = try LookupModel(texts: examples.map { ($0.prompt, $0.answer) })
        let metrics = try Evaluation.evaluate(model: model, examples: examples, task: task, batchSize: batchSize)
        #expect(metrics.n == 3)
        #expect(metrics.exactMatch == 1)
        #expect(metrics.tokenAccuracy == 1)
        #expect(metrics.meanAnswerLogProb == 0)
        #expect(metrics.meanEditDistance == 0)
        #expect(metrics.chanceExactMatch == 1.0 / 100)   // add answers 0...99
    }

    @Test(arguments: [1, 2, 64])
    func wrongAnswersGiveHandComputedScores(batchSize: Int) throws {
        // Item 1 right; item 2 says 15 (one substitution); item 3 says 13 (one insertion, no EOS in budget).
        let model = try LookupModel(texts: [("3+6=", "9"), ("7*2=", "15"), ("23-20=", "13")])
        let items = try Evaluation.evaluateItems(model: model, examples: examples, task: task, batchSize: batchSize)
        let digits = { (s: String) in try Tokenizer.standard.encode(s) }
        #expect(items.map(\.exactMatch) == [true, false, false])
        #expect(items.map(\.decoded) == [try digits("9"), try digits("15"), try digits("13")])
        #expect(items.map(\.editDistance) == [0, 1, 1])
        // Teacher forced: "14<eos>" -> '1' right, '4' wrong ('5'), EOS wrong (unknown prefix -> PAD).
        // "3<eos>" -> '3' wrong ('1'), EOS wrong.
        #expect(items.map(\.correctTokens) == [2, 1, 0])
        #expect(items.map(\.scoredTokens) == [2, 3, 2])
        #expect(items.map(\.answerLogProb) == [0, -1000, -1000])

        let metrics = try Evaluation.evaluate(model: model, examples: examples, task: task, batchSize: batchSize)
        #expect(metrics.exactMatch == 1.0 / 3)
        #expect(metrics.tokenAccuracy == 3.0 / 7)
        #expect(metrics.meanAnswerLogProb == -2000.0 / 3)
        #expect(metrics.meanEditDistance == 2.0 / 3)
    }

    @Test func uniformModelHasExactUniformLogProb() throws {
        let model = try LookupModel(texts: [])
        let metrics = try Evaluation.evaluate(model: model, examples: examples, task: task)
        // Answer tokens (EOS excluded): 1 + 2 + 1, each with probability 1 / vocabSize.
        let expected = -4 * log(Double(Tokenizer.standard.vocabSize)) / 3
        #expect(abs(metrics.meanAnswerLogProb - expected) < 1e-9)
        // ...which is the log-prob chance level; token-accuracy chance is 1 / vocabSize; edit-distance
        // chance compares "9" with "14", "14" with "3", "3" with "9": 2, 2, 1.
        #expect(abs(metrics.overall.chanceAnswerLogProb - expected) < 1e-9)
        #expect(abs(metrics.overall.chanceTokenAccuracy - 1 / Double(Tokenizer.standard.vocabSize)) < 1e-12)
        #expect(metrics.overall.chanceEditDistance == 5.0 / 3)
        #expect(metrics.exactMatch == 0)
        #expect(metrics.tokenAccuracy == 0)
        // Never emits EOS, so it writes the whole budget of PADs: the task's longest sequence (`add` up to
        // 99: "<bos>99+99=99<eos>", 10 tokens) minus <bos> and the prompt: 5, 5 and 3 tokens here. Edit
        // distance to "9", "14", "3": 5, 5, 3 (every answer token substituted, the rest inserted).
        #expect(task.maxEncodedLength == 10)
        #expect(metrics.meanEditDistance == Double(5 + 5 + 3) / 3)
    }

    @Test func categoriesSplitTheItems() throws {
        let task = MultistepTask()
        var rng = RNG(seed: 1)
        let examples = (0..<40).map { _ in task.example(rng: &rng) }
        // Knows the right answer only for items told in order.
        let model = try LookupModel(texts: examples.filter { $0.label("told_out_of_order") == 0 }.map { ($0.prompt, $0.answer) })
        let metrics = try Evaluation.evaluate(model: model, examples: examples, task: task, batchSize: 16)
        let inOrder = examples.filter { $0.label("told_out_of_order") == 0 }.count
        #expect(metrics.categories["told_in_order"]?.n == inOrder)
        #expect(metrics.categories["told_in_order"]?.exactMatch == 1)
        #expect(metrics.categories["told_out_of_order"]?.exactMatch == 0)
        #expect(metrics.categories["told_out_of_order"]?.n == 40 - inOrder)
        #expect(metrics.exactMatch == Double(inOrder) / 40)
        let borrow = metrics.categories["borrow"]?.n ?? 0, noBorrow = metrics.categories["no_borrow"]?.n ?? 0
        #expect(borrow + noBorrow == examples.filter { $0.label("borrow") != -1 }.count)
        // Metrics survive a JSON round trip (they go to metrics.jsonl).
        let data = try JSONEncoder().encode(metrics)
        #expect(try JSONDecoder().decode(TaskMetrics.self, from: data) == metrics)
    }

    @Test func mismatchedModelsAreErrors() throws {
        struct Tiny: NextTokenModel {
            var contextLength = 4
            var vocabSize = Tokenizer.standard.vocabSize
            func logits(tokens: [Int32], batch: Int, length: Int) -> [Float] { [] }
        }
        #expect(throws: SkillsError.self) { try Evaluation.evaluate(model: Tiny(), examples: examples, task: task) }
        #expect(throws: SkillsError.self) { try Evaluation.evaluate(model: Tiny(contextLength: 48), examples: examples, task: task) }
        #expect(throws: SkillsError.self) { try Evaluation.evaluate(model: Tiny(vocabSize: 7), examples: examples, task: task) }
    }

    @Test func levenshteinBasics() {
        #expect(levenshtein([], [1, 2]) == 2)
        #expect(levenshtein([1, 2, 3], [1, 3]) == 1)
        #expect(levenshtein([1, 2], [2, 1]) == 2)
        #expect(levenshtein([5, 6, 7], [5, 6, 7]) == 0)
    }
}
