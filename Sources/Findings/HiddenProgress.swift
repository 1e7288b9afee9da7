// Section 7 (Barak et al. 2022; Nanda et al. 2023): does internal structure (a decodable intermediate,
// a causally active component) appear before the behaviour, within one run?

/// A score with its interval (a probe's accuracy, a component's attribution effect).
public struct ScoreInterval: Sendable, Codable, Equatable {
    public var low: Double
    public var high: Double

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }
}

/// Plan section 11.1: the probe targets that count for hidden progress, values the model computes from
/// the prompt; targets the prompt states (operands, the start value, clause labels) decode from the input
/// tokens and say nothing about hidden computation.
public enum HiddenProgressProbes {
    public static let computedTargets: Set<String> = ["intermediate", "answer", "op1", "op2", "carry", "borrow", "order_dependent"]

    /// Why a probe does not count, or nil when it does: its tasks must include the composite and its
    /// target must be computed (`answer_*` digits count as the answer).
    public static func exclusion(target: String, tasks: [String], composite: String) -> String? {
        guard tasks.contains(composite) else {
            return "fitted on \(tasks.isEmpty ? "unnamed tasks" : tasks.joined(separator: ", ")), not on the composite `\(composite)`"
        }
        let computed = computedTargets.contains(target) || target.hasPrefix("answer_")
        return computed ? nil : "its target `\(target)` is stated in the prompt, not computed"
    }
}

/// One probe in one run at its dumped checkpoints.
public struct ProbeScores: Sendable, Codable, Equatable {
    public var steps: [Int]
    /// [checkpoints]: the probe's score interval.
    public var scores: [ScoreInterval]
    /// [checkpoints]: the control task's score (Hewitt & Liang).
    public var control: [Double]
    /// The same probe on the untrained (step 0) model.
    public var stepZero: ScoreInterval

    public init(steps: [Int], scores: [ScoreInterval], control: [Double], stepZero: ScoreInterval) {
        self.steps = steps
        self.scores = scores
        self.control = control
        self.stepZero = stepZero
    }

    /// The first checkpoint whose score's lower end exceeds the step-0 score's upper end and the control
    /// score (selectivity > 0); nil when none does. Resolution: the dumped checkpoints.
    public var onset: Int? {
        zip(steps, zip(scores, control)).first { $1.0.low > stepZero.high && $1.0.low > $1.1 }?.0
    }
}

/// One decision of the composite's patching experiments in one run.
public struct CausalScores: Sendable, Codable, Equatable {
    public var name: String
    public var steps: [Int]
    /// [checkpoints][components]: each component's attribution effect interval; nil where the
    /// normalisation is undefined (the clean and corrupted runs do not differ).
    public var effects: [[ScoreInterval]?]
    /// The effects at step 0; nil when the normalisation is undefined there.
    public var stepZero: [ScoreInterval]?

    public init(name: String, steps: [Int], effects: [[ScoreInterval]?], stepZero: [ScoreInterval]?) {
        self.name = name
        self.steps = steps
        self.effects = effects
        self.stepZero = stepZero
    }

    /// max(0.2, the largest upper end over components at step 0 when the normalisation is defined there):
    /// fixed from step 0 alone, before any later step is read.
    public var tau: Double { max(0.2, stepZero?.map(\.high).max() ?? 0.2) }

    /// The first checkpoint where the normalisation is defined and some component's lower end exceeds tau.
    public var onset: Int? {
        let tau = self.tau
        return zip(steps, effects).first { $1?.contains { $0.low > tau } ?? false }?.0
    }
}

public struct HiddenProgressReport: Sendable, Codable, Equatable {
    public var probeOnset: Int?
    /// Per decision: its tau and onset step.
    public var causal: [CausalOnset]
    /// The composite's EM onset in the same run.
    public var behaviour: OnsetReport
    public var decision: Decision

    public struct CausalOnset: Sendable, Codable, Equatable {
        public var name: String
        public var tau: Double
        public var onset: Int?
    }

    /// `composite` is one run's composite EM. `probe` or `causal` nil means not measured. The causal onset
    /// is the earliest over decisions (any decision's component shows structure).
    public init(composite: TaskOutcomes, probe: ProbeScores?, causal: [CausalScores]?,
                settings: BootstrapSettings = .init()) throws {
        try Metric.requireExactMatch([composite])
        guard composite.runs.count == 1 else {
            throw FindingsError.invalid("\(composite.group): hidden progress is judged per run; pass one run (TaskOutcomes.run(_:))")
        }
        behaviour = try OnsetReport(composite, settings: settings)
        probeOnset = probe?.onset
        self.causal = (causal ?? []).map { CausalOnset(name: $0.name, tau: $0.tau, onset: $0.onset) }
        let causalOnset = self.causal.compactMap(\.onset).min()
        var numbers = [DecidingNumber("probe onset (step)", value: probeOnset.map(Double.init)),
                       DecidingNumber("causal onset (step)", value: causalOnset.map(Double.init))]
        var caveats = behaviour.caveats
        func decide(_ v: Verdict, _ why: String) -> Decision { Decision(v, because: why, numbers: numbers, caveats: caveats) }
        guard let probe, let causal, !causal.isEmpty else {
            caveats.append(.missing(probe == nil ? "probe scores" : "patching decisions"))
            decision = decide(.inconclusive, "a measurement is missing")
            return
        }
        guard let t50 = behaviour.t50, let low = t50.interval.low else {
            caveats.append(.missing("behaviour onset"))
            decision = decide(.inconclusive, "the behaviour has no onset (or its interval is undefined)")
            return
        }
        numbers.append(DecidingNumber("behaviour onset (u = log10(step + 1))", Estimate(point: t50.u, interval: t50.interval)))
        if let c = Gates.items(behaviour, fraction: 0.5) {
            caveats.append(c)
            decision = decide(.inconclusive, "too few items for the behaviour onset")
            return
        }
        let early = [probeOnset, causalOnset].compactMap { $0 }.filter { StepAxis.u($0) < low }
        if let first = early.min() {
            decision = decide(.supported, "structure at step \(first), before the behaviour onset's lower end (step \(fmt(StepAxis.step(low))))")
            return
        }
        // A measured series without an onset counts as "at or after" only if it reaches the behaviour onset.
        func atOrAfter(_ onset: Int?, lastStep: Int?) -> Bool {
            if let onset { return StepAxis.u(onset) >= t50.u }
            return lastStep.map { StepAxis.u($0) >= t50.u } ?? false
        }
        let lastCausal = causal.compactMap(\.steps.last).max()
        if atOrAfter(probeOnset, lastStep: probe.steps.last) && atOrAfter(causalOnset, lastStep: lastCausal) {
            decision = decide(.notSupported, "probe and causal onsets at or after the behaviour onset (step \(fmt(t50.step)))")
        } else {
            decision = decide(.inconclusive, "structure neither clearly before the behaviour's interval nor at or after its onset")
        }
    }
}
