import Foundation
import Runs
import Skills

// Builds the report of a loaded study by docs/ANALYSIS-PLAN.md: setup, curves, onsets, the tests of
// sections 3-6 and the verdict lines of section 9. Pure: no clock, no environment, so the same study and
// options give the same bytes (provenance is passed in).

public enum ReportBuilder {
    static let metrics: [Metric] = [.exactMatch, .tokenAccuracy, .logProb, .editDistance]

    public static func build(_ data: StudyData, options: ReportOptions = .init()) throws -> ReportOutput {
        var b = Builder(data: data, options: options)
        try b.run()
        let report = Report(study: data.runs[0].spec.study, composite: data.composite, subSkills: data.subSkills,
                            resamples: options.settings.resamples, provenance: options.provenance, studyJSON: data.studyJSON,
                            notes: data.notes, missing: b.missing, tables: b.tables, figures: b.figures.map(\.path),
                            analyses: b.analyses, verdicts: b.verdicts)
        return ReportOutput(report: report, markdown: ReportMarkdown.render(report, sections: b.sections), figures: b.figures)
    }
}

/// One markdown section: its heading, prose and the ids of its tables and figures, in order.
struct ReportSection {
    var heading: String
    var blocks: [Block]
    enum Block { case text(String), table(String), figure(String, String) }
}

struct Builder {
    let data: StudyData
    let options: ReportOptions
    var tables: [ReportTable] = []
    var figures: [(path: String, svg: String)] = []
    var sections: [ReportSection] = []
    var missing: [String] = []
    var analyses = ReportAnalyses()
    var verdicts: [VerdictLine] = []
    var settings: BootstrapSettings { options.settings }

    init(data: StudyData, options: ReportOptions) {
        self.data = data
        self.options = options
    }

    /// Sizes with item outcomes for the composite (the groups of sections 3-6).
    var itemSizes: [String] { data.sizes.filter { s in data.runs(ofSize: s).contains(where: \.hasItems) } }

    mutating func run() throws {
        setup()
        curves()
        onsets()
        emergence()
        ordering()
        multiplicative()
        mirage()
        hiddenProgress()
        verdictLines()
    }

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

    // MARK: Groups

    /// EM composite groups of sizes whose composite and sub-skills have items.
    func compositeGroups() -> [CompositeGroup] {
        guard let c = data.composite else { return [] }
        return itemSizes.compactMap { size in
            guard let comp = data.outcomes(size: size, task: c, metric: .exactMatch) else { return nil }
            let subs = data.subSkills.compactMap { data.outcomes(size: size, task: $0, metric: .exactMatch) }
                .filter { $0.seeds == comp.seeds && $0.steps == comp.steps }
            return subs.isEmpty ? nil : CompositeGroup(composite: comp, subSkills: subs)
        }
    }

    // MARK: 3 (plan). Emergence

    mutating func emergence() {
        var blocks: [ReportSection.Block] = [.text("""
            **Rule (plan section 3).** Over scale, on final EM: supported when the smallest size's interval ends at or below \
            c + 0.1 and the largest size's starts at or above c + 0.5; not supported when every size starts at or above c + 0.5 \
            or the largest ends at or below c + 0.1; inconclusive otherwise. Over training, per run: sharp when the width's \
            interval lies below 0.5 decades, gradual when above 1 decade, undetermined otherwise.
            """)]
        var rows: [[String]] = []
        for task in data.evaluatedTasks {
            let sized = data.sizes.compactMap { s in data.outcomes(size: s, task: task, metric: .exactMatch).map { SizedOutcomes(parameters: data.parameters(ofSize: s), outcomes: $0) } }
            guard !sized.isEmpty, let d = try? Emergence.overScale(sized, settings: settings) else { continue }
            analyses.emergenceOverScale[task] = d
            rows.append([task, String(sized.count), verdictWord(d.verdict), d.because])
        }
        if rows.isEmpty { missing.append("emergence over scale (plan section 3): no item outcomes") } else {
            addTable(ReportTable(id: "emergence-scale", title: "Emergence over scale (final EM per size)",
                                 source: "items/step_<last>.h5: /<task>/exact_match, /<task>/chance/exact_match; parameters from run.json model",
                                 columns: ["task", "sizes", "verdict", "because"], rows: rows), into: &blocks)
        }
        var trainRows: [[String]] = []
        if let c = data.composite {
            for size in itemSizes {
                guard let t = data.outcomes(size: size, task: c, metric: .exactMatch) else { continue }
                for p in t.runs.indices {
                    let one = t.run(p)
                    guard let o = try? OnsetReport(one, settings: settings), let d = try? Emergence.overTraining(o) else { continue }
                    analyses.emergenceOverTraining[one.group] = d
                    let w = o.times.map { t in "\(fmt(t.width.decades)) \(fmt(t.widthInterval))" } ?? "no onset"
                    trainRows.append([c, one.group, w, verdictWord(d.verdict), d.because])
                }
            }
        }
        if !trainRows.isEmpty {
            addTable(ReportTable(id: "emergence-training", title: "The composite's transition over training, per run",
                                 source: "items/step_*.h5 of each run: /<composite>/exact_match, /<composite>/chance/exact_match",
                                 columns: ["task", "run", "width (decades)", "verdict", "because"], rows: trainRows), into: &blocks)
        }
        sections.append(ReportSection(heading: "4. Emergence (plan section 3)", blocks: blocks))
    }

