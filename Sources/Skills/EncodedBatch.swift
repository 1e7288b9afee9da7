// Examples as fixed-shape arrays for training and evaluation.
//
// Row i holds `<bos> prompt answer <eos>` followed by PAD up to length T.
// targets[i, t] is the token at t + 1 (next-token prediction), -1 where there is none (last real
// token and padding). lossMask[i, t] is 1 where the loss should count: by default where the TARGET
// is an answer token or the EOS (positions answer_start - 1 ... eos - 1), or with `.allTokens`
// wherever a target exists. Loss = sum(mask * CE(logits[t], targets[t])) / sum(mask).

public enum LossScope: String, Sendable, Codable {
    case answer
    case allTokens
}

public struct EncodedBatch: Sendable, Equatable {
    public let count: Int
    public let length: Int
    /// [count, length], row-major, PAD-padded.
    public var tokens: [Int32]
    /// Real (unpadded) length of each row.
    public var lengths: [Int]
    /// [count, length] next-token targets, -1 = ignore.
    public var targets: [Int32]
    /// [count, length] 0/1 loss weights.
    public var lossMask: [Float]
    /// Position of the first answer token in each row.
    public var answerStarts: [Int]

    public init(examples: [Example], length: Int, tokenizer: Tokenizer = .standard,
                lossScope: LossScope = .answer) throws(SkillsError) {
        count = examples.count
        self.length = length
        tokens = [Int32](repeating: Tokenizer.pad, count: count * length)
        targets = [Int32](repeating: -1, count: count * length)
        lossMask = [Float](repeating: 0, count: count * length)
        lengths = []
        answerStarts = []
        for (i, example) in examples.enumerated() {
            let sequence = try tokenizer.encode(example)
            guard sequence.count <= length else {
                throw .exampleTooLong(length: sequence.count, limit: length, prompt: example.prompt)
            }
            let row = i * length
            let answerStart = 1 + example.prompt.count
            for (t, token) in sequence.enumerated() { tokens[row + t] = token }
            for t in 0..<(sequence.count - 1) {
                targets[row + t] = sequence[t + 1]
                let targetIsAnswerOrEOS = t + 1 >= answerStart
                if lossScope == .allTokens || targetIsAnswerOrEOS { lossMask[row + t] = 1 }
            }
            lengths.append(sequence.count)
            answerStarts.append(answerStart)
        }
    }
}
