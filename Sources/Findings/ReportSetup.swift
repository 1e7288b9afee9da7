import Foundation
import Runs
import Skills

// The report's descriptive sections: setup and provenance, emergence curves, the onsets table.
extension Builder {
    // MARK: 1. Setup

    mutating func setup() {
        let first = data.runs[0].spec
        var blocks: [ReportSection.Block] = []
        blocks.append(.text("""
            Study `\(first.study)` in `\(data.directory)`: \(data.runs.count) run(s), \(data.sizes.count) size(s), \
            \(data.evaluatedTasks.count) evaluated task(s). Composite: \(data.composite.map { "`\($0)`" } ?? "none trained (no ordering, fit or mirage test)"); \
            its sub-skills: \(data.subSkills.map { "`\($0)`" }.joined(separator: ", ")).
            """))
        blocks.append(.text("""
            **Held out.** Test items are problems whose split key (the task's operand tuple) the split (seed \(first.split.seed), \
            test fraction \(fmt(first.split.testFraction)), validation fraction \(fmt(first.split.validationFraction))) puts in \
            the test split: no training item shares its operand tuple with a test item. A composite item is a test item only \
            if all its parts (its scratchpad equations, its telling as an `order` item) are training items of their tasks, so \
            test composites are new combinations of trained parts (Skills/Splits.swift).\
            \(first.split.heldOutTemplates.isEmpty ? "" : " Held-out story templates: \(first.split.heldOutTemplates.map { "\($0)" }.joined(separator: ", ")) (every item told with one is never trained on).")
            """))
        // Tasks.
        var taskRows: [[String]] = []
        let lastLine = data.runs[0].metrics.last!
        let examples = exampleItems()
        for t in data.evaluatedTasks {
            let n = lastLine.tasks[t]?.n ?? 0
            let r = RateResolution(items: n)
            let weight = first.tasks[t].map { fmt($0) } ?? "evaluation only"
            let ex = examples[t].map { "`\($0.0)` -> `\($0.1)`" } ?? ""
            taskRows.append([t, weight, String(n), n > 0 ? fmt(r.none.high) : "-", n > 0 ? fmt(r.all.low) : "-",
                             lastLine.tasks[t].map { fmt($0.chanceExactMatch) } ?? "-", ex])
        }
        addTable(ReportTable(id: "tasks", title: "Tasks, test-set sizes and their resolution",
                             source: "run.json: tasks (training weight), evalTasks; metrics.jsonl (\(data.runs[0].name), step \(lastLine.step)): tasks.<task>.overall.n, .chanceExactMatch; Wilson 95% intervals of 0/n and n/n (plan section 0); example: items/step_*.h5 /<task>/prompt, /<task>/answer (else RunSpec.evaluationSets)",
                             columns: ["task", "training weight", "test items n", "0/n upper end", "n/n lower end", "chance EM", "example (prompt -> answer)"],
                             rows: taskRows), into: &blocks)
        let coarse = taskRows.filter { Int($0[2]).map { RateResolution(items: $0).width > 0.1 } ?? false }.map { $0[0] }
        if !coarse.isEmpty {
            blocks.append(.text("**Resolution.** \(coarse.map { "`\($0)`" }.joined(separator: ", ")): n items cannot tell a rate from 0 (or 1) to better than the 0/n upper end; rules needing a smaller difference are not decided on these tasks (caveats say so where it matters)."))
        }
        // Sizes.
        var sizeRows: [[String]] = []
        for s in data.sizes {
            let rs = data.runs(ofSize: s), m = rs[0].spec.model
            sizeRows.append([s, String(m.n_layers), String(m.d_model), String(m.n_heads), String(m.d_head), String(m.d_mlp),
                             String(rs[0].parameters), rs.map { String($0.seed) }.joined(separator: ", "),
                             String(rs[0].spec.steps), String(rs[0].spec.checkpointSteps.count)])
        }
        addTable(ReportTable(id: "sizes", title: "Model sizes and seeds",
                             source: "run.json: model.n_layers, .d_model, .n_heads, .d_head, .d_mlp, seed, steps, checkpoints; parameters: ModelConfig.parameterCount (CONTRACTS section 2)",
                             columns: ["size", "layers", "d_model", "heads", "d_head", "d_mlp", "parameters", "seeds", "steps", "checkpoints"],
                             rows: sizeRows), into: &blocks)
        // Runs.
        var runRows: [[String]] = []
        for r in data.runs {
            runRows.append([r.name, String(r.metrics.count), String(r.metrics.last!.step), String(r.itemSteps.count),
                            r.hasItems ? "yes" : "no item outcomes"])
        }
        addTable(ReportTable(id: "runs", title: "Runs as found",
                             source: "metrics.jsonl: one line per checkpoint (step); items/step_NNNNNN.h5: one readable file per checkpoint",
                             columns: ["run", "checkpoints in metrics.jsonl", "last step", "items files", "item outcomes"],
                             rows: runRows), into: &blocks)
        let seeds = data.sizes.map { data.runs(ofSize: $0).count }.min() ?? 0
        if seeds < 3 {
            blocks.append(.text("**Seeds.** \(seeds) seed(s) per size at the fewest: intervals are over items only in effect (plan section 0); claims about seed variation need a study with 3 or more (e.g. `cot`)."))
        }
        if !data.notes.isEmpty {
            blocks.append(.text("**Input notes.**\n" + data.notes.map { "- \($0)" }.joined(separator: "\n")))
        }
        sections.append(ReportSection(heading: "1. Setup", blocks: blocks))
    }

