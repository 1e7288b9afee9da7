import Foundation
import Runs

/// `lens study --slurm --status`: each run's state from `scontrol show job` (no accounting database: a
/// finished job stays visible for the controller's MinJobAge, 5 minutes by default) and its directory
/// (a complete run is done whatever Slurm says).
enum SlurmStatus {
    /// Job states after which a job no longer runs (sbatch's man page, JOB STATE CODES).
    static let ended: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                                     "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED"]
    // not SPECIAL_EXIT: a job requeued and held, which can still be released and run

    /// One `scontrol show job -o` line: the array tasks it covers (nil: not an array) and its state.
    struct Entry { var tasks: [Int]?; var state: String; var reason: String; var id: String }

    /// The recorded job ids of the study's last submission, by stage.
    static func recorded(dir: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: dir + "/slurm/jobs.json"),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return doc["jobs"] as? [String: String] ?? [:]
    }

    /// The entries of job `id`; none when the controller no longer knows it.
    static func entries(_ id: String) throws -> [Entry] {
        let text: String
        do { text = try SlurmCommand.run(["scontrol", "show", "job", "-o", id]) } catch let e as SlurmError {
            if e.description.contains("Invalid job id") { return [] }
            throw e
        }
        return parse(text, id: id)
    }

    /// The lines of `scontrol show job -o <id>`: one per array task that has started or ended (ArrayTaskId=3),
    /// one for the tasks still pending together (ArrayTaskId=4-9%2), one for a job that is not an array.
    static func parse(_ text: String, id: String) -> [Entry] {
        text.split(separator: "\n").map { line in
            var f: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let eq = word.firstIndex(of: "=") else { continue }
                f[String(word[..<eq])] = f[String(word[..<eq])] ?? String(word[word.index(after: eq)...])
            }
            return Entry(tasks: f["ArrayTaskId"].map(parseTasks), state: f["JobState"] ?? "UNKNOWN", reason: f["Reason"] ?? "",
                         id: f["ArrayTaskId"].flatMap { t in t.allSatisfy(\.isNumber) ? "\(f["ArrayJobId"] ?? id)_\(t)" : nil } ?? id)
        }
    }

    /// `0-3,7%2` -> [0, 1, 2, 3, 7] (the `%` limit is not an index).
    static func parseTasks(_ text: String) -> [Int] {
        text.split(separator: "%").first.map { $0.split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return ends.count == 2 ? Array(ends[0]...max(ends[0], ends[1])) : ends
        } } ?? []
    }

    /// The recorded jobs (or array tasks) that are still queued or running, as `id (STATE)`.
    static func activeJobs(dir: String) throws -> [String] {
        try recorded(dir: dir).values.sorted().flatMap { id in
            try entries(id).filter { !ended.contains($0.state) }.map { "\($0.id) \($0.state)" }
        }
    }

    static func print(spec: StudySpec, dir: String, json: Bool) throws {
        let runs = try spec.runs()
        let ids = recorded(dir: dir)
        let train = try ids["train"].map(entries) ?? []
        var rows: [[String: Any]] = []
        for (i, run) in runs.enumerated() {
            let r = TrainingRun(spec: run, dir: dir + "/" + run.name)
            let step = TrainingRun.completedSteps(r.dir).last ?? 0
            // a task still pending with others shares their line: name it as Slurm does, <array job>_<index>
            let task = train.first { $0.tasks?.contains(i) ?? false }.map { e in
                var e = e; if e.tasks?.count ?? 0 > 1 { e.id += "_\(i)" }; return e
            }
            let state: String, detail: String
            if r.isComplete { state = "done"; detail = "" }
            else if let task, task.state == "RUNNING" || task.state == "COMPLETING" { state = "running"; detail = "job \(task.id)" }
            else if let task, !ended.contains(task.state) { state = "pending"; detail = "job \(task.id) \(task.state) \(task.reason)" }
            else if let task { state = "failed"; detail = "job \(task.id) \(task.state); submit again to resume it" }
            else { state = ids.isEmpty ? "pending" : "failed"; detail = ids.isEmpty ? "not submitted" : "not in the queue; submit again to resume it" }
            rows.append(["run": run.name, "state": state, "step": step, "steps": run.steps, "detail": detail])
        }
        var stages: [[String: Any]] = []
        for stage in ["train"] + SlurmPlan.stages {
            guard let id = ids[stage] else { continue }
            let states = try entries(id).map(\.state)
            let summary = Dictionary(grouping: states, by: { $0 }).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
            stages.append(["stage": stage, "job": id, "states": summary.isEmpty ? "no longer known to the controller" : summary])
        }
        if json { return try JSONOut.print(["study": spec.name, "out": dir, "runs": rows, "jobs": stages]) }
        let width = runs.map(\.name.count).max() ?? 0
        for row in rows {
            let name = (row["run"] as! String).padding(toLength: width, withPad: " ", startingAt: 0)
            let state = (row["state"] as! String).padding(toLength: 7, withPad: " ", startingAt: 0)
            Swift.print("\(name)  \(state)  step \(row["step"]!)/\(row["steps"]!)" + ((row["detail"] as! String).isEmpty ? "" : "  \(row["detail"]!)"))
        }
        for s in stages { Swift.print("job \(s["job"]!) \(s["stage"]!): \(s["states"]!)") }
    }
}
