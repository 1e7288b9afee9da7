// A group's curve under a draw: the mean over its drawn runs of each run's mean over its drawn items,
// checkpoint by checkpoint (section 0, "A size's curve is the mean over its seeds"). With the point
// draw that is the size curve itself. Values are oriented (ED negated) so "up" is "better".

extension TaskOutcomes {
    /// [checkpoints], oriented.
    public func curve(_ draw: GroupDraw) -> [Double] {
        var total = [Double](repeating: 0, count: checkpoints)
        for (position, run) in draw.runs.enumerated() {
            let mean = runMean(run, items: draw.items(task: task, position: position, count: itemCount))
            for k in 0..<checkpoints { total[k] += mean[k] }
        }
        let scale = sign / Double(draw.runs.count)
        return total.map { $0 * scale }
    }

    /// One run's mean over the given items (with repetition), [checkpoints], not oriented.
    func runMean(_ run: Int, items: [Int]) -> [Double] {
        var sum = [Double](repeating: 0, count: checkpoints)
        let values = runs[run].values, K = checkpoints
        // The hot loop of every bootstrap (items x checkpoints per drawn run and resample): buffer
        // pointers and a while loop keep the debug-built tests quick; the same arithmetic in either build.
        sum.withUnsafeMutableBufferPointer { accBuffer in
            let acc = accBuffer.baseAddress!
            for i in items {
                values[i].withUnsafeBufferPointer { rowBuffer in
                    let row = rowBuffer.baseAddress!
                    var k = 0
                    while k < K { acc[k] += row[k]; k += 1 }
                }
            }
        }
        let inv = 1 / Double(items.count)
        return sum.map { $0 * inv }
    }

    /// The oriented curve of the group under `draws`.
    public func curve(_ draws: Draws) -> [Double] { curve(draws.group(group, seedCount: runs.count)) }
}

/// Section 1's numbers on one curve: the rise f − c and the first crossings of 10%, 50% and 90% of it.
/// The crossings are nil when the rise is not above 0 on this curve (no level to cross).
public struct CurveOnset: Sendable, Equatable {
    public var rise: Double
    public var t10: Crossing?
    public var t50: Crossing?
    public var t90: Crossing?

    /// `values` oriented, `chance` oriented, on the grid `u`.
    public init(values: [Double], u: [Double], chance: Double) {
        rise = values[values.count - 1] - chance
        guard rise > 0 else { return }
        t10 = Crossing.first(of: values, on: u, level: chance + 0.1 * rise)
        t50 = Crossing.first(of: values, on: u, level: chance + 0.5 * rise)
        t90 = Crossing.first(of: values, on: u, level: chance + 0.9 * rise)
    }

    /// u(t90) − u(t10); nil without an onset or when t10 is censored (the width is then only a lower bound).
    public var width: Double? {
        guard let t10, let t90, !t10.isCensored else { return nil }
        return t90.u - t10.u
    }
}

extension TaskOutcomes {
    /// Section 1's numbers on the group's curve under `draws`.
    public func onsetNumbers(_ draws: Draws) -> CurveOnset {
        CurveOnset(values: curve(draws), u: u, chance: orientedChance)
    }
}
