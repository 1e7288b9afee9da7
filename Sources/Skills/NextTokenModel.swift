// What evaluation needs from a model, and nothing more, so Skills does not depend on the
// transformer's internals (and tests can use hand-written lookup tables).

public protocol NextTokenModel {
    /// Longest sequence the model accepts.
    var contextLength: Int { get }
    var vocabSize: Int { get }
    /// Logits [batch, length, vocab], row-major, for a PAD-padded [batch, length] token array.
    /// Must be causal: logits at position t may depend only on tokens 0...t (evaluation pads on the right).
    func logits(tokens: [Int32], batch: Int, length: Int) -> [Float]
}
