import Foundation
import HDF5
import Runs
import Skills
import Tensors
import Transformer

/// One experiment (a `PatchSpec`) on the checkpoints of one run. The pairs come from the run's own
/// held-out test items (the items its evaluation uses, so `pairs: n` takes the first n of them) and are
/// built once; every checkpoint is patched with the same pairs, so a curve over training is a curve of
/// the model, not of the data.
public struct PatchExperiment: Sendable {
    public let spec: PatchSpec
    public let runDir: String
    public let run: RunSpec
    public let task: any SkillTask
    /// Bootstrap resamples for every interval (over pairs).
    public var resamples = 1000
    /// Where the spec's `probe_directions` are read from (`lens probe --out`); one per probe name.
    public var probes: [ProbeDirectionSource] = []
    /// Random subspaces each probe subspace is compared with.
    public var randomDraws = 20

    public init(spec: PatchSpec, runDir: String) throws {
        let run = try Self.runSpec(runDir: runDir), path = runDir + "/run.json"
        guard run.tasks[spec.task] != nil || run.evalTasks.contains(spec.task) else {
            throw PatchSpecError(file: path, problem: "run \(run.name) neither trains nor evaluates task \(spec.task) "
                                 + "(it has: \(Set(run.tasks.keys).union(run.evalTasks).sorted().joined(separator: ", ")))")
        }
        self.spec = spec
        self.runDir = runDir
        self.run = run
        self.task = try Tasks.named(spec.task, config: run.problem)
    }

