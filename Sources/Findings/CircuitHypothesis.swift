import CircuitRecords
import Foundation

// Plan section 12: does the composite's circuit reuse its sub-skills' circuits, and does it form after them?
// Pure: reads `lens circuit`'s records and overlaps, returns a decision and one row per (run, composite
// decision, sub-skill decision).

public struct CircuitComparison: Sendable, Codable, Equatable {
    public var run: String
    public var composite: String
    public var subskill: String
    public var step: Int
    public var massShare: Double?
    public var null95: Double?
    public var reuses: Bool
    public var compositeFormed: Int?
    public var subskillFormed: Int?
    /// "after", "cannot tell" or "before" (section 12's order).
    public var order: String
}

public struct CircuitHypothesisReport: Sendable, Codable, Equatable {
    public var comparisons: [CircuitComparison]
    /// (run, composite decision) pairs with a circuit at the last step.
    public var compositesWithCircuit: [String]
    public var compositesWithoutCircuit: [String]
    public var decision: Decision

    public init(_ study: CircuitStudyRecord) {
        func key(_ r: CircuitRecord, _ d: CircuitDecisionRecord) -> String { "\(r.experiment)/\(d.decision)" }
        func hasCircuit(_ r: CircuitRecord, _ d: CircuitDecisionRecord) -> Bool {
            d.steps.last?.methods.first { $0.method == r.settings.circuitMethod }?.circuit != nil
        }
        var comparisons: [CircuitComparison] = [], with: [String] = [], without: [String] = []
        for r in study.records where r.isComposite {
            for d in r.decisions {
                let name = "\(r.run) \(key(r, d))"
                guard hasCircuit(r, d) else { without.append(name); continue }
                with.append(name)
                for o in study.overlaps where o.run == r.run && o.composite == key(r, d) {
                    guard let last = o.steps.last, last == d.steps.last?.step else { continue }
                    let share = o.massShare.last ?? nil, null = o.massShareNull95.last ?? nil
                    let sub = study.records.first { s in s.run == r.run && s.decisions.contains { key(s, $0) == o.subskill } }
                    let subFormed = sub?.decisions.first { key(sub!, $0) == o.subskill }?.formation?.formedAt
                    let compFormed = d.formation?.formedAt
                    let order: String
                    if let c = compFormed, let s = subFormed { order = c > s ? "after" : c == s ? "cannot tell" : "before" } else { order = "cannot tell" }
                    comparisons.append(CircuitComparison(run: r.run, composite: key(r, d), subskill: o.subskill, step: last, massShare: share,
                                                         null95: null, reuses: share != nil && null != nil && share! > null!,
                                                         compositeFormed: compFormed, subskillFormed: subFormed, order: order))
                }
            }
        }
        self.comparisons = comparisons; compositesWithCircuit = with; compositesWithoutCircuit = without
        decision = CircuitHypothesisReport.decide(comparisons, with: with)
    }

    static func decide(_ rows: [CircuitComparison], with: [String]) -> Decision {
        guard !with.isEmpty else {
            return Decision(.inconclusive, because: "no composite decision has a circuit at the last step", caveats: [.missing("composite circuits")])
        }
        // per (run, composite decision): does it reuse any sub-skill, and in what order against those it reuses
        var reuse: [String: Bool] = [:], before: [String: Bool] = [:], after: [String: Bool] = [:]
        for name in with { reuse[name] = false }
        for r in rows {
            let name = "\(r.run) \(r.composite)"
            guard r.reuses else { continue }
            reuse[name] = true
            before[name] = (before[name] ?? true) && r.order == "before"
            after[name] = (after[name] ?? false) || r.order == "after"
        }
        let reusing = with.filter { reuse[$0] == true }
        let allBefore = reusing.filter { before[$0] == true }
        let anyAfter = reusing.contains { after[$0] == true }
        let numbers = [DecidingNumber("composite decisions with a circuit", value: Double(with.count)),
                       DecidingNumber("of them reusing a sub-skill circuit", value: Double(reusing.count)),
                       DecidingNumber("reusing ones formed before every sub-skill they reuse", value: Double(allBefore.count))]
        if reusing.count == with.count && allBefore.isEmpty && anyAfter {
            return Decision(.supported, because: "every composite decision with a circuit reuses a sub-skill circuit beyond the random-edge null, none forms before all the sub-skills it reuses, and \(reusing.filter { after[$0] == true }.count) form after one", numbers: numbers)
        }
        if 2 * (with.count - reusing.count) > with.count {
            return Decision(.notSupported, because: "\(with.count - reusing.count) of \(with.count) composite decisions with a circuit reuse no sub-skill circuit beyond the random-edge null", numbers: numbers)
        }
        if !reusing.isEmpty && 2 * allBefore.count > reusing.count {
            return Decision(.notSupported, because: "\(allBefore.count) of \(reusing.count) reusing composite decisions form before every sub-skill circuit they reuse", numbers: numbers)
        }
        let why = reusing.count < with.count ? "\(with.count - reusing.count) of \(with.count) composite decisions reuse no sub-skill circuit"
            : !anyAfter ? "reuse holds, but no composite circuit forms strictly after a sub-skill circuit it reuses (checkpoint resolution)"
            : "\(allBefore.count) reusing composite decisions form before every sub-skill they reuse"
        return Decision(.inconclusive, because: why, numbers: numbers)
    }
}
