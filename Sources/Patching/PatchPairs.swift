import Transformer

/// Clean and corrupted prompts, token for token the same length, and what the metric reads of each
/// pair (CONTRACTS section 6): the row `position` of the logits, the clean answer `correct` and the
/// corrupted answer `wrong`. Plain data, so any tool can build it (the CLI builds it from skill tasks).
public struct PatchPairs: Sendable, Equatable, Codable {
    public let clean: [[Int32]]       // [N][T]
    public let corrupted: [[Int32]]   // [N][T]
    public let position: [Int]        // [N], 0 ..< T
    public let correct: [Int32]       // [N]
    public let wrong: [Int32]         // [N]

    public var count: Int { clean.count }
    public var length: Int { clean.first?.count ?? 0 }

    public init(clean: [[Int32]], corrupted: [[Int32]], position: [Int], correct: [Int32], wrong: [Int32]) throws(PatchError) {
        let n = clean.count
        guard n > 0 else { throw .badPairs("no pairs") }
        for (name, count) in [("corrupted", corrupted.count), ("position", position.count), ("correct", correct.count), ("wrong", wrong.count)]
        where count != n {
            throw .badPairs("\(n) clean rows but \(count) \(name) entries")
        }
        let T = clean[0].count
        guard T > 0 else { throw .badPairs("pair 0: empty prompt") }
        for i in 0..<n {
            guard clean[i].count == T else { throw .badPairs("pair \(i): clean row has \(clean[i].count) tokens, pair 0 has \(T)") }
            guard corrupted[i].count == T else {
                throw .badPairs("pair \(i): corrupted row has \(corrupted[i].count) tokens, clean has \(T)")
            }
            guard position[i] >= 0 && position[i] < T else { throw .badPairs("pair \(i): position \(position[i]) outside 0..<\(T)") }
        }
        self.clean = clean; self.corrupted = corrupted; self.position = position; self.correct = correct; self.wrong = wrong
    }

    /// Checks the pairs fit a model: prompt length within n_ctx, every token and answer in the vocabulary.
    public func validate(for c: ModelConfig) throws(PatchError) {
        guard length <= c.n_ctx else { throw .badPairs("prompts have \(length) tokens, the model's n_ctx is \(c.n_ctx)") }
        for i in 0..<count {
            for (name, row) in [("clean", clean[i]), ("corrupted", corrupted[i])] {
                if let t = row.first(where: { $0 < 0 || Int($0) >= c.d_vocab }) {
                    throw .badPairs("pair \(i): \(name) token \(t) outside the vocabulary 0..<\(c.d_vocab)")
                }
            }
            for (name, t) in [("correct", correct[i]), ("wrong", wrong[i])] where t < 0 || Int(t) >= c.d_vocab {
                throw .badPairs("pair \(i): \(name) answer \(t) outside the vocabulary 0..<\(c.d_vocab)")
            }
        }
    }

    /// One run's tokens, row-major [N * T], as the engine takes them.
    func tokens(_ run: PatchRun) -> [Int32] { Array((run == .clean ? clean : corrupted).joined()) }
}

/// The two runs of an experiment.
public enum PatchRun: String, Sendable, Codable { case clean, corrupted }

/// Denoising: clean activations into the corrupted run (is this enough to restore the answer?).
/// Noising: corrupted (or ablated) activations into the clean run (is this needed for the answer?).
public enum PatchDirection: String, Sendable, Codable, CaseIterable {
    case denoising, noising
    /// The run that is patched, and the run whose activations are patched in (resample ablation).
    var base: PatchRun { self == .denoising ? .corrupted : .clean }
    var source: PatchRun { self == .denoising ? .clean : .corrupted }
}
