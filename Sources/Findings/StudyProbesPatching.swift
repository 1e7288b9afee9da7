import Foundation

// Plan section 7's inputs from a study directory: `lens probe` results (`<study>/probes/<probe>.json` or
// `<study>/probes/<probe>/<probe>.json`: `cells[]` with `file` = `<study>/<run>/activations/step_N.h5`,
// `hook`, `position`, `result.{ciLow, ciHigh, controlScore}`) and `lens patch` results
// (`<study>/patching/<exp>/<exp>.json`: `experiment.task`, `runs[].decisions[].layouts[].checkpoints[]`
// with `metric.normalisation_defined` and attribution `results[].{kind, method, ci_low, ci_high}`).
// Read as plain JSON, so a field this reader does not need can change without breaking the report.

/// Probe and patching series found in a study, per run.
public struct StructureSeries: Sendable {
    /// run -> "probe hook @ position" -> scores at the probed checkpoints (only series with a step-0 cell).
    public var probes: [String: [String: ProbeScores]] = [:]
    /// Probe names whose series count for the probe onset (plan section 11.1); the others are read,
    /// drawn in the notes with the reason, and not counted.
    public var countedProbes: Set<String> = []
    /// Every step some probe cell was read at, and every step some composite decision was patched at:
    /// what the study sampled, which sets the resolution of probe and causal onsets.
    public var probedSteps: Set<Int> = []
    public var patchedSteps: Set<Int> = []
    /// The steps where some composite decision also has exact (not only attribution) patching results.
    public var exactSteps: Set<Int> = []
    /// run -> decisions of patching experiments on the composite ("experiment/decision").
    public var causal: [String: [CausalScores]] = [:]
    /// What was found and what could not be used, one line each.
    public var notes: [String] = []
    public var probeFiles: [String] = []
    public var patchingFiles: [String] = []
}

