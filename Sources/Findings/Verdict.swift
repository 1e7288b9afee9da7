import Foundation

// What every rule of ANALYSIS-PLAN.md returns: the verdict, the sentence that says which rule decided
// it, the numbers it read (with intervals), and the caveats the report must print beside it.

public enum Verdict: String, Sendable, Codable, CaseIterable {
    // A hypothesis (sections 3-7).
    case supported, notSupported, inconclusive
    // One sub-skill against the composite (section 4).
    case precedes, doesNotPrecede, cannotTell
    // One run's transition over training (section 3).
    case sharp, gradual, undetermined
}

/// One number a rule read, with its interval when it has one.
public struct DecidingNumber: Sendable, Codable, Equatable {
    public var name: String
    public var point: Double?
    public var interval: PercentileInterval?

    public init(_ name: String, _ estimate: Estimate) {
        self.name = name
        point = estimate.point
        interval = estimate.interval
    }

    public init(_ name: String, value: Double?) {
        self.name = name
        point = value
        interval = nil
    }
}

/// What the report must say beside a verdict (SCIENCE.md: state the seeds, the resolution, the threats).
public enum Caveat: Sendable, Codable, Equatable, CustomStringConvertible {
    /// One seed: no seed variation at all, so a claim about a size is not decided (see `SeedRule`).
    case singleSeed(group: String)
    /// 2 seeds: intervals are over items only in effect (section 0, "Seeds").
    case fewSeeds(group: String, seeds: Int)
    /// n items cannot resolve the difference the rule needs (section 0, "Resolution of a rate").
    case itemResolution(task: String, group: String, items: Int, width: Double, needed: Double)
    /// f < c + 0.5 (1 − c): still rising at the last checkpoint (section 1.4).
    case partialRise(task: String, group: String)
    /// An onset at or before the first checkpoint (section 1.2).
    case censoredOnset(task: String, group: String)
    /// No number could be computed for this input (no onset, fewer than 2 sizes, a missing measurement).
    case missing(String)
    /// Section 4: the scratchpad composite writes each sub-skill's equation.
    case threatOfConstruction

    public var description: String {
        switch self {
        case .singleSeed(let g):
            return "\(g): one seed, so no interval covers seed variation; a claim about this size is not decided"
        case .fewSeeds(let g, let n):
            return "\(g): \(n) seeds; with fewer than 3 the intervals are over items only in effect"
        case .itemResolution(let task, let g, let n, let w, let needed):
            return "\(task) in \(g): \(n) items resolve a rate only to \(fmt(w)) (Wilson 0/n), the rule needs \(fmt(needed))"
        case .partialRise(let task, let g):
            return "\(task) in \(g): still rising at the last checkpoint (partial rise)"
        case .censoredOnset(let task, let g):
            return "\(task) in \(g): onset at or before the first checkpoint"
        case .missing(let what):
            return "missing: \(what)"
        case .threatOfConstruction:
            return "the scratchpad composite writes each sub-skill's equation, so a model cannot solve it without the sub-skill"
        }
    }
}

/// A verdict with everything that decided it.
public struct Decision: Sendable, Codable, Equatable {
    public var verdict: Verdict
    /// The rule that fired, in words with its numbers.
    public var because: String
    public var numbers: [DecidingNumber]
    public var caveats: [Caveat]

    public init(_ verdict: Verdict, because: String, numbers: [DecidingNumber] = [], caveats: [Caveat] = []) {
        self.verdict = verdict
        self.because = because
        self.numbers = numbers
        self.caveats = caveats
    }
}

/// A number for a sentence: 4 significant digits (3 printed R² = 0.9998 as "1"), "undefined" for nil.
/// The exact values are in `Decision.numbers`.
func fmt(_ x: Double?) -> String {
    guard let x else { return "undefined" }
    if x == 0 { return "0" }
    return String(format: "%.4g", x)
}

/// An interval for a sentence.
func fmt(_ i: PercentileInterval) -> String {
    guard let low = i.low, let high = i.high else {
        return "undefined in \(Int((i.undefinedShare * 100).rounded()))% of resamples"
    }
    return "[\(fmt(low)), \(fmt(high))]"
}