    /// One test item per task: from the items file when there is one, else regenerated from run.json.
    func exampleItems() -> [String: (String, String)] {
        var out: [String: (String, String)] = [:]
        for r in data.runs where r.hasItems {
            for (t, table) in r.items[r.itemSteps[0]]! where out[t] == nil && table.count > 0 { out[t] = (table.prompt[0], table.answer[0]) }
        }
        if out.count < data.evaluatedTasks.count, let sets = try? data.runs[0].spec.evaluationSets() {
            for s in sets where out[s.task.name] == nil { if let e = s.examples.first { out[s.task.name] = (e.prompt, e.answer) } }
        }
        return out
    }

    mutating func addTable(_ t: ReportTable, into blocks: inout [ReportSection.Block]) {
        tables.append(t)
        blocks.append(.table(t.id))
    }

    // MARK: 2. Curves

    mutating func curves() {
        var blocks: [ReportSection.Block] = [.text("""
            Per task: each size's curve over training (symlog step axis: linear from 0 to the first positive checkpoint, \
            log above), seeds thin, their mean bold, chance dashed. From metrics.jsonl (`tasks.<task>.overall`: \
            `exactMatch`, `tokenAccuracy` = sum(correct_tokens) / sum(scored_tokens), `meanAnswerLogProb`; chance: \
            `chanceExactMatch`, `chanceTokenAccuracy`, `chanceAnswerLogProb`), which every run has (with or without items).
            """)]
        let kinds: [(String, String, KeyPath<MetricSummary, Double>, KeyPath<MetricSummary, Double>, ClosedRange<Double>?)] = [
            ("em", "exact match", \.exactMatch, \.chanceExactMatch, 0...1),
            ("ta", "per-token accuracy", \.tokenAccuracy, \.chanceTokenAccuracy, 0...1),
            ("lp", "answer log-prob (nats)", \.meanAnswerLogProb, \.chanceAnswerLogProb, nil),
        ]
        for task in data.evaluatedTasks {
            for (key, label, value, chance, range) in kinds {
                let path = "\(options.figuresDirectory)/\(task)-\(key).svg"
                let svg = ReportFigures.curve(data: data, task: task, label: label, value: value, chance: chance, yRange: range)
                figures.append((path, svg))
                blocks.append(.figure(path, "\(task): \(label) over training"))
            }
        }
        sections.append(ReportSection(heading: "2. Emergence curves", blocks: blocks))
    }

