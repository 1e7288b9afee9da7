import Foundation
import Testing
import TestSupport

/// `lens sweep / study --slurm` without a cluster: the dry run (what would be submitted, nothing written),
/// only the unfinished runs in the training array, and the one-line errors. `make test-slurm` submits to a
/// real slurmctld.
@Suite struct SlurmCommandTests {
    static let study = StudyFixtures.trainable(seeds: [1, 2], steps: 20, checkpoints: "{dense_until: 20, dense_count: 1, every: 0}", evalItems: 10)

    @Test func aDryRunPrintsTheScriptsAndSbatchLinesAndWritesNothing() throws {
        let temp = try TempDir("slurm-dry")
        try Self.study.write(toFile: temp.root + "/s.yaml", atomically: true, encoding: .utf8)
        let out = temp.root + "/out"
        let r = try runLens(["sweep", "--study", temp.root + "/s.yaml", "--out", out, "--slurm", "--dry-run", "--cpus-per-task", "2",
                             "--time", "10:00", "--lens-command", "/opt/lens"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.components(separatedBy: "\n")
        for line in ["# \(out)/slurm/train.sbatch", "#SBATCH --cpus-per-task=2", "#SBATCH --time=10:00", "runs=(d16-s1 d16-s2)",
                     "exec /opt/lens sweep --study \(out)/slurm/study.yaml --out \(out) --run \"$run\" --jobs 1 --threads 2",
                     "train=$(sbatch --parsable --array=0-1 \(out)/slurm/train.sbatch)"] {
            #expect(lines.contains(line), "no line \(line) in:\n\(r.out)")
        }
        #expect(!FileManager.default.fileExists(atPath: out), "a dry run writes nothing")

        // One run trained here (lens sweep --run, what an array task runs): only the other is left to submit.
        let trained = try runLens(["sweep", "--study", temp.root + "/s.yaml", "--out", out, "--run", "d16-s1", "--threads", "1"])
        #expect(trained.status == 0, "\(trained.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["d16-s1", "study.json"])
        let again = try runLens(["study", "--study", temp.root + "/s.yaml", "--out", out, "--slurm", "--dry-run"])
        #expect(again.status == 0, "\(again.err)")
        let submitted = again.out.components(separatedBy: "\n").filter { $0.contains("=$(sbatch ") }
        #expect(submitted.count == 6, "\(again.out)")
        #expect(submitted.first == "train=$(sbatch --parsable --array=1 \(out)/slurm/train.sbatch)")
        #expect(submitted.last == "report=$(sbatch --parsable --dependency=afterok:$circuits \(out)/slurm/report.sbatch)")
        #expect(again.out.contains("(1 of 2 runs already trained)"))
    }

    /// A Slurm job's dump must be the local dump's bytes: two processes dumping one checkpoint write the
    /// same file (the writer wrote its datasets in dictionary order, which changes from process to process,
    /// so chunk addresses differed while every dataset was equal). Several processes, so that an order
    /// that depends on the process shows up.
    @Test func twoProcessesDumpTheSameBytes() throws {
        let temp = try TempDir("slurm-dump-bytes")
        try Self.study.write(toFile: temp.root + "/s.yaml", atomically: true, encoding: .utf8)
        let trained = try runLens(["sweep", "--study", temp.root + "/s.yaml", "--out", temp.root + "/out", "--run", "d16-s1", "--threads", "1"])
        #expect(trained.status == 0, "\(trained.err)")
        var first: [String: Data] = [:]
        for i in 0..<4 {
            let out = temp.root + "/dump\(i)"
            let r = try runLens(["dump", "--run", temp.root + "/out/d16-s1", "--steps", "20", "--n", "20", "--out", out, "--threads", "1"])
            #expect(r.status == 0, "\(r.err)")
            let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".h5") }.sorted()
            #expect(files == ["step_000020.h5"])
            for f in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: out + "/" + f))
                if let earlier = first[f] { #expect(data == earlier, "dump \(i): \(f) differs from the first dump's") } else { first[f] = data }
            }
        }
    }

    static let badInput: [(args: [String], words: String)] = [
        (["sweep", "--dry-run"], "--dry-run needs --slurm"),
        (["study", "--status"], "--status needs --slurm"),
        (["sweep", "--cpus-per-task", "2"], "--cpus-per-task needs --slurm"),
        (["sweep", "--slurm", "--time", "1h"], "--time 1h: not a Slurm time"),
        (["study", "--slurm", "--mem", "4GB"], "--mem 4GB: not a Slurm memory size"),
        (["sweep", "--slurm", "--partition", "a b"], "--partition a b: not a partition name"),
        (["sweep", "--slurm", "--cpus-per-task", "0"], "--cpus-per-task 0: must be 1...1024"),
        (["sweep", "--slurm", "--dry-run", "--status"], "--dry-run and --status exclude each other"),
        (["study", "--slurm", "--stage", "dump"], "--slurm submits every stage"),
        (["study", "--stage", "dumps"], "--stage dumps: not a stage (train, dump, probes, patching, circuits, report)"),
        (["study", "--run", "tiny-s1"], "--run needs --stage train or dump"),
        (["sweep", "--slurm", "--run", "tiny-s1"], "--run with --slurm"),
    ]

    @Test(arguments: 0..<badInput.count)
    func badSlurmFlagsAreOneLine(index: Int) throws {
        let (args, words) = Self.badInput[index]
        let r = try runLens(args)
        #expect(r.status == 64, "\(args): exit \(r.status)")
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("Error: ") && lines[0].contains(words), "\(args): \(r.err)")
    }

    @Test func withoutSbatchASubmissionSaysWhatToInstall() throws {
        let temp = try TempDir("slurm-nosbatch")
        try Self.study.write(toFile: temp.root + "/s.yaml", atomically: true, encoding: .utf8)
        let r = try runLens(["sweep", "--study", temp.root + "/s.yaml", "--out", temp.root + "/out", "--slurm"],
                            environment: ["PATH": temp.root])
        #expect(r.status != 0)
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("sbatch: not found on PATH") && lines[0].contains("apt-get install slurm-client"), "\(r.err)")
    }

    /// lens study writes <out>/specs before it runs anything: with --slurm and no sbatch it must not.
    @Test func withoutSbatchAStudySubmissionWritesNothing() throws {
        let temp = try TempDir("slurm-nosbatch-study")
        try Self.study.write(toFile: temp.root + "/s.yaml", atomically: true, encoding: .utf8)
        let r = try runLens(["study", "--study", temp.root + "/s.yaml", "--out", temp.root + "/out", "--slurm"],
                            environment: ["PATH": temp.root])
        #expect(r.status != 0)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains("sbatch: not found on PATH"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: temp.root + "/out"), "the study directory was created")
    }

    @Test func anUnknownRunIsAnError() throws {
        let temp = try TempDir("slurm-run")
        try Self.study.write(toFile: temp.root + "/s.yaml", atomically: true, encoding: .utf8)
        let r = try runLens(["sweep", "--study", temp.root + "/s.yaml", "--out", temp.root + "/out", "--run", "d16-s9"])
        #expect(r.status != 0)
        #expect(r.err.contains("no run d16-s9 (have: d16-s1, d16-s2)"), "\(r.err)")
    }
}
