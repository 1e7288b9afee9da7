// Section 5's prediction (Okawa et al. 2023): a composite item's EM is predicted by the product of its
// factors, each the held-out EM of one sub-skill on that sub-skill's test items of the same category.
// The product is taken within each run (a model's composite against its own sub-skills), and the size's
// prediction is the mean over its runs, like every size curve.

/// One factor a composite item needs: a sub-skill and the category of its items that match.
public struct FactorKey: Hashable, Sendable, Codable {
    public var task: String
    public var category: String

    public init(task: String, category: String) {
        self.task = task
        self.category = category
    }

    /// The category of every test item of a sub-skill at once (plan 11.3: the fallback when a needed
    /// category has no test items).
    public static let pooled = "all test items"
}

/// A sub-skill's EM outcomes with each test item's category (the operation's borrow / carry / neither,
/// or `order`'s order-dependent / not).
public struct CategorisedTask: Sendable, Codable, Equatable {
    public var outcomes: TaskOutcomes
    /// [items]
    public var categories: [String]

    public init(outcomes: TaskOutcomes, categories: [String]) {
        self.outcomes = outcomes
        self.categories = categories
    }
}

/// One group's composite, its sub-skills and, per composite item, the factors it needs.
public struct MultiplicativeGroup: Sendable, Codable, Equatable {
    public var composite: TaskOutcomes
    public var subSkills: [CategorisedTask]
    /// [composite items][its factors]
    public var factors: [[FactorKey]]

    public init(composite: TaskOutcomes, subSkills: [CategorisedTask], factors: [[FactorKey]]) {
        self.composite = composite
        self.subSkills = subSkills
        self.factors = factors
    }

    public func validate() throws {
        try composite.validate()
        try Metric.requireExactMatch([composite] + subSkills.map(\.outcomes))
        try requireDistinct(subSkills.map(\.outcomes.task), in: composite.group)
        guard factors.count == composite.itemCount else {
            throw FindingsError.labelCount(task: composite.task, what: "factor lists", count: factors.count, items: composite.itemCount)
        }
        var known = Set<FactorKey>()
        for s in subSkills {
            try s.outcomes.validate()
            try composite.validatePaired(with: s.outcomes)
            guard s.categories.count == s.outcomes.itemCount else {
                throw FindingsError.labelCount(task: s.outcomes.task, what: "categories", count: s.categories.count, items: s.outcomes.itemCount)
            }
            for c in s.categories + [FactorKey.pooled] { known.insert(FactorKey(task: s.outcomes.task, category: c)) }
        }
        for key in factors.joined() where !known.contains(key) {
            throw FindingsError.unknownFactor(task: key.task, category: key.category)
        }
    }
}

/// A validated group with its labels turned into indices once, so a resample only adds and multiplies:
/// composite items that need the same factors share one product per checkpoint.
struct PreparedMultiplicative: Sendable {
    let group: MultiplicativeGroup
    /// Per sub-skill: each item's category as an index into that sub-skill's category list.
    let categoryOf: [[Int]]
    let categoryCount: [Int]
    /// Distinct factor lists, each as (sub-skill, category index) pairs; and each composite item's list.
    let signatures: [[(skill: Int, category: Int)]]
    let signatureOf: [Int]

    init(_ g: MultiplicativeGroup) throws {
        try g.validate()
        group = g
        var names: [[String: Int]] = []
        var categoryOf: [[Int]] = []
        for s in g.subSkills {
            var index: [String: Int] = [:]
            categoryOf.append(s.categories.map { c in
                if let i = index[c] { return i }
                index[c] = index.count
                return index.count - 1
            })
            index[FactorKey.pooled] = index.count   // every item also counts here (plan 11.3)
            names.append(index)
        }
        self.categoryOf = categoryOf
        categoryCount = names.map(\.count)
        let skillIndex = Dictionary(uniqueKeysWithValues: g.subSkills.enumerated().map { ($1.outcomes.task, $0) })
        var seen: [[FactorKey]: Int] = [:]
        var signatures: [[(skill: Int, category: Int)]] = []
        signatureOf = g.factors.map { keys in
            if let i = seen[keys] { return i }
            seen[keys] = signatures.count
            signatures.append(keys.map { k in (skillIndex[k.task]!, names[skillIndex[k.task]!][k.category]!) })
            return signatures.count - 1
        }
        self.signatures = signatures
    }

    /// Measured (C) and predicted (P) composite EM under `draws`, [checkpoints] each; nil when a resample
    /// drew no item of some needed category (that factor is then undefined).
    func curves(_ draws: Draws) -> (measured: [Double], predicted: [Double])? {
        let composite = group.composite
        let draw = draws.group(composite.group, seedCount: composite.runs.count)
        let K = composite.checkpoints
        var measured = [Double](repeating: 0, count: K), predicted = measured
        for (position, run) in draw.runs.enumerated() {
            // factor[skill][category * K + k]: mean EM of the drawn items of that category; count 0 = undefined.
            var factor: [[Double]] = [], counts: [[Int]] = []
            for (j, s) in group.subSkills.enumerated() {
                let t = s.outcomes
                var sum = [Double](repeating: 0, count: categoryCount[j] * K), n = [Int](repeating: 0, count: categoryCount[j])
                let all = categoryCount[j] - 1   // the pooled category, last
                for i in draw.items(task: t.task, position: position, count: t.itemCount) {
                    let c = categoryOf[j][i], row = t.runs[run].values[i]
                    n[c] += 1
                    n[all] += 1
                    for k in 0..<K { sum[c * K + k] += row[k]; sum[all * K + k] += row[k] }
                }
                for c in 0..<n.count where n[c] > 0 { for k in 0..<K { sum[c * K + k] /= Double(n[c]) } }
                factor.append(sum)
                counts.append(n)
            }
            let items = draw.items(task: composite.task, position: position, count: composite.itemCount)
            var perSignature = [Int](repeating: 0, count: signatures.count)
            for i in items {
                perSignature[signatureOf[i]] += 1
                let row = composite.runs[run].values[i]
                for k in 0..<K { measured[k] += row[k] / Double(items.count) }
            }
            for (sig, n) in perSignature.enumerated() where n > 0 {
                let weight = Double(n) / Double(items.count)
                var product = [Double](repeating: weight, count: K)
                for f in signatures[sig] {
                    guard counts[f.skill][f.category] > 0 else { return nil }
                    for k in 0..<K { product[k] *= factor[f.skill][f.category * K + k] }
                }
                for k in 0..<K { predicted[k] += product[k] }
            }
        }
        let inv = 1 / Double(draw.runs.count)
        return (measured.map { $0 * inv }, predicted.map { $0 * inv })
    }
}
