// Scores shared by the probe, its baselines and the bootstrap. Each takes the positions to use,
// so a bootstrap resample is just another index list (no copies of the data).

public enum Metrics {
    /// Fraction of `positions` whose entry in `correct` is true.
    public static func accuracy(_ correct: [Bool], positions: [Int]) -> Double {
        guard !positions.isEmpty else { return 0 }
        var hits = 0
        for p in positions where correct[p] { hits += 1 }
        return Double(hits) / Double(positions.count)
    }

    /// Coefficient of determination 1 - SS_res / SS_tot, with SS_tot taken around the mean of the
    /// scored targets (scikit-learn's r2_score). A constant target gives 1 if predicted exactly,
    /// else 0, as sklearn does, instead of NaN (JSON cannot carry NaN).
    public static func r2(truth: [Double], predicted: [Double], positions: [Int]) -> Double {
        guard !positions.isEmpty else { return 0 }
        var mean = 0.0
        for p in positions { mean += truth[p] }
        mean /= Double(positions.count)
        var ssRes = 0.0, ssTot = 0.0
        for p in positions {
            let r = truth[p] - predicted[p], t = truth[p] - mean
            ssRes += r * r; ssTot += t * t
        }
        if ssTot == 0 { return ssRes == 0 ? 1 : 0 }
        return 1 - ssRes / ssTot
    }
}
