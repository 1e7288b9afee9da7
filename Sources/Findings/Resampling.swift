import Tensors

// Section 0's two-level bootstrap. One resample draws, for each group, seeds with replacement (when the
// group has 2 or more), then for each drawn run and each task its test items with replacement; an item
// keeps its outcomes at every checkpoint. Every draw is a pure function of (seed, resample, group, task,
// position), never of call order, so:
// - a rerun is bitwise identical;
// - every analysis of the same group sees the same seed draws, and every analysis of the same task the
//   same item draws (EM and TA of one task draw the same items; a composite's onset alone and inside a
//   lag comes from the same resamples).

/// The plan's bootstrap: 1000 resamples, seed 0, 95% percentile intervals, at most 5% undefined.
public struct BootstrapSettings: Sendable, Codable, Equatable {
    public var resamples = 1000
    public var seed: UInt64 = 0
    public var level = 0.95
    /// Above this share of undefined resamples an interval is "undefined in N% of resamples".
    public var maxUndefinedShare = 0.05

    public init(resamples: Int = 1000, seed: UInt64 = 0) {
        self.resamples = resamples
        self.seed = seed
    }
}

/// The draws of one resample; `Draws.point` draws every seed and every item once (the point estimate).
public struct Draws: Sendable {
    /// nil for the point estimate.
    let key: UInt64?

    public static let point = Draws(key: nil)

    public init(settings: BootstrapSettings, resample: Int) {
        key = Mix.combine(settings.seed, UInt64(resample))
    }
    private init(key: UInt64?) { self.key = key }

    /// The runs drawn for `group` (positions into its runs) and the items each drawn run contributes.
    public func group(_ name: String, seedCount: Int) -> GroupDraw {
        guard let key else { return GroupDraw(key: nil, runs: Array(0..<seedCount)) }
        let groupKey = Mix.combine(key, Mix.hash(name))
        // With one seed there is nothing to draw: the interval is over items only (section 0, "Seeds").
        guard seedCount >= 2 else { return GroupDraw(key: groupKey, runs: Array(0..<seedCount)) }
        var rng = RNG(seed: groupKey)
        return GroupDraw(key: groupKey, runs: (0..<seedCount).map { _ in rng.int(seedCount) })
    }
}

/// One group's share of a resample.
public struct GroupDraw: Sendable {
    let key: UInt64?
    /// Drawn runs, as positions into the group's `runs`, one per draw (a seed may repeat).
    public let runs: [Int]

    /// Items drawn for `task` in the run at draw position `position` (each drawn run draws its own items).
    public func items(task: String, position: Int, count: Int) -> [Int] {
        guard let key else { return Array(0..<count) }
        var stream = SplitMix(state: Mix.combine(Mix.combine(key, Mix.hash(task)), UInt64(position)))
        var out = [Int](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < count { p[i] = stream.int(count); i += 1 }
        }
        return out
    }
}

/// SplitMix64 as a stream of item positions: one word of state, so the hundreds of thousands of draws of
/// a bootstrap cost no allocation (Tensors' `RNG` keeps its state in an array); uniform in 0..<n without
/// modulo bias (Lemire's method, as `RNG.int`).
struct SplitMix {
    var state: UInt64

    mutating func int(_ n: Int) -> Int {
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Order-free key derivation: SplitMix64's finaliser over a combined word, FNV-1a for names (Swift's
/// `Hasher` is seeded per process, which would break bitwise reruns).
enum Mix {
    static func finalise(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    static func combine(_ a: UInt64, _ b: UInt64) -> UInt64 { finalise(finalise(a) ^ (b &* 0xD6E8_FEB8_6659_FD93)) }
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in s.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
