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

    /// `quantile(values.sorted(), q)` for each q of `qs`, without sorting: the order statistics it reads
    /// are found by selection, O(n) each instead of the sort's O(n log n) (a patching result's intervals,
    /// three per cell over 1000 resamples, spent most of their time sorting). Same values, bit for bit:
    /// the k-th smallest is one number however it is found. `values` must hold no NaN.
    public static func quantiles(unsorted values: [Double], _ qs: [Double]) -> [Double] {
        guard !values.isEmpty else { return qs.map { _ in .nan } }
        let n = values.count
        // the ranks each q reads, ascending: after selecting rank r, every rank above it is in (r, n)
        var ranks: [Int] = []
        for q in qs {
            let lo = Int((q * Double(n - 1)).rounded(.down))
            ranks += [lo, min(lo + 1, n - 1)]
        }
        let wanted = Array(Set(ranks)).sorted()
        var at: [Int: Double] = [:]
        var a = values
        a.withUnsafeMutableBufferPointer { a in
            var start = 0
            for r in wanted {
                select(a, from: start, to: n, rank: r)
                at[r] = a[r]
                start = r + 1
            }
        }
        return qs.map { q in
            let h = q * Double(n - 1)
            let lo = Int(h.rounded(.down)), hi = min(lo + 1, n - 1)
            return at[lo]! + (h - Double(lo)) * (at[hi]! - at[lo]!)
        }
    }

    /// Puts the rank-th smallest of a[from..<to] at a[rank], smaller-or-equal values before it and
    /// greater-or-equal after (Hoare's selection, median-of-three pivots; a sort past 64 rounds, so a
    /// hostile order cannot make it quadratic).
    static func select(_ a: UnsafeMutableBufferPointer<Double>, from: Int, to: Int, rank k: Int, maxRounds: Int = 64) {
        var lo = from, hi = to - 1, rounds = 0
        while hi > lo {
            rounds += 1
            if rounds > maxRounds {
                var rest = UnsafeMutableBufferPointer(rebasing: a[lo...hi])
                rest.sort()
                return
            }
            let mid = lo + (hi - lo) / 2
            let x = a[lo], y = a[mid], z = a[hi]
            let p = max(min(x, y), min(max(x, y), z))       // the median of the three
            var i = lo, j = hi
            while i <= j {
                while a[i] < p { i += 1 }
                while a[j] > p { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            // a[lo...j] <= p <= a[i...hi], and anything between equals p
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }

    /// Linear interpolation between order statistics (numpy's default "linear" method).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = q * Double(sorted.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
