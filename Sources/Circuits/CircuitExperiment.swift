import CircuitRecords
import Foundation
import Patching
import Runs
import Skills
import Tensors
import Transformer

/// One experiment's circuits on the checkpoints of one run. The pairs are the patching experiment's (the
/// spec is a `lens patch` spec: task, corruption, decisions, pairs, metric, ablation), every layout of a
/// decision pooled, since the graph has no position axis; its kinds and directions do not apply (a circuit
/// is the clean run's computation, each cut edge carrying the ablation, EAP-IG's noising). At each step:
/// EAP and EAP-IG scores, and the circuit method's faithfulness curve and circuit; at `exactSteps` also
/// exact edge patching, ACDC, every method's curve and circuit, agreement with exact, and the completeness
/// and minimality of the circuit method's circuit.
public struct CircuitExperiment: Sendable {
    public let patch: PatchExperiment
    public var settings: CircuitSettings
    /// The pairs of each decision (built from the run's held-out items once: the composite's take seconds).
    public let sets: [MinimalPairSet]

    public init(spec: PatchSpec, runDir: String, settings: CircuitSettings = CircuitSettings()) throws {
        patch = try PatchExperiment(spec: spec, runDir: runDir)
        self.settings = settings
        sets = try patch.pairSets()
    }

    public var spec: PatchSpec { patch.spec }

    /// Directory of one decision's graphs, relative to the output directory.
    public func folder(_ decision: String) -> String { "\(patch.run.name)/\(spec.name)/\(decision)" }

    /// Scores and evaluates every decision at `steps` (ascending), writing each scored graph and circuit
    /// drawing under `outDir`; `progress(done, total)` counts checkpoints.
    public func run(steps: [Int], exactSteps: Set<Int>, outDir: String,
                    progress: (Int, Int) -> Void = { _, _ in }) throws -> CircuitRecord {
        guard let metric = PatchMetric(rawValue: spec.metric) else { throw PatchSpecError(file: patch.runDir, problem: "unknown metric \(spec.metric)") }
        var decisions: [CircuitDecisionRecord] = sets.map {
            CircuitDecisionRecord(decision: $0.decision.rawValue, pairs: $0.pooledPairCount, layouts: $0.layouts.count + $0.smallLayouts.count,
                                  steps: [], formation: nil)
        }
        var size = GraphSize(nodes: 0, edges: 0)
        var finals: [[String]?] = Array(repeating: nil, count: sets.count)
        var formation: [[Int: Double?]] = Array(repeating: [:], count: sets.count)
        // The last checkpoint first: its circuit is then followed back through training.
        for (s, step) in steps.sorted(by: >).enumerated() {
            let model = try Checkpoint.load(TrainingRun.checkpointPath(patch.runDir, step: step)).model
            for (d, set) in sets.enumerated() {
                let runs = try CircuitRuns(batches: try batches(set.layouts + set.smallLayouts, model: model, metric: metric))
                let record = try checkpoint(runs, step: step, decision: set.decision.rawValue, exact: exactSteps.contains(step), outDir: outDir)
                decisions[d].steps.insert(record, at: 0)
                let empty = try CircuitGraph(model.config)
                size = GraphSize(nodes: empty.nodeCount, edges: empty.edgeCount)
                if s == 0 { finals[d] = record.methods.first { $0.method == settings.circuitMethod }?.circuit?.edgeNames }
                if let names = finals[d] {
                    var g = empty
                    for i in g.edges.indices { g[edge: i].inGraph = names.contains(g.edges[i].name) }
                    g.prune()
                    formation[d][step] = record.gapResolved ? try runs.meanFaithfulness(g) : .some(nil)
                }
            }
            progress(s + 1, steps.count)
        }
        for d in decisions.indices where finals[d] != nil {
            let ordered = steps.sorted()
            let values = ordered.map { formation[d][$0] ?? nil }
            // formed: from here on at or above the target (every later step too)
            var formedAt: Int? = nil
            for (i, step) in ordered.enumerated().reversed() {
                guard let v = values[i], v >= settings.target else { break }
                formedAt = step
            }
            decisions[d].formation = Formation(circuitStep: ordered.last!, steps: ordered, faithfulness: values, formedAt: formedAt)
        }
        let c = patch.run.model
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return CircuitRecord(experiment: spec.name, task: spec.task, run: patch.run.name, runDir: patch.runDir, model: "\(count(c.n_layers, "layer")), d_model \(c.d_model), \(count(c.n_heads, "head"))",
                             seed: patch.run.seed, metric: spec.metric, ablation: spec.ablation, settings: settings, graph: size,
                             decisions: decisions)
    }

