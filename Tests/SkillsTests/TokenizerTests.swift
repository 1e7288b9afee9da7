import Testing
import Tensors
@testable import Skills

@Suite struct TokenizerTests {
    let tokenizer = Tokenizer.standard

    @Test func specialIdsAndSmallVocabulary() {
        #expect(tokenizer.vocab[Int(Tokenizer.pad)] == "<pad>")
        #expect(tokenizer.vocab[Int(Tokenizer.bos)] == "<bos>")
        #expect(tokenizer.vocab[Int(Tokenizer.eos)] == "<eos>")
        #expect(tokenizer.vocabSize <= 40)
        #expect(Set(tokenizer.vocab).count == tokenizer.vocabSize)
    }

    @Test func roundTripOverEveryTask() throws {
        var rng = RNG(seed: 11)
        for task in Tasks.all() {
            for _ in 0..<200 {
                let example = task.example(rng: &rng)
                let text = example.prompt + example.answer
                #expect(tokenizer.decode(try tokenizer.encode(text)) == text)
                let full = try tokenizer.encode(example)
                #expect(full.count == example.encodedLength)
                #expect(full.first == Tokenizer.bos && full.last == Tokenizer.eos)
                #expect(tokenizer.decode(full) == "<bos>" + text + "<eos>")
            }
        }
    }

    @Test func everyVocabularyCharacterRoundTrips() throws {
        let characters = tokenizer.vocab.dropFirst(3).joined()
        let ids = try tokenizer.encode(characters)
        #expect(ids == (3..<Int32(tokenizer.vocabSize)).map { $0 })
        #expect(tokenizer.decode(ids) == characters)
    }

    @Test func unknownCharacterNamesCharacterAndPosition() {
        #expect(throws: SkillsError.unknownCharacter("X", position: 4, text: "had X")) {
            try tokenizer.encode("had X")
        }
        do {
            _ = try tokenizer.encode("12/3")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("\"/\""))
            #expect(error.description.contains("position 2"))
        }
    }
}
