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
}

import Foundation
