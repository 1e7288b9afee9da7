import Tensors

/// A result normalised as TransformerLens's demos do, (m_patched - m_corrupted) / (m_clean -
/// m_corrupted), each m a mean over pairs (a ratio of means), with percentile-bootstrap intervals over
/// pairs. The normalisation is undefined (nil) when the interval of m_clean - m_corrupted includes 0:
/// the two runs do not differ on this metric (as at early checkpoints), so no patch can restore anything.
public struct PatchSummary: Sendable, Codable, Equatable {
    public var normalised: [Double?]       // [cells]; nil where undefined
    public var normalisedLow: [Double?]
    public var normalisedHigh: [Double?]
    public var rawLow: [Double]            // interval of the raw mean per cell
    public var rawHigh: [Double]
    public var difference: Double          // m_clean - m_corrupted (mean over pairs)
    public var differenceLow: Double
    public var differenceHigh: Double
    public var defined: Bool
    public var resamples: Int
    public var level: Double
    public var seed: UInt64
}

/// Bootstrap over pairs: every resample draws `pairs` indices with repetition from RNG(seed), the same
/// draws for every cell and for the clean - corrupted difference (so their ratio is resampled jointly).
public func summarise(_ r: PatchResult, resamples: Int = 1000, level: Double = 0.95, seed: UInt64 = 0) -> PatchSummary {
    let N = r.pairs, cells = r.cells, R = max(resamples, 1)
    var rng = RNG(seed: seed)
    var counts = [Double](repeating: 0, count: N)
    var diffs = [Double](), rawDraws = [[Double]](repeating: [], count: cells), normDraws = [[Double]](repeating: [], count: cells)
    for _ in 0..<R {
        for i in 0..<N { counts[i] = 0 }
        for _ in 0..<N { counts[rng.int(N)] += 1 }
        var c = 0.0, x = 0.0
        for i in 0..<N { c += counts[i] * r.clean[i]; x += counts[i] * r.corrupted[i] }
        c /= Double(N); x /= Double(N)
        diffs.append(c - x)
        r.perPair.withUnsafeBufferPointer { pp in
            for cell in 0..<cells {
                var m = 0.0
                for i in 0..<N where counts[i] > 0 { m += counts[i] * pp[i * cells + cell] }
                m /= Double(N)
                rawDraws[cell].append(m)
                normDraws[cell].append((m - x) / (c - x))
            }
        }
    }
    let tail = (1 - level) / 2
    func interval(_ v: [Double]) -> (Double, Double) {
        let s = v.sorted()
        return (quantile(s, tail), quantile(s, 1 - tail))
    }
    let (dLow, dHigh) = interval(diffs)
    let clean = mean(r.clean), corrupted = mean(r.corrupted)
    let defined = dLow > 0 || dHigh < 0
    let ci = normDraws.map(interval), raw = rawDraws.map(interval)
    return PatchSummary(normalised: r.raw.map { defined ? ($0 - corrupted) / (clean - corrupted) : nil },
                        normalisedLow: ci.map { defined ? $0.0 : nil }, normalisedHigh: ci.map { defined ? $0.1 : nil },
                        rawLow: raw.map(\.0), rawHigh: raw.map(\.1),
                        difference: clean - corrupted, differenceLow: dLow, differenceHigh: dHigh, defined: defined,
                        resamples: R, level: level, seed: seed)
}

/// Linear interpolation between order statistics (numpy's default).
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let h = q * Double(sorted.count - 1)
    let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
}