    // MARK: 4 (plan). Ordering

    mutating func ordering() {
        var blocks: [ReportSection.Block] = [.text("""
            **Rule (plan section 4).** Per size with a composite EM onset and per sub-skill: lag = u(composite t50) − u(sub-skill t50) \
            with its interval. Precedes: the interval lies above 0 (or the composite has no onset and the last checkpoint lies \
            beyond the sub-skill onset's interval); does not precede: at or below 0; cannot tell: otherwise. Supported when every \
            sub-skill precedes in every size with a composite onset; not supported when one does not precede; else inconclusive.
            """)]
        let groups = compositeGroups()
        guard !groups.isEmpty else {
            missing.append("ordering test (plan section 4): no size has item outcomes for the composite and its sub-skills")
            blocks.append(.text("Not computed: no size has item outcomes for the composite and its sub-skills."))
            sections.append(ReportSection(heading: "5. Ordering of onsets (plan section 4)", blocks: blocks))
            return
        }
        do {
            let r = try OrderingReport(groups, settings: settings)
            analyses.ordering = r
            var rows: [[String]] = []
            for l in r.lags {
                let gi = groups.firstIndex { $0.composite.group == l.group }!
                let co = r.compositeOnsets[gi]
                let so = r.subSkillOnsets[gi].first { $0.task == l.subSkill }
                rows.append([l.group, l.subSkill, so?.t50.map { stepCell($0.step) } ?? "no onset",
                             co.t50.map { stepCell($0.step) } ?? "no onset",
                             l.lag.map(cell) ?? "-", l.atLeast.map { "≥ \(fmt($0))" } ?? "-",
                             verdictWord(l.decision.verdict), l.decision.because])
            }
            addTable(ReportTable(id: "ordering", title: "Lag from each sub-skill's EM onset to the composite's",
                                 source: "items/step_*.h5: /<sub-skill>/exact_match, /<composite>/exact_match and their /chance/exact_match; lags in decades of steps",
                                 columns: ["size", "sub-skill", "sub-skill t50 (step)", "composite t50 (step)", "lag (decades)", "lag lower bound", "verdict", "because"],
                                 rows: rows), into: &blocks)
            blocks.append(.text(r.lags.map { l in "- In `\(l.group)`, `\(l.subSkill)` **\(verdictWord(l.decision.verdict))** the composite: \(l.decision.because)." }.joined(separator: "\n")))
            blocks.append(.text("**Ordering verdict: \(verdictWord(r.decision.verdict))**: \(r.decision.because)."))
        } catch {
            missing.append("ordering test (plan section 4): \(error)")
            blocks.append(.text("Not computed: \(error)."))
        }
        sections.append(ReportSection(heading: "5. Ordering of onsets (plan section 4)", blocks: blocks))
    }

    // MARK: 5 (plan). Multiplicative and no lag

