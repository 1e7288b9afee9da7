import Foundation
import Testing
import TestSupport
import Runs
import Skills
@testable import Findings

/// `lens report`'s loading and building on a real study directory: a tiny study trained once by the built
/// `lens` (real prompts, labels and files), whose item outcomes are then replaced by planted ones (every
/// items file rewritten with the Runs writer, metrics.jsonl recomputed from the items as training does).
/// The planted ordering and lag must come out as the verdicts; every table cell of the markdown is the
/// JSON's, and its numbers trace to the items files (recomputed here independently); bad inputs are notes
/// or one-line errors; the same input gives the same bytes.
@Suite(.serialized) struct ReportTests {
    /// No `double`: with small operands its test split has too few items to resolve anything.
    static let tasks = ["add", "sub", "order", "multistep_pad"]
    static let study = """
        name: planted
        tasks: {add: 1, sub: 1, order: 1, multistep_pad: 1}
        eval_tasks: [add, sub, order, multistep_pad]
        problem: {max_operand: 9, max_step: 5}
        models:
          - {name: d16, n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 32}
        seeds: [3, 4]
        steps: 60
        batch: 16
        warmup: 5
        checkpoints: {dense_until: 20, dense_count: 3, every: 20}
        eval: {n: 30}

        """
    static let settings = BootstrapSettings(resamples: 200)

    /// The trained study (checkpoints 0, 3, 7, 20, 40, 60), shared by the tests; each test copies it.
    static let fixture: Result<TempDir, FixtureError> = {
        do {
            let temp = try TempDir("report-fixture")
            try study.write(toFile: temp.path("s.yaml"), atomically: true, encoding: .utf8)
            let r = try runLens(["sweep", "--study", temp.path("s.yaml"), "--threads", "1", "--jobs", "1", "--out", temp.path("study")])
            guard r.status == 0 else { return .failure(FixtureError(message: "sweep: \(r.err)")) }
            atexit { if case .success(let temp) = ReportTests.fixture { try? FileManager.default.removeItem(at: temp.url) } }
            return .success(temp)
        } catch { return .failure(FixtureError(message: "\(error)")) }
    }()
    struct FixtureError: Error { let message: String }

    /// A copy of the trained study in a fresh directory.
    static func copy() throws -> (TempDir, String) {
        let temp = try TempDir("report")
        try FileManager.default.copyItem(atPath: try fixture.get().path("study"), toPath: temp.path("study"))
        return (temp, temp.path("study"))
    }

    /// Rewrites every run's items files and metrics.jsonl: item i of `task` is exactly right (all tokens
    /// correct) from checkpoint index `onset(task, i)` on, wrong (no token correct) before.
    static func plant(_ dir: String, onset: (String, Int) -> Int) throws {
        for run in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where run.hasPrefix("d16-") {
            let runDir = dir + "/" + run
            let files = try FileManager.default.contentsOfDirectory(atPath: runDir + "/items").sorted()
            var lines: [String] = []
            for (k, file) in files.enumerated() {
                var c = try ItemsFile.read(runDir + "/items/" + file)
                for (j, t) in c.tables.enumerated() {
                    var t = t
                    for i in 0..<t.count {
                        let right = k >= onset(t.task, i)
                        t.exactMatch[i] = right
                        t.correctTokens[i] = right ? t.scoredTokens[i] : 0
                        t.editDistance[i] = right ? 0 : t.scoredTokens[i] - 1
                        t.answerLogProb[i] = right ? -0.01 : t.chanceLogProb[i]
                    }
                    c.tables[j] = t
                }
                try ItemsFile.write(c, to: runDir + "/items/" + file)
                // CheckpointMetrics has no public initialiser: the line as JSON, tasks encoded as training encodes them.
                var tasks: [String: Any] = [:]
                for t in c.tables { tasks[t.task] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(t.metrics())) }
                let line = try JSONSerialization.data(withJSONObject: ["run": run, "step": c.step, "tasks": tasks] as [String: Any], options: [.sortedKeys])
                _ = try JSONDecoder().decode(CheckpointMetrics.self, from: line)
                lines.append(String(decoding: line, as: UTF8.self))
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: runDir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        }
    }

    /// Sub-skills rise between checkpoints 1 and 3 (steps 3-20), the composite between 4 and 5 (steps 40-60).
    static func lagged(_ task: String, _ i: Int) -> Int { task == "multistep_pad" ? 4 + i % 2 : 1 + i % 3 }
    /// Everything rises together.
    static func together(_ task: String, _ i: Int) -> Int { 2 + i % 2 }

