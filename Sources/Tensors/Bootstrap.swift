/// Percentile bootstrap over examples (a probe's test items, a patching experiment's pairs). The resamples depend only on (count, resamples, seed),
/// so two statistics bootstrapped with the same seed see the same resamples: that pairing is what
/// makes the selectivity interval (probe minus control on the same examples) meaningful.
public enum Bootstrap {
    public struct Interval: Sendable, Codable, Equatable {
        public var low: Double
        public var high: Double
    }

    /// `statistic` receives the resampled positions (0..<count, with repetition).
    public static func percentile(
        count: Int, resamples: Int = 1000, level: Double = 0.95, seed: UInt64,
        statistic: ([Int]) -> Double
    ) -> Interval {
        guard count > 0, resamples > 0 else { return Interval(low: 0, high: 0) }
        var rng = RNG(seed: seed)
        var positions = [Int](repeating: 0, count: count)
        var values = [Double]()
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for i in 0..<count { positions[i] = rng.int(count) }
            values.append(statistic(positions))
        }
        values.sort()
        let tail = (1 - level) / 2
        return Interval(low: quantile(values, tail), high: quantile(values, 1 - tail))
    }

    /// The same resamples as `percentile` with the same (count, resamples, seed), as counts: row b holds
    /// how often resample b drew each example ([resamples x count], row-major). A mean over a resample is
    /// then a dot product, so many statistics (every cell of a patching result) are bootstrapped at once
    /// with one matrix product instead of a loop per statistic.
    public static func counts(count: Int, resamples: Int = 1000, seed: UInt64) -> [Double] {
        guard count > 0, resamples > 0 else { return [] }
        var rng = RNG(seed: seed)
        var out = [Double](repeating: 0, count: resamples * count)
        for b in 0..<resamples {
            for _ in 0..<count { out[b * count + rng.int(count)] += 1 }
        }
        return out
    }

    /// Linear interpolation between order statistics (numpy's default "linear" method).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = q * Double(sorted.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