    /// The pairs of every layout as batches. Under resample or zero ablation, one batch: each row padded on
    /// the right to the longest, which changes nothing the metric reads (attention is causal, so a token
    /// after a pair's metric position never reaches it, in either run or under any cut). Under mean
    /// ablation, one batch per layout, each with the mean over its own prompts (the spec's reference).
    func batches(_ layouts: [PairLayout], model: Transformer, metric: PatchMetric) throws -> [(PatchRuns, PatchAblation)] {
        let sets = try layouts.map { try PatchPairs(clean: $0.clean, corrupted: $0.corrupted, position: $0.position, correct: $0.correct, wrong: $0.wrong) }
        if spec.ablation == "mean" {
            return try zip(layouts, sets).map { (try PatchRuns(model: model, pairs: $1, metric: metric), try patch.ablation($0)) }
        }
        return [(try PatchRuns(model: model, pairs: try CircuitRuns.padded(sets), metric: metric), try patch.ablation(layouts[0]))]
    }

    func checkpoint(_ runs: CircuitRuns, step: Int, decision: String, exact: Bool, outDir: String) throws -> CircuitStepRecord {
        let N = runs.pairCount
        let gap = Bootstrap.percentile(count: N, resamples: settings.resamples, seed: settings.seed &+ UInt64(step)) { idx in
            idx.reduce(0.0) { $0 + runs.clean[$1] - runs.ablated[$1] } / Double(idx.count)
        }
        var record = CircuitStepRecord(step: step, cleanMetric: mean(runs.clean), ablatedMetric: mean(runs.ablated),
                                       gapLow: gap.low, gapHigh: gap.high, gapResolved: gap.low > 0 || gap.high < 0,
                                       methods: [], agreement: [])
        var methods: [ScoringMethod] = [.eap, .eapIG(steps: settings.igSteps)]
        if exact { methods += [.exact, .acdc(tau: settings.tau)] }
        var scored: [String: CircuitGraph] = [:]
        var circuits: [String: CircuitGraph] = [:]
        let folder = folder(decision) + "/step_\(step)"
        try FileManager.default.createDirectory(atPath: outDir + "/" + folder, withIntermediateDirectories: true)
        for method in methods {
            var g = try CircuitGraph(runs.config)
            try runs.attribute(&g, method: method)
            var m = MethodRecord(method: method.name, file: folder + "/\(method.name).json", curve: nil, circuit: nil)
            var circuit: CircuitGraph?
            if case .acdc = method {
                circuit = g.includedEdgeCount > 0 ? g : nil
            } else {
                scored[method.name] = g
                // Constant scores (EAP's under KL, whose gradient vanishes at the clean run) rank nothing: no search.
                let ranks = g.edges.contains { $0.score != g.edges[0].score }
                // Every method's curve and circuit at the exact steps (where they are compared); elsewhere the
                // circuit method's alone, the others' scores only (each curve is a dozen evaluations).
                if record.gapResolved && ranks && (exact || method.name == settings.circuitMethod) {
                    m.curve = try runs.curve(g, method: method.name, selection: settings.selection)
                    circuit = try runs.smallestCircuit(g, target: settings.target, curve: m.curve, selection: settings.selection)
                }
            }
            // without a circuit the scored graph has nothing in it but `logits` (scoring sets scores only; an
            // empty ACDC circuit is pruned to that)
            let written = circuit ?? g
            if let c = circuit {
                circuits[method.name] = c
                let full = exact     // completeness and minimality for every method's circuit where they are compared
                let figure = folder + "/\(method.name).svg"
                try writeDrawing(c, title: "\(spec.name) \(decision), \(patch.run.name) step \(step): \(method.name) circuit", to: outDir + "/" + figure)
                m.circuit = CircuitSummary(
                    edges: c.includedEdgeCount, nodes: c.includedNodeCount,
                    edgeNames: c.edges.filter(\.inGraph).map(\.name), nodeNames: c.nodes.filter(\.inGraph).map(\.name),
                    faithfulness: try runs.faithfulness(c, resamples: settings.resamples, seed: settings.seed),
                    completeness: full ? try runs.completeness(c, subsets: settings.completenessSubsets, seed: settings.seed) : nil,
                    minimality: full ? try runs.minimality(c, fraction: settings.minimalityFraction) : nil,
                    figure: figure)
            }
            try writeGraph(written, method: m, step: step, decision: decision, runs: runs, to: outDir + "/" + m.file)
            record.methods.append(m)
        }
        if exact && !settings.tauSweep.isEmpty {
            // the reported ACDC circuit is tau's; the sweep shows how the kept set moves with tau
            var points: [ACDCPoint] = []
            for tau in Array(Set(settings.tauSweep + [settings.tau])).sorted() {
                let g: CircuitGraph?
                if tau == settings.tau { g = circuits["acdc"] } else {
                    var fresh = try CircuitGraph(runs.config)
                    try runs.attribute(&fresh, method: .acdc(tau: tau))
                    g = fresh.includedEdgeCount > 0 ? fresh : nil
                }
                points.append(ACDCPoint(tau: tau, edges: g?.includedEdgeCount ?? 0, nodes: g?.includedNodeCount ?? 0,
                                        faithfulness: try g.map { try runs.faithfulness($0, resamples: settings.resamples, seed: settings.seed) }))
            }
            record.acdcSweep = points
        }
        if let exactScores = scored["exact"] {
            // truth: the exact circuit; without one, the edges whose exact |score| is at least 1% of the gap
            let truth: CircuitGraph = circuits["exact"] ?? {
                var t = exactScores
                let cut = 0.01 * abs(record.cleanMetric - record.ablatedMetric)
                for i in t.edges.indices { t[edge: i].inGraph = abs(Double(t.edges[i].score)) >= cut }
                return t
            }()
            for name in ["eap", "eap-ig"] { if let g = scored[name] { record.agreement.append(agreement(g, exact: exactScores, truth: truth, method: name)) } }
        }
        return record
    }

