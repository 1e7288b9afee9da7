import Tensors

/// Fits a linear probe on `trainIdx` rows of `features` (row-major n x d) and scores it on
/// `testIdx`, with baseline, optional control task (Hewitt & Liang 2019) and bootstrap intervals.
/// Classifier labels are arbitrary Int32 values; `.ridge` regresses on their numeric value.
/// Throws on malformed input; a fit that ran but is doubtful (non-convergence, unseen test
/// classes, a failed control fit) returns with entries in `warnings`.
public func fitProbe(
    features: [Float], n: Int, d: Int, labels: [Int32], kind: ProbeKind,
    trainIdx: [Int], testIdx: [Int], lambda: LambdaChoice = .defaultGrid,
    controlKeys: [ProbeInputKey]? = nil, seed: UInt64 = 0, options: ProbeOptions = ProbeOptions()
) throws(ProbeError) -> ProbeResult {
    guard labels.count == n else { throw .shapeMismatch("\(labels.count) labels for n = \(n) examples") }
    let targets: Targets = kind == .ridge ? .values(labels.map { Double($0) }) : .classes(labels)
    return try ProbeRunner(features: features, n: n, d: d, targets: targets, kind: kind, train: trainIdx,
                           test: testIdx, lambda: lambda, controlKeys: controlKeys, seed: seed,
                           options: options).run()
}

/// Ridge probe on real-valued targets (one per example).
public func fitProbe(
    features: [Float], n: Int, d: Int, targets: [Double],
    trainIdx: [Int], testIdx: [Int], lambda: LambdaChoice = .defaultGrid,
    controlKeys: [ProbeInputKey]? = nil, seed: UInt64 = 0, options: ProbeOptions = ProbeOptions()
) throws(ProbeError) -> ProbeResult {
    guard targets.count == n else { throw .shapeMismatch("\(targets.count) targets for n = \(n) examples") }
    if let bad = targets.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteTarget(row: bad) }
    return try ProbeRunner(features: features, n: n, d: d, targets: .values(targets), kind: .ridge,
                           train: trainIdx, test: testIdx, lambda: lambda, controlKeys: controlKeys,
                           seed: seed, options: options).run()
}

/// What `ProbeJob` fits per cell: either `fitProbe`, plus the probe in activation space.
func fitProbeCell(
    features: [Float], n: Int, d: Int, labels: [Int32], targets: [Double]?, kind: ProbeKind,
    trainIdx: [Int], testIdx: [Int], lambda: LambdaChoice, controlKeys: [ProbeInputKey]?, seed: UInt64
) throws(ProbeError) -> (result: ProbeResult, directions: ProbeDirections?) {
    if let targets {
        guard targets.count == n else { throw .shapeMismatch("\(targets.count) targets for n = \(n) examples") }
        if let bad = targets.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteTarget(row: bad) }
    } else {
        guard labels.count == n else { throw .shapeMismatch("\(labels.count) labels for n = \(n) examples") }
    }
    let t: Targets = targets.map { .values($0) } ?? (kind == .ridge ? .values(labels.map { Double($0) }) : .classes(labels))
    return try ProbeRunner(features: features, n: n, d: d, targets: t, kind: kind, train: trainIdx, test: testIdx,
                           lambda: lambda, controlKeys: controlKeys, seed: seed, options: ProbeOptions()).runWithDirections()
}

/// Validation, then lambda choice, main fit, baseline, control fit and bootstrap, in that order.
struct ProbeRunner {
    let features: [Float]
    let n: Int, d: Int
    let targets: Targets
    let kind: ProbeKind
    let train: [Int], test: [Int]
    let lambda: LambdaChoice
    let controlKeys: [ProbeInputKey]?
    let seed: UInt64
    let options: ProbeOptions

    /// Independent seeds per purpose, so e.g. changing B does not change the control labels.
    func subSeed(_ salt: UInt64) -> UInt64 { var r = RNG(seed: seed).derived(salt); return r.next() }

    func validate() throws(ProbeError) {
        guard n > 0, d > 0 else { throw .shapeMismatch("n = \(n) and d = \(d) must both be positive") }
        guard features.count == n * d else { throw .shapeMismatch("\(features.count) feature values, expected n*d = \(n * d)") }
        if let keys = controlKeys, keys.count != n { throw .shapeMismatch("\(keys.count) control keys for n = \(n) examples") }
        for (name, rows) in [("train", train), ("test", test)] {
            if let bad = rows.first(where: { $0 < 0 || $0 >= n }) { throw .indexOutOfRange(split: name, index: bad, n: n) }
        }
        let trainSet = Set(train)
        if let both = test.first(where: { trainSet.contains($0) }) { throw .overlappingSplits(index: both) }
        if train.count < options.minTrainExamples { throw .tooFewExamples(split: "train", count: train.count, minimum: options.minTrainExamples) }
        if test.count < options.minTestExamples { throw .tooFewExamples(split: "test", count: test.count, minimum: options.minTestExamples) }
        guard options.bootstrapResamples > 0 else { throw .invalidOption("bootstrapResamples must be positive") }
        guard options.confidenceLevel > 0, options.confidenceLevel < 1 else { throw .invalidOption("confidenceLevel must be in (0, 1)") }
        guard options.validationFraction > 0, options.validationFraction < 1 else { throw .invalidOption("validationFraction must be in (0, 1)") }
        for r in train + test {
            for j in 0..<d where !features[r * d + j].isFinite { throw .nonFiniteFeature(row: r, column: j) }
        }
        if case .classes(let labels) = targets, train.isEmpty || labels.isEmpty { throw .tooFewClasses(found: 0) }
    }