    mutating func multiplicative() {
        var blocks: [ReportSection.Block] = [.text("""
            **Rule (plan section 5).** Each composite test item's predicted EM is the product of its factors: the held-out EM of \
            the sub-skill of each of its two equations on that sub-skill's test items of the same category (add and double: \
            carry / no_carry; sub: borrow / no_borrow; from the ones digits of the equation, ITEMS.md), and of `order` on items \
            of its order-dependence. Multiplicative supported when R² (identity model) ≥ 0.8 and the residual lag's interval \
            contains 0; not supported when R² < 0.5 or the interval excludes 0 by more than 0.1 decades. No-lag: lag = \
            u(composite t50) − max over sub-skills u(t50); supported when its interval contains 0 and is narrower than 0.5 \
            decades, not supported when it excludes 0.
            """)]
        defer { sections.append(ReportSection(heading: "6. Multiplicative fit against no lag (plan section 5)", blocks: blocks)) }
        let groups = compositeGroups()
        guard !groups.isEmpty, let c = data.composite else {
            missing.append("multiplicative and no-lag (plan section 5): no item outcomes for the composite")
            blocks.append(.text("Not computed: no item outcomes for the composite."))
            return
        }
        var mgroups: [MultiplicativeGroup] = []
        for g in groups {
            guard let table = data.itemTable(size: g.composite.group, task: c) else { continue }
            var subs: [CategorisedTask] = []
            for s in g.subSkills {
                guard let st = data.itemTable(size: g.composite.group, task: s.task) else { continue }
                subs.append(CategorisedTask(outcomes: s, categories: FactorKeys.categories(of: st)))
            }
            mgroups.append(MultiplicativeGroup(composite: g.composite, subSkills: subs,
                                               factors: FactorKeys.factors(of: table, available: Set(subs.map(\.outcomes.task)))))
        }
        var rows: [[String]] = []
        do {
            let m = try MultiplicativeReport(mgroups, settings: settings)
            analyses.multiplicative = m
            rows.append(["multiplicative (Okawa et al. 2023)", "R² \(cell(m.r2)); mean log-ratio \(cell(m.logRatio)); residual lag \(cell(m.residualLag)) decades",
                         verdictWord(m.decision.verdict), m.decision.because])
        } catch {
            if case FindingsError.unknownFactor(let task, let category)? = error as? FindingsError {
                missing.append("multiplicative fit (plan section 5): the `\(task)` test set has no \(category) items, so the factor of the composite items that need it is undefined")
            } else {
                missing.append("multiplicative fit (plan section 5): \(error)")
            }
            blocks.append(.text("Multiplicative fit not computed: \(missing.last!.drop { $0 != ":" }.dropFirst(2))."))
        }
        do {
            let n = try NoLagReport(groups, settings: settings)
            analyses.noLag = n
            let lags = n.perGroup.map { "\($0.group): \($0.lag.map(cell) ?? "undefined")" }.joined(separator: "; ")
            rows.append(["no lag (Arora & Goyal 2023)", lags.isEmpty ? "no size has a composite onset" : "lag (decades) \(lags)",
                         verdictWord(n.decision.verdict), n.decision.because])
            if let m = analyses.multiplicative, let joint = NoLagReport.jointStatement(multiplicative: m.decision, noLag: n.decision) {
                blocks.append(.text("**Joint reading:** \(joint)."))
            }
        } catch {
            missing.append("no-lag (plan section 5): \(error)")
            blocks.append(.text("No-lag test not computed: \(error)."))
        }
        if !rows.isEmpty {
            addTable(ReportTable(id: "multiplicative", title: "Composite EM against the product of its sub-skills' held-out EM, and the no-lag prediction",
                                 source: "items/step_*.h5: /<composite>/exact_match with /<composite>/labels/{start,op1,op2,step1_value,step2_value,intermediate,order_dependent}; /<sub-skill>/exact_match with /<sub-skill>/labels/{carry,borrow,order_dependent}",
                                 columns: ["prediction", "numbers", "verdict", "because"], rows: rows), into: &blocks)
        }
    }

    // MARK: 6 (plan). Mirage

