/// When a run saves a checkpoint: step 0 (the untrained model), about `denseCount` log-spaced steps
/// up to `denseUntil` (emergence often happens early and fast), then every `every` steps, and the last step.
public struct CheckpointSchedule: Codable, Sendable, Equatable {
    public var denseUntil: Int
    public var denseCount: Int
    public var every: Int

    public init(denseUntil: Int = 500, denseCount: Int = 8, every: Int = 500) {
        self.denseUntil = denseUntil; self.denseCount = denseCount; self.every = every
    }

    /// The sorted, distinct checkpoint steps of a run of `total` steps.
    public func steps(total: Int) -> [Int] {
        var s: Set<Int> = [0, total]
        let top = min(denseUntil, total)
        if denseCount > 0, top > 0 {
            for i in 1...denseCount {
                let x = pow(Double(top), Double(i) / Double(denseCount))
                s.insert(min(total, max(1, Int(x.rounded()))))
            }
        }
        if every > 0 {
            var k = every
            while k < total { if k >= top { s.insert(k) }; k += every }
        }
        return s.sorted()
    }

    /// The checkpoints that `lens study` dumps, probes and patches unless `--full`: the first and the last,
    /// and for each half decade u = k/2 (u = log10(step + 1), k = 0, 1, ... up to the last step's u) the
    /// checkpoint nearest to it in u (ties to the earlier). An even log-spaced sample, fixed before any
    /// result is read, so hidden-progress onsets keep half-decade resolution at most.
    public static func halfDecades(of steps: [Int]) -> [Int] {
        let sorted = Array(Set(steps)).sorted()
        guard let first = sorted.first, let last = sorted.last else { return [] }
        func u(_ s: Int) -> Double { log10(Double(s) + 1) }
        var keep: Set<Int> = [first, last]
        var k = 0
        while Double(k) / 2 <= u(last) {
            let target = Double(k) / 2
            keep.insert(sorted.min { abs(u($0) - target) < abs(u($1) - target) }!)
            k += 1
        }
        return keep.sorted()
    }
}

import Foundation
