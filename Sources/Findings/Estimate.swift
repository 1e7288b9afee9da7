import Tensors

/// A 95% percentile interval over the resamples in which the quantity is defined. When more than 5% of
/// resamples leave it undefined (no onset in them, say), `low` and `high` are nil: the report prints
/// "undefined in N% of resamples", and the interval counts as not excluding anything (section 0).
public struct PercentileInterval: Sendable, Codable, Equatable {
    public var low: Double?
    public var high: Double?
    /// Share of resamples in which the quantity was undefined.
    public var undefinedShare: Double
    public var resamples: Int
    public var level: Double

    public var isDefined: Bool { low != nil && high != nil }
    public var width: Double? { if let low, let high { high - low } else { nil } }

    /// Every value of the interval is above `x` (false when undefined).
    public func liesAbove(_ x: Double) -> Bool { low.map { $0 > x } ?? false }
    /// Every value is at or above `x` (false when undefined).
    public func liesAtOrAbove(_ x: Double) -> Bool { low.map { $0 >= x } ?? false }
    /// Every value is below `x` (false when undefined).
    public func liesBelow(_ x: Double) -> Bool { high.map { $0 < x } ?? false }
    /// Every value is at or below `x` (false when undefined).
    public func liesAtOrBelow(_ x: Double) -> Bool { high.map { $0 <= x } ?? false }
    /// An undefined interval excludes nothing, so it contains every `x`.
    public func contains(_ x: Double) -> Bool {
        guard let low, let high else { return true }
        return low <= x && x <= high
    }

    /// The percentile interval of `samples` (nil entries are undefined resamples).
    public static func of(_ samples: [Double?], settings: BootstrapSettings) -> PercentileInterval {
        let defined = samples.compactMap { $0 }.sorted()
        let undefined = samples.isEmpty ? 1 : Double(samples.count - defined.count) / Double(samples.count)
        var out = PercentileInterval(low: nil, high: nil, undefinedShare: undefined, resamples: samples.count,
                                     level: settings.level)
        if undefined <= settings.maxUndefinedShare, !defined.isEmpty {
            let tail = (1 - settings.level) / 2
            out.low = Bootstrap.quantile(defined, tail)
            out.high = Bootstrap.quantile(defined, 1 - tail)
        }
        return out
    }
}

/// A number and its interval; `point` is nil when the quantity is undefined on the data as observed.
public struct Estimate: Sendable, Codable, Equatable {
    public var point: Double?
    public var interval: PercentileInterval
}

/// Every resample's values of several quantities computed together (one curve per task and resample,
/// all derived numbers from it), so paired quantities such as a lag and its two onsets agree.
public struct Resampled: Sendable {
    /// [quantity]: the value on the data as observed.
    public let point: [Double?]
    /// [quantity][resample].
    public let samples: [[Double?]]
    public let settings: BootstrapSettings

    /// Runs `statistic` on the point draws, then on every resample. `statistic` must return `quantities`
    /// values each time (nil = undefined in that resample).
    public init(quantities: Int, settings: BootstrapSettings, statistic: (Draws) -> [Double?]) {
        self.settings = settings
        point = statistic(.point)
        precondition(point.count == quantities, "statistic returned \(point.count) values, expected \(quantities)")
        var columns = [[Double?]](repeating: [], count: quantities)
        for q in 0..<quantities { columns[q].reserveCapacity(settings.resamples) }
        for b in 0..<settings.resamples {
            let values = statistic(Draws(settings: settings, resample: b))
            for q in 0..<quantities { columns[q].append(values[q]) }
        }
        samples = columns
    }

    public func estimate(_ q: Int) -> Estimate {
        Estimate(point: point[q], interval: PercentileInterval.of(samples[q], settings: settings))
    }

    /// Share of resamples in which quantity `q` equals `value` (e.g. a 0/1 "censored" flag).
    public func share(_ q: Int, equal value: Double) -> Double {
        guard !samples[q].isEmpty else { return 0 }
        return Double(samples[q].filter { $0 == value }.count) / Double(samples[q].count)
    }
}
