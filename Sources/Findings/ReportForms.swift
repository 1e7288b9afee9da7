import Figures
import Foundation

// Plan section 8: the direct answer (`multistep`, the `cot` study) against the scratchpad
// (`multistep_pad`, the default study), one study each (never both in one model). Descriptive, as the plan
// is: each form's composite onset and final EM per size (section 1), its size onset (section 2), and both
// forms' EM at the last step both studies evaluated, so the two are also compared at one training budget.

/// One form of the composite in one study.
public struct CompositeForm: Sendable, Codable, Equatable {
    public var study: String
    public var directory: String
    /// `multistep_pad` (scratchpad) or `multistep` (direct answer).
    public var task: String
    public var lastStep: Int
    public var seeds: Int
    /// Per size with item outcomes, by parameter count: the composite's EM onset report (section 1).
    public var onsets: [OnsetReport]
    /// EM at `FormComparison.matchedStep`, per size in the order of `onsets`; nil where not evaluated.
    public var atMatchedStep: [Estimate?]
    /// Section 2 on final EM; nil with fewer than two sizes.
    public var sizes: SizeScan?
    /// Per size: its checkpoints and its EM curve (mean over seeds of each run's mean over items).
    public var steps: [[Int]]
    public var curves: [[Double]]

    public var form: String { task == "multistep" ? "direct" : "scratchpad" }
}

public struct FormComparison: Sendable, Codable, Equatable {
    public var forms: [CompositeForm]
    /// The last step at which both studies evaluated their composite (nil when they share none).
    public var matchedStep: Int?
}

extension TaskOutcomes {
    /// Per checkpoint: the mean over runs of each run's mean over items (a size's curve, plan section 0).
    var meanCurve: [Double] {
        steps.indices.map { k in
            runs.map { r in r.values.map { $0[k] }.reduce(0, +) / Double(max(1, r.values.count)) }.reduce(0, +) / Double(max(1, runs.count))
        }
    }

    /// The checkpoints up to and including `step` (which must be one of them): the curve as it stood then.
    func through(step: Int) -> TaskOutcomes? {
        guard let k = steps.firstIndex(of: step) else { return nil }
        var cut = self
        cut.steps = Array(steps[...k])
        cut.runs = runs.map { RunOutcomes(seed: $0.seed, values: $0.values.map { Array($0[...k]) }) }
        return cut
    }
}

extension StudyData {
    /// Sizes with item outcomes for the composite, by parameter count.
    var compositeSizes: [String] {
        guard let c = composite else { return [] }
        return sizes.filter { outcomes(size: $0, task: c, metric: .exactMatch) != nil }.sorted { parameters(ofSize: $0) < parameters(ofSize: $1) }
    }
}

extension FormComparison {
    /// Both studies' composites; throws when they train the same form or one has no composite items.
    public init(_ a: StudyData, _ b: StudyData, settings: BootstrapSettings) throws {
        guard let ca = a.composite, let cb = b.composite else {
            throw FindingsError.invalid("\(a.composite == nil ? a.directory : b.directory): the study trains no composite (multistep or multistep_pad)")
        }
        guard ca != cb else { throw FindingsError.invalid("\(b.directory): trains the same form as \(a.directory) (\(ca)); section 8 compares the direct answer with the scratchpad") }
        let studies = [a, b].sorted { ($0.composite == "multistep_pad" ? 0 : 1) < ($1.composite == "multistep_pad" ? 0 : 1) }
        func steps(_ d: StudyData) -> Set<Int> {
            Set(d.compositeSizes.compactMap { d.outcomes(size: $0, task: d.composite!, metric: .exactMatch)?.steps }.flatMap { $0 })
        }
        let matchedStep = steps(studies[0]).intersection(steps(studies[1])).max()
        self.matchedStep = matchedStep
        forms = try studies.map { d in
            let c = d.composite!
            let sized = d.compositeSizes.compactMap { s in d.outcomes(size: s, task: c, metric: .exactMatch).map { (s, $0) } }
            guard !sized.isEmpty else { throw FindingsError.invalid("\(d.directory): no item outcomes for \(c)") }
            let onsets = try sized.map { try OnsetReport($0.1, settings: settings) }
            let matched: [Estimate?] = try sized.map { s in
                guard let m = matchedStep, let cut = s.1.through(step: m) else { return nil }
                return try OnsetReport(cut, settings: settings).final
            }
            let scan = sized.count >= 2 ? try SizeScan(sized.map { SizedOutcomes(parameters: d.parameters(ofSize: $0.0), outcomes: $0.1) }, settings: settings) : nil
            return CompositeForm(study: d.runs[0].spec.study, directory: d.directory, task: c, lastStep: sized.map { $0.1.steps.last! }.max()!,
                                 seeds: sized.map { $0.1.runs.count }.min()!, onsets: onsets, atMatchedStep: matched, sizes: scan,
                                 steps: sized.map { $0.1.steps }, curves: sized.map { $0.1.meanCurve })
        }
    }
}

extension Builder {
    // MARK: 8 (plan). Direct answer against scratchpad

