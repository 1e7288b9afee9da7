// A fitted L2-regularised logistic probe: parameters, class map, and the optimiser's report.

public struct LogisticModel: Sendable, Codable, Equatable {
    /// Sorted distinct training labels; class index k means label classes[k].
    public var classes: [Int32]
    public var sigmoid: Bool
    public var d: Int
    /// W row-major (d x columns) followed by the intercepts, as in `LogisticObjective`.
    public var parameters: [Double]

    public var columns: Int { sigmoid ? 1 : classes.count }

    /// Raw decision values: n x K logits, or n x 1 log-odds of classes[1] in sigmoid mode.
    public func decision(x: [Double], m: Int) -> [Double] {
        LogisticObjective.logits(x: x, m: m, d: d, params: parameters, columns: columns)
    }

    /// Predicted class index (into `classes`) per row; ties go to the lower index, like argmax.
    public func predict(x: [Double], m: Int) -> [Int] {
        let z = decision(x: x, m: m), c = columns
        return (0..<m).map { i in
            if sigmoid { return z[i] > 0 ? 1 : 0 }
            var best = 0
            for k in 1..<c where z[i * c + k] > z[i * c + best] { best = k }
            return best
        }
    }
}

public enum LogisticRegression {
    /// Fits on standardised rows `x` (n x d) with class indices `y` into `classes`.
    /// Starts from zero, where the objective is log(K) (log 2 for sigmoid), so runs are deterministic.
    public static func fit(
        x: [Double], n: Int, d: Int, y: [Int], classes: [Int32], sigmoid: Bool,
        lambda: Double, options: LBFGSOptions = LBFGSOptions()
    ) -> (model: LogisticModel, report: LBFGSResult) {
        let objective = LogisticObjective(x: x, n: n, d: d, labels: y, numClasses: classes.count,
                                          sigmoid: sigmoid, lambda: lambda)
        let start = [Double](repeating: 0, count: objective.parameterCount)
        let report = LBFGS.minimize(x0: start, options: options) { p, g in objective.evaluate(p, &g) }
        let model = LogisticModel(classes: classes, sigmoid: sigmoid, d: d, parameters: report.x)
        return (model, report)
    }
}
