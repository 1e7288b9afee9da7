// The plain data the analysis reads: for one group (a model size, or one run), one task and one metric,
// every seed's outcome of every held-out test item at every checkpoint. `lens report` fills these from
// `<run>/items/` and `metrics.jsonl`; nothing here reads a file.

/// The four behaviour metrics of ANALYSIS-PLAN.md section 0. EM is the metric of every verdict.
public enum Metric: String, Sendable, Codable, CaseIterable {
    case exactMatch = "em"
    case tokenAccuracy = "ta"
    case logProb = "lp"
    case editDistance = "ed"

    /// Edit distance is lower-is-better; every rule reads it negated.
    public var higherIsBetter: Bool { self != .editDistance }
    /// EM and TA are rates in [0, 1]: the only metrics with a partial-rise rule (section 1.4).
    public var isRate: Bool { self == .exactMatch || self == .tokenAccuracy }
}

extension Metric {
    /// Every verdict of the plan is decided on EM (section 0, "Primary metric").
    static func requireExactMatch(_ tasks: [TaskOutcomes]) throws {
        for t in tasks where t.metric != .exactMatch {
            throw FindingsError.wrongMetric(task: t.task, found: t.metric, expected: .exactMatch)
        }
    }
}

/// Sub-skills are told apart by task name (lags, factors, item draws), so a name may appear once.
func requireDistinct(_ tasks: [String], in group: String) throws {
    var seen = Set<String>()
    for t in tasks where !seen.insert(t).inserted { throw FindingsError.invalid("\(group): sub-skill \(t) is listed twice") }
}

/// One run (one seed) on one task: `values[item][checkpoint]` of one metric (EM as 0/1).
public struct RunOutcomes: Sendable, Codable, Equatable {
    public var seed: Int
    public var values: [[Double]]

    public init(seed: Int, values: [[Double]]) {
        self.seed = seed
        self.values = values
    }
}

/// One task and metric in one group: its seeds' runs on shared checkpoints. `runs[j]` must be the same
/// seed in every task of the group, because a resample draws seeds once for the whole group (so a lag
/// between two tasks compares the same runs), and the same test items in every run (one split).
public struct TaskOutcomes: Sendable, Codable, Equatable {
    /// The size (or single run) these seeds belong to; resamples are keyed by it.
    public var group: String
    public var task: String
    public var metric: Metric
    /// Training step of every checkpoint, strictly increasing.
    public var steps: [Int]
    /// In the metric's own units (not negated), as `metrics.jsonl`'s `chance*` fields give it.
    public var chance: Double
    public var higherIsBetter: Bool
    public var runs: [RunOutcomes]

    public init(group: String, task: String, metric: Metric, steps: [Int], chance: Double,
                runs: [RunOutcomes], higherIsBetter: Bool? = nil) {
        self.group = group
        self.task = task
        self.metric = metric
        self.steps = steps
        self.chance = chance
        self.higherIsBetter = higherIsBetter ?? metric.higherIsBetter
        self.runs = runs
    }

    public var checkpoints: Int { steps.count }
    /// n of section 0's rate resolution: test items per run.
    public var itemCount: Int { runs.first?.values.count ?? 0 }
    public var seeds: [Int] { runs.map(\.seed) }
    /// u = log10(step + 1) of every checkpoint.
    public var u: [Double] { steps.map { StepAxis.u($0) } }
    /// The sign that makes "up" mean "better" (ED is negated).
    var sign: Double { higherIsBetter ? 1 : -1 }
    /// Chance on the oriented scale the rules read.
    public var orientedChance: Double { sign * chance }

    /// Throws unless the shapes agree and every number is finite.
    public func validate() throws {
        guard !steps.isEmpty else { throw FindingsError.noCheckpoints(task: task) }
        for (i, s) in steps.enumerated() {
            if s < 0 { throw FindingsError.negativeStep(task: task, step: s) }
            if i > 0 && s <= steps[i - 1] { throw FindingsError.stepsNotIncreasing(task: task, index: i) }
        }
        guard chance.isFinite else { throw FindingsError.nonFiniteChance(task: task) }
        guard let first = runs.first else { throw FindingsError.noRuns(task: task, group: group) }
        for run in runs {
            guard !run.values.isEmpty else { throw FindingsError.noItems(task: task, seed: run.seed) }
            guard run.values.count == first.values.count else {
                throw FindingsError.itemCountsDiffer(task: task, seed: run.seed, count: run.values.count, expected: first.values.count)
            }
            for (i, row) in run.values.enumerated() {
                guard row.count == steps.count else {
                    throw FindingsError.raggedItem(task: task, seed: run.seed, item: i, count: row.count, checkpoints: steps.count)
                }
                if let k = row.firstIndex(where: { !$0.isFinite }) {
                    throw FindingsError.nonFinite(task: task, seed: run.seed, item: i, checkpoint: k)
                }
            }
        }
    }

    /// Throws unless `other` comes from the same runs at the same checkpoints, so the two can share resamples.
    public func validatePaired(with other: TaskOutcomes) throws {
        guard other.group == group, other.seeds == seeds else {
            throw FindingsError.seedsDiffer(group: group, task: other.task, seeds: other.seeds, expected: seeds)
        }
        guard other.steps == steps else { throw FindingsError.stepsDiffer(group: group, task: task, other: other.task) }
    }

    /// The same task as one run's own group (section 3's per-run shape, section 7's behaviour onset).
    public func run(_ position: Int) -> TaskOutcomes {
        var one = self
        one.group = "\(group)/seed \(runs[position].seed)"
        one.runs = [runs[position]]
        return one
    }
}