    mutating func forms() {
        guard let other = options.compare else {
            missing.append("direct against scratchpad (plan section 8): no study of the other form given (lens report --compare DIR)")
            return
        }
        var blocks: [ReportSection.Block] = [.text("""
            **Plan section 8.** The direct answer (`multistep`) and the scratchpad (`multistep_pad`) are trained in separate \
            studies (one form per model: they share their prompts). For each form: the composite's EM onset and final EM per \
            size (section 1), the size onset on final EM (section 2: the first crossing of the midpoint between chance and the \
            largest size's final EM, in parameters), and both forms' EM at the last step both studies evaluated (the same \
            training budget). Descriptive: the plan states no verdict rule for this comparison. Intervals are each study's own \
            bootstrap (the studies are independent).
            """)]
        defer { sections.append(ReportSection(heading: "8b. Direct answer against scratchpad (plan section 8)", blocks: blocks)) }
        let comparison: FormComparison
        do { comparison = try FormComparison(data, other, settings: settings) } catch {
            missing.append("direct against scratchpad (plan section 8): \(error)")
            blocks.append(.text("Not computed: \(error)."))
            return
        }
        analyses.forms = comparison
        blocks.append(.text("Studies: " + comparison.forms.map { "`\($0.study)` (`\($0.directory)`, \($0.form): `\($0.task)`, \($0.lastStep) steps, \($0.seeds) seeds per size at the fewest)" }.joined(separator: "; ") + "."))
        var rows: [[String]] = []
        for f in comparison.forms {
            for (o, m) in zip(f.onsets, f.atMatchedStep) {
                let t50: String
                if let t = o.t50 {
                    t50 = (t.crossing.isCensored ? "at or before " : "") + stepCell(t.step) + " " + (t.stepInterval.map { "[\(stepCell($0.low)), \(stepCell($0.high))]" } ?? fmt(t.interval))
                } else { t50 = "no onset" }
                let note = o.times == nil ? "rise not resolved by step \(f.lastStep)" : (o.times!.partialRise ? "still rising at the last checkpoint" : "")
                rows.append([f.form, f.study, o.group, String(o.seeds), String(o.resolution.items), cell(o.final), t50,
                             m.map(cell) ?? "not evaluated", note])
            }
        }
        addTable(ReportTable(id: "forms", title: "The composite's two forms: EM onset, final EM and EM at the matched step, per size",
                             source: "<study>/<run>/items/step_*.h5: /multistep_pad/exact_match (scratchpad study), /multistep/exact_match (direct study); chance: /<task>/chance/exact_match",
                             columns: ["form", "study", "size", "seeds", "n", "final EM", "t50 (step) [interval]",
                                       "EM at step \(comparison.matchedStep.map(String.init) ?? "-")", "note"], rows: rows), into: &blocks)
        let path = "\(options.figuresDirectory)/forms-em.svg"
        figures.append((path, Self.formsFigure(comparison)))
        blocks.append(.figure(path, "the composite's exact match over training, scratchpad (solid) and direct answer (dotted), by size"))
        var scanRows: [[String]] = []
        for f in comparison.forms {
            guard let s = f.sizes else { scanRows.append([f.form, "-", "one size: no size onset"]); continue }
            let onset = s.sizeOnset.map { o in
                parametersCell(o, unit: " parameters")
            } ?? "no size onset (the largest size's rise is not resolved)"
            scanRows.append([f.form, zip(s.groups, s.parameters).map { "\($0.0) \($0.1)" }.joined(separator: ", "), onset])
        }
        addTable(ReportTable(id: "forms-size-onset", title: "Size onset of each form on final EM (plan section 2)",
                             source: "items/step_<last>.h5: /<composite>/exact_match; parameters from run.json model",
                             columns: ["form", "sizes (parameters)", "size onset [interval]"], rows: scanRows), into: &blocks)
        for f in comparison.forms where f.onsets.allSatisfy({ $0.times == nil }) {
            blocks.append(.text("**The \(f.form) form did not emerge** within its budget: no size's rise is resolved after \(f.lastStep) steps (sizes \(f.onsets.map(\.group).joined(separator: ", ")), \(f.seeds) seeds per size at the fewest)."))
        }
    }

    /// Each size's mean EM curve (over its seeds and items, from the item outcomes), scratchpad solid and
    /// direct dotted in the size's colour, on the symlog step axis.
    static func formsFigure(_ c: FormComparison) -> String {
        var series: [LineSeries] = []
        var colours: [String: String] = [:]
        for f in c.forms {
            for (o, (steps, curve)) in zip(f.onsets, zip(f.steps, f.curves)) {
                let colour = colours[o.group] ?? SVG.palette[colours.count % SVG.palette.count]
                colours[o.group] = colour
                series.append(LineSeries(name: "\(o.group) \(f.form)", x: steps.map(Double.init), y: curve,
                                         style: f.form == "direct" ? .dotted : .solid, color: colour))
            }
        }
        return SVG.lineChart(LineChartSpec(title: "composite exact match over training: scratchpad and direct answer", xLabel: "training step (symlog)",
                                           yLabel: "exact match", series: series, xScale: .symlog, yRange: 0...1))
    }
}
