import ArgumentParser
import Dumps
import Foundation
import Probing
import Runs
import Skills

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write the hook activations of a run's checkpoints to HDF5 (one file per checkpoint), for probes and h5py.",
        discussion: """
        Every checkpoint sees the same held-out items (--n per task). Files follow CONTRACTS.md section 4:
        /tokens, /lengths, /prompts, /tasks, /positions/<name>, /labels/<name>, /activations/<hook>
        (TransformerLens shapes, batch = N, chunked along N). Written in batches of --batch examples
        to <file>.partial-<pid> and renamed when complete; complete files are skipped unless --force.
          lens dump --run runs/default/base-s1 --hooks 'blocks.*.hook_resid_post' --n 200
          lens dump --run runs/default/base-s1 --steps 0,4000 --hooks blocks.0.attn.hook_pattern --compress
        """)

    @Option(name: .customLong("run"), help: "Run directory (with run.json and checkpoints/).") var runDir: String
    @Option(help: "Checkpoint steps: all, or a comma-separated list.") var steps = "all"
    @Option(parsing: .upToNextOption, help: "Hook names or globs (TransformerLens names).") var hooks: [String] = ["blocks.*.hook_resid_post"]
    @Option(parsing: .upToNextOption, help: "Tasks (default: the run's evaluated tasks).") var tasks: [String] = []
    @Option(help: "Held-out items per task.") var n = 200
    @Option(name: .customLong("for-probes"), parsing: .upToNextOption,
            help: "Probe specs whose `items:` raise --n for their tasks (e.g. Probes/*.yaml).") var forProbes: [String] = []
    @Option(help: "Output directory (default: <run>/activations).") var out: String?
    @Option(help: "Examples per forward pass and per write.") var batch = 64
    @Flag(help: "gzip + shuffle the activation datasets.") var compress = false
    @Flag(help: "Rewrite files that are already complete.") var force = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkRange(n, 1...maxItemsPerTask, flag: "--n")
        try checkRange(batch, 1...4096, flag: "--batch", why: " (examples per forward pass)")
        try checkPaths([(runDir, "--run"), (out, "--out")] + forProbes.map { ($0, "--for-probes") })
        _ = try wantedSteps()
    }

    /// The steps of --steps, nil for all. An empty list is an error: it used to dump nothing and exit 0.
    func wantedSteps() throws -> [Int]? {
        guard steps != "all" else { return nil }
        let list = steps.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try list.map {
            guard let s = Int($0), s >= 0 else { throw ValidationError("--steps: \"\($0)\" is not a step (give all, or steps such as 0,1000)") }
            return s
        }
    }

    func run() throws {
        common.apply()
        var dump = ActivationDump(runDir: runDir, outDir: out ?? runDir + "/activations", hookPatterns: hooks,
                                  tasks: tasks.isEmpty ? nil : tasks, perTask: n)
        dump.batchSize = batch; dump.compress = compress; dump.force = force
        for path in forProbes {
            for (task, count) in try ProbeSpec.load(path: path).items { dump.perTaskOverride[task] = max(count, dump.perTaskOverride[task] ?? n) }
        }
        let wanted = try wantedSteps()
        let progress = ProgressReporter()
        let written = try dump.run(steps: wanted, progress: { progress.update("dump", done: $0, total: $1) }, waiting: {
            FileHandle.standardError.write(Data("\(dump.outDir): another lens dump is writing here; waiting for it\n".utf8))
        })
        if common.json {
            try JSONOut.print(written)
        } else {
            for w in written { print("\(w.skipped ? "kept   " : "wrote  ") \(w.path)  n=\(w.n) hooks=\(w.hooks.count)") }
        }
    }
}
