import Tensors

/// Chooses lambda from a grid on a validation split carved (seeded shuffle) from the training
/// rows; the test rows are never touched, so the reported test score stays unbiased.
enum LambdaSearch {
    static func choose(
        grid: [Double], features: [Float], d: Int, targets: Targets, kind: ProbeKind,
        train: [Int], seed: UInt64, options: ProbeOptions
    ) throws(ProbeError) -> (lambda: Double, scores: [LambdaScore], warnings: [String]) {
        guard !grid.isEmpty else { throw .emptyLambdaGrid }
        for l in grid where !(l.isFinite && l >= 0) { throw .invalidLambda(l) }
        if grid.count == 1 { return (grid[0], [], []) }

        var rows = train
        var rng = RNG(seed: seed)
        rng.shuffle(&rows)
        let nVal = Int((options.validationFraction * Double(rows.count)).rounded())
        let inner = Array(rows[nVal...]), validation = Array(rows[..<nVal])
        if validation.count < options.minTestExamples {
            throw .tooFewExamples(split: "validation (lambda grid)", count: validation.count, minimum: options.minTestExamples)
        }
        if inner.count < options.minTrainExamples {
            throw .tooFewExamples(split: "inner training (lambda grid)", count: inner.count, minimum: options.minTrainExamples)
        }
        var scores: [LambdaScore] = []
        var warnings: [String] = []
        // Largest lambda first: with ">" below, a tie keeps the simpler (more regularised) model.
        var best: LambdaScore? = nil
        for l in grid.sorted(by: >) {
            let fit = try SingleFit.run(features: features, d: d, targets: targets, kind: kind,
                                        train: inner, eval: validation, lambda: l, options: options.lbfgs)
            if let w = fit.warning { warnings.append("lambda search (lambda=\(l)): \(w)") }
            let s = LambdaScore(lambda: l, validationScore: fit.score)
            scores.append(s)
            if best == nil || s.validationScore > best!.validationScore { best = s }
        }
        return (best!.lambda, scores.sorted { $0.lambda < $1.lambda }, warnings)
    }
}
