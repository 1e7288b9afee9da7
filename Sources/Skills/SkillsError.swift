// Every failure the Skills module can report. One case per cause, each with a one-line message
// that names the offending value, so a failed study run says what to fix.

public enum SkillsError: Error, CustomStringConvertible, Equatable, Sendable {
    case unknownCharacter(Character, position: Int, text: String)
    case unknownTask(String, known: [String])
    case exampleTooLong(length: Int, limit: Int, prompt: String)
    case splitExhausted(task: String, split: String, found: Int, wanted: Int, attempts: Int)
    case invalidConfig(String)
    case vocabularyMismatch(model: Int, tokenizer: Int)
    case badModelOutput(expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .unknownCharacter(c, position, text):
            return "unknown character \"\(c)\" at position \(position) in \"\(text)\" (not in the Skills vocabulary)"
        case let .unknownTask(name, known):
            return "unknown task \"\(name)\"; known tasks: \(known.joined(separator: ", "))"
        case let .exampleTooLong(length, limit, prompt):
            return "example \"\(prompt)\" encodes to \(length) tokens, more than the limit \(limit)"
        case let .splitExhausted(task, split, found, wanted, attempts):
            return "task \(task): found only \(found) of \(wanted) \(split) examples after \(attempts) draws (split too small or dedupe exhausted it)"
        case let .invalidConfig(why):
            return "invalid task config: \(why)"
        case let .vocabularyMismatch(model, tokenizer):
            return "model vocabulary size \(model) differs from tokenizer vocabulary size \(tokenizer)"
        case let .badModelOutput(expected, got):
            return "model returned \(got) logits, expected \(expected) (batch x length x vocab)"
        }
    }
}