    mutating func mirage() {
        var blocks: [ReportSection.Block] = [.text("""
            **Rule (plan section 6).** For the composite, per size: onsets and widths under EM, TA, LP and ED side by side; \
            EM predicted from TA as the mean over items of p^L (p the checkpoint's per-token accuracy, L the item's answer \
            tokens, /<task>/answer_tokens). Mirage supported when TA's onset precedes EM's and p^L predicts EM with R² ≥ 0.8; \
            not supported when TA's width interval lies at or below EM's width + 0.1 decades or TA's onset is not before EM's.
            """)]
        defer { sections.append(ReportSection(heading: "7. Mirage check (plan section 6)", blocks: blocks)) }
        guard let c = data.composite else { missing.append("mirage (plan section 6): no composite"); return }
        var groups: [MirageGroup] = []
        for size in itemSizes {
            guard let em = data.outcomes(size: size, task: c, metric: .exactMatch), let ta = data.outcomes(size: size, task: c, metric: .tokenAccuracy),
                  let lp = data.outcomes(size: size, task: c, metric: .logProb), let ed = data.outcomes(size: size, task: c, metric: .editDistance),
                  let table = data.itemTable(size: size, task: c) else { continue }
            groups.append(MirageGroup(em: em, ta: ta, answerLengths: table.scoredTokens.map { max($0 - 1, 1) }, others: [lp, ed]))
        }
        guard !groups.isEmpty else {
            missing.append("mirage (plan section 6): no item outcomes for the composite")
            blocks.append(.text("Not computed: no item outcomes for the composite."))
            return
        }
        do {
            let m = try MirageReport(groups, settings: settings)
            analyses.mirage = m
            var rows: [[String]] = []
            for g in m.perGroup {
                var row = [g.group]
                for o in g.onsets {
                    let t = o.times.map { "\(stepCell($0.t50.step)); width \(fmt($0.width.decades))" } ?? "no onset"
                    row.append(t)
                }
                row += [cell(g.r2), g.lag.map(cell) ?? "-", verdictWord(g.decision.verdict), g.decision.because]
                rows.append(row)
            }
            addTable(ReportTable(id: "mirage", title: "The composite under each metric, and EM against p^L",
                                 source: "items/step_*.h5: /<composite>/exact_match, /<composite>/correct_tokens, /<composite>/scored_tokens, /<composite>/answer_log_prob, /<composite>/edit_distance, /<composite>/answer_tokens",
                                 columns: ["size", "EM t50 (step); width", "TA t50; width", "LP t50; width", "ED t50; width", "R² EM vs p^L", "lag TA -> EM (decades)", "verdict", "because"],
                                 rows: rows), into: &blocks)
            blocks.append(.text("**Mirage verdict: \(verdictWord(m.decision.verdict))**: \(m.decision.because)."))
        } catch {
            missing.append("mirage (plan section 6): \(error)")
            blocks.append(.text("Not computed: \(error)."))
        }
    }

    // MARK: 7 (plan). Hidden progress

    mutating func hiddenProgress() {
        var blocks: [ReportSection.Block] = [.text("""
            **Rule (plan section 7), per run.** Probe onset: the first probed checkpoint whose score's interval lower end exceeds \
            the step-0 score's upper end and the control score; causal onset: the first checkpoint where the normalisation is \
            defined and some component's attribution interval has its lower end above tau = max(0.2, the largest upper end at \
            step 0). Supported when either is strictly before the lower end of the composite's EM onset interval; not \
            supported when both are at or after the onset; inconclusive otherwise or when one is missing. Readings of this \
            report: the probe onset is the earliest over the study's probes (each hook and position a series); components are \
            the attribution results of kinds attn_out, mlp_out and head_out_* in both directions, of experiments on the composite.
            """)]
        defer { sections.append(ReportSection(heading: "8. Hidden progress (plan section 7)", blocks: blocks)) }
        let found = data.structureSeries()
        if found.probeFiles.isEmpty && found.patchingFiles.isEmpty {
            missing.append("hidden progress (plan section 7): no probe or patching results in the study directory")
            blocks.append(.text("No probe results (`probes/`) and no patching results (`patching/`) in the study directory: hidden progress is not measured; the rest of the report stands."))
            return
        }
        blocks.append(.text("Read: \((found.probeFiles + found.patchingFiles).map { "`\($0)`" }.joined(separator: ", "))."))
        if !found.notes.isEmpty { blocks.append(.text(found.notes.map { "- \($0)" }.joined(separator: "\n"))) }
        guard let c = data.composite else { missing.append("hidden progress (plan section 7): no composite"); return }
        var rows: [[String]] = []
        for size in itemSizes {
            guard let t = data.outcomes(size: size, task: c, metric: .exactMatch) else { continue }
            let runs = data.runs(ofSize: size)
            for p in t.runs.indices {
                guard let run = runs.first(where: { $0.seed == t.runs[p].seed }) else { continue }
                let probes = found.probes[run.name] ?? [:]
                // The earliest probe onset over the run's series: the series that gives it is the probe passed on.
                let probe = probes.sorted { $0.key < $1.key }.min { ($0.value.onset ?? Int.max) < ($1.value.onset ?? Int.max) }?.value
                let causal = found.causal[run.name]
                guard let h = try? HiddenProgressReport(composite: t.run(p), probe: probe, causal: causal, settings: settings) else { continue }
                analyses.hiddenProgress[run.name] = h
                rows.append([run.name, probe == nil ? "not measured" : (h.probeOnset.map(String.init) ?? "none"),
                             causal == nil ? "not measured" : (h.causal.compactMap(\.onset).min().map(String.init) ?? "none"),
                             h.behaviour.t50.map { "\(stepCell($0.step)) \($0.stepInterval.map { "[\(stepCell($0.low)), \(stepCell($0.high))]" } ?? fmt($0.interval))" } ?? "no onset",
                             verdictWord(h.decision.verdict), h.decision.because])
            }
        }
        if rows.isEmpty {
            missing.append("hidden progress (plan section 7): no run has item outcomes for the composite")
            blocks.append(.text("Not computed: no run has item outcomes for the composite (its behaviour onset)."))
            return
        }
        addTable(ReportTable(id: "hidden-progress", title: "Probe and causal onsets against the composite's behaviour onset, per run",
                             source: "probes/*.json: cells[].file (run, step), .hook, .position, .result.ciLow/.ciHigh/.controlScore; patching/<exp>/<exp>.json: runs[].decisions[].layouts[0].checkpoints[].metric.normalisation_defined, .results[] (method attribution).ci_low/.ci_high; items/step_*.h5: /<composite>/exact_match",
                             columns: ["run", "probe onset (step)", "causal onset (step)", "behaviour t50 (step) [interval]", "verdict", "because"],
                             rows: rows), into: &blocks)
        let decisions = analyses.hiddenProgress.sorted { $0.key < $1.key }.map { GroupDecision(group: $0.key, lag: nil, decision: $0.value.decision) }
        analyses.hiddenProgressVerdict = AcrossGroups.combine(decisions)
    }

