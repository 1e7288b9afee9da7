import ArgumentParser
import Foundation
import HDF5
import Patching
import Runs
import Tensors

struct PatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Activation patching across training: which components carry a skill's decision, checkpoint by checkpoint.",
        discussion: """
        An experiment (Probes/patching/*.yaml; schema in Probes/patching/README.md) names a task, a corruption
        (operand, order, operation), the decisions patched (the first answer token; the scratchpad's step1 and
        step2 results), the metric, the patch kinds (TransformerLens's get_act_patch_* family and resid_post),
        the directions (denoising: clean into corrupted, is it sufficient; noising: corrupted into clean, is it
        necessary) and the ablation (resample, mean, zero). Pairs are the run's own held-out test items and their
        same-length corruptions, cut at each decision with each run's own answer prefix; every checkpoint is
        patched with the same pairs. Attribution patching (one backward pass) runs at every step; exact
        patching at --exact-steps. Output in --out/<experiment>/: <experiment>.json (every number, the pairs),
        <experiment>.md, <run>.h5 (per-pair values), pairs/<run>-<decision>-layout<k>.json (for
        ../shared/peers/tl_patch_bench.py --pairs) and SVG figures per run.
          lens patch --spec Probes/patching/sub-operand.yaml --run runs/default/base-s1
          lens patch --spec Probes/patching/composite-steps.yaml --study runs/default --exact-steps last
        """)

    @Option(help: "Experiment spec (YAML).") var spec: String
    @Option(name: .customLong("run"), parsing: .upToNextOption, help: "Run directories (with run.json and checkpoints/).") var runs: [String] = []
    @Option(help: "A study directory: every run in it.") var study: String?
    @Option(help: "Checkpoint steps to patch: all, last, or a comma-separated list (which may name last).") var steps = "all"
    @Option(name: .customLong("exact-steps"), help: "Steps with exact patching too (attribution runs at every step): all, last, none, or a list such as 1000,last.")
    var exactSteps = "all"
    @Option(help: "Output directory (default: <study>/patching, or the run's parent's patching/).") var out: String?
    @Option(help: "Bootstrap resamples per interval (over pairs).") var resamples = 1000
    @Option(help: "lens probe results for the spec's probe_directions (default: <study>/probes, or the run's parent's probes/).")
    var probes: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard runs.isEmpty != (study == nil) else { throw ValidationError("give either --run or --study") }
        try checkRange(resamples, 100...100_000, flag: "--resamples")
    }

    func run() throws {
        common.apply()
        let spec = try PatchSpec.load(path: self.spec, kinds: PatchKind.allCases.map(\.rawValue))
        let runDirs = try study.map(Self.runDirectories) ?? runs
        try Self.checkDistinctNames(runDirs)
        let outDir = (out ?? (study.map { $0 + "/patching" } ?? ((runDirs[0] as NSString).deletingLastPathComponent + "/patching"))) + "/" + spec.name
        // Everything is checked before the first checkpoint is patched: a bad run fails in a second, not an hour in.
        var plans: [(PatchExperiment, [Int], Set<Int>)] = []
        for dir in runDirs {
            var experiment = try PatchExperiment(spec: spec, runDir: dir)
            experiment.resamples = resamples
            let probeDir = probes ?? (study.map { $0 + "/probes" } ?? ((dir as NSString).deletingLastPathComponent + "/probes"))
            experiment.probes = try spec.probeDirections.map { try ProbeDirectionSource(directory: probeDir, probe: $0) }
            let available = try experiment.availableSteps()
            let chosen = try Self.steps(steps, available: available, flag: "--steps", runDir: dir)
            let exact = Set(try Self.steps(exactSteps, available: chosen, flag: "--exact-steps", runDir: dir))
            guard !exact.isEmpty || spec.attribution else {
                throw ValidationError("--exact-steps \(exactSteps) and attribution: false in \(self.spec) leave nothing to run")
            }
            _ = try experiment.pairSets()
            plans.append((experiment, chosen, exact))
        }
        let progress = ProgressReporter()
        let total = plans.reduce(0) { $0 + $1.1.count }
        var done = 0
        let record = try ProbeOutput(directory: outDir, probe: spec.name, command: "patch").write { () throws -> ExperimentRecord in
            var runRecords: [RunRecord] = []
            for (experiment, chosen, exact) in plans {
                let name = experiment.run.name + ".h5", path = outDir + "/" + name
                let partial = AtomicFile.temporaryPath(for: path)
                let file = try H5File.create(partial)
                let r: RunRecord
                do {
                    r = try experiment.run(steps: chosen, exactSteps: exact, perPair: file, perPairName: name) { d, _ in
                        progress.update("patch \(spec.name)", done: done + d, total: total, detail: experiment.run.name)
                    }
                    try file.close()
                } catch { try? file.close(); unlink(partial); throw error }
                guard rename(partial, path) == 0 else { throw PatchSpecError(file: path, problem: "cannot rename the written file into place") }
                done += chosen.count
                runRecords.append(r)
                for d in r.decisions {
                    for l in d.layouts {
                        let pairs = outDir + "/pairs/\(r.run)-\(d.decision.rawValue)-layout\(l.layout).json"
                        try FileManager.default.createDirectory(atPath: outDir + "/pairs", withIntermediateDirectories: true)
                        try AtomicFile.write(try JSONOut.encoder.encode(l.pairs), to: pairs)
                    }
                }
            }
            let record = ExperimentRecord(experiment: spec, runs: runRecords)
            for (name, svg) in record.figures().merging(record.studyFigures(), uniquingKeysWith: { a, _ in a }) {
                let path = outDir + "/" + name
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try AtomicFile.write(Data(svg.utf8), to: path)
            }
            try AtomicFile.write(Data(record.markdown(jsonName: spec.name + ".json").utf8), to: outDir + "/\(spec.name).md")
            try AtomicFile.write(try JSONOut.encoder.encode(record), to: outDir + "/\(spec.name).json")
            return record
        }
        if common.json { try JSONOut.print(record) } else {
            print(record.markdown(jsonName: spec.name + ".json"))
            print("wrote \(outDir)/\(spec.name).json, \(spec.name).md, per-pair HDF5 and figures")
        }
    }

    /// Run directories of a study: its subdirectories holding a run.json, in name order.
    static func runDirectories(_ study: String) throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: study)) ?? []
        let dirs = names.sorted().map { study + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0 + "/run.json") }
        guard !dirs.isEmpty else { throw PatchSpecError(file: study, problem: "no runs (subdirectories with run.json)") }
        return dirs
    }

    /// Outputs are named by each run's name (run.json), so two runs of one name would write the same files
    /// (seen: a copied run beside its original, both `base-s1`, in one `lens circuit`). One line naming both.
    static func checkDistinctNames(_ runDirs: [String]) throws {
        var seen: [String: String] = [:]
        for dir in runDirs {
            let r = (name: try PatchExperiment.runSpec(runDir: dir).name, dir: dir)
            if let first = seen[r.name] {
                guard first != r.dir else { throw ValidationError("run \(r.dir) is given twice") }
                throw ValidationError("runs \(first) and \(r.dir) are both named \(r.name) (run.json): their results would be written to the same files; give runs of distinct names")
            }
            seen[r.name] = r.dir
        }
    }

    /// all | last | none | a comma-separated list, each step one the run has.
    static func steps(_ text: String, available: [Int], flag: String, runDir: String) throws -> [Int] {
        switch text {
        case "all": return available
        case "last": return Array(available.suffix(1))
        case "none": return []
        default:
            return try text.split(separator: ",").map { part in
                if part == "last", let last = available.last { return last }
                guard let s = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(flag): \"\(part)\" is not a step") }
                guard available.contains(s) else {
                    throw PatchSpecError(file: runDir, problem: "\(flag): no checkpoint for step \(s) (have: \(available.map(String.init).joined(separator: ", ")))")
                }
                return s
            }
        }
    }
}
