import Foundation

/// What `lens circuit` finds for one experiment on one run: per decision, per checkpoint, each method's
/// scores summarised by its faithfulness curve and its circuit. Every number in the markdown comes from
/// here; the scored graphs themselves are the EAP-IG files named in `file`.
public struct CircuitRecord: Sendable, Codable, Equatable {
    public var experiment: String
    public var task: String
    public var run: String
    public var runDir: String
    public var model: String
    public var seed: UInt64
    public var metric: String
    /// How a cut edge is ablated (the spec's ablation: resample is EAP-IG's "patching").
    public var ablation: String
    public var settings: CircuitSettings
    public var graph: GraphSize
    public var decisions: [CircuitDecisionRecord]

    public init(experiment: String, task: String, run: String, runDir: String, model: String, seed: UInt64,
                metric: String, ablation: String, settings: CircuitSettings, graph: GraphSize,
                decisions: [CircuitDecisionRecord]) {
        self.experiment = experiment; self.task = task; self.run = run; self.runDir = runDir; self.model = model
        self.seed = seed; self.metric = metric; self.ablation = ablation; self.settings = settings
        self.graph = graph; self.decisions = decisions
    }

    /// A composite's experiment (a `multistep*` task), whose circuits are compared with the sub-skills'.
    public var isComposite: Bool { task.hasPrefix("multistep") }
}

public struct CircuitSettings: Sendable, Codable, Equatable {
    /// "The circuit" is the smallest n edges by `circuitMethod`, chosen by `selection`, whose faithfulness
    /// reaches `target`.
    public var target: Double
    public var circuitMethod: String
    public var igSteps: Int
    public var tau: Double
    public var minimalityFraction: Double
    public var completenessSubsets: Int
    public var resamples: Int
    public var seed: UInt64
    /// How n edges are chosen: "topn" (the n largest |scores|, EAP-IG's `apply_topn`; a threshold picks the
    /// same sets) or "greedy" (from the logits up, EAP-IG's `apply_greedy`). Files before it was recorded: topn
    /// (and no tau sweep).
    public var selection: String
    /// More taus at which ACDC also runs where it runs (a sweep beside `tau`, whose circuit is the one reported).
    public var tauSweep: [Double]

    public init(target: Double = 0.8, circuitMethod: String = "eap-ig", igSteps: Int = 5, tau: Double = 0.02,
                minimalityFraction: Double = 0.01, completenessSubsets: Int = 20, resamples: Int = 1000, seed: UInt64 = 0,
                selection: String = "topn", tauSweep: [Double] = []) {
        self.target = target; self.circuitMethod = circuitMethod; self.igSteps = igSteps; self.tau = tau
        self.minimalityFraction = minimalityFraction; self.completenessSubsets = completenessSubsets
        self.resamples = resamples; self.seed = seed; self.selection = selection; self.tauSweep = tauSweep
    }

    /// How "the circuit" grows, in words.
    public var selectionPhrase: String { selection == "greedy" ? "greedy (from the logits up)" : "top-n" }

    enum CodingKeys: String, CodingKey {
        case target, circuitMethod, igSteps, tau, minimalityFraction, completenessSubsets, resamples, seed, selection, tauSweep
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(target: try c.decode(Double.self, forKey: .target), circuitMethod: try c.decode(String.self, forKey: .circuitMethod),
                  igSteps: try c.decode(Int.self, forKey: .igSteps), tau: try c.decode(Double.self, forKey: .tau),
                  minimalityFraction: try c.decode(Double.self, forKey: .minimalityFraction),
                  completenessSubsets: try c.decode(Int.self, forKey: .completenessSubsets), resamples: try c.decode(Int.self, forKey: .resamples),
                  seed: try c.decode(UInt64.self, forKey: .seed), selection: try c.decodeIfPresent(String.self, forKey: .selection) ?? "topn",
                  tauSweep: try c.decodeIfPresent([Double].self, forKey: .tauSweep) ?? [])
    }
}

public struct GraphSize: Sendable, Codable, Equatable {
    public var nodes: Int
    public var edges: Int

    public init(nodes: Int, edges: Int) {
        self.nodes = nodes; self.edges = edges
    }
}

public struct CircuitDecisionRecord: Sendable, Codable, Equatable {
    public var decision: String
    /// Pairs over every layout (the graph has no position axis, so every layout's pairs count).
    public var pairs: Int
    public var layouts: Int
    public var steps: [CircuitStepRecord]
    /// The last checkpoint's circuit (by `circuitMethod`) evaluated at every checkpoint: when it forms.
    public var formation: Formation?

    public init(decision: String, pairs: Int, layouts: Int, steps: [CircuitStepRecord], formation: Formation?) {
        self.decision = decision; self.pairs = pairs; self.layouts = layouts; self.steps = steps
        self.formation = formation
    }
}

public struct Formation: Sendable, Codable, Equatable {
    public var circuitStep: Int
    public var steps: [Int]
    public var faithfulness: [Double?]
    /// The first step from which this circuit's faithfulness stays at or above the target, with the clean
    /// and ablated runs told apart there (`gapResolved`); nil if it never does.
    public var formedAt: Int?

