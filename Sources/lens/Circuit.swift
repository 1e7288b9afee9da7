import ArgumentParser
import CircuitRecords
import Circuits
import Foundation
import Patching
import Runs
import Tensors
import Transformer

struct CircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit",
        abstract: "Circuit discovery across training: the edges that compute a skill's decision, scored, evaluated and followed over checkpoints.",
        discussion: """
        The graph is EAP-IG's (Hanna et al. 2024): nodes input, a{layer}.h{head}, m{layer}, logits; an edge from each
        node's output to each later node's input, a head's q, k and v inputs separate. An edge is cut by giving its
        reader the sender's output from the corrupted run (or the spec's mean or zero ablation), everything else kept,
        LayerNorm recomputed on the sum. The spec is a `lens patch` spec (Probes/patching/*.yaml, or Probes/circuits/
        for experiments only circuits need): its task, corruption, decisions, pairs, metric and ablation; every pair
        layout of a decision is used, since the graph has no position axis.
        Methods: eap (one backward pass), eap-ig (--ig-steps interpolated inputs), exact (each edge cut alone) and
        acdc (edges cut for good when the metric moves by less than --tau). EAP and EAP-IG run at every step; exact
        and ACDC at --exact-steps. "The circuit" is the smallest n edges by --circuit-method (--selection) reaching --target
        faithfulness; the last step's circuit is then evaluated at every step (when it forms). With several specs,
        each composite decision (multistep tasks) is compared with each sub-skill's circuit (Jaccard, mass share).
        Without --spec: the shipped experiments (Probes/patching/ and Probes/circuits/, embedded), those whose task
        every run evaluates. With metric kl, EAP scores every edge 0 (KL's gradient vanishes at the clean run): use
        EAP-IG or ACDC with it.
        Output in --out: circuits.json, circuits.md, and per run/experiment/decision/step_<N>/ the scored graphs
        (<method>.json, EAP-IG's layout plus "meta") and drawings (<method>.svg), with curves.svg and formation.svg.
          lens circuit --spec Probes/patching/sub-operand.yaml --run runs/default/base-s1 --steps last
          lens circuit --run runs/default/base-s1      (every shipped experiment whose task the run evaluates)
          lens circuit --spec Probes/patching/composite-steps.yaml --spec Probes/patching/sub-operand.yaml --study runs/default
        """)

    @Option(name: .customLong("spec"), help: "Experiment specs (YAML, `lens patch` schema); repeat for several. Default: the shipped ones the runs evaluate.") var specs: [String] = []
    @Option(name: .customLong("run"), parsing: .upToNextOption, help: "Run directories (with run.json and checkpoints/).") var runs: [String] = []
    @Option(help: "A study directory: every run in it.") var study: String?
    @Option(help: "Checkpoint steps: all, last, or a comma-separated list (which may name last).") var steps = "all"
    @Option(name: .customLong("exact-steps"), help: "Steps with exact edge patching and ACDC too: all, last, none, or a list.") var exactSteps = "last"
    @Option(parsing: .unconditional, help: "Faithfulness the circuit must reach, in (0, 1].") var target = 0.8
    @Option(name: .customLong("circuit-method"), help: "Method whose n edges (by --selection) make \"the circuit\": eap, eap-ig or exact.") var circuitMethod = "eap-ig"
    @Option(help: "How a circuit of n edges is chosen: topn (the n largest |scores|; a threshold picks the same sets) or greedy (from the logits up, EAP-IG's apply_greedy).")
    var selection = "topn"
    @Option(name: .customLong("ig-steps"), help: "EAP-IG interpolation steps.") var igSteps = 5
    @Option(parsing: .unconditional, help: "ACDC threshold: the KL increase in nats (metric kl), else the metric change as a share of |clean - all cut|, in [0, 1].")
    var tau = 0.02
    @Option(name: .customLong("tau-sweep"), help: "More ACDC thresholds, comma-separated, run beside --tau where ACDC runs (edges kept and faithfulness at each; --tau's circuit is the one reported).")
    var tauSweep: String?
    @Option(help: "Bootstrap resamples per interval (over pairs).") var resamples = 1000
    @Option(help: "Output directory (default: <study>/circuits, or the run's parent's circuits/).") var out: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard runs.isEmpty != (study == nil) else { throw ValidationError("give either --run or --study") }
        guard target.isFinite, target > 0, target <= 1 else { throw ValidationError("--target must be in (0, 1], got \(target)") }
        guard CircuitGraph.selections.contains(selection) else { throw ValidationError("--selection must be topn or greedy, got \(selection)") }
        guard ["eap", "eap-ig", "exact"].contains(circuitMethod) else { throw ValidationError("--circuit-method must be eap, eap-ig or exact, got \(circuitMethod)") }
        try checkRange(igSteps, 1...1000, flag: "--ig-steps")
        guard tau.isFinite, tau >= 0 else { throw ValidationError("--tau must be a finite number >= 0, got \(tau)") }
        try checkRange(resamples, 100...100_000, flag: "--resamples")
        _ = try sweepTaus()
    }

    /// --tau-sweep's thresholds, each finite and >= 0 (a share's upper bound depends on the spec's metric).
    func sweepTaus() throws -> [Double] {
        guard let tauSweep else { return [] }
        let parts = tauSweep.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try parts.map { p in
            guard let t = Double(p), t.isFinite, t >= 0 else { throw ValidationError("--tau-sweep: \"\(p)\" is not a finite number >= 0 (give e.g. 0.005,0.01,0.05)") }
            return t
        }
    }

    func run() throws {
        common.apply()
        let runDirs = try study.map(PatchCommand.runDirectories) ?? runs
        try PatchCommand.checkDistinctNames(runDirs)
        let outDir = out ?? (study.map { $0 + "/circuits" } ?? ((runDirs[0] as NSString).deletingLastPathComponent + "/circuits"))
        let settings = CircuitSettings(target: target, circuitMethod: circuitMethod, igSteps: igSteps, tau: tau, resamples: resamples,
                                       selection: selection, tauSweep: try sweepTaus())
        let highestSweptTau = settings.tauSweep.max() ?? 0
        // Everything is checked before the first checkpoint: a bad spec or run fails in a second.
        var plans: [(CircuitExperiment, [Int], Set<Int>)] = []
        for (path, spec) in try experimentSpecs(runDirs) {
            if spec.metric != "kl" && tau > 1 { throw ValidationError("--tau \(tau): with metric \(spec.metric) (\(path)) tau is a share, in [0, 1]") }
            if spec.metric != "kl", highestSweptTau > 1 {
                throw ValidationError("--tau-sweep \(highestSweptTau): with metric \(spec.metric) (\(path)) tau is a share, in [0, 1]")
            }
            if spec.metric == "kl" {
                FileHandle.standardError.write(Data("lens circuit: \(path): with metric kl EAP scores every edge 0 (KL's gradient vanishes at the clean run); EAP-IG and ACDC measure it\n".utf8))
            }
            for dir in runDirs {
                let experiment = try CircuitExperiment(spec: spec, runDir: dir, settings: settings)
                let available = try experiment.patch.availableSteps()
                let chosen = try PatchCommand.steps(steps, available: available, flag: "--steps", runDir: dir)
                let exact = Set(try PatchCommand.steps(exactSteps, available: chosen, flag: "--exact-steps", runDir: dir))
                // every checkpoint read now: a truncated one fails before anything is written
                for step in chosen { _ = try Checkpoint.load(TrainingRun.checkpointPath(dir, step: step)) }
                if circuitMethod == "exact" && exact != Set(chosen) {
                    throw ValidationError("--circuit-method exact needs exact scores at every step: give --exact-steps \(steps)")
                }
                plans.append((experiment, chosen, exact))
            }
        }
        let progress = ProgressReporter()
        let total = plans.reduce(0) { $0 + $1.1.count }
        let record = try ProbeOutput(directory: outDir, probe: "circuits", command: "circuit").write { () throws -> CircuitStudyRecord in
            // Experiments on runs are independent: one per thread (single-threaded inside, as Engine.shards
            // runs them), the records kept in plan order so the output does not depend on the schedule.
            let workers = min(common.threads, plans.count)
            // One experiment on one run runs on one thread too: its passes are too small to split (measured
            // on base-s1, two steps: sub-operand 3.0 s on two threads against 2.2 s on one, composite-steps
            // 30.8 s against 29.1 s, each with twice the CPU time on two, spent spinning in BLAS).
            if workers == 1 { Engine.setThreads(1) }
            defer { Engine.setThreads(common.threads) }
            let counter = DoneCounter()
            var results = [Result<CircuitRecord, any Error>?](repeating: nil, count: plans.count)
            results.withUnsafeMutableBufferPointer { slots in
                Engine.shards(workers) { w in
                    for i in stride(from: w, to: plans.count, by: workers) {
                        let (experiment, chosen, exact) = plans[i]
                        slots[i] = Result {
                            try experiment.run(steps: chosen, exactSteps: exact, outDir: outDir) { _, _ in
                                progress.update("circuit", done: counter.add(1), total: total,
                                                detail: "\(experiment.spec.name) \(experiment.patch.run.name)")
                            }
                        }
                    }
                }
            }
            var records: [CircuitRecord] = []
            for (i, result) in results.enumerated() {
                let r = try result!.get(), experiment = plans[i].0
                for d in r.decisions {
                    let folder = outDir + "/" + experiment.folder(d.decision)
                    if let svg = CircuitFigures.curves(r, d) { try AtomicFile.write(Data(svg.utf8), to: folder + "/curves.svg") }
                    if let svg = CircuitFigures.formation(r, d) { try AtomicFile.write(Data(svg.utf8), to: folder + "/formation.svg") }
                }
                records.append(r)
            }
            let overlaps = try CircuitOverlap.overlaps(records) { try CircuitGraph.read(path: outDir + "/" + $0) }
            for name in Array(Swift.Set(overlaps.map { $0.run })).sorted() {
                if let svg = CircuitFigures.overlap(name, overlaps) { try AtomicFile.write(Data(svg.utf8), to: outDir + "/\(name)/overlap.svg") }
            }
            let result = CircuitStudyRecord(records: records, overlaps: overlaps)
            // the JSON first: the markdown quotes it, so it never stands without it
            try AtomicFile.write(try JSONOut.encoder.encode(result), to: outDir + "/circuits.json")
            try AtomicFile.write(Data(result.markdown(jsonName: "circuits.json").utf8), to: outDir + "/circuits.md")
            return result
        }
        if common.json { try JSONOut.print(record) } else {
            print(record.markdown(jsonName: "circuits.json"))
            print("wrote \(outDir)/circuits.json, circuits.md, scored graphs (EAP-IG JSON) and drawings")
        }
    }
}