    // MARK: 9 (plan). Verdicts

    mutating func verdictLines() {
        func line(_ h: String, _ section: String, _ d: Decision?, missingWhy: String) -> VerdictLine {
            guard let d else {
                return VerdictLine(hypothesis: h, section: section, verdict: "inconclusive", because: missingWhy, numbers: [], caveats: [])
            }
            return VerdictLine(hypothesis: h, section: section, verdict: verdictWord(d.verdict), because: d.because, numbers: d.numbers,
                               caveats: d.caveats.map(\.description))
        }
        let missingNow = missing
        let whyNot = { (prefix: String) in missingNow.first { $0.hasPrefix(prefix) }.map { String($0.drop { $0 != ":" }.dropFirst(2)) } ?? "no item outcomes" }
        let c = data.composite ?? "the composite"
        verdicts.append(line("emergence (\(c), over scale)", "3", data.composite.flatMap { analyses.emergenceOverScale[$0] }, missingWhy: "no item outcomes for the composite"))
        verdicts.append(line("compositionality (ordering of onsets)", "4", analyses.ordering?.decision, missingWhy: "not computed: " + whyNot("ordering")))
        verdicts.append(line("multiplicative (Okawa et al.)", "5", analyses.multiplicative?.decision, missingWhy: "not computed: " + whyNot("multiplicative")))
        verdicts.append(line("no lag (Arora & Goyal)", "5", analyses.noLag?.decision, missingWhy: "not computed: " + whyNot("no-lag")))
        verdicts.append(line("mirage (Schaeffer et al.)", "6", analyses.mirage?.decision, missingWhy: "not computed: " + whyNot("mirage")))
        verdicts.append(line("hidden progress (per run, combined)", "7", analyses.hiddenProgressVerdict, missingWhy: "not computed: " + whyNot("hidden progress")))
        verdicts.append(VerdictLine(hypothesis: "circuit hypothesis", section: "9", verdict: "not measured",
                                    because: "lens circuit does not exist yet", numbers: [], caveats: []))
        var rows: [[String]] = []
        for v in verdicts {
            let numbers = v.numbers.map { n in "\(n.name) = \(fmt(n.point))\(n.interval.map { " \(fmt($0))" } ?? "")" }.joined(separator: "; ")
            rows.append([v.hypothesis, v.section, v.verdict, v.because, numbers])
        }
        var blocks: [ReportSection.Block] = []
        addTable(ReportTable(id: "verdicts", title: "One line per hypothesis (plan section 9)",
                             source: "the tables above (items/step_*.h5 fields as cited there); rules of docs/ANALYSIS-PLAN.md sections 3-7",
                             columns: ["hypothesis", "plan section", "verdict", "because", "deciding numbers (intervals 95%)"], rows: rows), into: &blocks)
        var threats: [String] = []
        let seeds = data.sizes.map { data.runs(ofSize: $0).count }.min() ?? 0
        if seeds < 3 { threats.append("**Seeds**: \(seeds) seed(s) per size, so intervals are over items only in effect; claims about seed variation need the `cot` study (3 or more seeds).") }
        let coarse = data.evaluatedTasks.filter { t in (data.runs[0].metrics.last?.tasks[t]?.n).map { RateResolution(items: $0).width > 0.1 } ?? false }
        if !coarse.isEmpty { threats.append("**Resolution**: \(coarse.map { "`\($0)`" }.joined(separator: ", ")) have too few test items to resolve a rate to 0.1 (Wilson 0/n); rules on them are gated.") }
        if data.composite == "multistep_pad" {
            threats.append("**Task construction**: the scratchpad composite `multistep_pad` writes each sub-skill's equation (`x op v = y`) before its answer, so a model cannot solve it without its sub-skills: part of the ordering is by construction. What the data show beyond that is the size of the lag and whether the product of sub-skill accuracies predicts the composite (section 5).")
        }
        let caveats = Set(verdicts.flatMap(\.caveats)).sorted()
        if !caveats.isEmpty { threats.append("**Caveats from the rules**:\n" + caveats.map { "  - \($0)" }.joined(separator: "\n")) }
        blocks.append(.text("**Threats to validity.**\n" + threats.map { "- \($0)" }.joined(separator: "\n")))
        if !missing.isEmpty {
            blocks.append(.text("**Not in this report.**\n" + missing.map { "- \($0)" }.joined(separator: "\n")))
        }
        sections.append(ReportSection(heading: "9. Verdicts (plan section 9)", blocks: blocks))
    }
}

