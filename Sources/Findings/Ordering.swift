// Section 4: do the sub-skills' EM onsets precede the composite's (compositionality hypothesis)?

/// One sub-skill against the composite in one group.
public struct SubSkillLag: Sendable, Codable, Equatable {
    public var group: String
    public var subSkill: String
    /// u(composite onset) − u(sub-skill onset); nil when either onset is missing.
    public var lag: Estimate?
    /// Right-censored (the composite has no onset by the last checkpoint): the lag is at least this,
    /// u(last checkpoint) − the upper end of the sub-skill onset's interval.
    public var atLeast: Double?
    /// `.precedes`, `.doesNotPrecede` or `.cannotTell`.
    public var decision: Decision
}

public struct OrderingReport: Sendable, Codable, Equatable {
    /// Per group: the composite's onset, then each sub-skill's, in input order.
    public var compositeOnsets: [OnsetReport]
    public var subSkillOnsets: [[OnsetReport]]
    public var lags: [SubSkillLag]
    /// supported / notSupported / inconclusive.
    public var decision: Decision

    public init(_ groups: [CompositeGroup], settings: BootstrapSettings = .init()) throws {
        for g in groups { try g.validate() }
        let compositeOnsets = try groups.map { try OnsetReport($0.composite, settings: settings) }
        let subSkillOnsets = try groups.map { g in try g.subSkills.map { try OnsetReport($0, settings: settings) } }
        self.compositeOnsets = compositeOnsets
        self.subSkillOnsets = subSkillOnsets
        var lags: [SubSkillLag] = []
        // Only the scratchpad writes each sub-skill's equation; the direct answer does not.
        var caveats: [Caveat] = groups.contains { $0.composite.task == "multistep_pad" } ? [.threatOfConstruction] : []
        for (i, g) in groups.enumerated() {
            caveats += Gates.seeds(g.composite).caveats + compositeOnsets[i].caveats
            for (j, sub) in g.subSkills.enumerated() {
                lags.append(Self.pair(g.composite, compositeOnsets[i], sub, subSkillOnsets[i][j], settings: settings))
            }
        }
        self.lags = lags
        for c in lags.flatMap(\.decision.caveats) where !caveats.contains(c) { caveats.append(c) }
        // Only groups whose composite has an onset decide; right-censored groups are reported beside them.
        let deciding = lags.filter { lag in compositeOnsets.contains { $0.group == lag.group && $0.times != nil } }
        let numbers = lags.compactMap { l in
            l.lag.map { DecidingNumber("lag \(l.subSkill) -> composite, \(l.group) (decades)", $0) }
                ?? l.atLeast.map { DecidingNumber("lag \(l.subSkill) -> composite, \(l.group), at least (decades; no composite onset)", value: $0) }
        }
        if let bad = lags.first(where: { $0.decision.verdict == .doesNotPrecede }) {
            decision = Decision(.notSupported, because: "\(bad.subSkill) does not precede the composite in \(bad.group): \(bad.decision.because)",
                                numbers: numbers, caveats: caveats)
        } else if !deciding.isEmpty && deciding.allSatisfy({ $0.decision.verdict == .precedes }) {
            decision = Decision(.supported, because: "every sub-skill precedes in every size with a composite onset",
                                numbers: numbers, caveats: caveats)
        } else {
            let why = deciding.isEmpty ? "no size has a composite onset"
                : "cannot tell for " + deciding.filter { $0.decision.verdict != .precedes }.map { "\($0.subSkill) in \($0.group)" }.joined(separator: ", ")
            decision = Decision(.inconclusive, because: why, numbers: numbers, caveats: caveats)
        }
    }

    /// precedes: the lag's interval lies above 0, or the composite has no onset and the lag is at least
    /// a positive distance to the last checkpoint; does not precede: the interval lies at or below 0;
    /// cannot tell: otherwise, without a sub-skill onset, with one seed, or with too few items.
    static func pair(_ composite: TaskOutcomes, _ co: OnsetReport, _ sub: TaskOutcomes, _ so: OnsetReport,
                     settings: BootstrapSettings) -> SubSkillLag {
        var out = SubSkillLag(group: composite.group, subSkill: sub.task, lag: nil, atLeast: nil,
                              decision: Decision(.cannotTell, because: ""))
        func cannotTell(_ why: String, _ caveats: [Caveat] = []) -> SubSkillLag {
            out.decision = Decision(.cannotTell, because: why, numbers: out.lag.map { [DecidingNumber("lag", $0)] } ?? [], caveats: caveats)
            return out
        }
        let seeds = Gates.seeds(composite)
        if seeds.blocks { return cannotTell("one seed", seeds.caveats) }
        guard let subTimes = so.times else { return cannotTell("\(sub.task) has no onset (rise \(fmt(so.rise.interval)))") }
        if let c = Gates.items(so, fraction: 0.5) { return cannotTell("too few \(sub.task) items", [c]) }
        guard co.times != nil else {
            guard let high = subTimes.t50.interval.high else { return cannotTell("\(sub.task)'s onset interval is undefined") }
            let bound = composite.u[composite.checkpoints - 1] - high
            out.atLeast = bound
            guard bound > 0 else { return cannotTell("composite has no onset, but \(sub.task)'s onset may reach the last checkpoint") }
            out.decision = Decision(.precedes, because: "composite has no onset by the last checkpoint; lag at least \(fmt(bound)) decades",
                                    numbers: [DecidingNumber("lag lower bound (decades)", value: bound)])
            return out
        }
        if let c = Gates.items(co, fraction: 0.5) { return cannotTell("too few composite items", [c]) }
        let lag = OnsetLag.estimate(composite, minus: [sub], settings: settings)
        out.lag = lag
        let numbers = [DecidingNumber("lag (decades)", lag)]
        if lag.interval.liesAbove(0) {
            if Gates.censored(co) { return cannotTell("the composite's onset is at or before the first checkpoint: the lag is only an upper bound") }
            out.decision = Decision(.precedes, because: "lag \(fmt(lag.interval)) lies above 0", numbers: numbers)
        } else if lag.interval.liesAtOrBelow(0) {
            if Gates.censored(so) { return cannotTell("\(sub.task)'s onset is at or before the first checkpoint: the lag is only a lower bound") }
            out.decision = Decision(.doesNotPrecede, because: "lag \(fmt(lag.interval)) lies at or below 0", numbers: numbers)
        } else {
            return cannotTell("lag \(fmt(lag.interval)) contains 0 or is undefined")
        }
        return out
    }
}
