// Builds a prompt piece by piece while recording named token positions, so positions are
// computed from the very text that was written rather than by separate arithmetic.

struct PromptBuilder {
    private(set) var text = ""
    private(set) var positions: [String: Int] = LabelCatalog.emptyPositions

    /// Appends `piece`; if `name` is given, records the encoded position of the piece's last character.
    /// Encoded position of prompt character i is i + 1 because BOS sits at 0.
    mutating func append(_ piece: String, marking name: String? = nil) {
        text += piece
        if let name {
            precondition(positions[name] != nil, "position \(name) is not in LabelCatalog")
            positions[name] = text.count
        }
    }

    /// Completes the example: answer positions follow the prompt, then EOS.
    func finish(task: String, answer: String, labels: [String: LabelValue]) -> Example {
        var positions = self.positions
        let answerStart = text.count + 1
        positions["equals"] = text.count
        positions["answer_start"] = answerStart
        positions["answer_end"] = answerStart + answer.count - 1
        positions["eos"] = answerStart + answer.count
        if let separator = answer.firstIndex(of: ";") {
            positions["separator"] = answerStart + answer.distance(from: answer.startIndex, to: separator)
            let equals = answer.indices.filter { answer[$0] == "=" }
            for (k, i) in equals.prefix(2).enumerated() {
                positions["step\(k + 1)_equals"] = answerStart + answer.distance(from: answer.startIndex, to: i)
            }
        }
        return Example(task: task, prompt: text, answer: answer, labels: labels, positions: positions)
    }
}
