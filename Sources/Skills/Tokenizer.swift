// Character-level tokenizer with an explicit, fixed vocabulary.
// The vocabulary is part of the experiment (it is written next to every dataset and checkpoint),
// so it is spelled out here rather than derived from data: adding a character is a deliberate change.
//
// Ids: <pad>=0, <bos>=1, <eos>=2, then digits 0-9, then punctuation, then the 17 lowercase letters
// the mini-language words need (had, add, sub, twice, now, first, later, final, after, prior, order).

public struct Tokenizer: Sendable, Equatable {
    public static let pad: Int32 = 0
    public static let bos: Int32 = 1
    public static let eos: Int32 = 2

    /// The standard vocabulary every task in this module uses (39 tokens).
    public static let standardVocabulary: [String] =
        ["<pad>", "<bos>", "<eos>"]
        + (0...9).map(String.init)
        + [" ", ".", "?", "=", "+", "-", "*", ";", ","]
        + ["a", "b", "c", "d", "e", "f", "h", "i", "l", "n", "o", "p", "r", "s", "t", "u", "w"]

    public static let standard = Tokenizer()

    /// Token strings by id (special tokens as `<pad>`, `<bos>`, `<eos>`), for writing next to datasets.
    public let vocab: [String]
    private let idOfCharacter: [Character: Int32]

    public var vocabSize: Int { vocab.count }

    public init() {
        vocab = Tokenizer.standardVocabulary
        var map: [Character: Int32] = [:]
        for (id, token) in vocab.enumerated() where token.count == 1 {
            map[Character(token)] = Int32(id)
        }
        idOfCharacter = map
    }

    /// Encodes text character by character (no BOS/EOS added).
    public func encode(_ text: String) throws(SkillsError) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.count)
        for (position, character) in text.enumerated() {
            guard let id = idOfCharacter[character] else {
                throw .unknownCharacter(character, position: position, text: text)
            }
            ids.append(id)
        }
        return ids
    }

    /// Inverse of `encode`; special tokens appear as their names, out-of-range ids as `<unk:N>`.
    public func decode(_ tokens: [Int32]) -> String {
        tokens.map { id in
            id >= 0 && Int(id) < vocab.count ? vocab[Int(id)] : "<unk:\(id)>"
        }.joined()
    }

    /// The training/eval sequence of an example: `<bos> prompt answer <eos>`.
    public func encode(_ example: Example) throws(SkillsError) -> [Int32] {
        [Tokenizer.bos] + (try encode(example.prompt + example.answer)) + [Tokenizer.eos]
    }

    /// `<bos> prompt`: what a model sees before it must produce the answer.
    public func encodePrompt(_ example: Example) throws(SkillsError) -> [Int32] {
        [Tokenizer.bos] + (try encode(example.prompt))
    }
}
