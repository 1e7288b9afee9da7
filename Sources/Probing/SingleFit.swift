// One fit of one probe on one (train, evaluation) pair of row lists: standardise on train,
// fit, and score the evaluation rows. The lambda search, the main fit and the control fit all
// go through here, so they cannot drift apart.

/// Targets in the form the probe kind consumes, indexed by example (0..<n).
enum Targets: Sendable {
    case classes([Int32])
    case values([Double])
}

struct SingleFit: Sendable {
    /// Classification: whether each evaluation row was predicted right (unseen class = wrong).
    var correct: [Bool] = []
    /// Regression: truth and prediction per evaluation row.
    var truth: [Double] = []
    var predicted: [Double] = []
    var trainScore = 0.0
    var classes: [Int32] = []
    var unseen = 0
    var iterations = 0
    var gradientNorm = 0.0
    var converged = true
    var stop = "closed form"
    var warning: String?
    /// The fitted model in raw activation space (`ProbeDirections`).
    var directions: ProbeDirections?

    /// Score on a subset (or bootstrap resample) of evaluation positions.
    func score(_ positions: [Int]) -> Double {
        correct.isEmpty && !truth.isEmpty
            ? Metrics.r2(truth: truth, predicted: predicted, positions: positions)
            : Metrics.accuracy(correct, positions: positions)
    }
    var score: Double { score(Array(0..<max(correct.count, truth.count))) }

    static func run(
        features: [Float], d: Int, targets: Targets, kind: ProbeKind,
        train: [Int], eval: [Int], lambda: Double, options: LBFGSOptions
    ) throws(ProbeError) -> SingleFit {
        let scaler = Standardizer(features: features, d: d, rows: train)
        let xTrain = scaler.transform(features: features, d: d, rows: train)
        let xEval = scaler.transform(features: features, d: d, rows: eval)
        var out = SingleFit()
        switch targets {
        case .values(let y):
            let yTrain = train.map { y[$0] }
            let model = try RidgeRegression.fit(x: xTrain, n: train.count, d: d, y: yTrain, lambda: lambda)
            out.truth = eval.map { y[$0] }
            out.predicted = model.predict(x: xEval, m: eval.count)
            out.directions = ProbeDirections(standardised: model.weights, intercepts: [model.intercept], scaler: scaler)
            out.trainScore = Metrics.r2(truth: yTrain, predicted: model.predict(x: xTrain, m: train.count),
                                        positions: Array(0..<train.count))
        case .classes(let labels):
            let classes = Array(Set(train.map { labels[$0] })).sorted()
            if classes.count < 2 { throw .tooFewClasses(found: classes.count) }
            if kind == .binary && classes.count != 2 { throw .binaryNeedsTwoClasses(found: classes.count) }
            var index: [Int32: Int] = [:]
            for (k, c) in classes.enumerated() { index[c] = k }
            let yTrain = train.map { index[labels[$0]]! }
            let (model, report) = LogisticRegression.fit(
                x: xTrain, n: train.count, d: d, y: yTrain, classes: classes,
                sigmoid: kind == .binary, lambda: lambda, options: options)
            let predEval = model.predict(x: xEval, m: eval.count)
            out.correct = zip(eval, predEval).map { row, p in index[labels[row]] == p }
            out.unseen = eval.filter { index[labels[$0]] == nil }.count
            let predTrain = model.predict(x: xTrain, m: train.count)
            out.trainScore = Double(zip(yTrain, predTrain).filter { $0 == $1 }.count) / Double(train.count)
            out.classes = classes
            let columns = model.columns
            out.directions = ProbeDirections(standardised: Array(model.parameters.prefix(d * columns)),
                                             intercepts: Array(model.parameters.suffix(columns)), scaler: scaler)
            out.iterations = report.iterations
            out.gradientNorm = report.gradientNorm
            out.converged = report.converged
            out.stop = report.stop.rawValue
            out.warning = report.warning
        }
        return out
    }
}
