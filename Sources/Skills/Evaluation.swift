// Scores a NextTokenModel on examples: greedy exact match, teacher-forced token accuracy and answer
// log-probability, edit distance, and chance level, overall and per item category.
//
// Greedy decoding is batched: each row starts as `<bos> prompt`, rows are padded on the right with
// PAD (harmless for a causal model), and each row reads its logits at its own last real position.
// A row decodes until EOS, at most as many tokens as the task's longest answer for that prompt length
// + EOS. Ties in argmax go to the lowest id.
// Greedy decoding follows the correct answer exactly as long as the teacher-forced argmax is right, so
// it only runs for rows with a teacher-forced miss, starting at their first miss: the same outputs as
// decoding every row from the prompt, at a fraction of the cost once a model is mostly right.

public enum Evaluation {
    public static func evaluate(model: some NextTokenModel, examples: [Example], task: any SkillTask,
                                tokenizer: Tokenizer = .standard, batchSize: Int = 64) throws(SkillsError) -> TaskMetrics {
        let items = try evaluateItems(model: model, examples: examples, task: task,
                                      tokenizer: tokenizer, batchSize: batchSize)
        return TaskMetrics(task: task.name, examples: examples, items: items)
    }

    /// Per-example results, in the order of `examples`.
    public static func evaluateItems(model: some NextTokenModel, examples: [Example], task: any SkillTask,
                                     tokenizer: Tokenizer = .standard, batchSize: Int = 64) throws(SkillsError) -> [ItemResult] {
        guard model.vocabSize == tokenizer.vocabSize else {
            throw .vocabularyMismatch(model: model.vocabSize, tokenizer: tokenizer.vocabSize)
        }
        var results: [ItemResult] = []
        var start = 0
        while start < examples.count {
            let chunk = Array(examples[start..<min(start + max(1, batchSize), examples.count)])
            results += try evaluateChunk(model: model, chunk: chunk, task: task, tokenizer: tokenizer)
            start += chunk.count
        }
        // Edit-distance chance: item i's answer against item i+1's (cyclically), in answer tokens.
        let answers = try examples.map { e throws(SkillsError) in try tokenizer.encode(e.answer) }
        for i in results.indices {
            results[i].chanceEditDistance = levenshtein(answers[(i + 1) % answers.count], answers[i])
        }
        return results
    }

    private static func evaluateChunk(model: some NextTokenModel, chunk: [Example], task: any SkillTask,
                                      tokenizer: Tokenizer) throws(SkillsError) -> [ItemResult] {
        var sequences: [[Int32]] = []
        for example in chunk {
            let sequence = try tokenizer.encode(example)
            guard sequence.count <= model.contextLength else {
                throw .exampleTooLong(length: sequence.count, limit: model.contextLength, prompt: example.prompt)
            }
            sequences.append(sequence)
        }
        let forced = try teacherForced(model: model, chunk: chunk, sequences: sequences)
        let decoded = try greedyDecode(model: model, chunk: chunk, sequences: sequences, task: task,
                                       firstMiss: forced.map(\.firstMiss))
        return chunk.indices.map { i in
            let answerTokens = Array(sequences[i][(1 + chunk[i].prompt.count)..<(sequences[i].count - 1)])
            let output = decoded[i]
            let untilEOS = Array(output.prefix { $0 != Tokenizer.eos })
            return ItemResult(
                exactMatch: output == answerTokens + [Tokenizer.eos],
                correctTokens: forced[i].correct,
                scoredTokens: answerTokens.count + 1,
                answerLogProb: forced[i].logProb,
                editDistance: levenshtein(untilEOS, answerTokens),
                decoded: untilEOS,
                chance: 1 / Double(max(1, task.answerSpaceSize(of: chunk[i]))),
                chanceLogProb: -Double(answerTokens.count) * log(Double(model.vocabSize)),
                chanceCorrectTokens: Double(answerTokens.count + 1) / Double(model.vocabSize),
                chanceEditDistance: 0)
        }
    }

