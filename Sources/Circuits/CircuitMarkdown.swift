import CircuitRecords
import Foundation

/// The markdown summary of `lens circuit`: every number in it is a field of the JSON next to it.
extension CircuitStudyRecord {
    public func markdown(jsonName: String) -> String {
        var s = "# Circuits\n\n"
        if let r = records.first {
            let t = r.settings
            s += "Every number below is in `\(jsonName)`; each scored graph is an EAP-IG JSON file (`Graph.from_json` reads it) "
                + "with a `meta` block. A cut edge carries the \(r.ablation) ablation (EAP-IG's noising); metric \(r.metric). "
                + "Faithfulness = (m(circuit) - m(all cut)) / (m(clean) - m(all cut)), means over pairs, 95% bootstrap interval over pairs "
                + "(\(t.resamples) resamples). \"The circuit\" of a method: the smallest \(t.selectionPhrase) edge set by |score|, pruned, whose "
                + "faithfulness reaches \(fmt(t.target)) (bisection between the curve's sizes); ACDC's is the one it keeps (tau \(fmt(t.tau, 3))). "
                + "EAP-IG uses \(t.igSteps) steps. Circuits are not searched where the clean and all-cut metrics are not told apart "
                + "(their difference's interval holds 0). Completeness (\(t.completenessSubsets) random subsets) and minimality "
                + "(each edge must lower faithfulness by more than \(fmt(t.minimalityFraction))) are computed for every method's "
                + "circuit at the exact steps.\n\n"
        }
        for r in records {
            s += "## \(r.experiment) on \(r.run)\n\n"
            s += "Task `\(r.task)`, model \(r.model), seed \(r.seed); graph of \(r.graph.nodes) nodes and \(r.graph.edges) edges.\n\n"
            for d in r.decisions {
                s += "### Decision `\(d.decision)` (\(d.pairs) pairs in \(d.layouts) layouts)\n\n"
                s += "| step | clean | all cut | gap interval | EAP circuit | EAP-IG circuit | exact circuit | ACDC circuit |\n"
                s += "|---:|---:|---:|---|---|---|---|---|\n"
                for st in d.steps {
                    func cell(_ name: String) -> String {
                        guard let m = st.methods.first(where: { $0.method == name }) else { return "" }
                        guard let c = m.circuit else {
                            if !st.gapResolved { return "not searched" }
                            if m.method == "acdc" { return "no edge kept at tau \(fmt(r.settings.tau, 3))" }
                            return m.curve == nil ? "scores only" : "none reaches \(fmt(r.settings.target))"
                        }
                        let f = c.faithfulness
                        return "\(c.edges) edges, F \(fmt(f.value)) [\(fmt(f.low)), \(fmt(f.high))]"
                    }
                    s += "| \(st.step) | \(fmt(st.cleanMetric)) | \(fmt(st.ablatedMetric)) | [\(fmt(st.gapLow)), \(fmt(st.gapHigh))] "
                        + "| \(cell("eap")) | \(cell("eap-ig")) | \(cell("exact")) | \(cell("acdc")) |\n"
                }
                s += "\n"
                for st in d.steps where !st.agreement.isEmpty {
                    s += "Step \(st.step), against exact edge patching: "
                    s += st.agreement.map { "\($0.method) Spearman \(fmt($0.spearman)), ROC AUC \(fmt($0.auc)) (\($0.positives) true edges)" }
                        .joined(separator: "; ") + ".\n"
                    if let sweep = st.acdcSweep {
                        s += "ACDC over tau: " + sweep.map { p in
                            "tau \(fmt(p.tau, 3)): " + (p.faithfulness.map { "\(p.edges) edges, F \(fmt($0.value)) [\(fmt($0.low)), \(fmt($0.high))]" } ?? "no edge kept")
                        }.joined(separator: "; ") + ".\n"
                    }
                    for m in st.methods {
                        guard let c = m.circuit else { continue }
                        if let k = c.completeness {
                            s += "Completeness of the \(m.method) circuit: knocked out, the model keeps faithfulness \(fmt(k.knockout)); "
                                + "over \(k.subsets) random subsets K, |F(circuit - K) - F(model - K)| is \(fmt(k.meanGap)) on average, \(fmt(k.maxGap)) at most.\n"
                        }
                        if let n = c.minimality {
                            s += "Minimality of the \(m.method) circuit: \(n.minimal) of \(n.edges) edges lower faithfulness by more than \(fmt(n.fraction)) when removed.\n"
                        }
                    }
                    if let c = st.methods.first(where: { $0.method == r.settings.circuitMethod })?.circuit {
                        if let fig = c.figure { s += "\n![\(r.experiment) \(d.decision) circuit](\(fig))\n\n" }
                        let q = c.faithfulness.perPairQuantiles
                        if q.count == 5 {
                            s += "Per-pair faithfulness (\(c.faithfulness.pairsUsed) pairs): 10/25/50/75/90% quantiles "
                                + q.map { fmt($0) }.joined(separator: " / ") + ".\n"
                        }
                    }
                    s += "\n"
                }
                if let f = d.formation {
                    s += "The step-\(f.circuitStep) \(r.settings.circuitMethod) circuit over training: "
                    s += zip(f.steps, f.faithfulness).map { "\($0): \($1.map { fmt($0) } ?? "-")" }.joined(separator: ", ")
                    s += f.formedAt.map { ". It stays at or above \(fmt(r.settings.target)) from step \($0) on (checkpoint resolution).\n\n" }
                        ?? ". It does not stay at \(fmt(r.settings.target)) or above up to the last step.\n\n"
                } else {
                    s += "No \(r.settings.circuitMethod) circuit at the last step, so none is followed over training.\n\n"
                }
            }
        }
        if !overlaps.isEmpty {
            s += "## Composite circuits against sub-skill circuits\n\n"
            s += "| run | composite | sub-skill | step | edge Jaccard | node Jaccard | mass share | random sets (mean, 95%) |\n|---|---|---|---:|---:|---:|---:|---|\n"
            for o in overlaps {
                for (i, step) in o.steps.enumerated() {
                    guard let edge = o.edgeJaccard[i], let node = o.nodeJaccard[i] else {
                        s += "| \(o.run) | \(o.composite) | \(o.subskill) | \(step) | no circuit | | | |\n"
                        continue
                    }
                    s += "| \(o.run) | \(o.composite) | \(o.subskill) | \(step) | \(fmt(edge)) | \(fmt(node)) "
                        + "| \(o.massShare[i].map { fmt($0) } ?? "-") | \(o.massShareNullMean[i].map { fmt($0) } ?? "-"), \(o.massShareNull95[i].map { fmt($0) } ?? "-") |\n"
                }
            }
            s += "\n\"no circuit\": at that step the composite's or the sub-skill's \(records.first?.settings.circuitMethod ?? "") circuit is missing "
                + "(none reaches the target, or the clean and all-cut metrics are not told apart there).\n\n"
        }
        return s
    }
}

func fmt(_ x: Double, _ digits: Int = 2) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "nan" }
func fmt(_ x: Double?) -> String { x.map { fmt($0) } ?? "undefined" }
