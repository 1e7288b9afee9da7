import Foundation
import Runs
import Skills

// Plan section 9: one verdict line per hypothesis, the threats to validity, what the report lacks.
extension Builder {
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
        verdicts.append(line("circuit hypothesis", "12", analyses.circuits?.decision,
                             missingWhy: "not measured: " + whyNot("circuit hypothesis")))
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
        sections.append(ReportSection(heading: "10. Verdicts (plan section 9)", blocks: blocks))
    }
}
