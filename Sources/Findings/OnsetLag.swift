// The lag between onsets of tasks scored in the same runs, resampled jointly: one seed draw for the
// group, one item draw per task, both onsets from the same resample. Sections 4 (one sub-skill),
// 5 (no-lag: the latest sub-skill) and 6 (TA against EM) use it.

/// One group's composite and its sub-skills, on one metric (EM for every verdict).
public struct CompositeGroup: Sendable, Codable, Equatable {
    public var composite: TaskOutcomes
    public var subSkills: [TaskOutcomes]

    public init(composite: TaskOutcomes, subSkills: [TaskOutcomes]) {
        self.composite = composite
        self.subSkills = subSkills
    }

    public func validate() throws {
        try composite.validate()
        try Metric.requireExactMatch([composite] + subSkills)
        try requireDistinct(subSkills.map(\.task), in: composite.group)
        for s in subSkills {
            try s.validate()
            try composite.validatePaired(with: s)
        }
    }
}

enum OnsetLag {
    /// u(t50 of `later`) − max over `earlier` of u(t50), per resample; undefined in a resample where any
    /// of them has no rise. A censored onset enters at the first checkpoint (its bound).
    static func estimate(_ later: TaskOutcomes, minus earlier: [TaskOutcomes], settings: BootstrapSettings) -> Estimate {
        Resampled(quantities: 1, settings: settings) { draws in
            guard let l = later.onsetNumbers(draws).t50?.u else { return [nil] }
            var latest = -Double.infinity
            for e in earlier {
                guard let u = e.onsetNumbers(draws).t50?.u else { return [nil] }
                latest = max(latest, u)
            }
            return [l - latest]
        }.estimate(0)
    }
}
