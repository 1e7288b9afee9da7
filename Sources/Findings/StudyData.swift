import Foundation
import Runs
import Skills

// `lens report`'s input: a study directory as CONTRACTS section 8 lays it out (`<study>/<run>/run.json,
// metrics.jsonl, items/step_NNNNNN.h5`), read into memory once. Every problem with one run is a note (one
// line, naming the run and the problem) and the run, or the part of it, is left out; only a directory
// with no usable run at all is an error. The analysis reads `TaskOutcomes` built here from the items.

/// A study directory that cannot be reported at all: one line naming it.
public struct StudyLoadError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ path: String, _ problem: String) { description = "\(path): \(problem)" }
}

/// One training run of the study.
public struct StudyRun: Sendable {
    public var name: String
    /// The model size (the run name without `-s<seed>`): the group every size claim is about.
    public var size: String
    public var seed: Int
    public var spec: RunSpec
    /// ModelConfig.parameterCount (CONTRACTS section 2), 0 if it overflows.
    public var parameters: Int
    /// metrics.jsonl, one line per evaluated checkpoint, in step order.
    public var metrics: [CheckpointMetrics]
    /// The steps that have a readable items file, increasing, and their tables by task.
    public var itemSteps: [Int]
    public var items: [Int: [String: ItemTable]]

    public var hasItems: Bool { !itemSteps.isEmpty }
}

public struct StudyData: Sendable {
    public var directory: String
    /// `<study>/study.json` verbatim, when present.
    public var studyJSON: String?
    /// Runs with a run.json and at least one metrics line, in name order.
    public var runs: [StudyRun]
    /// One line per problem found (a run without metrics, without items, a half-written file...).
    public var notes: [String]

    /// Reads every run of `directory`. Throws only when the directory is missing or holds no usable run.
    public static func load(_ directory: String) throws -> StudyData {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw StudyLoadError(directory, "no such study directory")
        }
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let runDirs = names.filter { fm.fileExists(atPath: directory + "/" + $0 + "/run.json") }
        guard !runDirs.isEmpty else {
            throw StudyLoadError(directory, "no runs (no subdirectory with a run.json); train the study first (lens study or lens sweep)")
        }
        var notes: [String] = []
        var runs: [StudyRun] = []
        for name in runDirs {
            let dir = directory + "/" + name
            guard let data = fm.contents(atPath: dir + "/run.json"),
                  let spec = try? JSONDecoder().decode(RunSpec.self, from: data) else {
                notes.append("\(name): run.json is not a run spec; run left out")
                continue
            }
            let (metrics, metricNote) = readMetrics(dir + "/metrics.jsonl", run: name)
            if let metricNote { notes.append(metricNote) }
            guard !metrics.isEmpty else { continue }
            let (itemSteps, items, itemNotes) = readItems(dir, run: name, metricSteps: metrics.map(\.step))
            notes += itemNotes
            runs.append(StudyRun(name: name, size: RunSpec.sizeName(ofRun: name), seed: Int(spec.seed), spec: spec,
                                 parameters: spec.model.parameterCount ?? 0, metrics: metrics, itemSteps: itemSteps, items: items))
        }
        guard !runs.isEmpty else {
            throw StudyLoadError(directory, "no run has metrics (\(notes.joined(separator: "; ")))")
        }
        let studyJSON = try? String(contentsOfFile: directory + "/study.json", encoding: .utf8)
        if studyJSON == nil { notes.append("study.json: not found; the setup is read from the runs' run.json") }
        return StudyData(directory: directory, studyJSON: studyJSON, runs: runs, notes: notes)
    }

    /// metrics.jsonl in step order. A last line that does not parse is a write in progress (the run is
    /// still training or was killed mid-line): left out with a note; a bad line elsewhere is noted too.
    static func readMetrics(_ path: String, run: String) -> ([CheckpointMetrics], String?) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return ([], "\(run): no metrics.jsonl; run left out")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        var out: [CheckpointMetrics] = []
        var bad: [Int] = []
        for (i, line) in lines.enumerated() {
            if let m = try? JSONDecoder().decode(CheckpointMetrics.self, from: Data(line.utf8)) { out.append(m) } else { bad.append(i + 1) }
        }
        out.sort { $0.step < $1.step }
        var seen = Set<Int>()
        out = out.filter { seen.insert($0.step).inserted }
        if out.isEmpty { return ([], "\(run): metrics.jsonl has no readable line; run left out") }
        if bad.isEmpty { return (out, nil) }
        if bad == [lines.count] { return (out, "\(run): metrics.jsonl's last line is half-written (still training or killed); left out") }
        return (out, "\(run): metrics.jsonl lines \(bad.map(String.init).joined(separator: ", ")) do not parse; left out")
    }

    static func readItems(_ dir: String, run: String, metricSteps: [Int]) -> ([Int], [Int: [String: ItemTable]], [String]) {
        let itemsDir = ItemsFile.directory(dir)
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: itemsDir) else {
            return ([], [:], ["\(run): no items/ directory (the run predates item outcomes): no item outcomes, so its onsets, intervals and the tests of plan sections 3-7 leave it out; its curves come from metrics.jsonl"])
        }
        var steps: [Int] = [], tables: [Int: [String: ItemTable]] = [:], notes: [String] = []
        for file in files.sorted() where file.hasPrefix("step_") && file.hasSuffix(".h5") {
            guard let step = Int(file.dropFirst(5).dropLast(3)) else { continue }
            do {
                let contents = try ItemsFile.read(itemsDir + "/" + file)
                tables[step] = Dictionary(contents.tables.map { ($0.task, $0) }, uniquingKeysWith: { a, _ in a })
                steps.append(step)
            } catch {
                notes.append("\(run): items/\(file) unreadable (\(error.problem)); checkpoint left out")
            }
        }
        steps.sort()
        if steps.isEmpty { notes.append("\(run): items/ holds no readable items file: no item outcomes") }
        let missing = metricSteps.filter { tables[$0] == nil }
        if !steps.isEmpty && !missing.isEmpty {
            notes.append("\(run): \(missing.count) checkpoint(s) of metrics.jsonl have no items file (steps \(missing.prefix(5).map(String.init).joined(separator: ", "))\(missing.count > 5 ? ", ..." : ""))")
        }
        return (steps, tables, notes)
    }
}