extension CircuitCommand {
    /// The --spec files, or without any the shipped experiments whose task every run evaluates (as `lens study`
    /// chooses them; the others are named on stderr), each with the name its errors give.
    func experimentSpecs(_ runDirs: [String]) throws -> [(String, PatchSpec)] {
        let kinds = PatchKind.allCases.map(\.rawValue)
        guard specs.isEmpty else { return try specs.map { ($0, try PatchSpec.load(path: $0, kinds: kinds)) } }
        var evaluated: Set<String>? = nil
        for dir in runDirs {
            let tasks = Set(try PatchExperiment.runSpec(runDir: dir).evalTasks)
            evaluated = evaluated?.intersection(tasks) ?? tasks
        }
        var chosen: [(String, PatchSpec)] = []
        for (folder, list) in [("Probes/patching", ShippedSpecs.patching), ("Probes/circuits", ShippedSpecs.circuits)] {
            for (name, yaml) in list {
                let file = "\(folder)/\(name).yaml (shipped)"
                let spec = try PatchSpec.parse(yaml, file: file, kinds: kinds)
                if evaluated?.contains(spec.task) == true { chosen.append((file, spec)) } else {
                    FileHandle.standardError.write(Data("lens circuit: skipping \(file): not every run evaluates \(spec.task)\n".utf8))
                }
            }
        }
        guard !chosen.isEmpty else { throw ValidationError("no shipped experiment's task is evaluated by every run; give --spec") }
        return chosen
    }
}

/// Checkpoints done across threads (the progress line's count).
final class DoneCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ n: Int) -> Int { lock.lock(); defer { lock.unlock() }; value += n; return value }
}
