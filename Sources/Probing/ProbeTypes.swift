// The knobs of a probe fit and the record it produces. Everything in the result is a plain
// number, string or array so it round-trips through JSON for the CLI and the report figures.

public enum ProbeKind: String, Sendable, Codable, CaseIterable {
    /// Softmax over all training classes (any K >= 2).
    case multiclass
    /// Sigmoid on exactly 2 classes; classes[1] (the larger label) is the positive class.
    case binary
    /// Closed-form ridge regression on numeric targets, scored by R^2.
    case ridge
}

/// How the L2 strength is set. Logistic lambda multiplies (1/2)||W||^2 next to the *mean*
/// cross-entropy (C = 1/(lambda * n_train) in scikit-learn terms, see `LogisticObjective`);
/// ridge lambda multiplies ||w||^2 next to the *sum* of squares (sklearn's Ridge alpha).
public enum LambdaChoice: Sendable, Codable, Equatable {
    case fixed(Double)
    /// Picked on a validation split carved from the training split; ties go to the larger lambda.
    case grid([Double])
    /// `defaultGrid(for:)` of the probe kind.
    case defaultGrid

    public static func defaultGrid(for kind: ProbeKind) -> [Double] {
        switch kind {
        // With n_train ~ 1e3 these span sklearn C ~ 0.01 ... 100.
        case .multiclass, .binary: return [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
        // Standardised features: Gram diagonal ~ n_train, so these span "none" to "strong".
        case .ridge: return [1e-2, 1e-1, 1, 10, 100, 1000]
        }
    }
}

public struct ProbeOptions: Sendable, Codable, Equatable {
    public var lbfgs = LBFGSOptions()
    public var bootstrapResamples = 1000
    public var confidenceLevel = 0.95
    /// Fraction of the training split held out to choose lambda from a grid.
    public var validationFraction = 0.2
    public var minTrainExamples = 8
    public var minTestExamples = 2

    public init() {}
}

/// Validation score of one grid value.
public struct LambdaScore: Sendable, Codable, Equatable {
    public var lambda: Double
    public var validationScore: Double
}

public struct ProbeResult: Sendable, Codable, Equatable {
    public var kind: ProbeKind
    /// "accuracy" for classifiers, "r2" for ridge.
    public var metric: String
    /// Test accuracy or test R^2.
    public var score: Double
    /// Percentile-bootstrap interval of `score` over test examples.
    public var ciLow: Double
    public var ciHigh: Double
    public var confidenceLevel: Double
    public var bootstrapResamples: Int
    public var trainScore: Double
    /// Majority-training-class accuracy on test, or the test R^2 of predicting the training mean
    /// (about 0, slightly negative when train and test means differ).
    public var baseline: Double
    /// Same probe, same lambda, fitted on control-task labels (nil without control keys).
    public var controlScore: Double?
    /// How the probe beats its control task (`Selectivity`), with a paired bootstrap interval
    /// (same resamples for both): accuracy - control accuracy, or for ridge
    /// max(R², 0) - max(control R², 0), which stays in [-1, 1].
    public var selectivity: Double?
    public var selectivityCILow: Double?
    public var selectivityCIHigh: Double?
    /// `selectivity`'s formula spelled out ("accuracy - control_accuracy" or
    /// "max(r2, 0) - max(control_r2, 0)"), so a JSON reader need not guess it; nil without a control.
    public var selectivityDefinition: String?
    public var lambda: Double
    /// scikit-learn's C for the same logistic objective, 1/(lambda * nTrain); nil for ridge
    /// (where sklearn alpha = lambda) or lambda = 0.
    public var sklearnC: Double?
    public var lambdaSearch: [LambdaScore]
    public var iterations: Int
    /// Infinity norm of the objective's gradient at the returned parameters (0 for ridge).
    public var gradientNorm: Double
    public var converged: Bool
    public var stopReason: String
    public var warnings: [String]
    public var nTrain: Int
    public var nTest: Int
    public var nFeatures: Int
    /// Distinct training labels (0 for ridge).
    public var nClasses: Int
    public var classes: [Int32]
    /// Test examples whose label never occurs in training (always counted wrong).
    public var unseenTestExamples: Int
    public var seed: UInt64
    public var trainIndices: [Int]
    public var testIndices: [Int]
}

/// A fitted probe in the activation space it was fitted on, so that a causal test can patch or ablate
/// along it: `decision = weights · x + intercepts` on raw (unstandardised) activations, one output row
/// per class (multiclass), or one row (binary: the log-odds of classes[1]; ridge: the prediction).
/// The standardisation is folded in: weights[k][j] = w[k][j] / std[j], intercepts absorb the means.
public struct ProbeDirections: Sendable, Codable, Equatable {
    /// outputs x d, row-major.
    public var weights: [Double]
    public var intercepts: [Double]
    public var d: Int
    public var outputs: Int { intercepts.count }

    /// The probe's decision values for one activation vector (length d).
    public func decision(_ x: [Float]) -> [Double] {
        (0..<outputs).map { k in
            var s = intercepts[k]
            for j in 0..<d { s += weights[k * d + j] * Double(x[j]) }
            return s
        }
    }

    public init(weights: [Double], intercepts: [Double], d: Int) {
        self.weights = weights; self.intercepts = intercepts; self.d = d
    }

    /// Folds a standardiser into a model on standardised features: `w` is d x outputs, row-major (the
    /// solvers' layout), `b` the outputs' intercepts.
    init(standardised w: [Double], intercepts b: [Double], scaler: Standardizer) {
        let d = scaler.dimension, k = b.count
        var weights = [Double](repeating: 0, count: k * d)
        var intercepts = b
        for o in 0..<k {
            for j in 0..<d {
                let v = w[j * k + o] * scaler.inverseStd[j]
                weights[o * d + j] = v
                intercepts[o] -= v * scaler.mean[j]
            }
        }
        self.weights = weights
        self.intercepts = intercepts
        self.d = d
    }
}
