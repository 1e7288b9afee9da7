import Foundation

// Section 0's step axis: steps are compared on u = log10(step + 1), so lags and widths are in decades
// of steps, and a crossing between two checkpoints is placed by linear interpolation in u.

public enum StepAxis {
    public static func u(_ step: Int) -> Double { log10(Double(step) + 1) }
    /// The step a point on the u axis stands for (fractional between checkpoints).
    public static func step(_ u: Double) -> Double { pow(10, u) - 1 }

    /// `values` at `x` by linear interpolation on the grid `u` (increasing); held constant beyond either
    /// end, because nothing is known about the curve outside its checkpoints and a flat extension adds
    /// no shape of its own (used by section 5's residual-lag shift).
    public static func interpolate(_ values: [Double], on u: [Double], at x: Double) -> Double {
        if x <= u[0] { return values[0] }
        let last = u.count - 1
        if x >= u[last] { return values[last] }
        // The grid is short (tens of checkpoints); a binary search keeps the lag grid search cheap anyway.
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if u[mid] <= x { lo = mid } else { hi = mid }
        }
        let t = (x - u[lo]) / (u[hi] - u[lo])
        return values[lo] + t * (values[hi] - values[lo])
    }
}

/// Where a curve first reaches a level, going up (section 1.2).
public enum Crossing: Sendable, Codable, Equatable {
    /// Between two checkpoints: `u` interpolated linearly; `resolution` is the u spacing of the two
    /// checkpoints that bracket it (the report prints it beside the onset).
    case between(u: Double, resolution: Double)
    /// Already at or above the level at the first checkpoint: "at or before step <first>".
    case atOrBefore(u: Double)

    /// The crossing's u, or for a censored one its bound (the first checkpoint): the value a resample
    /// contributes to an interval, so "at or before" pulls the interval's lower end to the first checkpoint.
    public var u: Double {
        switch self {
        case .between(let u, _), .atOrBefore(let u): u
        }
    }
    public var isCensored: Bool { if case .atOrBefore = self { true } else { false } }
    public var resolution: Double? { if case .between(_, let r) = self { r } else { nil } }

    /// The first upward crossing of `level` by `values` on the grid `u`: the first checkpoint at or above
    /// the level (all before it are below), interpolated from the one before. Nil when the curve never
    /// reaches the level.
    public static func first(of values: [Double], on u: [Double], level: Double) -> Crossing? {
        guard let k = values.firstIndex(where: { $0 >= level }) else { return nil }
        if k == 0 { return .atOrBefore(u: u[0]) }
        let below = values[k - 1], above = values[k]
        let t = (level - below) / (above - below)      // above >= level > below, so 0 < t <= 1
        return .between(u: u[k - 1] + t * (u[k] - u[k - 1]), resolution: u[k] - u[k - 1])
    }
}