    /// A run directory's run.json, or an error naming the file.
    public static func runSpec(runDir: String) throws -> RunSpec {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: runDir, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw PatchSpecError(file: runDir, problem: "not a directory (give the run directory holding run.json and checkpoints/)")
        }
        let path = runDir + "/run.json"
        let data: Data
        do { data = try InputFile.read(path, atMost: 1 << 20) } catch { throw PatchSpecError(file: path, problem: error.problem) }
        do { return try JSONDecoder().decode(RunSpec.self, from: data) }
        catch { throw PatchSpecError(file: path, problem: "not a run spec (run.json of a lens train or lens sweep run)") }
    }

    /// The checkpoint steps on disk, or an error naming the run directory.
    public func availableSteps() throws -> [Int] {
        let steps = TrainingRun.completedSteps(runDir)
        guard !steps.isEmpty else { throw PatchSpecError(file: runDir, problem: "no checkpoints (checkpoints/step_*.safetensors)") }
        return steps
    }

    /// The pairs of each decision the spec names; an error when a decision keeps no pair at all, or keeps only
    /// pairs of small layouts while every result the spec asks for needs a position axis.
    public func pairSets() throws -> [MinimalPairSet] {
        let items = try RunSpec.evaluationItems(task, split: .test, count: spec.pairs, policy: run.split)
        let pools = try spec.kinds.contains { try PatchKind.named($0).positionFree } || spec.logitAttribution
        return try spec.decisions.map { decision in
            let set = try MinimalPairSet.build(task: task, items: items, corruption: spec.corruption, decision: decision,
                                               seed: spec.seed, minPairs: spec.minPairs)
            // Small layouts alone are usable when at least two of them pool.
            guard set.pairCount > 0 || pools && set.smallLayouts.count > 1 else {
                let reasons = set.dropped.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
                    .map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ")
                throw PatchSpecError(file: runDir, problem: "experiment \(spec.name): all \(set.candidates) held-out \(spec.task) items "
                                     + "were dropped at decision \(decision.rawValue) (\(reasons)); lower min_pairs or raise pairs")
            }
            return set
        }
    }

    /// Patches the checkpoints `steps` with every kind, direction and method of the spec; exact patching only at
    /// `exactSteps` (attribution everywhere), since exact patching of every kind costs one patched run per cell.
    /// Per-pair arrays go into `perPair` (an open HDF5 file) under `/<decision>/layout<k>/step_<N>/...`, and the
    /// results pooled over every layout under `/<decision>/pooled/step_<N>/...`.
    public func run(steps: [Int], exactSteps: Set<Int>, perPair: H5File, perPairName: String,
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> RunRecord {
        let kinds = try spec.kinds.map { name throws -> PatchKind in try PatchKind.named(name) }
        guard let metric = PatchMetric(rawValue: spec.metric) else { throw PatchSpecError(file: runDir, problem: "unknown metric \(spec.metric)") }
        let directions = spec.directions.compactMap(PatchDirection.init(rawValue:))
        let sets = try pairSets()
        func layoutRecord(_ k: Int, _ l: PairLayout, dropped: Int) -> LayoutRecord {
            LayoutRecord(layout: k, length: l.length, positionLabels: l.positionLabels, namedPositions: l.namedPositions,
                         pairs: PairsRecord(clean: l.clean, corrupted: l.corrupted, position: l.position, correct: l.correct,
                                            wrong: l.wrong, dropped: dropped, items: l.items, changedLatents: l.changedLatents),
                         checkpoints: [])
        }
        let pooledKinds = kinds.filter(\.positionFree)
        var decisions: [DecisionRecord] = sets.map { set in
            let dropped = set.dropped.values.reduce(0, +)
            let all = set.layouts + set.smallLayouts
            let pools = all.count > 1 && (!pooledKinds.isEmpty || spec.logitAttribution)
            return DecisionRecord(decision: set.decision, candidates: set.candidates, pairs: set.pairCount, coverage: set.coverage,
                                  droppedByReason: Dictionary(uniqueKeysWithValues: set.dropped.map { ($0.key.rawValue, $0.value) }),
                                  layouts: set.layouts.enumerated().map { layoutRecord($0.offset, $0.element, dropped: dropped) },
                                  smallLayouts: set.smallLayouts.enumerated().map {
                                      layoutRecord(set.layouts.count + $0.offset, $0.element, dropped: dropped) },
                                  pooled: pools ? PooledRecord(layouts: all.count, pairs: set.pooledPairCount,
                                                               coverage: Double(set.pooledPairCount) / Double(max(set.candidates, 1)),
                                                               layoutPairs: all.map(\.count), kinds: pooledKinds.map(\.rawValue),
                                                               checkpoints: []) : nil)
        }
        for (s, step) in steps.enumerated() {
            let loaded = try Checkpoint.load(TrainingRun.checkpointPath(runDir, step: step))
            let exact = exactSteps.contains(step)
            for (d, set) in sets.enumerated() {
                let pools = decisions[d].pooled != nil
                var parts: [LayoutResults] = []
                for (k, layout) in (set.layouts + set.smallLayouts).enumerated() {
                    let kept = k < set.layouts.count
                    guard kept || pools else { break }
                    let runs = try PatchRuns(model: loaded.model, pairs: PatchPairs(clean: layout.clean, corrupted: layout.corrupted,
                                                                                    position: layout.position, correct: layout.correct,
                                                                                    wrong: layout.wrong), metric: metric)
                    let ablation = try self.ablation(layout)
                    // Small layouts compute only what pools; kept layouts' results are reused for the pool.
                    let computed = try results(runs, kinds: kept ? kinds : pooledKinds, directions: directions, ablation: ablation,
                                               exact: exact, logitAttribution: spec.logitAttribution)
                    if kept {
                        let group = "/\(set.decision.rawValue)/layout\(k)/step_\(step)"
                        let record = try patchCheckpoint(runs, layout: layout, computed: computed, directions: directions, exact: exact,
                                                         patterns: s == steps.count - 1, step: step, group: group,
                                                         file: perPair, fileName: perPairName)
                        decisions[d].layouts[k].checkpoints.append(record)
                    }
                    if pools { parts.append(computed.filter { $0.positionFree }) }
                }
                if pools {
                    let group = "/\(set.decision.rawValue)/pooled/step_\(step)"
                    let record = try checkpointRecord(LayoutResults.concatenate(parts), step: step, group: group,
                                                      file: perPair, fileName: perPairName)
                    decisions[d].pooled!.checkpoints.append(record)
                }
            }
            progress(s + 1, steps.count)
        }
        return RunRecord(run: run.name, runDir: runDir, model: run.model, seed: run.seed, perPairFile: perPairName, decisions: decisions)
    }

    /// The spec's ablation for one layout's pairs; `mean` is over the layout's own prompts, clean and corrupted
    /// (the same length and positions).
    public func ablation(_ layout: PairLayout) throws -> PatchAblation {
        switch spec.ablation {
        case "zero": .zero
        case "mean": .mean(try MeanReference(tokens: layout.clean + layout.corrupted))
        default: .resample
        }
    }

    /// Every patch result of one checkpoint on one layout's pairs: exact patching (at exact steps) and attribution
    /// of each kind and direction, and the logit attribution and logit lens of both runs.
    func results(_ runs: PatchRuns, kinds: [PatchKind], directions: [PatchDirection], ablation: PatchAblation,
                 exact: Bool, logitAttribution: Bool) throws -> LayoutResults {
        var out = LayoutResults(clean: runs.clean, corrupted: runs.corrupted)
        for direction in directions {
            if exact { for kind in kinds { out.patches.append(try runs.patch(kind, direction: direction, ablation: ablation)) } }
            if spec.attribution { out.patches += try runs.attribution(kinds, direction: direction, ablation: ablation) }
        }
        if logitAttribution {
            for run in [PatchRun.clean, .corrupted] {
                out.logitAttribution.append(runs.directLogitAttribution(run: run))
                out.logitLens.append(try runs.logitLens(run: run))
            }
        }
        return out
    }

    /// Every result of one checkpoint on one layout's pairs.
    func patchCheckpoint(_ runs: PatchRuns, layout: PairLayout, computed: LayoutResults, directions: [PatchDirection],
                         exact: Bool, patterns: Bool, step: Int, group: String, file: H5File, fileName: String) throws -> CheckpointRecord {
        var record = try checkpointRecord(computed, step: step, group: group, file: file, fileName: fileName)
        if spec.pathPatching && exact {
            let c = runs.model.config
            for direction in directions {
                let p = try runs.pathPatch(senders: PathSender.all(c), receivers: PathReceiver.all(c), direction: direction)
                let clean = mean(runs.clean), corrupted = mean(runs.corrupted)
                let effect = p.raw.map { row in row.map { v in v.map { v -> Double in
                    let n = (v - corrupted) / (clean - corrupted)
                    return direction == .denoising ? n : 1 - n
                } } }
                record.pathPatching.append(PathRecord(direction: direction.rawValue, senders: p.senders, receivers: p.receivers, raw: p.raw,
                                                      effect: record.metric.normalisationDefined ? effect : effect.map { $0.map { _ in nil } }))
            }
        }
        // Along probe directions at the exact steps, on the same two runs.
        if exact && record.metric.normalisationDefined { record.probeDirections = try probeTests(runs, layout: layout, step: step) }
        if patterns { record.attentionPatterns = attentionPatterns(runs, record: record) }
        return record
    }

    /// The records of one checkpoint's results (one layout's, or the pool's), per-pair arrays written to HDF5.
    func checkpointRecord(_ computed: LayoutResults, step: Int, group: String, file: H5File, fileName: String) throws -> CheckpointRecord {
        let seed = checkpointSeed(step)
        let pairs = computed.clean.count
        try writeDataset(file, group + "/metric/clean", computed.clean, shape: [pairs])
        try writeDataset(file, group + "/metric/corrupted", computed.corrupted, shape: [pairs])
        // The difference's interval needs only the two runs' per-pair metrics: an unpatched "result".
        let metric = PatchMetric(rawValue: spec.metric) ?? .logitDiff
        let unpatched = PatchResult(kind: "none", method: "none", direction: .denoising, ablation: spec.ablation, metric: metric,
                                    shape: [1], raw: [mean(computed.corrupted)], perPair: computed.corrupted, clean: computed.clean,
                                    corrupted: computed.corrupted)
        let difference = summarise(unpatched, resamples: resamples, seed: seed)
        let metricRecord = MetricRecord(name: metric.rawValue, clean: mean(computed.clean), corrupted: mean(computed.corrupted),
                                        difference: difference.difference,
                                        differenceCI: [difference.differenceLow, difference.differenceHigh],
                                        normalisationDefined: difference.defined,
                                        perPair: PerPairRef(file: fileName, dataset: group + "/metric"))
        var results: [ResultRecord] = [], agreements: [AgreementRecord] = []
        for r in computed.patches {
            let kind = try PatchKind.named(r.kind)
            results.append(try record(r, kind: kind, seed: seed, group: group, file: file, fileName: fileName))
            if r.method == "attribution",
               let e = computed.patches.first(where: { $0.method == "exact" && $0.kind == r.kind && $0.direction == r.direction }) {
                let a = agreement(r, e)
                agreements.append(AgreementRecord(kind: r.kind, direction: r.direction.rawValue, pearson: finite(a.pearson),
                                                  spearman: finite(a.spearman), topK: a.topK, topKOverlap: finite(a.topKOverlap)))
            }
        }
        var dla: [ComponentsRecord] = [], lens: [ComponentsRecord] = []
        for a in computed.logitAttribution {
            dla.append(try components(a.components, a.perPair, run: a.run, seed: seed, dataset: "\(group)/logit_attribution/\(a.run.rawValue)",
                                      file: file, fileName: fileName))
        }
        for l in computed.logitLens {
            lens.append(try components(l.hooks, l.perPair, run: l.run, seed: seed, dataset: "\(group)/logit_lens/\(l.run.rawValue)",
                                       file: file, fileName: fileName))
        }
        return CheckpointRecord(step: step, metric: metricRecord, results: results, agreement: agreements,
                                logitAttribution: dla, logitLens: lens, pathPatching: [], probeDirections: [], attentionPatterns: [])
    }

    /// Each checkpoint its own resamples, so intervals at different steps are independent draws.
    func checkpointSeed(_ step: Int) -> UInt64 { spec.seed &+ UInt64(step) &* 0x9E37_79B9 }

    /// Every cell of the named probes at this run and step whose position the layout has.
    func probeTests(_ runs: PatchRuns, layout: PairLayout, step: Int) throws -> [ProbeDirectionRecord] {
        guard !probes.isEmpty else { return [] }
        var out: [ProbeDirectionRecord] = []
        for source in probes {
            for cell in try source.cells(run: run.name, step: step) {
                guard let p = layout.namedPositions[cell.position] ?? Int(cell.position), p < layout.length,
                      HookPoints.locate(cell.hook, runs.model.config) != nil else { continue }
                let t = try runs.probeDirectionTest(cell.directions, hook: cell.hook, position: p, randomDraws: randomDraws,
                                                    seed: spec.seed &+ UInt64(step))
                func spread(_ v: [Double]) -> [Double?] {
                    let s = v.filter(\.isFinite).sorted()
                    guard !s.isEmpty else { return [nil, nil, nil] }
                    return [s.reduce(0, +) / Double(s.count), Bootstrap.quantile(s, 0.025), Bootstrap.quantile(s, 0.975)]
                }
                out.append(ProbeDirectionRecord(probe: source.probe, hook: cell.hook, position: cell.position, dimensions: t.dims,
                                                ablateEffect: t.ablate.flatMap { $0.isFinite ? $0 : nil }, ablateRandom: spread(t.ablateRandom),
                                                patchEffect: t.patch.flatMap { $0.isFinite ? $0 : nil }, patchRandom: spread(t.patchRandom),
                                                randomDraws: randomDraws))
            }
        }
        return out
    }

    /// Per-component values [pairs, components] as means with bootstrap intervals, the array written to HDF5.
    func components(_ names: [String], _ perPair: [Double], run: PatchRun, seed: UInt64, dataset: String,
                    file: H5File, fileName: String) throws -> ComponentsRecord {
        let K = names.count, N = perPair.count / max(K, 1)
        try writeDataset(file, dataset, perPair, shape: [N, K])
        let W = Bootstrap.counts(count: N, resamples: resamples, seed: seed)
        var low: [Double] = [], high: [Double] = [], means: [Double] = []
        for k in 0..<K {
            let column = (0..<N).map { perPair[$0 * K + k] }
            means.append(mean(column))
            var draws = (0..<resamples).map { b in (0..<N).reduce(0.0) { $0 + W[b * N + $1] * column[$1] } / Double(N) }
            draws.sort()
            low.append(Bootstrap.quantile(draws, 0.025)); high.append(Bootstrap.quantile(draws, 0.975))
        }
        return ComponentsRecord(run: run.rawValue, components: names, mean: means, ciLow: low, ciHigh: high,
                                perPair: PerPairRef(file: fileName, dataset: dataset))
    }

    /// A result's record, its per-pair array written to the run's HDF5 file.
    func record(_ r: PatchResult, kind: PatchKind, seed: UInt64, group: String, file: H5File, fileName: String) throws -> ResultRecord {
        let effects = summarise(r, resamples: resamples, seed: seed)
        let dataset = "\(group)/\(r.method)/\(r.direction.rawValue)/\(r.kind)"
        try writeDataset(file, dataset, r.perPair, shape: [r.pairs] + r.shape)
        return ResultRecord(kind: r.kind, method: r.method, direction: r.direction.rawValue, ablation: r.ablation, shape: r.shape,
                            axes: kind.axisNames, raw: NestedArray(shape: r.shape, values: r.raw),
                            normalised: NestedArray(shape: r.shape, values: effects.normalised),
                            ciLow: NestedArray(shape: r.shape, values: effects.normalisedLow),
                            ciHigh: NestedArray(shape: r.shape, values: effects.normalisedHigh),
                            effect: NestedArray(shape: r.shape, values: effects.effect),
                            perPair: PerPairRef(file: fileName, dataset: dataset))
    }
}

private func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }

/// One float64 dataset of the per-pair file, its groups created on the way.
func writeDataset(_ file: H5File, _ path: String, _ values: [Double], shape: [Int]) throws {
    let d = try file.root.createDataset(String(path.dropFirst()), dtype: .float64, shape: shape)
    defer { d.close() }
    if shape[0] > 0 { try d.write(rows: 0..<shape[0], values) }
}

extension PatchKind {
    /// The names of the output's axes, as TransformerLens documents its shapes (`*_every`: a leading `kind`).
    public var axisNames: [String] {
        if let s = single { return s.axes.map(\.name) }
        return ["kind"] + parts[0].axisNames
    }
}

extension PatchAxis {
    var name: String {
        switch self {
        case .layer: "layer"
        case .pos: "pos"
        case .head: "head"
        case .destPos: "dest_pos"
        case .srcPos: "src_pos"
        }
    }
}
