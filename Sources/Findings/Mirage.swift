import Foundation

// Section 6 (Schaeffer et al. 2023): is the sharpness a property of exact match? If every answer token
// is right with probability p, an item of L tokens is exactly right with probability p^L, which turns a
// smooth per-token accuracy into a sharp EM curve.

/// One group's EM and TA on the same task and items, each item's answer length, and optionally the
/// other metrics (LP, ED) whose onsets the report prints beside them.
public struct MirageGroup: Sendable, Codable, Equatable {
    public var em: TaskOutcomes
    public var ta: TaskOutcomes
    /// [items]: answer tokens of each item.
    public var answerLengths: [Int]
    public var others: [TaskOutcomes]

    public init(em: TaskOutcomes, ta: TaskOutcomes, answerLengths: [Int], others: [TaskOutcomes] = []) {
        self.em = em
        self.ta = ta
        self.answerLengths = answerLengths
        self.others = others
    }

    public func validate() throws {
        for t in [em, ta] + others {
            try t.validate()
            try em.validatePaired(with: t)
            guard t.task == em.task, t.itemCount == em.itemCount else {
                throw FindingsError.invalid("\(em.group): the metrics of \(em.task) must score the same items of the same task")
            }
        }
        guard em.metric == .exactMatch else { throw FindingsError.wrongMetric(task: em.task, found: em.metric, expected: .exactMatch) }
        guard ta.metric == .tokenAccuracy else { throw FindingsError.wrongMetric(task: ta.task, found: ta.metric, expected: .tokenAccuracy) }
        guard answerLengths.count == em.itemCount else {
            throw FindingsError.labelCount(task: em.task, what: "answer lengths", count: answerLengths.count, items: em.itemCount)
        }
        if let bad = answerLengths.first(where: { $0 < 1 }) { throw FindingsError.invalid("\(em.task): answer length \(bad)") }
    }

    /// Measured EM and the p^L prediction under `draws`, [checkpoints] each. p is each drawn run's TA on
    /// its drawn items (EM and TA of one task draw the same items), the prediction the mean over those
    /// items of p^{L_i}, and the size's curves the mean over runs, like every size curve.
    func curves(_ draws: Draws) -> (measured: [Double], predicted: [Double]) {
        let draw = draws.group(em.group, seedCount: em.runs.count)
        let K = em.checkpoints
        var measured = [Double](repeating: 0, count: K), predicted = measured
        for (position, run) in draw.runs.enumerated() {
            let items = draw.items(task: em.task, position: position, count: em.itemCount)
            let p = ta.runMean(run, items: items), m = em.runMean(run, items: items)
            for k in 0..<K {
                measured[k] += m[k]
                var sum = 0.0
                for i in items { sum += pow(p[k], Double(answerLengths[i])) }
                predicted[k] += sum / Double(items.count)
            }
        }
        let inv = 1 / Double(draw.runs.count)
        return (measured.map { $0 * inv }, predicted.map { $0 * inv })
    }
}

public struct MirageGroupResult: Sendable, Codable, Equatable {
    public var group: String
    /// EM, TA, then `others`, side by side.
    public var onsets: [OnsetReport]
    /// On the data as observed, [checkpoints].
    public var measuredEM: [Double]
    public var predictedEM: [Double]
    /// R² of measured EM against mean p^L, identity model.
    public var r2: Estimate
    /// u(EM onset) − u(TA onset): above 0 when TA's onset comes first.
    public var lag: Estimate?
    public var decision: Decision
}

public struct MirageReport: Sendable, Codable, Equatable {
    public var perGroup: [MirageGroupResult]
    /// Combined over the groups with an EM onset (`AcrossGroups`).
    public var decision: Decision

    public init(_ groups: [MirageGroup], settings: BootstrapSettings = .init()) throws {
        perGroup = try groups.map { try Self.group($0, settings: settings) }
        let decided = perGroup.filter { $0.onsets[0].times != nil }
        decision = AcrossGroups.combine(decided.map { GroupDecision(group: $0.group, lag: $0.lag, decision: $0.decision) })
    }

    static func group(_ g: MirageGroup, settings: BootstrapSettings) throws -> MirageGroupResult {
        try g.validate()
        let onsets = try ([g.em, g.ta] + g.others).map { try OnsetReport($0, settings: settings) }
        let r2 = Resampled(quantities: 1, settings: settings) { draws in
            let c = g.curves(draws)
            return [FitNumbers.identityR2(measured: c.measured, predicted: c.predicted)]
        }.estimate(0)
        let point = g.curves(.point)
        var out = MirageGroupResult(group: g.em.group, onsets: onsets, measuredEM: point.measured, predictedEM: point.predicted,
                                    r2: r2, lag: nil, decision: Decision(.inconclusive, because: ""))
        let em = onsets[0], ta = onsets[1]
        let seeds = Gates.seeds(g.em)
        var caveats = seeds.caveats + em.caveats + ta.caveats
        func inconclusive(_ why: String) -> MirageGroupResult {
            out.decision = Decision(.inconclusive, because: why, numbers: [DecidingNumber("R² of EM against p^L", r2)], caveats: caveats)
            return out
        }
        if seeds.blocks { return inconclusive("one seed") }
        guard let emTimes = em.times else { return inconclusive("EM has no onset: no sharpness to explain") }
        guard let taTimes = ta.times else { return inconclusive("TA has no onset") }
        if let c = Gates.items(em, fraction: 0.5) { caveats.append(c); return inconclusive("too few items") }
        let lag = OnsetLag.estimate(g.em, minus: [g.ta], settings: settings)
        out.lag = lag
        let numbers = [DecidingNumber("lag TA -> EM onset (decades)", lag), DecidingNumber("R² of EM against p^L", r2),
                       DecidingNumber("EM width (decades)", Estimate(point: emTimes.width.decades, interval: emTimes.widthInterval)),
                       DecidingNumber("TA width (decades)", Estimate(point: taTimes.width.decades, interval: taTimes.widthInterval))]
        // "Not supported" is read first: when TA is as sharp as EM, the sharpness is not EM's artefact,
        // whatever p^L fits (the two rules can both hold; see the findings notes).
        if let emWidth = emTimes.width.decades, taTimes.widthInterval.liesAtOrBelow(emWidth + 0.1) {
            out.decision = Decision(.notSupported, because: "TA width \(fmt(taTimes.widthInterval)) at or below EM width \(fmt(emWidth)) + 0.1: continuous metrics are as sharp",
                                    numbers: numbers, caveats: caveats)
        } else if lag.interval.liesAtOrBelow(0) && !Gates.censored(ta) {
            out.decision = Decision(.notSupported, because: "lag \(fmt(lag.interval)) at or below 0: TA's onset is not before EM's",
                                    numbers: numbers, caveats: caveats)
        } else if lag.interval.liesAbove(0) && !Gates.censored(em), let fit = r2.point, fit >= 0.8 {
            out.decision = Decision(.supported, because: "TA's onset precedes EM's (lag \(fmt(lag.interval))) and p^L predicts EM with R² \(fmt(fit)) ≥ 0.8",
                                    numbers: numbers, caveats: caveats)
        } else {
            out.decision = Decision(.inconclusive, because: "lag \(fmt(lag.interval)), R² \(fmt(r2.point)): neither rule holds",
                                    numbers: numbers, caveats: caveats)
        }
        return out
    }
}
