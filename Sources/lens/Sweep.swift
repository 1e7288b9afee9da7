import ArgumentParser
import Foundation
import Runs

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train every model size x seed of a study, in parallel, resuming where a previous sweep stopped.",
        discussion: """
        Without --study, runs the embedded default study (print it with --show-default).
        Each run writes <out>/<run>/{run.json, checkpoints/step_NNNNNN.safetensors, metrics.jsonl,
        items/step_NNNNNN.h5}: the items file holds every held-out item's outcome (docs/ITEMS.md).
        Kill it at any time: running it again resumes every run from its last checkpoint and gives
        the same files an uninterrupted sweep would (for the same --threads and --jobs).
          lens sweep --study my.yaml --check    # only check the study file: keys, types, sizes; lists its runs
        --slurm submits the training as one Slurm job array instead (one array task = one run, only the runs
        not yet trained; --dry-run prints the batch script and the sbatch line; README "Running on Slurm"):
          lens sweep --study extended --out /shared/extended --slurm --partition cpu --time 2:00:00 --cpus-per-task 2
          lens sweep --study extended --out /shared/extended --slurm --status
        """)

    @Option(help: "Study file (YAML), or the name of a shipped study (default, cot, extended, extended-cot). Schema: see README or `lens sweep --show-default`.")
    var study: String?
    @Option(help: "Output directory.") var out = "runs/default"
    @Option(help: "Runs trained at the same time (default: cores).") var jobs: Int = ProcessInfoCores.count
    @Flag(help: "Print the embedded default study and exit.") var showDefault = false
    @Flag(help: "Check the study (keys, types, sizes against this machine's memory), list its runs and exit without training.")
    var check = false
    @Option(name: .customLong("run"), help: "Train only this run (repeat for more), e.g. base-s2; a Slurm array task trains one.")
    var onlyRuns: [String] = []
    @OptionGroup var slurm: SlurmOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkRange(jobs, 1...CommonOptions.maxThreads, flag: "--jobs")
        try checkPaths([(study, "--study"), (out, "--out")])
        if slurm.slurm && !onlyRuns.isEmpty { throw ValidationError("--run with --slurm: the array covers every run still to train; submit a study of that run alone instead") }
    }

    func run() throws {
        if showDefault { print(DefaultStudy.yaml); return }
        common.apply()
        let spec = try study.map(Self.load) ?? DefaultStudy.spec()
        let outDir = study == nil || out != "runs/default" ? out : "runs/" + spec.name
        if check {
            let runs = try spec.runs().map(\.name)
            if common.json { try JSONOut.print(["study": spec.name, "out": outDir, "runs": runs]) } else {
                print("study \(spec.name): valid; \(runs.count) runs (\(runs.joined(separator: ", "))) would go to \(outDir)")
            }
            return
        }
        if slurm.slurm {
            return try SlurmSubmit.run(spec: spec, study: study, dir: outDir, withStages: false, options: slurm, json: common.json)
        }
        let runs = try Sweep(study: spec, outDir: outDir, jobs: jobs, only: onlyRuns.isEmpty ? nil : Set(onlyRuns)).run()
        let finals = runs.map { ($0, $0.readMetrics().last) }
        if common.json {
            let summary = finals.map { r, last -> [String: Any] in
                ["run": r.spec.name, "dir": r.dir, "step": last?.step ?? 0,
                 "exact_match": (last?.tasks ?? [:]).mapValues(\.exactMatch)]
            }
            try JSONOut.print(["study": spec.name, "out": outDir, "runs": summary])
        } else {
            print("study \(spec.name): \(runs.count) runs in \(outDir)")
            for (r, last) in finals {
                let em = (last?.tasks ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.3f", $0.value.exactMatch))" }
                print("  \(r.spec.name) step \(last?.step ?? 0): " + em.joined(separator: " "))
            }
        }
    }

    /// A shipped study by name, else a study file (a file that exists wins over a name; a directory does
    /// not, since `lens study --study cot` creates `cot/` in the working directory when `--out cot`).
    static func load(_ nameOrPath: String) throws -> StudySpec {
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory) && !isDirectory.boolValue
        if !isFile, let shipped = ShippedStudies.named(nameOrPath) { return shipped }
        return try StudySpec.load(path: nameOrPath)
    }
}
