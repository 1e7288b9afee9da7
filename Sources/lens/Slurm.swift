import ArgumentParser
import Foundation
import Runs
import Tensors

/// The Slurm options `lens study` and `lens sweep` share (SlurmPlan holds what they produce).
struct SlurmOptions: ParsableArguments {
    @Flag(help: "Submit the study to Slurm as job arrays with dependencies instead of running it here (see README \"Running on Slurm\").")
    var slurm = false
    @Option(help: "With --slurm: the partition (sbatch --partition).") var partition: String?
    @Option(help: "With --slurm: each job's time limit, as sbatch takes it (minutes, HH:MM:SS, D-HH:MM, ...).") var time: String?
    @Option(help: "With --slurm: CPUs per job; each job runs lens with this many threads (default 1).") var cpusPerTask: Int?
    @Option(help: "With --slurm: memory per job, as sbatch takes it (e.g. 4G).") var mem: String?
    @Option(help: "With --slurm: how a job starts lens (default: this binary's absolute path), e.g. \"apptainer exec lens.sif lens\".")
    var lensCommand: String?
    @Flag(help: "With --slurm: print the batch scripts and sbatch command lines instead of submitting.") var dryRun = false
    @Flag(help: "With --slurm: print each run's state (pending / running / done / failed, with its steps) from scontrol and the run directories.")
    var status = false

    func validate() throws {
        if !slurm {
            let given = [(dryRun, "--dry-run"), (status, "--status"), (partition != nil, "--partition"), (time != nil, "--time"),
                         (cpusPerTask != nil, "--cpus-per-task"), (mem != nil, "--mem"), (lensCommand != nil, "--lens-command")]
            if let flag = given.first(where: \.0)?.1 { throw ValidationError("\(flag) needs --slurm") }
        }
        if dryRun && status { throw ValidationError("--dry-run and --status exclude each other") }
        if lensCommand?.trimmingCharacters(in: .whitespaces).isEmpty == true { throw ValidationError("--lens-command must not be empty") }
        do { try planOptions.check() } catch { throw ValidationError(error.description) }
    }

    var planOptions: SlurmPlan.Options {
        SlurmPlan.Options(partition: partition, time: time, cpusPerTask: cpusPerTask ?? 1, mem: mem,
                          lens: lensCommand ?? SlurmPlan.quote(ChildJobs.executable))
    }
}