    public init(circuitStep: Int, steps: [Int], faithfulness: [Double?], formedAt: Int?) {
        self.circuitStep = circuitStep; self.steps = steps; self.faithfulness = faithfulness
        self.formedAt = formedAt
    }
}

public struct CircuitStepRecord: Sendable, Codable, Equatable {
    public var step: Int
    public var cleanMetric: Double
    public var ablatedMetric: Double
    /// Bootstrap interval of mean(clean - ablated) over pairs; faithfulness is a ratio over this gap and
    /// means little when the interval holds 0.
    public var gapLow: Double
    public var gapHigh: Double
    public var gapResolved: Bool
    public var methods: [MethodRecord]
    /// Each method's scores against exact edge patching's (where exact scores were computed).
    public var agreement: [ScoreAgreement]
    /// ACDC at each tau of the sweep (`tauSweep` and `tau`, ascending), where ACDC ran and a sweep was asked.
    public var acdcSweep: [ACDCPoint]?

    public init(step: Int, cleanMetric: Double, ablatedMetric: Double, gapLow: Double, gapHigh: Double,
                gapResolved: Bool, methods: [MethodRecord], agreement: [ScoreAgreement], acdcSweep: [ACDCPoint]? = nil) {
        self.step = step; self.cleanMetric = cleanMetric; self.ablatedMetric = ablatedMetric; self.gapLow = gapLow
        self.gapHigh = gapHigh; self.gapResolved = gapResolved; self.methods = methods; self.agreement = agreement
        self.acdcSweep = acdcSweep
    }
}

/// One tau of an ACDC sweep: the edges and nodes it keeps, and their faithfulness (nil: it keeps none).
public struct ACDCPoint: Sendable, Codable, Equatable {
    public var tau: Double
    public var edges: Int
    public var nodes: Int
    public var faithfulness: Faithfulness?

    public init(tau: Double, edges: Int, nodes: Int, faithfulness: Faithfulness?) {
        self.tau = tau; self.edges = edges; self.nodes = nodes; self.faithfulness = faithfulness
    }
}

public struct MethodRecord: Sendable, Codable, Equatable {
    public var method: String
    /// The scored graph (EAP-IG's layout with our `meta`), relative to the output directory.
    public var file: String
    public var curve: FaithfulnessCurve?
    /// The method's circuit: the smallest n edges (by the settings' selection) reaching the target (ACDC: the circuit it keeps); nil when
    /// none does.
    public var circuit: CircuitSummary?

    public init(method: String, file: String, curve: FaithfulnessCurve?, circuit: CircuitSummary?) {
        self.method = method; self.file = file; self.curve = curve; self.circuit = circuit
    }
}

public struct CircuitSummary: Sendable, Codable, Equatable {
    public var edges: Int
    public var nodes: Int
    public var edgeNames: [String]
    public var nodeNames: [String]
    public var faithfulness: Faithfulness
    public var completeness: Completeness?
    public var minimality: Minimality?
    /// Its drawing, relative to the output directory.
    public var figure: String?

    public init(edges: Int, nodes: Int, edgeNames: [String], nodeNames: [String], faithfulness: Faithfulness,
                completeness: Completeness?, minimality: Minimality?, figure: String?) {
        self.edges = edges; self.nodes = nodes; self.edgeNames = edgeNames; self.nodeNames = nodeNames
        self.faithfulness = faithfulness; self.completeness = completeness; self.minimality = minimality
        self.figure = figure
    }
}

/// The circuit hypothesis across experiments of one run: how much a composite decision's circuit overlaps
/// each sub-skill's, step by step.
public struct OverlapRecord: Sendable, Codable, Equatable {
    public var run: String
    public var composite: String       // experiment/decision
    public var subskill: String        // experiment/decision
    public var steps: [Int]
    public var edgeJaccard: [Double?]
    public var nodeJaccard: [Double?]
    /// Share of the composite's |score| mass (by the circuit method) on the sub-skill circuit's edges.
    public var massShare: [Double?]
    /// The same share for random edge sets of the sub-skill circuit's size: mean and the 95th percentile.
    public var massShareNullMean: [Double?]
    public var massShareNull95: [Double?]

    public init(run: String, composite: String, subskill: String, steps: [Int], edgeJaccard: [Double?],
                nodeJaccard: [Double?], massShare: [Double?], massShareNullMean: [Double?],
                massShareNull95: [Double?]) {
        self.run = run; self.composite = composite; self.subskill = subskill; self.steps = steps
        self.edgeJaccard = edgeJaccard; self.nodeJaccard = nodeJaccard; self.massShare = massShare
        self.massShareNullMean = massShareNullMean; self.massShareNull95 = massShareNull95
    }
}

/// Everything `lens circuit` wrote in one call.
public struct CircuitStudyRecord: Sendable, Codable, Equatable {
    public var records: [CircuitRecord]
    public var overlaps: [OverlapRecord]

    public init(records: [CircuitRecord], overlaps: [OverlapRecord]) { self.records = records; self.overlaps = overlaps }
}
