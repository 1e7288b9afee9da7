import Tensors

/// A result normalised as TransformerLens's demos do, (m_patched - m_corrupted) / (m_clean -
/// m_corrupted), each m a mean over pairs (a ratio of means), with percentile-bootstrap intervals over
/// pairs. The normalisation is undefined (nil) when the interval of m_clean - m_corrupted includes 0:
/// the two runs do not differ on this metric (as at early checkpoints), so no patch can restore anything,
/// and dividing by that difference would make noise look large.
///
/// Denoising: 1 = the patch restores the clean metric, 0 = it changes nothing. Noising (the clean run
/// patched): 1 = nothing lost, 0 = the metric falls to the corrupted run's. `effect` reads the same way
/// for both, "bigger = matters more": the share of the difference restored (denoising) or removed (noising).
public struct PatchSummary: Sendable, Codable, Equatable {
    public var normalised: [Double?]       // [cells]; nil where undefined
    public var normalisedLow: [Double?]
    public var normalisedHigh: [Double?]
    public var effect: [Double?]
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

/// Bootstrap over pairs: the same resamples for every cell and for the clean - corrupted difference
/// (so their ratio is resampled jointly). Every statistic is a mean over one resample of pairs, so the
/// resamples as counts W [R, N] times the per-pair values [N, cells + 2] (the cells, then m_clean and
/// m_corrupted) give all of them in one matrix product.
public func summarise(_ r: PatchResult, resamples: Int = 1000, level: Double = 0.95, seed: UInt64 = 0) -> PatchSummary {
    let N = r.pairs, C = r.cells, R = max(resamples, 1), width = C + 2
    let W = Bootstrap.counts(count: N, resamples: R, seed: seed)
    var values = [Double](repeating: 0, count: N * width)
    for i in 0..<N {
        for c in 0..<C { values[i * width + c] = r.perPair[i * C + c] }
        values[i * width + C] = r.clean[i]
        values[i * width + C + 1] = r.corrupted[i]
    }
    var means = [Double](repeating: 0, count: R * width)       // [R, cells + 2]
    W.withUnsafeBufferPointer { w in
        values.withUnsafeBufferPointer { v in
            means.withUnsafeMutableBufferPointer { m in
                BLAS.dgemm(m: R, n: width, k: N, a: w.baseAddress!, lda: N, b: v.baseAddress!, ldb: width, beta: 0,
                           c: m.baseAddress!, ldc: width)
            }
        }
    }
    for j in means.indices { means[j] /= Double(N) }
    let tail = (1 - level) / 2
    func interval(_ draws: [Double]) -> (low: Double, high: Double)? {
        // A resample whose difference is exactly 0 has no ratio; if that leaves too few, no interval.
        let s = draws.filter(\.isFinite)
        guard s.count * 2 > draws.count else { return nil }
        let q = Bootstrap.quantiles(unsorted: s, [tail, 1 - tail])
        return (q[0], q[1])
    }
    let diffs = (0..<R).map { means[$0 * width + C] - means[$0 * width + C + 1] }
    let d = interval(diffs) ?? (.nan, .nan)
    let clean = mean(r.clean), corrupted = mean(r.corrupted)
    let defined = d.low > 0 || d.high < 0
    var out = PatchSummary(normalised: [], normalisedLow: [], normalisedHigh: [], effect: [], rawLow: [], rawHigh: [],
                           difference: clean - corrupted, differenceLow: d.low, differenceHigh: d.high, defined: defined,
                           resamples: R, level: level, seed: seed)
    for c in 0..<C {
        let raw = interval((0..<R).map { means[$0 * width + c] })!
        out.rawLow.append(raw.low); out.rawHigh.append(raw.high)
        guard defined else {
            out.normalised.append(nil); out.normalisedLow.append(nil); out.normalisedHigh.append(nil); out.effect.append(nil)
            continue
        }
        let n = (r.raw[c] - corrupted) / (clean - corrupted)
        let ci = interval((0..<R).map { b in
            (means[b * width + c] - means[b * width + C + 1]) / (means[b * width + C] - means[b * width + C + 1])
        })
        out.normalised.append(n)
        out.normalisedLow.append(ci?.low)
        out.normalisedHigh.append(ci?.high)
        out.effect.append(r.direction == .denoising ? n : 1 - n)
    }
    return out
}
