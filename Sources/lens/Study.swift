import ArgumentParser
import Foundation
import Patching
import Probing
import Runs
import Tensors

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "The whole pipeline from the binary alone: train a study, dump, probe, patch and report, in one resumable command.",
        discussion: """
        Stages, each resuming where it stopped (kill it at any time and run it again):
          1. train every run (lens sweep)                        <out>/<run>/
          2. dump each run's residual stream at every checkpoint  <out>/<run>/activations/
          3. fit every shipped probe                              <out>/probes/
          4. run every shipped patching experiment                <out>/patching/<experiment>/
          5. write the findings report (lens report)              <out>/REPORT.md, REPORT.json, figures/
        The shipped specs are embedded in the binary (their readable source is the repository's Probes/);
        the study writes the ones it ran to <out>/specs/ first, so the directory records what made it.
        Edit a copy and run the stage's own command (lens probe, lens patch) to run your own.
          lens study                         # the default study into runs/default
          lens study --study cot             # direct answer instead of the scratchpad (about 40 minutes here)
          lens study --study my.yaml --full  # exact patching at every checkpoint
          lens study --specs-only --out DIR  # write the shipped specs to DIR/specs and stop
        """)

    @Option(help: "Study file (YAML), or the name of a shipped study (default, cot).") var study: String?
    @Option(help: "Output directory (default: runs/<study name>).") var out: String?
    @Option(help: "Runs trained at the same time (default: cores).") var jobs: Int = ProcessInfoCores.count
    @Flag(help: "Exact patching at every checkpoint (default: at step 1000 and the last; attribution runs at all).")
    var full = false
    @Flag(help: "Write the shipped specs to <out>/specs and stop.") var specsOnly = false
    @Option(help: "Run the specs in this directory (probes/*.yaml, patching/*.yaml) instead of the shipped ones.")
    var specs: String?
    @OptionGroup var common: CommonOptions

    /// Exact patching at these steps unless --full: every kind at every checkpoint does not fit 10 minutes on 2 cores.
    static let sampledExactSteps = "1000,last"
    /// Items per task dumped for the probes (raised per task by the probe specs' `items:`).
    static let dumpItems = 200

    func validate() throws {
        try checkRange(jobs, 1...CommonOptions.maxThreads, flag: "--jobs")
        try checkPaths([(study, "--study"), (out, "--out"), (specs, "--specs")])
    }

    func run() throws {
        common.apply()
        let spec = try study.map(SweepCommand.load) ?? DefaultStudy.spec()
        let dir = out ?? "runs/" + spec.name
        let written = try specs.map(Self.listSpecs) ?? writeSpecs(dir + "/specs")
        if specsOnly {
            print("wrote \(written.probes.count) probe and \(written.patching.count) patching specs to \(dir)/specs")
            return
        }
        // A shipped spec whose tasks the study does not evaluate is skipped, said once (the cot study has no scratchpad).
        let evaluated = Set(spec.evaluatedTasks)
        var skipped: [String] = []
        func applies(_ path: String, needs tasks: [String]) -> Bool {
            let missing = tasks.filter { !evaluated.contains($0) }
            guard missing.isEmpty else {
                skipped.append(path)
                FileHandle.standardError.write(Data("lens study: skipping \(path): study \(spec.name) does not evaluate \(missing.joined(separator: ", "))\n".utf8))
                return false
            }
            return true
        }
        let chosen = (probes: try written.probes.filter { applies($0, needs: try ProbeSpec.load(path: $0).tasks) },
                     patching: try written.patching.filter {
                         applies($0, needs: [try PatchSpec.load(path: $0, kinds: PatchKind.allCases.map(\.rawValue)).task]) })
        let threads = ["--threads", String(common.threads)]
        var timings: [(String, Double)] = []
        func stage(_ name: String, _ body: () throws -> Void) throws {
            let start = Date()
            FileHandle.standardError.write(Data("lens study: \(name)\n".utf8))
            try body()
            timings.append((name, Date().timeIntervalSince(start)))
        }
        // A stage's result is kept when its marker holds the same inputs: the spec's text, every run's
        // checkpoints and the exact steps. Anything else (a new checkpoint, an edited spec) reruns it.
        let markers = dir + "/.lens-study"
        func key(_ kind: String, _ path: String, exact: String) throws -> (file: String, content: String) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let checkpoints = try PatchCommand.runDirectories(dir).map { "\($0): \(TrainingRun.completedSteps($0))" }
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return (markers + "/\(kind)-\(name).done", ([text, "exact steps: \(exact)"] + checkpoints).joined(separator: "\n"))
        }
        func done(_ kind: String, _ path: String, exact: String) throws -> Bool {
            let k = try key(kind, path, exact: exact)
            return (try? String(contentsOfFile: k.file, encoding: .utf8)) == k.content
        }
        func markDone(_ kind: String, _ path: String, exact: String) throws {
            let k = try key(kind, path, exact: exact)
            try AtomicFile.createDirectory(markers)
            try AtomicFile.write(Data(k.content.utf8), to: k.file)
        }
        try stage("train") {
            var sweep = try SweepCommand.parse((study.map { ["--study", $0] } ?? []) + ["--out", dir, "--jobs", String(jobs)] + threads)
            try quietly { try sweep.run() }
        }
        let runs = try PatchCommand.runDirectories(dir)
        try stage("dump") {
            for run in runs {
                var dump = try DumpCommand.parse(["--run", run, "--hooks", "blocks.*.hook_resid_post", "--n", String(Self.dumpItems),
                                                  "--for-probes"] + chosen.probes + threads)
                try quietly { try dump.run() }
            }
        }
        try stage("probes") {
            for path in chosen.probes where try !done("probe", path, exact: "") {
                var probe = try ProbeCommand.parse(["--spec", path, "--activations", dir, "--out", dir + "/probes"] + threads)
                try quietly { try probe.run() }
                try markDone("probe", path, exact: "")
            }
        }
        // Step 1000 (early in the default study's transition) and the last, where the study has step 1000.
        let hasEarly = runs.allSatisfy { TrainingRun.completedSteps($0).contains(1000) }
        let exactSteps = full ? "all" : hasEarly ? Self.sampledExactSteps : "last"
        try stage("patching") {
            for path in chosen.patching where try !done("patch", path, exact: exactSteps) {
                var patch = try PatchCommand.parse(["--spec", path, "--study", dir, "--exact-steps", exactSteps] + threads)
                try quietly { try patch.run() }
                try markDone("patch", path, exact: exactSteps)
            }
        }
        try stage("report") {
            var report = try ReportCommand.parse(["--study", dir])
            try quietly { try report.run() }
        }
        let summary = timings.map { "\($0.0) \(Int($0.1.rounded())) s" }.joined(separator: ", ")
        if common.json {
            try JSONOut.print(["study": spec.name, "out": dir, "runs": runs, "exact_steps": exactSteps,
                               "specs": chosen.probes + chosen.patching, "skipped_specs": skipped,
                               "seconds": Dictionary(uniqueKeysWithValues: timings.map { ($0.0, $0.1) }), "report": dir + "/REPORT.md"])
        } else {
            print("study \(spec.name) in \(dir): \(runs.count) runs; \(summary)"
                  + (skipped.isEmpty ? "" : "; skipped (tasks not evaluated): " + skipped.joined(separator: ", ")))
            print("  <run>/metrics.jsonl, checkpoints/, activations/   training and dumps")
            print("  <run>/items/step_NNNNNN.h5                          every held-out item's outcome (docs/ITEMS.md)")
            print("  probes/<probe>.md, .json                            probe tables and numbers")
            print("  patching/<experiment>/<experiment>.md, .json        patching (exact at steps \(exactSteps))")
            print("report: \(dir)/REPORT.md")
        }
    }

    /// The specs of a directory given with --specs: probes/*.yaml and patching/*.yaml, sorted.
    static func listSpecs(_ dir: String) throws -> (probes: [String], patching: [String]) {
        func yaml(_ sub: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: sub)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted().map { sub + "/" + $0 }
        }
        let found = (probes: yaml(dir + "/probes"), patching: yaml(dir + "/patching"))
        guard !found.probes.isEmpty || !found.patching.isEmpty else { throw CLIError(dir, "no specs (probes/*.yaml or patching/*.yaml)") }
        return found
    }

    /// The shipped specs as files under `dir` (rewritten only when they differ), their paths in order.
    func writeSpecs(_ dir: String) throws -> (probes: [String], patching: [String]) {
        func write(_ specs: [(name: String, yaml: String)], _ sub: String) throws -> [String] {
            try AtomicFile.createDirectory(sub)
            return try specs.map { name, yaml in
                let path = sub + "/" + name + ".yaml"
                if (try? String(contentsOfFile: path, encoding: .utf8)) != yaml { try AtomicFile.write(Data(yaml.utf8), to: path) }
                return path
            }
        }
        return (try write(ShippedSpecs.probes, dir + "/probes"), try write(ShippedSpecs.patching, dir + "/patching"))
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
