// Evaluation results. Codable: one TaskMetrics per task and checkpoint goes to metrics.jsonl.

/// The outcome on one example.
public struct ItemResult: Sendable, Codable, Equatable {
    /// Greedy decoding produced exactly the answer followed by EOS.
    public var exactMatch: Bool
    /// Teacher-forced argmax hits over answer tokens + EOS, and how many such tokens there are.
    public var correctTokens: Int
    public var scoredTokens: Int
    /// Sum of log-softmax probabilities of the answer tokens (EOS excluded), teacher forced.
    public var answerLogProb: Double
    /// Levenshtein distance between the greedily decoded tokens (up to EOS) and the answer tokens.
    public var editDistance: Int
    /// The greedily decoded tokens, EOS excluded.
    public var decoded: [Int32]
    /// Chance of an exact match for a uniform guess over the task's answer space (1 / size).
    public var chance: Double
    /// What a model that knows nothing (uniform over the vocabulary) scores on this item: summed answer
    /// log-probability (-answer tokens * ln V) and expected correct tokens (scored tokens / V).
    public var chanceLogProb: Double
    public var chanceCorrectTokens: Double
    /// Edit distance from this item's answer to another item's answer of the same set: a guess that
    /// is a well-formed answer of the task, just not this item's.
    public var chanceEditDistance: Int

    public init(exactMatch: Bool, correctTokens: Int, scoredTokens: Int, answerLogProb: Double, editDistance: Int,
                decoded: [Int32], chance: Double, chanceLogProb: Double, chanceCorrectTokens: Double, chanceEditDistance: Int) {
        self.exactMatch = exactMatch
        self.correctTokens = correctTokens
        self.scoredTokens = scoredTokens
        self.answerLogProb = answerLogProb
        self.editDistance = editDistance
        self.decoded = decoded
        self.chance = chance
        self.chanceLogProb = chanceLogProb
        self.chanceCorrectTokens = chanceCorrectTokens
        self.chanceEditDistance = chanceEditDistance
    }
}

public struct MetricSummary: Sendable, Codable, Equatable {
    public var n: Int
    /// Fraction of items whose greedy answer is exactly right.
    public var exactMatch: Double
    /// Micro-averaged teacher-forced accuracy over answer tokens + EOS.
    public var tokenAccuracy: Double
    /// Mean over items of the summed answer-token log-probability (nats).
    public var meanAnswerLogProb: Double
    /// Mean token-level Levenshtein distance between decoded and correct answers.
    public var meanEditDistance: Double
    /// Mean over items of the exact-match chance of a uniform guess over the task's answer space.
    public var chanceExactMatch: Double
    /// Chance levels of the continuous metrics (see ItemResult): uniform-over-vocabulary token accuracy
    /// and answer log-probability, and the edit distance of another item's answer.
    public var chanceTokenAccuracy: Double
    public var chanceAnswerLogProb: Double
    public var chanceEditDistance: Double

    public init(items: [ItemResult]) {
        n = items.count
        guard n > 0 else {
            exactMatch = 0; tokenAccuracy = 0; meanAnswerLogProb = 0; meanEditDistance = 0; chanceExactMatch = 0
            chanceTokenAccuracy = 0; chanceAnswerLogProb = 0; chanceEditDistance = 0
            return
        }
        let count = Double(n)
        exactMatch = Double(items.filter(\.exactMatch).count) / count
        let scored = items.reduce(0) { $0 + $1.scoredTokens }
        tokenAccuracy = scored == 0 ? 0 : Double(items.reduce(0) { $0 + $1.correctTokens }) / Double(scored)
        meanAnswerLogProb = items.reduce(0) { $0 + $1.answerLogProb } / count
        meanEditDistance = Double(items.reduce(0) { $0 + $1.editDistance }) / count
        chanceExactMatch = items.reduce(0) { $0 + $1.chance } / count
        chanceTokenAccuracy = scored == 0 ? 0 : items.reduce(0) { $0 + $1.chanceCorrectTokens } / Double(scored)
        chanceAnswerLogProb = items.reduce(0) { $0 + $1.chanceLogProb } / count
        chanceEditDistance = Double(items.reduce(0) { $0 + $1.chanceEditDistance }) / count
    }
}

public struct TaskMetrics: Sendable, Codable, Equatable {
    public var task: String
    public var overall: MetricSummary
    /// Breakdown by item category (only categories with at least one item):
    /// borrow / no_borrow, carry / no_carry, order_dependent / order_independent,
    /// told_in_order / told_out_of_order, template_absolute / template_relative.
    public var categories: [String: MetricSummary]

    public var n: Int { overall.n }
    public var exactMatch: Double { overall.exactMatch }
    public var tokenAccuracy: Double { overall.tokenAccuracy }
    public var meanAnswerLogProb: Double { overall.meanAnswerLogProb }
    public var meanEditDistance: Double { overall.meanEditDistance }
    public var chanceExactMatch: Double { overall.chanceExactMatch }

    /// Category name -> (label, value) that puts an item into it.
    public static let categoryDefinitions: [(category: String, label: String, value: Int)] = [
        ("borrow", "borrow", 1), ("no_borrow", "borrow", 0),
        ("carry", "carry", 1), ("no_carry", "carry", 0),
        ("order_dependent", "order_dependent", 1), ("order_independent", "order_dependent", 0),
        ("told_in_order", "told_out_of_order", 0), ("told_out_of_order", "told_out_of_order", 1),
        ("template_absolute", "template", 0), ("template_relative", "template", 1),
    ]

    public init(task: String, examples: [Example], items: [ItemResult]) {
        precondition(examples.count == items.count, "one result per example")
        self.task = task
        overall = MetricSummary(items: items)
        var categories: [String: MetricSummary] = [:]
        for definition in TaskMetrics.categoryDefinitions {
            let members = zip(examples, items).filter { $0.0.label(definition.label) == definition.value }.map(\.1)
            if !members.isEmpty { categories[definition.category] = MetricSummary(items: members) }
        }
        self.categories = categories
    }
}