// MARK: - What the study trains

extension StudyData {
    /// Size names ordered by parameter count (then name).
    public var sizes: [String] {
        var params: [String: Int] = [:]
        for r in runs { params[r.size] = r.parameters }
        return params.keys.sorted { (params[$0]!, $0) < (params[$1]!, $1) }
    }

    public func runs(ofSize size: String) -> [StudyRun] { runs.filter { $0.size == size }.sorted { $0.seed < $1.seed } }

    public func parameters(ofSize size: String) -> Int { runs.first { $0.size == size }?.parameters ?? 0 }

    /// Tasks evaluated by every run, in the first run's evaluation order.
    public var evaluatedTasks: [String] {
        let first = runs[0].spec.evalTasks
        return first.filter { t in runs.allSatisfy { $0.spec.evalTasks.contains(t) } }
    }

    /// The composite the study trains: `multistep_pad` (default study) or `multistep` (cot study); nil if neither.
    public var composite: String? {
        let trained = Set(runs.flatMap { $0.spec.tasks.keys })
        return ["multistep_pad", "multistep"].first { trained.contains($0) }
    }

    /// The composite's sub-skills that the study evaluates (plan section 4: add, sub, double, order).
    public var subSkills: [String] { ["add", "sub", "double", "order"].filter { evaluatedTasks.contains($0) } }
}

// MARK: - Outcomes from the items

extension StudyData {
    /// The runs of `size` with items for `task`, and the steps all of them have (the size's curve needs
    /// every seed at every checkpoint). Nil when no run of the size has items.
    public func itemRuns(size: String, task: String) -> (runs: [StudyRun], steps: [Int])? {
        let mine = runs(ofSize: size).filter { r in r.hasItems && r.items[r.itemSteps[0]]?[task] != nil }
        guard !mine.isEmpty else { return nil }
        var common = Set(mine[0].itemSteps)
        for r in mine.dropFirst() { common.formIntersection(r.itemSteps) }
        let steps = common.sorted().filter { s in mine.allSatisfy { $0.items[s]?[task] != nil } }
        guard !steps.isEmpty else { return nil }
        // Every run must score the same items (one split): the first checkpoint's prompts agree.
        let prompts = mine[0].items[steps[0]]![task]!.prompt
        let same = mine.filter { $0.items[steps[0]]![task]!.prompt == prompts }
        return (same, steps)
    }

    /// One metric of `task` in `size` as the analysis reads it: per run, per item, per checkpoint.
    /// EM is exact_match (0/1); TA is correct_tokens scaled by n / sum(scored_tokens), so that the mean over
    /// items is metrics.jsonl's micro-averaged sum(correct) / sum(scored) exactly; LP answer_log_prob; ED
    /// edit_distance. Chance is the items' mean chance column (TA: sum(chance/correct_tokens) / sum(scored)).
    public func outcomes(size: String, task: String, metric: Metric) -> TaskOutcomes? {
        guard let (mine, steps) = itemRuns(size: size, task: task) else { return nil }
        let first = mine[0].items[steps[0]]![task]!
        let n = first.count
        guard n > 0 else { return nil }
        let scoredSum = Double(first.scoredTokens.reduce(0, +))
        let chance: Double
        switch metric {
        case .exactMatch: chance = first.chance.reduce(0, +) / Double(n)
        case .tokenAccuracy: chance = first.chanceCorrectTokens.reduce(0, +) / scoredSum
        case .logProb: chance = first.chanceLogProb.reduce(0, +) / Double(n)
        case .editDistance: chance = Double(first.chanceEditDistance.reduce(0, +)) / Double(n)
        }
        let runs = mine.map { r -> RunOutcomes in
            var values = [[Double]](repeating: [Double](repeating: 0, count: steps.count), count: n)
            for (k, s) in steps.enumerated() {
                let t = r.items[s]![task]!
                let scale = Double(n) / Double(t.scoredTokens.reduce(0, +))
                for i in 0..<min(n, t.count) {
                    switch metric {
                    case .exactMatch: values[i][k] = t.exactMatch[i] ? 1 : 0
                    case .tokenAccuracy: values[i][k] = Double(t.correctTokens[i]) * scale
                    case .logProb: values[i][k] = t.answerLogProb[i]
                    case .editDistance: values[i][k] = Double(t.editDistance[i])
                    }
                }
            }
            return RunOutcomes(seed: r.seed, values: values)
        }
        return TaskOutcomes(group: size, task: task, metric: metric, steps: steps, chance: chance, runs: runs)
    }

    /// The items' table of `task` at the first checkpoint of `size` (prompts and labels are the same at every step).
    public func itemTable(size: String, task: String) -> ItemTable? {
        guard let (mine, steps) = itemRuns(size: size, task: task) else { return nil }
        return mine[0].items[steps[0]]![task]
    }
}