/// `--slurm`: submits a study's plan with `sbatch --parsable`, or prints it (--dry-run), or its state
/// (--status). The job ids go to <dir>/slurm/jobs.json for --status and for refusing a second submission
/// while the first is still queued.
enum SlurmSubmit {
    /// `study`: the --study given (nil: the default study); `withStages`: lens study (else lens sweep).
    static func run(spec: StudySpec, study: String?, dir: String, withStages: Bool, studyFlags: [String] = [],
                    options: SlurmOptions, json: Bool) throws {
        let dir = absolute(dir)
        let runs = try spec.runs()
        if options.status { return try SlurmStatus.print(spec: spec, dir: dir, json: json) }
        // A shipped study is named (the binary holds it); a file is copied beside the scripts, where every node reads it.
        var studyArgument = study ?? "default"
        var studyCopy: Data?
        // as SweepCommand.load: a regular file wins over a shipped name, a directory (`--out extended`) does not
        var isDirectory: ObjCBool = false
        let isFile = study.map { FileManager.default.fileExists(atPath: $0, isDirectory: &isDirectory) && !isDirectory.boolValue } ?? false
        if let study, ShippedStudies.named(study) == nil || isFile {
            let text = try InputFile.text(study, atMost: 1 << 20)
            // read twice (a pipe gives nothing the second time): the copy must be the study that was loaded
            guard (try? StudySpec.parse(text, file: study)) == spec else { throw SlurmError("\(study): cannot be read a second time to copy it for the jobs; give a regular file") }
            studyCopy = Data(text.utf8)
            studyArgument = dir + "/slurm/study.yaml"
        }
        let finished = Set(runs.indices.filter { TrainingRun(spec: runs[$0], dir: dir + "/" + runs[$0].name).isComplete })
        let plan = SlurmPlan(dir: dir, studyName: spec.name, study: studyArgument, runs: runs.map(\.name), finished: finished,
                             withStages: withStages, studyFlags: studyFlags, options: options.planOptions)
        if options.dryRun && json {
            return try JSONOut.print(["study": spec.name, "out": dir, "already_trained": finished.sorted().map { runs[$0].name },
                                      "jobs": zip(plan.jobs, plan.commandLines).map { job, line in
                                          ["stage": job.stage, "script_path": job.scriptPath, "script": job.script, "sbatch": line] }])
        }
        if options.dryRun {
            if studyCopy != nil { print("# \(studyArgument): a copy of \(study ?? "")") }
            for job in plan.jobs { print("# \(job.scriptPath)\n\(job.script)") }
            print("# submitted as (\(finished.count) of \(runs.count) runs already trained):")
            for line in plan.commandLines { print(line) }
            return
        }
        guard !plan.jobs.isEmpty else {
            print("study \(spec.name): all \(runs.count) runs in \(dir) are trained; nothing to submit")
            return
        }
        try checkSubmittable(dir: dir)   // before anything is written
        try AtomicFile.createDirectory(dir + "/slurm/logs")
        // study.json before any task starts: tasks on several nodes would otherwise each write it at once,
        // and one node cannot tell whether another node's temporary file is stale
        try Sweep(study: spec, outDir: dir, jobs: 1).writeStudyJSON()
        if let studyCopy { try AtomicFile.write(studyCopy, to: studyArgument) }
        var ids: [String: String] = [:]
        var submitted: [[String: Any]] = []
        for job in plan.jobs {
            try AtomicFile.write(Data(job.script.utf8), to: job.scriptPath)
            let args = SlurmPlan.sbatchArguments(job, ids: ids)
            let out = try SlurmCommand.run(args)
            let id = String(out.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw SlurmError("sbatch printed no job id for \(job.scriptPath): \(out)") }
            ids[job.stage] = id
            // recorded as each is accepted: if a later sbatch fails, --status and the next submission still see it
            try AtomicFile.write(try JSONSerialization.data(withJSONObject: ["study": spec.name, "runs": runs.map(\.name), "jobs": ids] as [String: Any],
                                                            options: [.sortedKeys, .prettyPrinted]), to: dir + "/slurm/jobs.json")
            submitted.append(["stage": job.stage, "job": id, "array": job.array.map(SlurmPlan.arrayRange) ?? "", "script": job.scriptPath])
            if !json { print("\(job.stage): job \(id)" + (job.array.map { " array \(SlurmPlan.arrayRange($0))" } ?? "")
                             + (job.after.map { " after \($0) (\(ids[$0] ?? ""))" } ?? "") + "  " + args.joined(separator: " ")) }
        }
        if json {
            try JSONOut.print(["study": spec.name, "out": dir, "jobs": submitted, "already_trained": finished.sorted().map { runs[$0].name }])
        } else {
            print("study \(spec.name): \(plan.jobs.count) jobs submitted (\(finished.count) of \(runs.count) runs already trained); "
                  + "logs in \(dir)/slurm/logs; its state: lens \(withStages ? "study" : "sweep") --study \(study ?? "default") --out \(dir) --slurm --status")
        }
    }

    /// sbatch on PATH and no job of an earlier submission queued or running: checked before a submission
    /// writes anything.
    static func checkSubmittable(dir: String) throws {
        _ = try SlurmCommand.locate("sbatch")
        let active = try SlurmStatus.activeJobs(dir: absolute(dir))
        guard active.isEmpty else {
            throw SlurmError("\(absolute(dir)): jobs of an earlier submission are still queued or running (\(active.joined(separator: ", "))); wait for them or scancel them")
        }
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }
}

/// One Slurm client command (sbatch, scontrol), run to completion; its stdout, or a one-line error.
enum SlurmCommand {
    /// The command's path on PATH, or an error saying where it comes from.
    static func locate(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else {
            throw SlurmError("\(name): not found on PATH; run this on a Slurm login node, or install Slurm's client commands (Debian: apt-get install slurm-client)")
        }
        return path
    }

    static func run(_ args: [String]) throws -> String {
        let path = try locate(args[0])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = Array(args.dropFirst())
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // stdout to its end first (scontrol's can be long), then stderr (a line or two), then the exit status.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let message = String(decoding: errData, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw SlurmError("\(args.joined(separator: " ")): exit \(p.terminationStatus): \(message)")
        }
        return String(decoding: outData, as: UTF8.self)
    }
}
