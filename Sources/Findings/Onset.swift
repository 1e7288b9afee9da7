// Section 1: onset and width over training, with section 0's intervals. Absence is a case, never NaN:
// `OnsetResult.noOnset` when the rise is not resolved, `Crossing.atOrBefore` when censored,
// `Width.atLeast` when t10 is censored.

/// One crossing (t10, t50 or t90) with its interval.
public struct CrossingEstimate: Sendable, Codable, Equatable {
    /// On the data as observed.
    public var crossing: Crossing
    /// Interval in u; a resample whose crossing is censored enters at the first checkpoint's u.
    public var interval: PercentileInterval
    /// Share of resamples in which the crossing was at or before the first checkpoint.
    public var censoredShare: Double

    public var u: Double { crossing.u }
    /// The step it stands for (fractional between checkpoints).
    public var step: Double { StepAxis.step(crossing.u) }
    public var stepInterval: (low: Double, high: Double)? {
        guard let low = interval.low, let high = interval.high else { return nil }
        return (StepAxis.step(low), StepAxis.step(high))
    }
}

/// t10 -> t90 in decades; only a lower bound when t10 is at or before the first checkpoint.
public enum Width: Sendable, Codable, Equatable {
    case decades(Double)
    case atLeast(Double)

    /// The number a rule compares only when it is a width, not a bound.
    public var decades: Double? { if case .decades(let d) = self { d } else { nil } }
}

public struct OnsetTimes: Sendable, Codable, Equatable {
    public var t10: CrossingEstimate
    public var t50: CrossingEstimate
    public var t90: CrossingEstimate
    public var width: Width
    /// Resamples with a censored t10 have no width and count as undefined.
    public var widthInterval: PercentileInterval
    /// f < c + 0.5 (1 − c) for EM or TA: "still rising at the last checkpoint".
    public var partialRise: Bool
}

public enum OnsetResult: Sendable, Codable, Equatable {
    /// The interval of f − c does not lie above 0.
    case noOnset
    case onset(OnsetTimes)
}

/// Section 1 for one task, metric and group.
public struct OnsetReport: Sendable, Codable, Equatable {
    public var task: String
    public var group: String
    public var metric: Metric
    public var seeds: Int
    /// f − c on the oriented scale (ED negated).
    public var rise: Estimate
    /// f, the last checkpoint's value, oriented.
    public var final: Estimate
    public var result: OnsetResult
    /// Wilson resolution of the task's n items (printed beside every onset).
    public var resolution: RateResolution

    public var times: OnsetTimes? { if case .onset(let t) = result { t } else { nil } }
    public var t50: CrossingEstimate? { times?.t50 }

    /// Quantity order in `Resampled`: rise, final, u10, u50, u90, width, then censored flags of t10, t50, t90.
    public init(_ t: TaskOutcomes, settings: BootstrapSettings = .init()) throws {
        try t.validate()
        let u = t.u
        let r = Resampled(quantities: 9, settings: settings) { draws in
            let values = t.curve(draws)
            let o = CurveOnset(values: values, u: u, chance: t.orientedChance)
            func flag(_ c: Crossing?) -> Double? { c.map { $0.isCensored ? 1 : 0 } }
            return [o.rise, values[values.count - 1], o.t10?.u, o.t50?.u, o.t90?.u, o.width,
                    flag(o.t10), flag(o.t50), flag(o.t90)]
        }
        task = t.task
        group = t.group
        metric = t.metric
        seeds = t.runs.count
        rise = r.estimate(0)
        final = r.estimate(1)
        resolution = RateResolution(items: t.itemCount)
        let point = t.onsetNumbers(.point)
        guard rise.interval.liesAbove(0), let c10 = point.t10, let c50 = point.t50, let c90 = point.t90 else {
            result = .noOnset
            return
        }
        func estimate(_ c: Crossing, _ q: Int) -> CrossingEstimate {
            CrossingEstimate(crossing: c, interval: r.estimate(q).interval, censoredShare: r.share(q + 4, equal: 1))
        }
        let f = point.rise + t.orientedChance
        let partial = t.metric.isRate && f < t.orientedChance + 0.5 * (1 - t.orientedChance)
        result = .onset(OnsetTimes(
            t10: estimate(c10, 2), t50: estimate(c50, 3), t90: estimate(c90, 4),
            width: c10.isCensored ? .atLeast(c90.u - c10.u) : .decades(c90.u - c10.u),
            widthInterval: r.estimate(5).interval, partialRise: partial))
    }

    /// The caveats every use of this onset carries.
    public var caveats: [Caveat] {
        guard let times else { return [] }
        var out: [Caveat] = []
        if times.partialRise { out.append(.partialRise(task: task, group: group)) }
        if times.t50.crossing.isCensored { out.append(.censoredOnset(task: task, group: group)) }
        return out
    }
}