    // MARK: 3. Onsets

    mutating func onsets() {
        var blocks: [ReportSection.Block] = [.text("""
            **Definition (plan section 1, fixed before the data).** u = log10(step + 1). For a curve with chance c and final \
            value f: no onset unless the bootstrap interval of f − c lies above 0; onset t50 = first upward crossing of \
            c + 0.5 (f − c), interpolated linearly in u (censored "at or before" the first checkpoint if already above); \
            width = u(t90) − u(t10) in decades. A size's curve is the mean over its seeds. Intervals: 95% percentile \
            bootstrap, \(settings.resamples) resamples, seed \(settings.seed), seeds then items with replacement (plan \
            section 0); "undefined in N%" when more than 5% of resamples have no value. ED is read negated (higher is better). \
            Resolution: the u spacing of the checkpoints that bracket t50.
            """)]
        var rows: [[String]] = []
        var noItems: [String] = []
        for task in data.evaluatedTasks {
            for size in data.sizes {
                guard data.outcomes(size: size, task: task, metric: .exactMatch) != nil else {
                    if !noItems.contains(size) { noItems.append(size) }
                    continue
                }
                for metric in ReportBuilder.metrics {
                    guard let t = data.outcomes(size: size, task: task, metric: metric), let o = try? OnsetReport(t, settings: settings) else { continue }
                    analyses.onsets.append(o)
                    rows.append(onsetRow(o, t))
                }
            }
        }
        for s in noItems { blocks.append(.text("`\(s)`: no item outcomes (no items/ files in its runs): no onsets, intervals or tests for this size.")) }
        if rows.isEmpty {
            missing.append("onsets (section 1): no run has item outcomes")
        } else {
            addTable(ReportTable(id: "onsets", title: "Onsets over training per task, size and metric",
                                 source: "items/step_*.h5: /<task>/exact_match (em), /<task>/correct_tokens and /<task>/scored_tokens (ta = sum correct / sum scored), /<task>/answer_log_prob (lp), /<task>/edit_distance (ed, negated); chance: /<task>/chance/exact_match, /<task>/chance/correct_tokens, /<task>/chance/answer_log_prob, /<task>/chance/edit_distance; step: the file's step attribute",
                                 columns: ["task", "size", "metric", "seeds", "n", "chance", "final f", "rise f − c", "t50 (step)", "t50 interval (steps)",
                                           "t10 -> t90 (steps)", "width (decades)", "resolution (decades)", "note"],
                                 rows: rows), into: &blocks)
        }
        sections.append(ReportSection(heading: "3. Onsets", blocks: blocks))
    }

    func onsetRow(_ o: OnsetReport, _ t: TaskOutcomes) -> [String] {
        var row = [o.task, o.group, o.metric.rawValue, String(o.seeds), String(o.resolution.items), cell(t.orientedChance),
                   cell(o.final), cell(o.rise)]
        guard let times = o.times else {
            return row + ["no onset", "-", "-", "-", "-", "rise not resolved"]
        }
        let t50 = times.t50
        row.append(t50.crossing.isCensored ? "at or before \(t.steps[0])" : stepCell(t50.step))
        row.append(t50.stepInterval.map { "[\(stepCell($0.low)), \(stepCell($0.high))]" } ?? fmt(t50.interval))
        row.append("\(times.t10.crossing.isCensored ? "≤" : "")\(stepCell(times.t10.step)) -> \(stepCell(times.t90.step))")
        switch times.width {
        case .decades(let d): row.append("\(fmt(d)) \(fmt(times.widthInterval))")
        case .atLeast(let d): row.append("at least \(fmt(d))")
        }
        row.append(t50.crossing.resolution.map { fmt($0) } ?? "-")
        var notes: [String] = []
        if times.partialRise { notes.append("still rising at the last checkpoint") }
        if t50.crossing.isCensored { notes.append("censored") }
        row.append(notes.joined(separator: "; "))
        return row
    }
}
