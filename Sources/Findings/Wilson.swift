import Foundation

/// The Wilson score interval of a rate k/n (95%: z = 1.959964). Unlike the percentile bootstrap, it does
/// not collapse to [0, 0] when every item fails, which is what makes it the resolution of a rate.
public struct WilsonInterval: Sendable, Codable, Equatable {
    public var low: Double
    public var high: Double

    public static let z95 = 1.959963984540054

    public init(successes k: Int, of n: Int, z: Double = WilsonInterval.z95) {
        precondition(n > 0 && 0 <= k && k <= n, "Wilson interval needs 0 <= k <= n, n > 0")
        let nd = Double(n), p = Double(k) / nd, z2 = z * z
        let centre = (p + z2 / (2 * nd)) / (1 + z2 / nd)
        let half = z / (1 + z2 / nd) * (p * (1 - p) / nd + z2 / (4 * nd * nd)).squareRoot()
        // Clamp the rounding at the ends: 0/n's low end and n/n's high end are exactly 0 and 1.
        low = k == 0 ? 0 : max(0, centre - half)
        high = k == n ? 1 : min(1, centre + half)
    }
}

/// Section 0's resolution of a rate for a task with n test items: the Wilson intervals of 0/n and n/n.
/// Their widths are equal (z² / (n + z²)); a rule whose decision needs a smaller difference than that
/// width cannot be decided from n items.
public struct RateResolution: Sendable, Codable, Equatable {
    public var items: Int
    public var none: WilsonInterval
    public var all: WilsonInterval

    public init(items: Int) {
        self.items = items
        none = WilsonInterval(successes: 0, of: max(items, 1))
        all = WilsonInterval(successes: max(items, 1), of: max(items, 1))
    }

    /// The width of the interval of 0/n: the smallest rate n items can tell from 0.
    public var width: Double { none.high - none.low }

    /// Whether a rule needing a difference of `needed` can be decided.
    public func resolves(_ needed: Double) -> Bool { items > 0 && width <= needed }
}