extension StudyData {
    public func structureSeries() -> StructureSeries {
        var out = StructureSeries()
        let fm = FileManager.default
        func jsonFiles(_ sub: String) -> [String] {
            let base = directory + "/" + sub
            guard let names = try? fm.contentsOfDirectory(atPath: base) else { return [] }
            var files: [String] = []
            for n in names.sorted() {
                if n.hasSuffix(".json") { files.append(sub + "/" + n) }
                else if fm.fileExists(atPath: base + "/" + n + "/" + n + ".json") { files.append(sub + "/" + n + "/" + n + ".json") }
            }
            return files
        }
        func load(_ rel: String) -> [String: Any]? {
            guard let d = fm.contents(atPath: directory + "/" + rel) else { return nil }
            return (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
        }
        // Probes.
        for rel in jsonFiles("probes") {
            guard let doc = load(rel), let cells = doc["cells"] as? [[String: Any]] else { continue }
            out.probeFiles.append(rel)
            let spec = doc["spec"] as? [String: Any]
            let probe = spec?["name"] as? String ?? (rel as NSString).lastPathComponent
            if let c = composite {
                if let why = HiddenProgressProbes.exclusion(target: spec?["target"] as? String ?? "?", tasks: spec?["tasks"] as? [String] ?? [], composite: c) {
                    out.notes.append("\(rel): probe \(probe) is read but does not count for the probe onset (plan section 11.1): \(why)")
                } else {
                    out.countedProbes.insert(probe)
                }
            }
            var series: [String: [String: [(Int, ScoreInterval, Double)]]] = [:]
            for c in cells {
                guard let file = c["file"] as? String, let r = c["result"] as? [String: Any],
                      let low = r["ciLow"] as? Double, let high = r["ciHigh"] as? Double else { continue }
                let parts = file.split(separator: "/").map(String.init)
                guard let a = parts.lastIndex(of: "activations"), a > 0, let last = parts.last, last.hasPrefix("step_"),
                      let step = Int(last.dropFirst(5).replacingOccurrences(of: ".h5", with: "")) else { continue }
                let key = "\(probe) \(c["hook"] as? String ?? "?") @ \(c["position"] as? String ?? "?")"
                out.probedSteps.insert(step)
                series[parts[a - 1], default: [:]][key, default: []].append((step, ScoreInterval(low: low, high: high), r["controlScore"] as? Double ?? 0))
            }
            for (run, byKey) in series.sorted(by: { $0.key < $1.key }) {
                for (key, points) in byKey.sorted(by: { $0.key < $1.key }) {
                    let sorted = points.sorted { $0.0 < $1.0 }
                    guard let zero = sorted.first(where: { $0.0 == 0 }) else {
                        out.notes.append("\(rel): \(run), \(key): no step-0 cell (probed at steps \(sorted.map { String($0.0) }.joined(separator: ", "))), so no probe onset (plan section 7 needs the step-0 baseline)")
                        continue
                    }
                    out.probes[run, default: [:]][key] = ProbeScores(steps: sorted.map(\.0), scores: sorted.map(\.1), control: sorted.map(\.2), stepZero: zero.1)
                }
            }
        }
        // Patching on the composite.
        for rel in jsonFiles("patching") {
            guard let doc = load(rel), let runs = doc["runs"] as? [[String: Any]] else { continue }
            out.patchingFiles.append(rel)
            let experiment = doc["experiment"] as? [String: Any]
            let name = experiment?["name"] as? String ?? rel
            let task = experiment?["task"] as? String ?? "?"
            guard task == composite else {
                out.notes.append("\(rel): experiment \(name) patches `\(task)`, not the composite: not used for its causal onset")
                continue
            }
            for run in runs {
                guard let runName = run["run"] as? String, let decisions = run["decisions"] as? [[String: Any]] else { continue }
                for d in decisions {
                    let decision = d["decision"] as? String ?? "?"
                    guard let layout = (d["layouts"] as? [[String: Any]])?.first, let cps = layout["checkpoints"] as? [[String: Any]] else { continue }
                    var steps: [Int] = [], effects: [[ScoreInterval]?] = []
                    for cp in cps {
                        guard let step = cp["step"] as? Int else { continue }
                        let defined = ((cp["metric"] as? [String: Any])?["normalisation_defined"] as? Bool) ?? false
                        steps.append(step)
                        out.patchedSteps.insert(step)
                        if (cp["results"] as? [[String: Any]] ?? []).contains(where: { ($0["method"] as? String) == "exact" }) { out.exactSteps.insert(step) }
                        effects.append(defined ? Self.componentIntervals(cp["results"] as? [[String: Any]] ?? []) : nil)
                    }
                    let zero = zip(steps, effects).first { $0.0 == 0 }.flatMap { $0.1 }
                    if !steps.contains(0) { out.notes.append("\(rel): \(runName) \(decision): no step-0 checkpoint, tau is the floor 0.2") }
                    out.causal[runName, default: []].append(CausalScores(name: "\(name)/\(decision)", steps: steps, effects: effects, stepZero: zero))
                }
            }
        }
        return out
    }

    /// Every component's attribution interval at one checkpoint: heads and MLPs (attn_out, mlp_out,
    /// head_out_*), both directions; the residual stream (resid_*) is a position, not a component.
    static func componentIntervals(_ results: [[String: Any]]) -> [ScoreInterval] {
        func flat(_ x: Any?) -> [Double?] {
            if let a = x as? [Any] { return a.flatMap { flat($0) } }
            return [x as? Double]
        }
        var out: [ScoreInterval] = []
        for r in results where (r["method"] as? String) == "attribution" && !((r["kind"] as? String) ?? "resid").hasPrefix("resid") {
            for (low, high) in zip(flat(r["ci_low"]), flat(r["ci_high"])) {
                if let low, let high { out.append(ScoreInterval(low: low, high: high)) }
            }
        }
        return out
    }
}
