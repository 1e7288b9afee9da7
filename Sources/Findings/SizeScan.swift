import Foundation

// Section 2: the final checkpoint across sizes. The power-law and critical-scale fits of SCIENCE.md are
// not made here: with fewer than 4 sizes the plan forbids them, and `fitsAllowed` tells the report
// whether it may make them at all.

public struct SizeScan: Sendable, Codable, Equatable {
    public var task: String
    public var metric: Metric
    /// Sorted by parameter count.
    public var parameters: [Int]
    public var groups: [String]
    /// Each size's final value (oriented) with its interval.
    public var finals: [Estimate]
    /// First upward crossing of the midpoint between chance and the largest size's final value, in
    /// log10(parameters) (its `u`; its `step` does not apply); nil when the largest size's rise is not
    /// resolved (no size onset).
    public var sizeOnset: CrossingEstimate?
    /// 4 or more sizes: the fits of SCIENCE.md may be made; otherwise the report draws the points and
    /// says that no fit is made.
    public var fitsAllowed: Bool

    public init(_ sizes: [SizedOutcomes], settings: BootstrapSettings = .init()) throws {
        guard let first = sizes.first else { throw FindingsError.invalid("a size scan needs at least one size") }
        let sorted = sizes.sorted { $0.parameters < $1.parameters }
        for (i, s) in sorted.enumerated() {
            try s.outcomes.validate()
            guard s.parameters > 0 else { throw FindingsError.invalid("\(s.outcomes.group): parameter count \(s.parameters)") }
            if i > 0 && s.parameters == sorted[i - 1].parameters {
                throw FindingsError.invalid("\(s.outcomes.group) and \(sorted[i - 1].outcomes.group) have the same parameter count")
            }
        }
        let x = sorted.map { log10(Double($0.parameters)) }
        let chance = sorted[sorted.count - 1].outcomes.orientedChance
        let n = sorted.count
        // Quantities: every size's final value, the largest's rise, the crossing's u and its censored flag.
        let r = Resampled(quantities: n + 3, settings: settings) { draws in
            let finals = sorted.map { $0.outcomes.curve(draws).last! }
            let rise = finals[n - 1] - chance
            let c = rise > 0 ? Crossing.first(of: finals, on: x, level: chance + 0.5 * rise) : nil
            return finals.map { Optional($0) } + [rise, c?.u, c.map { $0.isCensored ? 1 : 0 }]
        }
        task = first.outcomes.task
        metric = first.outcomes.metric
        parameters = sorted.map(\.parameters)
        groups = sorted.map(\.outcomes.group)
        finals = (0..<n).map { r.estimate($0) }
        fitsAllowed = n >= 4
        let finalPoints = finals.map { $0.point! }
        let rise = r.estimate(n)
        if n >= 2, rise.interval.liesAbove(0),
           let c = Crossing.first(of: finalPoints, on: x, level: chance + 0.5 * (finalPoints[n - 1] - chance)) {
            sizeOnset = CrossingEstimate(crossing: c, interval: r.estimate(n + 1).interval, censoredShare: r.share(n + 2, equal: 1))
        } else {
            sizeOnset = nil
        }
    }
}
