import CircuitRecords
import Foundation

// The circuit section (plan section 12): `lens circuit`'s record of the study, when it was run.
extension Builder {
    // MARK: 12 (plan). Circuits

    mutating func circuits() {
        let path = data.directory + "/circuits/circuits.json"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            missing.append("circuit hypothesis (plan section 12): no circuits/circuits.json (run `lens circuit --study` or `lens study`)")
            return
        }
        guard let study = try? JSONDecoder().decode(CircuitStudyRecord.self, from: bytes), let first = study.records.first else {
            missing.append("circuit hypothesis (plan section 12): circuits/circuits.json is not a lens circuit record")
            return
        }
        let s = first.settings
        // what the text states is read from the record: the steps measured, those with exact patching, the graphs
        let steps = Array(Set(study.records.flatMap { $0.decisions.flatMap { $0.steps.map(\.step) } })).sorted()
        let exactSteps = Array(Set(study.records.flatMap { $0.decisions.flatMap {
            $0.steps.filter { $0.methods.contains { $0.method == "exact" } }.map(\.step)
        } })).sorted()
        var graphs: [String] = []
        for r in study.records {
            let g = "\(r.model): \(r.graph.nodes) nodes, \(r.graph.edges) edges"
            if !graphs.contains(g) { graphs.append(g) }
        }
        let exactText = exactSteps.isEmpty ? "Exact edge patching and ACDC were not run"
            : "Exact edge patching and ACDC (tau \(fmt(s.tau))) ran at step(s) \(exactSteps.map(String.init).joined(separator: ", "))"
        var blocks: [ReportSection.Block] = [.text("""
            From `circuits/circuits.json` (`lens circuit`; its own summary is `circuits/circuits.md`, each scored graph an EAP-IG JSON \
            file beside it). A circuit is the smallest \(s.selectionPhrase) edge set by \(s.circuitMethod) whose faithfulness reaches \(fmt(s.target)) \
            (a cut edge carries the experiment's \(first.ablation) ablation); none is searched where the clean and all-cut metrics are \
            not told apart. \(exactText); the last step's circuit is followed back through training (\"forms at\": the first \
            checkpoint from which its faithfulness stays at or above the target). Circuits were measured at steps \
            \(steps.map(String.init).joined(separator: ", ")), so a step here stands for the interval since the checkpoint before it. \
            Graphs: \(graphs.joined(separator: "; ")). EAP-IG approximates exact edge patching (their agreement is in the table); an \
            overlap is of components (heads, MLPs and their edges), not of positions.
            """)]
        var rows: [[String]] = []
        for r in study.records {
            for d in r.decisions {
                guard let last = d.steps.last else { continue }
                func cell(_ m: String) -> String {
                    guard let method = last.methods.first(where: { $0.method == m }) else { return "-" }
                    guard let c = method.circuit else { return last.gapResolved ? "none" : "not searched" }
                    return "\(c.edges) e, F \(fmt(c.faithfulness.value)) [\(fmt(c.faithfulness.low)), \(fmt(c.faithfulness.high))]"
                }
                let agree = last.agreement.map { "\($0.method) ρ \(fmt($0.spearman)), AUC \(fmt($0.auc))" }.joined(separator: "; ")
                let behaviour = r.isComposite ? analyses.hiddenProgress[r.run]?.behaviour.t50.map { stepCell($0.step) } ?? "no onset" : ""
                rows.append([r.run, "\(r.experiment)/\(d.decision)", String(last.step), "[\(fmt(last.gapLow)), \(fmt(last.gapHigh))]",
                             cell(s.circuitMethod), cell("exact"), cell("acdc"), agree.isEmpty ? "-" : agree,
                             d.formation.map { $0.formedAt.map(String.init) ?? "not formed" } ?? "-", behaviour])
            }
        }
        addTable(ReportTable(id: "circuits", title: "Each experiment's circuit at the last step, and when it forms",
                             source: "circuits/circuits.json: records[].decisions[].steps[-1].gapLow/gapHigh, .methods[].circuit.edges/.faithfulness.value/.low/.high, .agreement[].spearman/.auc; decisions[].formation.formedAt; behaviour t50 from the hidden-progress table",
                             columns: ["run", "experiment/decision", "step", "clean − all cut (95%)", "\(s.circuitMethod) circuit", "exact circuit",
                                       "ACDC circuit", "against exact", "forms at", "composite EM t50"], rows: rows), into: &blocks)
        let h = CircuitHypothesisReport(study)
        analyses.circuits = h
        if h.comparisons.isEmpty {
            blocks.append(.text("No composite decision was compared with a sub-skill: " + (h.compositesWithCircuit.isEmpty
                ? "no composite decision has a circuit at the last step (\(h.compositesWithoutCircuit.joined(separator: ", ")))."
                : "no sub-skill experiment was run beside the composite.")))
        } else {
            addTable(ReportTable(id: "circuit-reuse", title: "Composite circuits against sub-skill circuits at the last step",
                                 source: "circuits/circuits.json: overlaps[].massShare/.massShareNull95 (last step), records[].decisions[].formation.formedAt",
                                 columns: ["run", "composite", "sub-skill", "mass share", "random sets, 95%", "reuses", "composite forms", "sub-skill forms", "order"],
                                 rows: h.comparisons.map { c in
                                     [c.run, c.composite, c.subskill, c.massShare.map { fmt($0) } ?? "-", c.null95.map { fmt($0) } ?? "-",
                                      c.reuses ? "yes" : "no", c.compositeFormed.map(String.init) ?? "-", c.subskillFormed.map(String.init) ?? "-", c.order]
                                 }), into: &blocks)
            let runs = Array(Set(study.overlaps.map(\.run))).sorted()
            blocks.append(.text("Overlap over training, per run: " + runs.map { "[\($0)](circuits/\($0)/overlap.svg)" }.joined(separator: ", ") + "."))
        }
        blocks.append(.text("**Verdict (plan section 12)**: \(verdictWord(h.decision.verdict)): \(h.decision.because)."))
        sections.append(ReportSection(heading: "9. Circuits (plan section 12)", blocks: blocks))
    }
}
