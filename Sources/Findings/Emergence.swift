// Section 3: emergence in the sense of Wei et al. 2022, over scale (final EM of each size) and over
// training (the width of one run's transition).

/// One size's outcomes with its parameter count (sections 2 and 3 order sizes by it).
public struct SizedOutcomes: Sendable, Codable, Equatable {
    public var parameters: Int
    public var outcomes: TaskOutcomes

    public init(parameters: Int, outcomes: TaskOutcomes) {
        self.parameters = parameters
        self.outcomes = outcomes
    }
}

public enum Emergence {
    /// The final checkpoint's value of `t`'s curve, oriented, with its interval.
    public static func finalValue(_ t: TaskOutcomes, settings: BootstrapSettings = .init()) throws -> Estimate {
        try t.validate()
        return Resampled(quantities: 1, settings: settings) { draws in [t.curve(draws).last!] }.estimate(0)
    }

    /// Over scale, on final EM: supported when the smallest size's upper end is at or below c + 0.1 and
    /// the largest's lower end at or above c + 0.5; not supported when every size's lower end is at or
    /// above c + 0.5 or the largest's upper end at or below c + 0.1; inconclusive otherwise. Fewer than 2
    /// sizes, a size with one seed, or fewer items than resolve 0.1 (35) make it inconclusive first.
    public static func overScale(_ sizes: [SizedOutcomes], settings: BootstrapSettings = .init()) throws -> Decision {
        guard sizes.count >= 2 else {
            return Decision(.inconclusive, because: "fewer than 2 sizes", caveats: [.missing("a second size")])
        }
        try Metric.requireExactMatch(sizes.map(\.outcomes))
        let sorted = sizes.sorted { $0.parameters < $1.parameters }
        let finals = try sorted.map { try finalValue($0.outcomes, settings: settings) }
        let numbers = zip(sorted, finals).map { s, f in
            DecidingNumber("final \(s.outcomes.metric.rawValue.uppercased()), \(s.outcomes.group) (\(s.parameters) parameters)", f)
        }
        var caveats: [Caveat] = []
        var blocked = false
        for s in sorted {
            let g = Gates.seeds(s.outcomes)
            blocked = blocked || g.blocks
            caveats += g.caveats
            if let c = Gates.items(s.outcomes, needed: 0.1) { caveats.append(c); blocked = true }
        }
        if blocked {
            return Decision(.inconclusive, because: "seeds or items cannot decide the rule (see caveats)", numbers: numbers, caveats: caveats)
        }
        let small = (sorted[0].outcomes.orientedChance, finals[0].interval)
        let large = (sorted[sorted.count - 1].outcomes.orientedChance, finals[finals.count - 1].interval)
        if small.1.liesAtOrBelow(small.0 + 0.1) && large.1.liesAtOrAbove(large.0 + 0.5) {
            return Decision(.supported, because: "smallest size \(fmt(small.1)) at or below c + 0.1 = \(fmt(small.0 + 0.1)); "
                            + "largest \(fmt(large.1)) at or above c + 0.5 = \(fmt(large.0 + 0.5))", numbers: numbers, caveats: caveats)
        }
        if zip(sorted, finals).allSatisfy({ $1.interval.liesAtOrAbove($0.outcomes.orientedChance + 0.5) }) {
            return Decision(.notSupported, because: "every size's lower end is at or above c + 0.5: no size lacks the skill",
                            numbers: numbers, caveats: caveats)
        }
        if large.1.liesAtOrBelow(large.0 + 0.1) {
            return Decision(.notSupported, because: "largest size \(fmt(large.1)) at or below c + 0.1 = \(fmt(large.0 + 0.1)): no size has the skill",
                            numbers: numbers, caveats: caveats)
        }
        return Decision(.inconclusive, because: "smallest \(fmt(small.1)), largest \(fmt(large.1)): neither rule holds",
                        numbers: numbers, caveats: caveats)
    }

    /// Over training, for one run: sharp when the width interval lies below 0.5 decades, gradual when it
    /// lies above 1 decade, undetermined otherwise, without an onset, or when the items cannot resolve
    /// a tenth of the rise (the distance of the 10% and 90% levels from chance and from f).
    public static func overTraining(_ onset: OnsetReport) throws -> Decision {
        guard onset.metric == .exactMatch else { throw FindingsError.wrongMetric(task: onset.task, found: onset.metric, expected: .exactMatch) }
        guard let times = onset.times else {
            return Decision(.undetermined, because: "no onset (rise \(fmt(onset.rise.interval)) not above 0)",
                            numbers: [DecidingNumber("rise f − c", onset.rise)])
        }
        let numbers = [DecidingNumber("width t10 -> t90 (decades)", Estimate(point: times.width.decades, interval: times.widthInterval))]
        var caveats = onset.caveats
        if let c = Gates.items(onset, fraction: 0.1) {
            caveats.append(c)
            return Decision(.undetermined, because: "the items cannot resolve a tenth of the rise", numbers: numbers, caveats: caveats)
        }
        let w = times.widthInterval
        if w.liesBelow(0.5) { return Decision(.sharp, because: "width \(fmt(w)) lies below 0.5 decades", numbers: numbers, caveats: caveats) }
        if w.liesAbove(1) { return Decision(.gradual, because: "width \(fmt(w)) lies above 1 decade", numbers: numbers, caveats: caveats) }
        return Decision(.undetermined, because: "width \(fmt(w)) is neither below 0.5 nor above 1 decade", numbers: numbers, caveats: caveats)
    }
}
