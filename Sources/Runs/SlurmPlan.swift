import Foundation

/// A study as Slurm jobs (`lens study --slurm`, `lens sweep --slurm`), computed without Slurm: the batch
/// scripts and the `sbatch` command lines, so that a dry run prints exactly what a submission does.
///
///     train     array over the runs still to train, one task = one run (`lens sweep --run NAME`)
///     dump      array over every run, afterok:train      (`lens study --stage dump --run NAME`)
///     probes    afterok:dump                              (`lens study --stage probes`)
///     patching  afterok:probes, circuits afterok:patching, report afterok:circuits
///
/// Every job runs the same `lens` code as a local `lens study --jobs 1 --threads C` (C = --cpus-per-task),
/// with the same thread count per run, so their files are the same bytes. Array task K is run K of the
/// study (`study.runs()` order): a resubmission lists only the unfinished indices in `--array`.
public struct SlurmPlan: Sendable, Equatable {
    public struct Options: Sendable, Equatable {
        public var partition: String?
        public var time: String?
        public var cpusPerTask = 1
        public var mem: String?
        /// How a job starts lens: this binary's absolute path, or e.g. `apptainer exec lens.sif lens`.
        public var lens: String

        public init(partition: String? = nil, time: String? = nil, cpusPerTask: Int = 1, mem: String? = nil, lens: String) {
            self.partition = partition; self.time = time; self.cpusPerTask = cpusPerTask; self.mem = mem; self.lens = lens
        }
    }

    public struct Job: Sendable, Equatable {
        public var stage: String
        /// Array indices (run numbers), nil for a single job.
        public var array: [Int]?
        /// The stage whose job this one waits for (afterok), nil for none.
        public var after: String?
        public var script: String
        public var scriptPath: String
    }

    /// The stages after training, in dependency order.
    public static let stages = ["dump", "probes", "patching", "circuits", "report"]

    public let dir: String
    public let jobs: [Job]

    /// `dir`: the study directory (absolute, on a filesystem every node shares); `study`: what `--study`
    /// the jobs get (a shipped name or an absolute YAML path); `runs`: every run's name in order;
    /// `finished`: the indices of runs already complete; `withStages`: the dependent stages too (lens
    /// study) or the training array alone (lens sweep); `studyFlags`: more `lens study` flags for the
    /// stages (--full, --specs, --compare).
    public init(dir: String, studyName: String, study: String, runs: [String], finished: Set<Int>, withStages: Bool,
                studyFlags: [String] = [], options: Options) {
        self.dir = dir
        let todo = runs.indices.filter { !finished.contains($0) }
        let threads = ["--jobs", "1", "--threads", String(options.cpusPerTask)]
        let runArray = "runs=(" + runs.map(Self.quote).joined(separator: " ") + ")\nrun=${runs[$SLURM_ARRAY_TASK_ID]}\n"
        func job(_ stage: String, array: [Int]?, after: String?, comment: String, body: String) -> Job {
            let log = dir + "/slurm/logs/" + stage + (array == nil ? "" : "-%a")
            var lines = ["#!/bin/bash", "#SBATCH --job-name=" + Self.quote("lens-\(studyName)-\(stage)"),
                         "#SBATCH --output=" + Self.quote(log + ".out"), "#SBATCH --error=" + Self.quote(log + ".err"),
                         "#SBATCH --open-mode=append", "#SBATCH --requeue", "#SBATCH --cpus-per-task=\(options.cpusPerTask)"]
            if let p = options.partition { lines.append("#SBATCH --partition=" + p) }
            if let t = options.time { lines.append("#SBATCH --time=" + t) }
            if let m = options.mem { lines.append("#SBATCH --mem=" + m) }
            let script = lines.joined(separator: "\n") + "\n# " + comment + "\nset -euo pipefail\n" + body
            return Job(stage: stage, array: array, after: after, script: script, scriptPath: dir + "/slurm/" + stage + ".sbatch")
        }
        var jobs: [Job] = []
        if !todo.isEmpty {
            jobs.append(job("train", array: todo, after: nil,
                            comment: "lens \(withStages ? "study" : "sweep") --slurm: array task K trains run K of the study, resuming from its last checkpoint.",
                            body: runArray + "exec \(options.lens) sweep --study \(Self.quote(study)) --out \(Self.quote(dir)) --run \"$run\" "
                                + threads.joined(separator: " ") + "\n"))
        }
        if withStages {
            let flags = (studyFlags.map(Self.quote) + threads).joined(separator: " ")
            let base = "\(options.lens) study --study \(Self.quote(study)) --out \(Self.quote(dir))"
            var previous = jobs.last?.stage
            for stage in Self.stages {
                let perRun = stage == "dump"
                jobs.append(job(stage, array: perRun ? Array(runs.indices) : nil, after: previous,
                                comment: "lens study --slurm: stage \(stage)" + (perRun ? " of run K (array task K)." : " of the whole study."),
                                body: (perRun ? runArray : "") + "exec \(base) --stage \(stage)" + (perRun ? " --run \"$run\"" : "") + " \(flags)\n"))
                previous = stage
            }
        }
        self.jobs = jobs
    }

