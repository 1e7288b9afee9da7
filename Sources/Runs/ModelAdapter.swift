import Skills
import Transformer

/// The transformer as the evaluation code sees it: tokens in, logits out.
extension Transformer: NextTokenModel {
    public var contextLength: Int { config.n_ctx }
    public var vocabSize: Int { config.d_vocab }

    public func logits(tokens: [Int32], batch: Int, length: Int) -> [Float] {
        // A shape error yields an empty array, which Evaluation reports as a bad model output.
        (try? forward(tokens: tokens, batch: batch, length: length).logits.data) ?? []
    }
}