// MARK: - Factor keys (plan section 5)

/// The categories of section 5's factors, from the items' labels (docs/ITEMS.md).
enum FactorKeys {
    /// A sub-skill item's category: add / double by carry, sub by borrow, order by order-dependence.
    static func categories(of t: ItemTable) -> [String] {
        func label(_ name: String) -> [Int] { (t.labels[name] ?? []).map(\.intValue) }
        switch t.task {
        case "add", "double": return label("carry").map { $0 == 1 ? "carry" : $0 == 0 ? "no_carry" : "none" }
        case "sub": return label("borrow").map { $0 == 1 ? "borrow" : $0 == 0 ? "no_borrow" : "none" }
        case "order": return label("order_dependent").map { $0 == 1 ? "order_dependent" : $0 == 0 ? "order_independent" : "none" }
        default: return Array(repeating: "all", count: t.count)
        }
    }

    /// The category of the equation `x op v` (op 0 add, 1 sub, 2 double): add carries when x % 10 + v % 10 >= 10,
    /// double when x % 10 * 2 >= 10, sub borrows when x % 10 < v % 10 (Skills/StepOperation.swift).
    static func equation(x: Int, op: Int, v: Int) -> FactorKey? {
        switch op {
        case 0: return FactorKey(task: "add", category: x % 10 + v % 10 >= 10 ? "carry" : "no_carry")
        case 1: return FactorKey(task: "sub", category: x % 10 < v % 10 ? "borrow" : "no_borrow")
        case 2: return FactorKey(task: "double", category: x % 10 * 2 >= 10 ? "carry" : "no_carry")
        default: return nil
        }
    }

    /// Per composite item: its two equations' factors and its telling's `order` factor, among `available` sub-skills.
    static func factors(of t: ItemTable, available: Set<String>) -> [[FactorKey]] {
        func label(_ name: String) -> [Int] { (t.labels[name] ?? Array(repeating: .int32(-1), count: t.count)).map(\.intValue) }
        let start = label("start"), op1 = label("op1"), op2 = label("op2"), v1 = label("step1_value"), v2 = label("step2_value")
        let mid = label("intermediate"), dependent = label("order_dependent")
        return (0..<t.count).map { i in
            var keys: [FactorKey] = []
            if let k = equation(x: start[i], op: op1[i], v: v1[i]) { keys.append(k) }
            if let k = equation(x: mid[i], op: op2[i], v: v2[i]) { keys.append(k) }
            if dependent[i] >= 0 { keys.append(FactorKey(task: "order", category: dependent[i] == 1 ? "order_dependent" : "order_independent")) }
            return keys.filter { available.contains($0.task) }
        }
    }
}