    func run() throws(ProbeError) -> ProbeResult { try runWithDirections().result }

    /// The result and the main fit in activation space (the control fit's directions mean nothing).
    func runWithDirections() throws(ProbeError) -> (result: ProbeResult, directions: ProbeDirections?) {
        try validate()
        var warnings: [String] = []
        let chosen: Double
        var search: [LambdaScore] = []
        let grid: [Double]
        switch lambda {
        case .fixed(let l): grid = [l]
        case .grid(let g): grid = g
        case .defaultGrid: grid = LambdaChoice.defaultGrid(for: kind)
        }
        if case .fixed(let l) = lambda {
            guard l.isFinite, l >= 0 else { throw .invalidLambda(l) }
            chosen = l
        } else {
            let r = try LambdaSearch.choose(grid: grid, features: features, d: d, targets: targets, kind: kind,
                                            train: train, seed: subSeed(1), options: options)
            chosen = r.lambda; search = r.scores; warnings += r.warnings
        }

        let main = try SingleFit.run(features: features, d: d, targets: targets, kind: kind,
                                     train: train, eval: test, lambda: chosen, options: options.lbfgs)
        if let w = main.warning { warnings.append("probe: \(w)") }
        if main.unseen > 0 {
            warnings.append("\(main.unseen) test examples have labels absent from training; counted as wrong")
        }
        let all = Array(0..<test.count)
        let bootSeed = subSeed(3)
        let ci = Bootstrap.percentile(count: test.count, resamples: options.bootstrapResamples,
                                      level: options.confidenceLevel, seed: bootSeed) { main.score($0) }

        var result = ProbeResult(
            kind: kind, metric: kind == .ridge ? "r2" : "accuracy", score: main.score(all),
            ciLow: ci.low, ciHigh: ci.high, confidenceLevel: options.confidenceLevel,
            bootstrapResamples: options.bootstrapResamples, trainScore: main.trainScore,
            baseline: baseline(), controlScore: nil, selectivity: nil, selectivityCILow: nil,
            selectivityCIHigh: nil, selectivityDefinition: nil, lambda: chosen,
            sklearnC: kind != .ridge && chosen > 0 ? 1 / (chosen * Double(train.count)) : nil,
            lambdaSearch: search, iterations: main.iterations, gradientNorm: main.gradientNorm,
            converged: main.converged, stopReason: main.stop, warnings: [], nTrain: train.count,
            nTest: test.count, nFeatures: d, nClasses: main.classes.count, classes: main.classes,
            unseenTestExamples: main.unseen, seed: seed, trainIndices: train, testIndices: test)

        if let keys = controlKeys {
            // Same probe, same lambda (as Hewitt & Liang) on labels that depend only on the input type.
            let controlTargets: Targets
            switch targets {
            case .classes(let y): controlTargets = .classes(ControlTask.labels(keys: keys, pool: train.map { y[$0] }, seed: subSeed(2)))
            case .values(let y): controlTargets = .values(ControlTask.labels(keys: keys, pool: train.map { y[$0] }, seed: subSeed(2)))
            }
            do {
                let control = try SingleFit.run(features: features, d: d, targets: controlTargets, kind: kind,
                                                train: train, eval: test, lambda: chosen, options: options.lbfgs)
                if let w = control.warning { warnings.append("control: \(w)") }
                let sel = Bootstrap.percentile(count: test.count, resamples: options.bootstrapResamples,
                                               level: options.confidenceLevel, seed: bootSeed) {
                    Selectivity.of(score: main.score($0), control: control.score($0), kind: kind)
                }
                result.controlScore = control.score(all)
                result.selectivity = Selectivity.of(score: result.score, control: control.score(all), kind: kind)
                result.selectivityDefinition = Selectivity.definition(kind)
                result.selectivityCILow = sel.low
                result.selectivityCIHigh = sel.high
            } catch {
                warnings.append("control task not fitted: \(error)")
            }
        }
        result.warnings = warnings
        return (result, main.directions)
    }

    /// Majority training class scored on test, or the training mean as a constant predictor.
    func baseline() -> Double {
        switch targets {
        case .classes(let y):
            var counts: [Int32: Int] = [:]
            for r in train { counts[y[r], default: 0] += 1 }
            // Most frequent; ties go to the smaller label so the choice is deterministic.
            let majority = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }!.key
            return Double(test.filter { y[$0] == majority }.count) / Double(test.count)
        case .values(let y):
            let mean = train.reduce(0.0) { $0 + y[$1] } / Double(train.count)
            let truth = test.map { y[$0] }
            return Metrics.r2(truth: truth, predicted: [Double](repeating: mean, count: test.count),
                              positions: Array(0..<test.count))
        }
    }
}
