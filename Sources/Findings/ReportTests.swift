import Foundation
import Runs
import Skills

// The report's tests of plan sections 3-7: emergence, ordering, multiplicative against no lag, mirage,
// hidden progress; each a table, a decision and its sentence.
extension Builder {
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
        sizeOnsets(into: &blocks)
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
        var fellBack: [FactorKey] = []
        for g in groups {
            guard let table = data.itemTable(size: g.composite.group, task: c) else { continue }
            var subs: [CategorisedTask] = []
            for s in g.subSkills {
                guard let st = data.itemTable(size: g.composite.group, task: s.task) else { continue }
                subs.append(CategorisedTask(outcomes: s, categories: FactorKeys.categories(of: st)))
            }
            // Plan 11.3: a needed category with no test items falls back to the sub-skill's whole test set.
            let present = Set(subs.flatMap { s in s.categories.map { FactorKey(task: s.outcomes.task, category: $0) } })
            let factors = FactorKeys.factors(of: table, available: Set(subs.map(\.outcomes.task))).map { keys in
                keys.map { k in
                    guard !present.contains(k) else { return k }
                    if !fellBack.contains(k) { fellBack.append(k) }
                    return FactorKey(task: k.task, category: FactorKey.pooled)
                }
            }
            mgroups.append(MultiplicativeGroup(composite: g.composite, subSkills: subs, factors: factors))
        }
        for k in fellBack {
            blocks.append(.text("Plan 11.3: the `\(k.task)` test set has no \(k.category) items, so the composite items that need that factor use `\(k.task)`'s EM over all its test items."))
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

    /// Plan section 2: each task's final EM per size and the size onset (the first crossing of the midpoint
    /// between chance and the largest size's final EM, in log10 parameters). The fits of SCIENCE.md are not
    /// made (plan sections 2 and 10), and the text says so with the number of sizes.
    mutating func sizeOnsets(into blocks: inout [ReportSection.Block]) {
        var rows: [[String]] = []
        var sizeCount = 0
        for task in data.evaluatedTasks {
            let sized = data.sizes.compactMap { s in data.outcomes(size: s, task: task, metric: .exactMatch).map { SizedOutcomes(parameters: data.parameters(ofSize: s), outcomes: $0) } }
            guard sized.count >= 2, let scan = try? SizeScan(sized, settings: settings) else { continue }
            sizeCount = max(sizeCount, sized.count)
            let finals = zip(scan.groups, scan.finals).map { "\($0.0) \(cell($0.1))" }.joined(separator: "; ")
            let onset = scan.sizeOnset.map { o in
                parametersCell(o)
                    + (o.crossing.isCensored ? " (at or below the smallest size)" : "")
            } ?? "no size onset (the largest size's rise is not resolved)"
            rows.append([task, zip(scan.groups, scan.parameters).map { "\($0.0) \($0.1)" }.joined(separator: ", "), finals, onset])
        }
        guard !rows.isEmpty else { return }
        blocks.append(.text("""
            **Across sizes (plan section 2).** The size onset is the first crossing, in log10(parameters), of the midpoint \
            between chance and the largest size's final EM, with its bootstrap interval. The fits of SCIENCE.md (L(N) = A N^-alpha \
            + C; P ~ (N − N_c)^beta) are not made: this study has \(sizeCount) sizes, the plan allows them only from 4, and this \
            version of the report does not compute them even then (plan section 10).
            """))
        addTable(ReportTable(id: "size-onsets", title: "Final EM per size and the size onset (plan section 2)",
                             source: "items/step_<last>.h5: /<task>/exact_match, /<task>/chance/exact_match; parameters from run.json model",
                             columns: ["task", "sizes (parameters)", "final EM [interval]", "size onset (parameters) [interval]"], rows: rows), into: &blocks)
    }

    // MARK: 7 (plan). Hidden progress

    mutating func hiddenProgress() {
        var blocks: [ReportSection.Block] = [.text("""
            **Rule (plan section 7), per run.** Probe onset: the first probed checkpoint whose score's interval lower end exceeds \
            the step-0 score's upper end and the control score; causal onset: the first checkpoint where the normalisation is \
            defined and some component's attribution interval has its lower end above tau = max(0.2, the largest upper end at \
            step 0). Supported when either is strictly before the lower end of the composite's EM onset interval; not \
            supported when both are at or after the onset; inconclusive otherwise or when one is missing. Readings of this \
            report: the probe onset is the earliest over the series (probe x hook x position) of the probes that count by plan \
            section 11.1: fitted on the composite, with a target the model computes (`intermediate`, `answer` and its digits, \
            `op1`, `op2`, `carry`, `borrow`, `order_dependent`), not one the prompt states; components are the attribution \
            results of kinds attn_out, mlp_out and head_out_* in both directions, of experiments on the composite. Each onset \
            names the series or decision that gives it.
            """)]
        defer { sections.append(ReportSection(heading: "8. Hidden progress (plan section 7)", blocks: blocks)) }
        let found = data.structureSeries()
        if found.probeFiles.isEmpty && found.patchingFiles.isEmpty {
            missing.append("hidden progress (plan section 7): no probe or patching results in the study directory")
            blocks.append(.text("No probe results (`probes/`) and no patching results (`patching/`) in the study directory: hidden progress is not measured; the rest of the report stands."))
            return
        }
        blocks.append(.text("Read: \((found.probeFiles + found.patchingFiles).map { "`\($0)`" }.joined(separator: ", "))."))
        func list(_ s: Set<Int>) -> String { s.isEmpty ? "none" : s.sorted().map(String.init).joined(separator: ", ") }
        blocks.append(.text("Sampled: probes at steps \(list(found.probedSteps)); patching of the composite at steps \(list(found.patchedSteps)) (attribution), exactly at steps \(list(found.exactSteps)). Probe and causal onsets can fall only on these steps, so their resolution is the spacing between them."))
        if !found.notes.isEmpty { blocks.append(.text(found.notes.map { "- \($0)" }.joined(separator: "\n"))) }
        guard let c = data.composite else { missing.append("hidden progress (plan section 7): no composite"); return }
        var rows: [[String]] = []
        for size in itemSizes {
            guard let t = data.outcomes(size: size, task: c, metric: .exactMatch) else { continue }
            let runs = data.runs(ofSize: size)
            for p in t.runs.indices {
                guard let run = runs.first(where: { $0.seed == t.runs[p].seed }) else { continue }
                // Plan 11.1: only counting probes' series; the earliest onset over them is the probe passed on.
                let probes = (found.probes[run.name] ?? [:]).filter { found.countedProbes.contains(String($0.key.prefix { $0 != " " })) }
                let earliest = probes.sorted { $0.key < $1.key }.min { ($0.value.onset ?? Int.max) < ($1.value.onset ?? Int.max) }
                let probe = earliest?.value
                let causal = found.causal[run.name]
                guard let h = try? HiddenProgressReport(composite: t.run(p), probe: probe, causal: causal, settings: settings) else { continue }
                analyses.hiddenProgress[run.name] = h
                let firstDecision = h.causal.filter { $0.onset != nil }.min { $0.onset! < $1.onset! }
                rows.append([run.name, probe == nil ? "not measured" : (h.probeOnset.map { "\($0) (`\(earliest!.key)`)" } ?? "none"),
                             causal == nil ? "not measured" : (firstDecision.map { "\($0.onset!) (`\($0.name)`)" } ?? "none"),
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
}
