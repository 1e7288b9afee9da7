// Section 5's competing prediction (Arora & Goyal 2023): the composite emerges with its skills, so
// u(composite onset) − max over sub-skills of u(sub-skill onset) is 0.

/// One group's lag and decision (sections 5 and 6 decide per size, then combine).
public struct GroupDecision: Sendable, Codable, Equatable {
    public var group: String
    public var lag: Estimate?
    public var decision: Decision
}

public struct NoLagReport: Sendable, Codable, Equatable {
    /// One entry per group whose composite has an onset, in input order.
    public var perGroup: [GroupDecision]
    /// supported when every group with a composite onset is supported; not supported when some group
    /// is; inconclusive otherwise (also when no group has a composite onset).
    public var decision: Decision

    public init(_ groups: [CompositeGroup], settings: BootstrapSettings = .init()) throws {
        for g in groups { try g.validate() }
        var perGroup: [GroupDecision] = []
        for g in groups {
            let co = try OnsetReport(g.composite, settings: settings)
            guard co.times != nil else { continue }      // as in section 4: only sizes with a composite onset
            let subs = try g.subSkills.map { try OnsetReport($0, settings: settings) }
            let (decision, lag) = Self.group(g, co, subs, settings: settings)
            perGroup.append(GroupDecision(group: g.composite.group, lag: lag, decision: decision))
        }
        self.perGroup = perGroup
        decision = AcrossGroups.combine(perGroup)
    }

    /// Supported when the lag's interval contains 0 and is narrower than 0.5 decades; not supported when
    /// it excludes 0; inconclusive otherwise, or with one seed, too few items or a sub-skill without onset.
    static func group(_ g: CompositeGroup, _ co: OnsetReport, _ subs: [OnsetReport],
                      settings: BootstrapSettings) -> (Decision, Estimate?) {
        let seeds = Gates.seeds(g.composite)
        let caveats = seeds.caveats + co.caveats + subs.flatMap(\.caveats)
        if seeds.blocks { return (Decision(.inconclusive, because: "one seed", caveats: caveats), nil) }
        if let missing = subs.first(where: { $0.times == nil }) {
            return (Decision(.inconclusive, because: "\(missing.task) has no onset", caveats: caveats + [.missing("\(missing.task) onset")]), nil)
        }
        if let c = ([co] + subs).first(where: Gates.censored) {
            return (Decision(.inconclusive, because: "\(c.task)'s onset is at or before the first checkpoint: a lag is only a bound", caveats: caveats), nil)
        }
        let gated = ([co] + subs).compactMap { Gates.items($0, fraction: 0.5) }
        if !gated.isEmpty { return (Decision(.inconclusive, because: "too few items", caveats: caveats + gated), nil) }
        let lag = OnsetLag.estimate(g.composite, minus: g.subSkills, settings: settings)
        let numbers = [DecidingNumber("lag composite − latest sub-skill, \(g.composite.group) (decades)", lag)]
        let i = lag.interval
        if i.isDefined && i.contains(0) && i.width! < 0.5 {
            return (Decision(.supported, because: "lag \(fmt(i)) contains 0 and is narrower than 0.5 decades", numbers: numbers, caveats: caveats), lag)
        }
        if i.liesAbove(0) || i.liesBelow(0) {
            return (Decision(.notSupported, because: "lag \(fmt(i)) excludes 0", numbers: numbers, caveats: caveats), lag)
        }
        return (Decision(.inconclusive, because: "lag \(fmt(i)) contains 0 but is not narrower than 0.5 decades",
                         numbers: numbers, caveats: caveats), lag)
    }

    /// Section 5's last rule: both supported means the data cannot tell the two apart (the sub-skills
    /// were near 1 before the composite rose, so the product predicts no lag); neither is stated too.
    public static func jointStatement(multiplicative: Decision, noLag: Decision) -> String? {
        switch (multiplicative.verdict, noLag.verdict) {
        case (.supported, .supported):
            return "both the multiplicative and the no-lag prediction are supported: the data cannot tell them apart"
        case (.notSupported, .notSupported):
            return "neither the multiplicative nor the no-lag prediction is supported"
        default:
            return nil
        }
    }
}

/// One verdict from per-group verdicts on the same hypothesis (sections 5's no-lag and 6): supported
/// when every group decided is supported, not supported when some group is not, inconclusive otherwise
/// or when no group was decided. The same reading as section 4's verdict.
enum AcrossGroups {
    static func combine(_ decisions: [GroupDecision]) -> Decision {
        let numbers = decisions.flatMap(\.decision.numbers)
        var caveats: [Caveat] = []
        for c in decisions.flatMap(\.decision.caveats) where !caveats.contains(c) { caveats.append(c) }
        if decisions.isEmpty {
            return Decision(.inconclusive, because: "no size has a composite onset", caveats: [.missing("a composite onset")])
        }
        if let bad = decisions.first(where: { $0.decision.verdict == .notSupported }) {
            return Decision(.notSupported, because: "\(bad.group): \(bad.decision.because)", numbers: numbers, caveats: caveats)
        }
        if decisions.allSatisfy({ $0.decision.verdict == .supported }) {
            return Decision(.supported, because: decisions.map { "\($0.group): \($0.decision.because)" }.joined(separator: "; "),
                            numbers: numbers, caveats: caveats)
        }
        let open = decisions.filter { $0.decision.verdict != .supported }
        return Decision(.inconclusive, because: open.map { "\($0.group): \($0.decision.because)" }.joined(separator: "; "),
                        numbers: numbers, caveats: caveats)
    }
}