    /// One forward pass over the full sequences; scores the predictions of answer tokens and EOS.
    private static func teacherForced(model: some NextTokenModel, chunk: [Example], sequences: [[Int32]])
        throws(SkillsError) -> [(correct: Int, logProb: Double, firstMiss: Int?)] {
        let logits = try run(model, sequences)
        let length = sequences.map(\.count).max() ?? 0
        let vocab = model.vocabSize
        return chunk.indices.map { i in
            let answerStart = 1 + chunk[i].prompt.count
            var correct = 0
            var logProb = 0.0
            var firstMiss: Int? = nil
            for p in answerStart..<sequences[i].count {
                let row = logits[((i * length) + p - 1) * vocab ..< ((i * length) + p) * vocab]
                let target = Int(sequences[i][p])
                if argmax(row) == target { correct += 1 } else if firstMiss == nil { firstMiss = p }
                // EOS counts for accuracy but not for the answer log-probability.
                if p < sequences[i].count - 1 { logProb += logSoftmax(row, at: target) }
            }
            return (correct, logProb, firstMiss)
        }
    }

    /// Greedy continuation of `<bos> prompt`, at most the budget per row, stopping at EOS. A row whose
    /// teacher-forced argmax never misses decodes to its answer + EOS; another row starts from the correct
    /// prefix up to its first miss (sequence position `firstMiss`), which greedy decoding reproduces.
    private static func greedyDecode(model: some NextTokenModel, chunk: [Example], sequences: [[Int32]], task: any SkillTask,
                                     firstMiss: [Int?]) throws(SkillsError) -> [[Int32]] {
        let promptEnd = chunk.indices.map { 1 + chunk[$0].prompt.count }
        // The decoder must not know the item's answer length: it may write as many tokens as the longest
        // answer any item of this task with this prompt length could have (task.maxEncodedLength bounds
        // <bos> prompt answer <eos>), plus the EOS; a longer output counts in the edit distance.
        let budget = chunk.indices.map { i in
            max(sequences[i].count - promptEnd[i], min(task.maxEncodedLength, model.contextLength) - promptEnd[i])
        }
        var current = chunk.indices.map { Array(sequences[$0].prefix(firstMiss[$0] ?? sequences[$0].count)) }
        var outputs = chunk.indices.map { Array(current[$0].dropFirst(promptEnd[$0])) }
        var active = chunk.indices.filter { firstMiss[$0] != nil }
        while !active.isEmpty {
            let logits = try run(model, active.map { current[$0] })
            let length = active.map { current[$0].count }.max() ?? 0
            let vocab = model.vocabSize
            var still: [Int] = []
            for (row, i) in active.enumerated() {
                let p = current[i].count - 1
                let token = Int32(argmax(logits[((row * length) + p) * vocab ..< ((row * length) + p + 1) * vocab]))
                outputs[i].append(token)
                if token != Tokenizer.eos && outputs[i].count < budget[i] {
                    current[i].append(token)
                    still.append(i)
                }
            }
            active = still
        }
        return outputs
    }

    /// Pads rows with PAD to a common length and runs the model, checking the output size.
    private static func run(_ model: some NextTokenModel, _ rows: [[Int32]]) throws(SkillsError) -> [Float] {
        let length = rows.map(\.count).max() ?? 0
        var tokens = [Int32](repeating: Tokenizer.pad, count: rows.count * length)
        for (i, row) in rows.enumerated() {
            for (t, token) in row.enumerated() { tokens[i * length + t] = token }
        }
        let logits = model.logits(tokens: tokens, batch: rows.count, length: length)
        let expected = rows.count * length * model.vocabSize
        guard logits.count == expected else { throw .badModelOutput(expected: expected, got: logits.count) }
        return logits
    }
}

/// Index of the largest value; the lowest index wins ties.
func argmax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for i in values.indices where values[i] > values[best] { best = i }
    return best - values.startIndex
}

/// log softmax(values)[index], computed in Double with the max subtracted for stability.
func logSoftmax(_ values: ArraySlice<Float>, at index: Int) -> Double {
    let peak = Double(values.max() ?? 0)
    var total = 0.0
    for v in values { total += _exp(Double(v) - peak) }
    return Double(values[values.startIndex + index]) - peak - _logarithm(total)
}

/// Token-level Levenshtein distance (insertions, deletions, substitutions all cost 1).
public func levenshtein(_ a: [Int32], _ b: [Int32]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var row = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return previous[b.count]
}

#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
private func _logarithm(_ x: Double) -> Double { Glibc.log(x) }
#else
import Darwin
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
private func _logarithm(_ x: Double) -> Double { Darwin.log(x) }
#endif