    func writeGraph(_ g: CircuitGraph, method: MethodRecord, step: Int, decision: String, runs: CircuitRuns, to path: String) throws {
        struct Meta: Encodable {
            let run: String, run_dir: String, step: Int, experiment: String, task: String, decision: String, method: String
            let metric: String, ablation: String, pairs: Int, clean_metric: Double, ablated_metric: Double
            let circuit_faithfulness: Double?, circuit_edges: Int?, target: Double, ig_steps: Int?, tau: Double?
        }
        let meta = Meta(run: patch.run.name, run_dir: patch.runDir, step: step, experiment: spec.name, task: spec.task, decision: decision,
                        method: method.method, metric: spec.metric, ablation: spec.ablation, pairs: runs.pairCount,
                        clean_metric: mean(runs.clean), ablated_metric: mean(runs.ablated),
                        circuit_faithfulness: method.circuit?.faithfulness.value, circuit_edges: method.circuit?.edges,
                        target: settings.target, ig_steps: method.method == "eap-ig" ? settings.igSteps : nil,
                        tau: method.method == "acdc" ? settings.tau : nil)
        var body = try g.eapigJSON()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        body.removeLast()      // the closing brace: EAP-IG's reader ignores the extra top-level key
        body += Data(", \"meta\": ".utf8) + (try encoder.encode(meta)) + Data("}".utf8)
        try AtomicFile.write(body, to: path)
    }

    func writeDrawing(_ g: CircuitGraph, title: String, to path: String) throws {
        try AtomicFile.write(Data(try g.drawing(title: title).svg().utf8), to: path)
    }
}