    /// The `sbatch` command of each job, as a shell line that keeps its job id in a variable named after
    /// its stage (`train=$(sbatch --parsable ...)`), so the dry run's lines can be pasted into a shell.
    public var commandLines: [String] { jobs.map { "\($0.stage)=$(" + Self.sbatchArguments($0, ids: [:]).joined(separator: " ") + ")" } }

    /// The arguments of `sbatch` for `job`; `ids` maps stages to submitted job ids (a missing one is written
    /// as the shell variable `$stage`).
    public static func sbatchArguments(_ job: Job, ids: [String: String]) -> [String] {
        var args = ["sbatch", "--parsable"]
        if let array = job.array { args.append("--array=" + arrayRange(array)) }
        if let after = job.after { args.append("--dependency=afterok:" + (ids[after] ?? "$" + after)) }
        return args + [job.scriptPath]
    }

    /// Indices as Slurm writes them: runs of consecutive numbers as ranges, `0-2,5`.
    public static func arrayRange(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? String(sorted[i]) : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// A word for bash: as is when it is plain, else in single quotes.
    public static func quote(_ s: String) -> String {
        let plain = !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+=:,%@".contains($0)) }
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A Slurm option or command that cannot be used: one line naming it.
public struct SlurmError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension SlurmPlan.Options {
    /// Checks the values Slurm would reject only after queueing: `--time` in one of sbatch's forms
    /// (minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes,
    /// days-hours:minutes:seconds), `--mem` as a number with an optional K/M/G/T unit, `--partition` as
    /// names separated by commas.
    public func check() throws(SlurmError) {
        func all(_ s: Substring, _ ok: (Character) -> Bool) -> Bool { !s.isEmpty && s.allSatisfy(ok) }
        let digits: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        if let time {
            let dash = time.split(separator: "-", omittingEmptySubsequences: false)
            let clock = (dash.last ?? "").split(separator: ":", omittingEmptySubsequences: false)
            let ok = dash.count <= 2 && (dash.count == 1 || all(dash[0], digits)) && clock.allSatisfy { all($0, digits) }
                && clock.count <= 3 && !(dash.count == 2 && clock.count == 0)
            guard ok || time == "UNLIMITED" || time == "INFINITE" else {
                throw SlurmError("--time \(time): not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)")
            }
        }
        if let mem {
            let number = mem.last.map { "KMGT".contains($0) } == true ? mem.dropLast() : Substring(mem)
            guard all(number, digits) else { throw SlurmError("--mem \(mem): not a Slurm memory size (a number of megabytes, or with a unit K, M, G or T, e.g. 4G)") }
        }
        if let partition {
            guard partition.split(separator: ",", omittingEmptySubsequences: false)
                .allSatisfy({ all($0) { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) } }) else {
                throw SlurmError("--partition \(partition): not a partition name (letters, digits, _ . -; several separated by commas)")
            }
        }
        guard (1...1024).contains(cpusPerTask) else { throw SlurmError("--cpus-per-task \(cpusPerTask): must be 1...1024") }
    }
}
