import Foundation
import Tensors
import Findings

// Planted curves for the findings tests: every expected curve is a logistic in u = log10(step + 1) with
// a known midpoint and scale, and every item outcome is drawn from it with a seeded RNG, so each test
// knows the right answer before the analysis sees the data.

enum Synthetic {
    /// Checkpoints evenly spaced in u from 0 to `decades`, `perDecade` per decade (rounded to whole
    /// steps; the repeats at the low end are dropped).
    static func steps(decades: Double = 4, perDecade: Int = 8) -> [Int] {
        var out: [Int] = []
        for k in 0...Int(decades * Double(perDecade)) {
            let s = Int((pow(10, Double(k) / Double(perDecade)) - 1).rounded())
            if out.last != s { out.append(s) }
        }
        return out
    }

    /// low + (high − low) σ((u − mid) / scale)
    static func logistic(mid: Double, scale: Double, low: Double = 0, high: Double = 1) -> (Double) -> Double {
        { u in low + (high - low) / (1 + exp(-(u - mid) / scale)) }
    }

    /// The u where the logistic reaches a fraction q of its rise.
    static func quantile(mid: Double, scale: Double, _ q: Double) -> Double { mid + scale * log(q / (1 - q)) }

    /// A Bernoulli EM matrix [items][checkpoints] with P(correct) = p(u), independent per item and checkpoint.
    static func bernoulli(items: Int, steps: [Int], seed: UInt64, p: (Double) -> Double) -> [[Double]] {
        var rng = RNG(seed: seed)
        let probs = steps.map { p(StepAxis.u($0)) }
        return (0..<items).map { _ in probs.map { rng.uniform() < $0 ? 1 : 0 } }
    }

    /// One group's task: `seeds` runs of Bernoulli items drawn from `p` (a per-seed curve may differ).
    static func task(_ task: String, group: String = "base", metric: Metric = .exactMatch, seeds: Int = 3,
                     items: Int = 300, steps: [Int] = Synthetic.steps(), chance: Double = 0, salt: UInt64 = 0,
                     p: (Int) -> (Double) -> Double) -> TaskOutcomes {
        let runs = (0..<seeds).map { s in
            RunOutcomes(seed: s + 1, values: bernoulli(items: items, steps: steps,
                                                       seed: salt &* 1000 &+ UInt64(s) &+ task.hashValueStable &+ group.hashValueStable &* 31,
                                                       p: p(s)))
        }
        return TaskOutcomes(group: group, task: task, metric: metric, steps: steps, chance: chance, runs: runs)
    }

    /// The same curve for every seed.
    static func task(_ name: String, group: String = "base", metric: Metric = .exactMatch, seeds: Int = 3,
                     items: Int = 300, steps: [Int] = Synthetic.steps(), chance: Double = 0, salt: UInt64 = 0,
                     curve: @escaping (Double) -> Double) -> TaskOutcomes {
        task(name, group: group, metric: metric, seeds: seeds, items: items, steps: steps, chance: chance, salt: salt) { _ in curve }
    }

    /// Fewer resamples than the plan's 1000 where a test only needs the verdict's direction, to keep the
    /// debug-built suite quick; the onset, determinism and recovery tests use the plan's settings.
    static let quick = BootstrapSettings(resamples: 300, seed: 0)
}

extension String {
    /// FNV-1a, so a test's data do not depend on Swift's per-process string hashing.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// Whether a planted value is consistent with an estimated interval. A calibrated 95% interval misses its
/// truth in 1 case of 20 by construction, so a single planted case is checked within 1.5 half-widths of
/// the interval's centre (about 2.9 standard errors, a 0.4% miss); `CoverageTests` checks the 95% itself
/// over many planted data sets.
func consistent(_ interval: PercentileInterval, _ planted: Double) -> Bool {
    guard let low = interval.low, let high = interval.high else { return false }
    let centre = (low + high) / 2, half = (high - low) / 2
    return abs(planted - centre) <= 1.5 * half
}
