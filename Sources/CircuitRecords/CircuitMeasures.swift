import Foundation

// What a circuit's evaluation measures (CircuitRuns, in Circuits, computes them): plain values, so that the
// findings report reads circuits.json without the circuit machinery.

/// A circuit's faithfulness on the pairs: (m(circuit) - m(ablated)) / (m(clean) - m(ablated)) of the mean
/// metrics, every edge outside the circuit cut (m(ablated): every edge cut, which is the corrupted run under
/// resample ablation), with a percentile bootstrap interval over pairs and the per-pair ratios' quantiles.
public struct Faithfulness: Sendable, Codable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double
    /// Quantiles 0.1, 0.25, 0.5, 0.75, 0.9 of the per-pair ratios, over the pairs whose own clean and
    /// ablated metrics differ by more than 1e-6 (`pairsUsed` of them).
    public var perPairQuantiles: [Double]
    public var pairsUsed: Int
    /// Mean metric of the circuit, of the clean model and of everything cut.
    public var circuitMetric: Double
    public var cleanMetric: Double
    public var ablatedMetric: Double

    public init(value: Double, low: Double, high: Double, perPairQuantiles: [Double], pairsUsed: Int,
                circuitMetric: Double, cleanMetric: Double, ablatedMetric: Double) {
        self.value = value; self.low = low; self.high = high; self.perPairQuantiles = perPairQuantiles
        self.pairsUsed = pairsUsed; self.circuitMetric = circuitMetric; self.cleanMetric = cleanMetric
        self.ablatedMetric = ablatedMetric
    }
}

/// Faithfulness against circuit size for one scoring method: n edges by |score| (the settings' selection:
/// top-n or greedy), then pruned.
public struct FaithfulnessCurve: Sendable, Codable, Equatable {
    public var method: String
    public var edges: [Int]          // n asked for
    public var kept: [Int]           // edges left after pruning
    public var faithfulness: [Double]

    public init(method: String, edges: [Int], kept: [Int], faithfulness: [Double]) {
        self.method = method; self.edges = edges; self.kept = kept; self.faithfulness = faithfulness
    }
}

/// Wang et al. 2022's completeness: the circuit knocked out of the model, and for random subsets K of the
/// circuit, |F(circuit - K) - F(model - K)|.
public struct Completeness: Sendable, Codable, Equatable {
    public var knockout: Double           // F(model with the circuit's edges cut)
    public var subsets: Int
    public var meanGap: Double
    public var maxGap: Double

    public init(knockout: Double, subsets: Int, meanGap: Double, maxGap: Double) {
        self.knockout = knockout; self.subsets = subsets; self.meanGap = meanGap; self.maxGap = maxGap
    }
}

/// Minimality: each circuit edge's removal lowers faithfulness by more than `fraction`.
public struct Minimality: Sendable, Codable, Equatable {
    public var fraction: Double
    public var edges: Int
    public var minimal: Int
    /// The edges whose removal lowers faithfulness by `fraction` or less, with that drop.
    public var notMinimal: [String: Double]

    public init(fraction: Double, edges: Int, minimal: Int, notMinimal: [String: Double]) {
        self.fraction = fraction; self.edges = edges; self.minimal = minimal; self.notMinimal = notMinimal
    }
}

/// How a method's edge scores agree with exact edge patching's: Spearman's rank correlation of the scores,
/// and the ROC AUC of |score| for telling the edges of the exact circuit from the others.
public struct ScoreAgreement: Sendable, Codable, Equatable {
    public var method: String
    /// nil (left out of the JSON) where it is undefined: either side's scores constant (EAP's are all 0 under the KL
    /// metric, whose gradient vanishes at the clean run); AUC also without both true and other edges.
    public var spearman: Double?
    public var auc: Double?
    public var positives: Int

    public init(method: String, spearman: Double?, auc: Double?, positives: Int) {
        self.method = method; self.spearman = spearman; self.auc = auc; self.positives = positives
    }
}