    @Test func aPlantedLagIsFoundAndEverySubSkillPrecedes() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        try Self.plant(dir, onset: Self.lagged)
        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let ordering = try #require(out.report.analyses.ordering)
        #expect(ordering.lags.count == 3)
        for l in ordering.lags { #expect(l.decision.verdict == .precedes, "\(l.subSkill): \(l.decision.because)") }
        #expect(ordering.decision.verdict == .supported, "\(ordering.decision.because)")
        #expect(out.markdown.contains("**Ordering verdict: supported**"))
        #expect(out.markdown.contains("In `d16`, `sub` **precedes** the composite"))
        let noLag = try #require(out.report.analyses.noLag)
        #expect(noLag.decision.verdict == .notSupported, "\(noLag.decision.because)")
        let lines = Dictionary(uniqueKeysWithValues: out.report.verdicts.map { ($0.hypothesis, $0.verdict) })
        #expect(lines["compositionality (ordering of onsets)"] == "supported")
        #expect(lines["no lag (Arora & Goyal)"] == "not supported")
        #expect(out.report.verdicts.first { $0.hypothesis.hasPrefix("compositionality") }!.caveats.contains { $0.contains("2 seeds") })
    }

    /// Borrow items of `sub` planted to be learnt later (checkpoints 4-5) than the others (1-2): the
    /// category table finds the borrow items later, with an interval above 0.
    @Test func aPlantedCategoryLagIsFound() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/d16-s3/items").sorted().first)
        let tables = try ItemsFile.read(dir + "/d16-s3/items/" + first).tables
        let borrow = try #require(tables.first { $0.task == "sub" }?.labels["borrow"]).map(\.intValue)
        try #require(borrow.contains(1) && borrow.contains(0))
        try Self.plant(dir) { task, i in task == "sub" ? (borrow[i] == 1 ? 4 + i % 2 : 1 + i % 2) : Self.lagged(task, i) }
        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let table = try #require(out.report.tables.first { $0.id == "category_lags" })
        let row = try #require(table.rows.first { $0[0] == "sub" && $0[2] == "borrow" })
        #expect(row[8] == "borrow items later", "\(row)")
        #expect(Int(row[3]) == borrow.filter { $0 == 1 }.count && Int(row[4]) == borrow.filter { $0 == 0 }.count)
    }

    /// Zero lag: the lag's interval straddles 0, so each sub-skill is "cannot tell" (not "does not
    /// precede", which needs the interval at or below 0) and the ordering is inconclusive; no-lag is supported.
    @Test func noPlantedLagSupportsNoLagAndLeavesOrderingInconclusive() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        try Self.plant(dir, onset: Self.together)
        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let noLag = try #require(out.report.analyses.noLag)
        #expect(noLag.decision.verdict == .supported, "\(noLag.decision.because)")
        let ordering = try #require(out.report.analyses.ordering)
        #expect(ordering.decision.verdict == .inconclusive, "\(ordering.decision.because)")
        for l in ordering.lags { #expect(l.decision.verdict == .cannotTell, "\(l.subSkill): \(l.decision.because)") }
    }

    /// The composite first: every sub-skill "does not precede", the ordering is not supported.
    @Test func aCompositeBeforeItsSubSkillsIsNotSupported() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        try Self.plant(dir) { task, i in task == "multistep_pad" ? 1 + i % 2 : 4 + i % 2 }
        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let ordering = try #require(out.report.analyses.ordering)
        #expect(ordering.decision.verdict == .notSupported, "\(ordering.decision.because)")
        for l in ordering.lags { #expect(l.decision.verdict == .doesNotPrecede, "\(l.subSkill): \(l.decision.because)") }
        #expect(out.markdown.contains("**Ordering verdict: not supported**"))
    }

    /// Probe and patching JSON in the study's layout: a probe and a composite component that clear their
    /// step-0 baselines at step 3, long before the planted behaviour onset (steps 20-60), give "supported"
    /// for that run; the run without them is inconclusive (a measurement is missing).
    @Test func hiddenProgressIsReadFromProbeAndPatchingResults() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        try Self.plant(dir, onset: Self.lagged)
        try FileManager.default.createDirectory(atPath: dir + "/probes", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/patching/cs", withIntermediateDirectories: true)
        func cell(_ step: Int, _ low: Double, _ high: Double) -> [String: Any] {
            ["file": "planted/d16-s3/activations/step_\(String(format: "%06d", step)).h5", "hook": "blocks.0.hook_resid_post", "position": "equals",
             "result": ["ciLow": low, "ciHigh": high, "controlScore": 0.05]]
        }
        let probe: [String: Any] = ["spec": ["name": "p", "target": "intermediate", "tasks": ["multistep_pad"]],
                                    "cells": [cell(0, 0.0, 0.1), cell(3, 0.6, 0.8), cell(60, 0.7, 0.9)]]
        try JSONSerialization.data(withJSONObject: probe).write(to: URL(fileURLWithPath: dir + "/probes/p.json"))
        // Plan 11.1: a probe of a value the prompt states, and one fitted on a sub-skill, clear earlier and do not count.
        for (name, target, task) in [("operand", "operand_a", "multistep_pad"), ("tens", "answer_tens", "add")] {
            let early: [String: Any] = ["spec": ["name": name, "target": target, "tasks": [task]], "cells": [cell(0, 0.0, 0.1), cell(1, 0.9, 1.0)]]
            try JSONSerialization.data(withJSONObject: early).write(to: URL(fileURLWithPath: dir + "/probes/\(name).json"))
        }
        func checkpoint(_ step: Int, _ low: Double, _ high: Double) -> [String: Any] {
            ["step": step, "metric": ["normalisation_defined": true],
             "results": [["method": "attribution", "kind": "mlp_out", "ci_low": [[low, 0.0]], "ci_high": [[high, 0.1]]],
                         ["method": "attribution", "kind": "resid_pre", "ci_low": [[0.9]], "ci_high": [[1.0]]]]]
        }
        let patch: [String: Any] = ["experiment": ["name": "cs", "task": "multistep_pad"],
                                    "runs": [["run": "d16-s3", "decisions": [["decision": "step1", "layouts": [["checkpoints": [
                                        checkpoint(0, 0.0, 0.1), checkpoint(3, 0.5, 0.9), checkpoint(60, 0.6, 0.9)]]]]]]]]
        try JSONSerialization.data(withJSONObject: patch).write(to: URL(fileURLWithPath: dir + "/patching/cs/cs.json"))
        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let s3 = try #require(out.report.analyses.hiddenProgress["d16-s3"])
        #expect(s3.probeOnset == 3)
        #expect(s3.causal.first?.onset == 3 && s3.causal.first?.tau == 0.2)
        #expect(s3.decision.verdict == .supported, "\(s3.decision.because)")
        #expect(out.report.analyses.hiddenProgress["d16-s4"]?.decision.verdict == .inconclusive)
        let rows = try #require(out.report.table("hidden-progress")).rows
        #expect(rows.first { $0[0] == "d16-s3" }?[1] == "3 (`p blocks.0.hook_resid_post @ equals`)")
        #expect(rows.first { $0[0] == "d16-s3" }?[2] == "3 (`cs/step1`)")
        #expect(out.markdown.contains("probe operand is read but does not count for the probe onset (plan section 11.1): its target `operand_a` is stated in the prompt"))
        #expect(out.markdown.contains("probe tens is read but does not count for the probe onset (plan section 11.1): fitted on add, not on the composite"))
        #expect(rows.first { $0[0] == "d16-s4" }?[1] == "not measured")
    }

    /// Markdown tables, parsed cell by cell, are the JSON's tables; the onset table's final EM, chance and
    /// n, the tasks table's n and the sizes table's seeds are recomputed from the files they cite.
    @Test func everyTableCellIsInTheJSONAndTracesToItsSource() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        try Self.plant(dir, onset: Self.lagged)
        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let json = try JSONDecoder().decode(Report.self, from: try out.json())
        let parsed = Self.markdownTables(out.markdown)
        #expect(parsed.count == json.tables.count)
        for (md, t) in zip(parsed, json.tables) {
            #expect(md.first == t.columns, "\(t.id)")
            #expect(Array(md.dropFirst()) == t.rows, "\(t.id)")
            #expect(!t.source.isEmpty && out.markdown.contains("Table `\(t.id)`: \(t.source)."), "\(t.id) cites its source")
        }
        // Independent recomputation from the items files: mean over seeds of each run's mean exact_match at the last step.
        let onsets = try #require(json.table("onsets"))
        let runs = ["d16-s3", "d16-s4"]
        for row in onsets.rows where row[2] == "em" {
            let task = row[0]
            var finals: [Double] = [], chances: [Double] = [], counts: [Int] = []
            for run in runs {
                let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/\(run)/items").sorted()
                let c = try ItemsFile.read(dir + "/\(run)/items/" + files.last!)
                let t = try #require(c.tables.first { $0.task == task })
                finals.append(Double(t.exactMatch.filter { $0 }.count) / Double(t.count))
                chances.append(t.chance.reduce(0, +) / Double(t.count))
                counts.append(t.count)
            }
            #expect(row[4] == String(counts[0]))
            #expect(row[5] == fmt(chances[0]), "\(task) chance")
            #expect(row[6].hasPrefix(fmt(finals.reduce(0, +) / 2) + " ["), "\(task) final: \(row[6])")
        }
        let tasks = try #require(json.table("tasks"))
        let metrics = try String(contentsOfFile: dir + "/d16-s3/metrics.jsonl", encoding: .utf8).split(separator: "\n").last!
        let last = try #require(try JSONSerialization.jsonObject(with: Data(metrics.utf8)) as? [String: Any])
        for row in tasks.rows {
            let n = ((last["tasks"] as? [String: Any])?[row[0]] as? [String: Any]).flatMap { ($0["overall"] as? [String: Any])?["n"] as? Int }
            #expect(row[2] == n.map(String.init), "\(row[0]) n")
        }
        #expect(json.table("sizes")?.rows.first?[7] == "3, 4")
    }

    @Test func theSameStudyGivesTheSameBytes() throws {
        let (temp, dir) = try Self.copy()
        _ = temp
        try Self.plant(dir, onset: Self.lagged)
        let a = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        let b = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        #expect(a.markdown == b.markdown)
        #expect(try a.json() == b.json())
        #expect(a.figures.map(\.svg) == b.figures.map(\.svg))
    }

    @Test func badInputsAreNotesOrOneLineErrors() throws {
        let (temp, dir) = try Self.copy()
        // No runs at all.
        try FileManager.default.createDirectory(atPath: temp.path("empty"), withIntermediateDirectories: true)
        #expect(throws: StudyLoadError.self) { try StudyData.load(temp.path("empty")) }
        do { _ = try StudyData.load(temp.path("empty")) } catch {
            #expect("\(error)".contains("no runs") && !"\(error)".contains("\n"))
        }
        #expect(throws: StudyLoadError.self) { try StudyData.load(temp.path("nowhere")) }
        // A run without metrics, a half-written metrics line, a run without items; no probes or patching.
        try FileManager.default.copyItem(atPath: dir + "/d16-s4", toPath: dir + "/d16-s5")
        try FileManager.default.removeItem(atPath: dir + "/d16-s5/metrics.jsonl")
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/d16-s3/metrics.jsonl"))
        h.seekToEndOfFile()
        h.write(Data("{\"run\":\"d16-s3\",\"step\":80,\"tas".utf8))
        try h.close()
        try FileManager.default.removeItem(atPath: dir + "/d16-s4/items")
        let data = try StudyData.load(dir)
        #expect(data.notes.contains { $0.hasPrefix("d16-s5: no metrics.jsonl") })
        #expect(data.notes.contains { $0.hasPrefix("d16-s3: metrics.jsonl's last line is half-written") })
        #expect(data.notes.contains { $0.hasPrefix("d16-s4: no items/ directory") })
        let out = try ReportBuilder.build(data, options: ReportOptions(settings: Self.settings))
        #expect(out.markdown.contains("No probe results (`probes/`) and no patching results (`patching/`)"))
        #expect(out.markdown.contains("## 10. Verdicts"))
        // The size keeps the seed that has items: one seed, so size claims are inconclusive, not wrong.
        #expect(out.report.analyses.ordering?.decision.verdict == .inconclusive)
        // No run with items at all: every section says so, nothing throws.
        try FileManager.default.removeItem(atPath: dir + "/d16-s3/items")
        let bare = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: Self.settings))
        #expect(bare.report.missing.contains { $0.hasPrefix("onsets (section 1)") })
        #expect(bare.markdown.contains("no item outcomes"))
        #expect(bare.report.verdicts.allSatisfy { ["inconclusive", "not measured"].contains($0.verdict) })
    }

    /// Every markdown table as [header, rows...] of unescaped cells.
    static func markdownTables(_ md: String) -> [[[String]]] {
        var tables: [[[String]]] = [], current: [[String]] = []
        for line in md.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("|") {
                if line.hasPrefix("|---") { continue }
                let cells = Self.split(String(line.dropFirst(2).dropLast(2)))
                current.append(cells)
            } else if !current.isEmpty {
                tables.append(current)
                current = []
            }
        }
        if !current.isEmpty { tables.append(current) }
        return tables
    }

    static func split(_ s: String) -> [String] {
        var cells: [String] = [], cur = "", chars = Array(s), i = 0
        while i < chars.count {
            if chars[i] == "\\" && i + 1 < chars.count && chars[i + 1] == "|" { cur.append("|"); i += 2; continue }
            if chars[i] == " " && i + 2 < chars.count && chars[i + 1] == "|" && chars[i + 2] == " " { cells.append(cur); cur = ""; i += 3; continue }
            cur.append(chars[i]); i += 1
        }
        cells.append(cur)
        return cells
    }
}
