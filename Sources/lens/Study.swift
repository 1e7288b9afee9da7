import ArgumentParser
import Foundation
import Patching
import Probing
import Runs
import Skills
import Tensors

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "The whole pipeline from the binary alone: train a study, dump, probe, patch, find circuits and report, in one resumable command.",
        discussion: """
        Stages, each resuming where it stopped (kill it at any time and run it again):
          1. train every run (lens sweep)                        <out>/<run>/
          2. dump each run's residual stream                      <out>/<run>/activations/
          3. fit every shipped probe                              <out>/probes/
          4. run every shipped patching experiment                <out>/patching/<experiment>/
          5. find the circuits of those experiments and of        <out>/circuits/
             Probes/circuits/ (lens circuit: EAP and EAP-IG; exact edge patching and ACDC at the last step)
             (2-5 at the checkpoints nearest each half decade of steps and the last, e.g. 0, 3, 10, 32, 100,
             316, 1000, 3000, 7000; --full: at every checkpoint, exact patching and ACDC at every one)
          6. write the findings report (lens report)              <out>/REPORT.md, REPORT.json, figures/
        The shipped specs are embedded in the binary (their readable source is the repository's Probes/);
        the study writes the ones it ran to <out>/specs/ first, so the directory records what made it.
        Edit a copy and run the stage's own command (lens probe, lens patch, lens circuit) to run your own.
          lens study                         # the default study into runs/default
          lens study --study cot --compare runs/default   # direct answer instead of the scratchpad, its report compared with the default study's
          lens study --study my.yaml --full  # exact patching at every checkpoint
          lens study --specs-only --out DIR  # write the shipped specs to DIR/specs and stop
        --slurm submits the stages as Slurm jobs instead: a job array over the runs still to train, then
        afterok-dependent jobs for the dumps (an array over the runs), probes, patching, circuits and the
        report, each running this command with --stage; --dry-run prints the batch scripts and sbatch
        lines, --status each run's state (README "Running on Slurm"):
          lens study --study extended --out /shared/extended --slurm --partition cpu --time 4:00:00 --cpus-per-task 2
        """)

    @Option(help: "Study file (YAML), or the name of a shipped study (default, cot, extended, extended-cot).") var study: String?
    @Option(help: "Output directory (default: runs/<study name>).") var out: String?
    @Option(help: "Runs trained at the same time, and dumps, probes and patching experiments run at the same time (default: cores).")
    var jobs: Int = ProcessInfoCores.count
    @Flag(help: "Dump, probe and patch (exact too) at every checkpoint (default: at the checkpoints nearest each half decade of steps, 0, 3, 10, 32, 100, 316, 1000, 3000, ... and the last; exact patching at the last).")
    var full = false
    @Flag(help: "Write the shipped specs to <out>/specs and stop.") var specsOnly = false
    @Option(help: "Run the specs in this directory (probes/*.yaml, patching/*.yaml) instead of the shipped ones.")
    var specs: String?
    @Option(help: "A study of the composite's other form, for the report's direct-against-scratchpad section (lens report --compare).")
    var compare: String?
    @Option(help: "Run only this stage (repeat for more): train, dump, probes, patching, circuits, report; what each Slurm job runs.")
    var stage: [String] = []
    @Option(name: .customLong("run"), help: "With --stage train or dump: only this run (e.g. base-s2).") var onlyRun: String?
    @OptionGroup var slurm: SlurmOptions
    @OptionGroup var common: CommonOptions

    /// Exact patching at the last step unless --full (attribution runs at every sampled step): every kind
    /// at more checkpoints does not fit `make study`'s 10 minutes on 2 cores.
    static let sampledExactSteps = "last"
    /// Items per task dumped for the probes (raised per task by the probe specs' `items:`).
    static let dumpItems = 200

    func validate() throws {
        try checkRange(jobs, 1...CommonOptions.maxThreads, flag: "--jobs")
        try checkPaths([(study, "--study"), (out, "--out"), (specs, "--specs"), (compare, "--compare")])
        let stages = ["train"] + SlurmPlan.stages
        if let bad = stage.first(where: { !stages.contains($0) }) {
            throw ValidationError("--stage \(bad): not a stage (\(stages.joined(separator: ", ")))")
        }
        if onlyRun != nil && !(stage.contains("train") || stage.contains("dump")) { throw ValidationError("--run needs --stage train or dump") }
        if slurm.slurm && (!stage.isEmpty || specsOnly) { throw ValidationError("--slurm submits every stage; it takes no --stage or --specs-only") }
    }

    func run() throws {
        common.apply()
        let spec = try study.map(SweepCommand.load) ?? DefaultStudy.spec()
        let dir = out ?? "runs/" + spec.name
        // The jobs run the stages with these flags (paths absolute: they start elsewhere).
        let slurmFlags = (full ? ["--full"] : []) + (specs.map { ["--specs", SlurmSubmit.absolute($0)] } ?? [])
            + (compare.map { ["--compare", SlurmSubmit.absolute($0)] } ?? [])
        if slurm.slurm && (slurm.dryRun || slurm.status) {
            return try SlurmSubmit.run(spec: spec, study: study, dir: dir, withStages: true, studyFlags: slurmFlags, options: slurm, json: common.json)
        }
        if slurm.slurm { try SlurmSubmit.checkSubmittable(dir: dir) }   // before the specs are written
        let written = try specs.map(Self.listSpecs) ?? writeSpecs(dir + "/specs")
        if specsOnly {
            print("wrote \(written.probes.count) probe, \(written.patching.count) patching and \(written.circuits.count) circuit specs to \(dir)/specs")
            return
        }
        // A spec none of whose tasks the study evaluates is skipped, said once (the cot study has no
        // scratchpad). A probe some of whose tasks it evaluates runs on those only, from a narrowed copy in
        // <out>/specs/narrowed/ (a cot model never saw a scratchpad, so its rows there would be off-distribution),
        // keeping only the positions those tasks have.
        let evaluated = Set(spec.evaluatedTasks)
        var skipped: [String] = []
        func note(_ message: String) { FileHandle.standardError.write(Data("lens study: \(message)\n".utf8)) }
        func applies(_ path: String, needs tasks: [String]) -> Bool {
            let missing = tasks.filter { !evaluated.contains($0) }
            guard missing.count < tasks.count || tasks.isEmpty else {
                skipped.append(path)
                note("skipping \(path): study \(spec.name) does not evaluate \(missing.joined(separator: ", "))")
                return false
            }
            return true
        }
        let probes = try written.probes.compactMap { path -> String? in
            let tasks = try ProbeSpec.load(path: path).tasks
            guard applies(path, needs: tasks) else { return nil }
            let kept = tasks.filter(evaluated.contains)
            guard kept.count < tasks.count else { return path }
            let unevaluated = tasks.filter { !evaluated.contains($0) }.joined(separator: ", ")
            guard let narrowed = try Self.narrow(path, to: kept, problem: spec.problem, into: dir + "/specs/narrowed") else {
                skipped.append(path)
                note("skipping \(path): study \(spec.name) does not evaluate \(unevaluated), and none of its positions is in \(kept.joined(separator: ", "))")
                return nil
            }
            note("\(path): study \(spec.name) does not evaluate \(unevaluated); running \(narrowed) on \(kept.joined(separator: ", "))")
            return narrowed
        }
        func evaluates(_ path: String) throws -> Bool {
            let task = try PatchSpec.load(path: path, kinds: PatchKind.allCases.map(\.rawValue)).task
            guard evaluated.contains(task) else {
                skipped.append(path)
                note("skipping \(path): study \(spec.name) does not evaluate \(task)")
                return false
            }
            return true
        }
        let patching = try written.patching.filter(evaluates)
        // Circuits of every applicable patching experiment and of the circuit-only ones, in one call (the
        // composite's circuits are compared with the sub-skills').
        let circuitSpecs = patching + (try written.circuits.filter(evaluates))
        let chosen = (probes: probes, patching: patching, circuits: circuitSpecs)
        if slurm.slurm {   // the specs are written and narrowed above, once, before any job starts
            return try SlurmSubmit.run(spec: spec, study: study, dir: dir, withStages: true, studyFlags: slurmFlags, options: slurm, json: common.json)
        }
        let threads = ["--threads", String(common.threads)]
        var timings: [(String, Double)] = []
        func stage(_ name: String, _ body: () throws -> Void) throws {
            guard self.stage.isEmpty || self.stage.contains(name) else { return }
            let start = Date()
            FileHandle.standardError.write(Data("lens study: \(name)\n".utf8))
            try body()
            timings.append((name, Date().timeIntervalSince(start)))
        }
        // A stage's result is kept when its marker holds the same inputs (the spec's text, every run's
        // checkpoints and the exact steps) and its record is still there. Anything else (a new checkpoint,
        // an edited spec, a deleted result) reruns it.
        let markers = dir + "/.lens-study"
        func record(_ kind: String, _ path: String) throws -> String {
            switch kind {
            case "probe": return dir + "/probes/\(try ProbeSpec.load(path: path).name).json"
            case "patch":
                let name = try PatchSpec.load(path: path, kinds: PatchKind.allCases.map(\.rawValue)).name
                return dir + "/patching/\(name)/\(name).json"
            default: return dir + "/circuits/circuits.json"
            }
        }
        func key(_ kind: String, _ path: String, exact: String) throws -> (file: String, content: String) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let checkpoints = try PatchCommand.runDirectories(dir).map { "\($0): \(TrainingRun.completedSteps($0))" }
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return (markers + "/\(kind)-\(name).done", ([text, "exact steps: \(exact)"] + checkpoints).joined(separator: "\n"))
        }
        func done(_ kind: String, _ path: String, exact: String) throws -> Bool {
            let k = try key(kind, path, exact: exact)
            guard (try? String(contentsOfFile: k.file, encoding: .utf8)) == k.content else { return false }
            return FileManager.default.fileExists(atPath: try record(kind, path))
        }
        func markDone(_ kind: String, _ path: String, exact: String) throws {
            let k = try key(kind, path, exact: exact)
            try AtomicFile.createDirectory(markers)
            try AtomicFile.write(Data(k.content.utf8), to: k.file)
        }
        try stage("train") {
            let sweep = try SweepCommand.parse((study.map { ["--study", $0] } ?? []) + ["--out", dir, "--jobs", String(jobs)] + threads
                                               + (onlyRun.map { ["--run", $0] } ?? []))
            try quietly { try sweep.run() }
        }
        let runs = try PatchCommand.runDirectories(dir)
        let dumped = runs.filter { r in onlyRun.map { ($0 == (r as NSString).lastPathComponent) } ?? true }
        if let onlyRun, dumped.isEmpty { throw CLIError(dir, "no run \(onlyRun)") }
        let exactSteps = full ? "all" : Self.sampledExactSteps
        // Dumps, probes and patching at the half-decade sample of the checkpoints (every run of a study shares
        // its schedule; the sample holds the last step); --full: every checkpoint.
        let trained = runs.first.map { TrainingRun.completedSteps($0) } ?? []
        let steps = full ? "all" : CheckpointSchedule.halfDecades(of: trained).map(String.init).joined(separator: ",")
        // Only the tasks the probes read (all of them when a probe names none).
        let probeTasks = try chosen.probes.map { try ProbeSpec.load(path: $0).tasks }
        let dumpTasks = probeTasks.contains { $0.isEmpty } ? [] : spec.evaluatedTasks.filter { t in probeTasks.contains { $0.contains(t) } }
        // Children of one thread each, `jobs` at a time (ChildJobs: these commands are mostly single-threaded).
        let childThreads = ["--threads", String(max(1, common.threads / max(1, jobs)))]
        try stage("dump") {
            let commands = chosen.probes.isEmpty ? [] : dumped.map { run in
                ["dump", "--run", run, "--steps", steps, "--hooks", "blocks.*.hook_resid_post", "--n", String(Self.dumpItems)]
                    + (dumpTasks.isEmpty ? [] : ["--tasks"] + dumpTasks) + ["--for-probes"] + chosen.probes + childThreads
            }
            try ChildJobs.run(commands, jobs: jobs) { _ in }
        }
        try stage("probes") {
            let todo = try chosen.probes.filter { try !done("probe", $0, exact: "at " + steps) }
            try ChildJobs.run(todo.map { ["probe", "--spec", $0, "--activations", dir, "--out", dir + "/probes"] + childThreads }, jobs: jobs) {
                try markDone("probe", todo[$0], exact: "at " + steps)
            }
        }
        // Patching and circuits read only the checkpoints and the specs, not each other's results, so with
        // every stage to run they run side by side: the circuits process (on every thread) beside the
        // patching children takes the core time those leave idle (the downstream stages averaged 1.6 of 2
        // cores one after another). A stage asked alone (--stage, a Slurm job) runs alone.
        let patchTodo = try chosen.patching.filter { try !done("patch", $0, exact: exactSteps + " at " + steps) }
        let patchCommands = patchTodo.map { ["patch", "--spec", $0, "--study", dir, "--steps", steps, "--exact-steps", exactSteps] + childThreads }
        // one marker for the circuits call: its key is every circuit spec's text, in order
        let combined = markers + "/circuit-specs.yaml"
        let text = try chosen.circuits.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n---\n")
        if !chosen.circuits.isEmpty {
            try AtomicFile.createDirectory(markers)
            if (try? String(contentsOfFile: combined, encoding: .utf8)) != text { try AtomicFile.write(Data(text.utf8), to: combined) }
        }
        let circuitCommand: [String]? = try chosen.circuits.isEmpty || done("circuit", combined, exact: exactSteps + " at " + steps) ? nil
            : ["circuit"] + chosen.circuits.flatMap { ["--spec", $0] } + ["--study", dir, "--steps", steps, "--exact-steps", exactSteps] + threads
        // each child with the marker it leaves when it succeeds
        typealias Work = (command: [String], markDone: () throws -> Void)
        let patchWork: [Work] = zip(patchTodo, patchCommands).map { spec, command in
            (command, { try markDone("patch", spec, exact: exactSteps + " at " + steps) })
        }
        let circuitWork: [Work] = circuitCommand.map { [($0, { try markDone("circuit", combined, exact: exactSteps + " at " + steps) })] } ?? []
        func run(_ work: [Work], jobs: Int) throws { try ChildJobs.run(work.map(\.command), jobs: jobs) { try work[$0].markDone() } }
        if self.stage.isEmpty {
            // the circuits call first (it is the longest), one slot more than the patching children's
            try stage("patching and circuits") { try run(circuitWork + patchWork, jobs: jobs + circuitWork.count) }
        } else {
            try stage("patching") { try run(patchWork, jobs: jobs) }
            try stage("circuits") { try run(circuitWork, jobs: 1) }
        }
        try stage("report") {
            let report = try ReportCommand.parse(["--study", dir] + (compare.map { ["--compare", $0] } ?? []))
            try quietly { try report.run() }
        }
        let summary = timings.map { "\($0.0) \(Int($0.1.rounded())) s" }.joined(separator: ", ")
        if common.json {
            try JSONOut.print(["study": spec.name, "out": dir, "runs": runs, "exact_steps": exactSteps, "steps": steps,
                               "specs": chosen.probes + chosen.patching + chosen.circuits.filter { !chosen.patching.contains($0) }, "skipped_specs": skipped,
                               "seconds": Dictionary(uniqueKeysWithValues: timings.map { ($0.0, $0.1) }), "report": dir + "/REPORT.md"])
        } else {
            print("study \(spec.name) in \(dir): \(runs.count) runs; \(summary)"
                  + (skipped.isEmpty ? "" : "; skipped (tasks not evaluated): " + skipped.joined(separator: ", ")))
            print("  <run>/metrics.jsonl, checkpoints/, activations/   training and dumps")
            print("  <run>/items/step_NNNNNN.h5                          every held-out item's outcome (docs/ITEMS.md)")
            print("  probes/<probe>.md, .json                            probe tables and numbers")
            print("  patching/<experiment>/<experiment>.md, .json        patching (exact at steps \(exactSteps))")
            print("  circuits/circuits.md, .json                         circuits (exact and ACDC at steps \(exactSteps))")
            print("  dumps, probes and patching at steps \(full ? "all" : steps)")
            print("report: \(dir)/REPORT.md")
        }
    }

    /// The specs of a directory given with --specs: probes/*.yaml and patching/*.yaml, sorted.
    static func listSpecs(_ dir: String) throws -> (probes: [String], patching: [String], circuits: [String]) {
        func yaml(_ sub: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: sub)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted().map { sub + "/" + $0 }
        }
        let found = (probes: yaml(dir + "/probes"), patching: yaml(dir + "/patching"), circuits: yaml(dir + "/circuits"))
        guard !found.probes.isEmpty || !found.patching.isEmpty || !found.circuits.isEmpty else {
            throw CLIError(dir, "no specs (probes/*.yaml, patching/*.yaml or circuits/*.yaml)")
        }
        return found
    }

    /// A copy of the probe spec at `path` whose `tasks:` (and `items:`) lines keep only `tasks`, and whose
    /// `positions:` keep only the named positions those tasks have (the direct composite has no scratchpad
    /// `step1_equals`), headed by a comment that says so, in `dir` (rewritten only when it differs); checked
    /// by parsing it back. Nil when none of its named positions is left.
    static func narrow(_ path: String, to tasks: [String], problem: TaskConfig, into dir: String) throws -> String? {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let spec = try ProbeSpec.load(path: path)
        var lines = text.components(separatedBy: "\n")
        guard let i = lines.firstIndex(where: { $0.hasPrefix("tasks:") }) else {
            throw CLIError(path, "cannot narrow its tasks: no top-level `tasks:` line")
        }
        lines[i] = "tasks: [\(tasks.joined(separator: ", "))]"
        if !spec.allPositions, let j = lines.firstIndex(where: { $0.hasPrefix("positions:") }) {
            var named = Set<String>()
            for t in tasks {
                let task = try Tasks.named(t, config: problem)
                var rng = RNG(seed: 0)
                // Every example lists every position name; -1 marks one it does not have.
                for _ in 0..<20 { named.formUnion(task.example(rng: &rng).positions.filter { $0.value >= 0 }.keys) }
            }
            let kept = spec.positions.filter { if case .named(let n) = $0 { named.contains(n) } else { true } }
            guard !kept.isEmpty else { return nil }
            lines[j] = "positions: [\(kept.map(\.description).joined(separator: ", "))]"
        }
        // `items:` may name only the probe's tasks.
        let items = spec.items
        if let j = lines.firstIndex(where: { $0.hasPrefix("items:") }) {
            let kept = tasks.compactMap { t in items[t].map { "\(t): \($0)" } }
            if kept.isEmpty { lines.remove(at: j) } else { lines[j] = "items: {\(kept.joined(separator: ", "))}" }
        }
        let narrowed = "# \(path) with its tasks narrowed by lens study to those the study evaluates\n" + lines.joined(separator: "\n")
        let out = dir + "/" + (path as NSString).lastPathComponent
        try AtomicFile.createDirectory(dir)
        if (try? String(contentsOfFile: out, encoding: .utf8)) != narrowed { try AtomicFile.write(Data(narrowed.utf8), to: out) }
        guard try ProbeSpec.load(path: out).tasks == tasks else { throw CLIError(out, "narrowed tasks do not parse back as \(tasks)") }
        return out
    }

    /// The shipped specs as files under `dir` (rewritten only when they differ), their paths in order.
    func writeSpecs(_ dir: String) throws -> (probes: [String], patching: [String], circuits: [String]) {
        func write(_ specs: [(name: String, yaml: String)], _ sub: String) throws -> [String] {
            try AtomicFile.createDirectory(sub)
            return try specs.map { name, yaml in
                let path = sub + "/" + name + ".yaml"
                if (try? String(contentsOfFile: path, encoding: .utf8)) != yaml { try AtomicFile.write(Data(yaml.utf8), to: path) }
                return path
            }
        }
        return (try write(ShippedSpecs.probes, dir + "/probes"), try write(ShippedSpecs.patching, dir + "/patching"),
                try write(ShippedSpecs.circuits, dir + "/circuits"))
    }
}

/// Runs `body` with stdout sent to /dev/null: the stages' own commands print their tables, which the
/// study's summary replaces; their progress and errors still reach stderr.
func quietly(_ body: () throws -> Void) throws {
    fflush(nil)   // every output stream (stdout itself is not concurrency-safe to name)
    let saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY)
    guard saved >= 0, null >= 0 else { try body(); return }
    dup2(null, STDOUT_FILENO)
    close(null)
    defer { fflush(nil); dup2(saved, STDOUT_FILENO); close(saved) }
    try body()
}
