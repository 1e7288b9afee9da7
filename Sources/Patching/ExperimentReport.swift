import Figures
import Foundation
import Runs

// The markdown summary and SVG figures of a patching experiment, from its record alone (so `lens report`
// can redraw them from the JSON). Every number printed is a field of the JSON next to it.

extension ExperimentRecord {
    public func markdown(jsonName: String) -> String {
        let s = experiment
        var out = ["# Patching: \(s.name)", "", s.question, ""]
        out.append("Task `\(s.task)`, corruption `\(s.corruption.rawValue)`, metric `\(s.metric)` at the decided token "
                   + "(\(metricMeaning(s.metric))), ablation `\(s.ablation)`, directions: "
                   + s.directions.map { $0 == "denoising" ? "denoising (clean activations into the corrupted run: is it sufficient?)"
                                                          : "noising (corrupted activations into the clean run: is it necessary?)" }
                       .joined(separator: ", ") + ".")
        out.append("")
        out.append("Effect = share of the clean−corrupted difference a patch restores (denoising: (m_patched − m_corrupted) / "
                   + "(m_clean − m_corrupted), a ratio of means over pairs) or removes (noising: 1 minus that). Intervals: 95% "
                   + "percentile bootstrap over pairs. Undefined (–) where the interval of m_clean − m_corrupted contains 0: the "
                   + "model does not yet tell the pair apart. Attribution patching is a first-order screen; exact patching confirms it. "
                   + "Every number below is in `\(jsonName)`; per-pair values in the HDF5 file each result names.")
        for run in runs {
            out += ["", "## Run `\(run.run)` (\(run.model.n_layers) layers, d_model \(run.model.d_model), \(run.model.n_heads) heads, seed \(run.seed))"]
            for d in run.decisions {
                let drops = d.droppedByReason.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                out += ["", "### Decision `\(d.decision.rawValue)`: \(d.pairs) pairs from \(d.candidates) held-out items "
                        + "(\(pct(d.coverage)))" + (drops.isEmpty ? "" : "; dropped: " + drops.joined(separator: ", "))]
                for l in d.layouts {
                    out += ["", "Layout \(l.layout): \(l.pairs.clean.count) pairs of \(l.length) tokens; positions: "
                            + l.positionLabels.enumerated().map { "\($0.offset) `\($0.element)`" }.joined(separator: ", "), ""]
                    out += metricTable(l.checkpoints, labels: l.positionLabels)
                    if let last = l.checkpoints.last { out += logitTables(last) }
                    let probeRows = l.checkpoints.flatMap { c in c.probeDirections.map { (c.step, $0) } }
                    if !probeRows.isEmpty {
                        out += ["", "Along probe directions (the probe's subspace at its hook and position: ablated to the pairs' mean in the "
                                + "clean run, share of the difference removed; patched from the clean into the corrupted run, share restored; "
                                + "random subspaces of the same dimension: mean [2.5%, 97.5%] over draws):", "",
                                "| step | probe | hook @ position | dims | ablate | ablate, random | patch | patch, random |",
                                "| ---: | --- | --- | ---: | ---: | --- | ---: | --- |"]
                        for (step, p) in probeRows {
                            func spread(_ v: [Double?]) -> String { "\(opt(v[0])) [\(opt(v[1])), \(opt(v[2]))]" }
                            out.append("| \(step) | \(p.probe) | \(p.hook) @ \(p.position) | \(p.dimensions) | \(opt(p.ablateEffect)) | "
                                       + "\(spread(p.ablateRandom)) | \(opt(p.patchEffect)) | \(spread(p.patchRandom)) |")
                        }
                    }
                    for c in l.checkpoints where c.metric.normalisationDefined {
                        for p in c.pathPatching {
                            var cells: [(String, Double)] = []
                            for (i, s) in p.senders.enumerated() { for (j, r) in p.receivers.enumerated() { if let e = p.effect[i][j] { cells.append(("\(s) → \(r)", e)) } } }
                            let top = cells.sorted { abs($0.1) > abs($1.1) }.prefix(5).map { "\($0.0) \(num($0.1))" }
                            out += ["", "Path patching at step \(c.step), \(p.direction): strongest direct paths (effect): " + top.joined(separator: "; ")]
                        }
                    }
                    out += agreementTable(l.checkpoints)
                    out += patternNote(l)
                }
                if let p = d.pooled {
                    out += ["", "Pooled over all \(p.layouts) layouts of this decision (\(p.pairs) pairs, \(pct(p.coverage)) of the held-out "
                            + "items, including the layouts below min_pairs): the results without a position axis ("
                            + (p.kinds.isEmpty ? "none asked" : p.kinds.map { "`\($0)`" }.joined(separator: ", "))
                            + (experiment.logitAttribution ? ", logit attribution and logit lens" : "") + "), pairs in `layout_pairs` order.", ""]
                    out += metricTable(p.checkpoints, labels: [])
                    if let last = p.checkpoints.last { out += logitTables(last) }
                    out += agreementTable(p.checkpoints)
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The two runs' metric per checkpoint, then the strongest components where effects are defined.
    private func metricTable(_ checkpoints: [CheckpointRecord], labels: [String]) -> [String] {
        var out = ["| step | m_clean | m_corrupted | m_clean − m_corrupted [95% CI] | effects |", "| ---: | ---: | ---: | --- | --- |"]
        for c in checkpoints {
            let m = c.metric
            out.append("| \(c.step) | \(num(m.clean)) | \(num(m.corrupted)) | \(num(m.difference)) [\(num(m.differenceCI[0])), "
                       + "\(num(m.differenceCI[1]))] | \(m.normalisationDefined ? "defined" : "undefined: the interval contains 0") |")
        }
        let shown = checkpoints.filter { $0.metric.normalisationDefined && !$0.results.isEmpty }
        if !shown.isEmpty {
            out += ["", "Strongest components (three largest effects per result; exact patching where it ran, else attribution):", "",
                    "| step | kind | direction | method | components: effect [95% CI] |", "| ---: | --- | --- | --- | --- |"]
            for c in shown { out += topRows(c, labels) }
        }
        return out
    }

    private func agreementTable(_ checkpoints: [CheckpointRecord]) -> [String] {
        let agreements = checkpoints.flatMap { c in c.agreement.map { (c.step, $0) } }
        guard !agreements.isEmpty else { return [] }
        var out = ["", "Attribution against exact patching (per-cell effects):", "",
                   "| step | kind | direction | Pearson | Spearman | top-k overlap |", "| ---: | --- | --- | ---: | ---: | ---: |"]
        for (step, a) in agreements {
            out.append("| \(step) | \(a.kind) | \(a.direction) | \(opt(a.pearson)) | \(opt(a.spearman)) | \(opt(a.topKOverlap)) of \(a.topK) |")
        }
        return out
    }

    /// Which heads' attention patterns the figures show, and why those.
    private func patternNote(_ l: LayoutRecord) -> [String] {
        guard let last = l.checkpoints.last, let first = last.attentionPatterns.first else { return [] }
        return ["", "Attention patterns at step \(last.step) (figures `*-pattern-L*H*-pair*.svg`, clean run, pairs "
                + first.pairs.map(String.init).joined(separator: ", ") + "), heads ranked by \(first.rankedBy): "
                + last.attentionPatterns.map { "L\($0.layer)H\($0.head) (\(num($0.score)))" }.joined(separator: ", ") + "."]
    }

    /// The direct logit attribution (five largest on the clean run) and the logit lens of one checkpoint.
    private func logitTables(_ last: CheckpointRecord) -> [String] {
        guard !last.logitAttribution.isEmpty else { return [] }
        var out: [String] = []
        out += ["", "Direct logit attribution at step \(last.step) (each component's output on the clean-minus-corrupted "
                + "answer direction, final LayerNorm scale frozen; mean [95% CI]; the five largest on the clean run):", "",
                "| component | clean run | corrupted run |", "| --- | ---: | ---: |"]
        let clean = last.logitAttribution[0], other = last.logitAttribution.count > 1 ? last.logitAttribution[1] : nil
        for k in clean.components.indices.sorted(by: { abs(clean.mean[$0]) > abs(clean.mean[$1]) }).prefix(5) {
            out.append("| \(clean.components[k]) | \(num(clean.mean[k])) [\(num(clean.ciLow[k])), \(num(clean.ciHigh[k]))] | "
                       + (other.map { "\(num($0.mean[k])) [\(num($0.ciLow[k])), \(num($0.ciHigh[k]))]" } ?? "–") + " |")
        }
        out += ["", "Logit lens at step \(last.step) (\(experiment.metric) read from each residual stream through ln_final "
                + "and the unembedding; mean [95% CI]):", "", "| residual stream | clean run | corrupted run |", "| --- | ---: | ---: |"]
        for lensRun in [last.logitLens.first].compactMap({ $0 }) {
            let otherLens = last.logitLens.count > 1 ? last.logitLens[1] : nil
            for k in lensRun.components.indices {
                out.append("| \(lensRun.components[k]) | \(num(lensRun.mean[k])) [\(num(lensRun.ciLow[k])), \(num(lensRun.ciHigh[k]))] | "
                           + (otherLens.map { "\(num($0.mean[k])) [\(num($0.ciLow[k])), \(num($0.ciHigh[k]))]" } ?? "–") + " |")
            }
        }
        return out
    }

    /// The three largest effects of each result (exact where it ran, else attribution), one row per result.
    private func topRows(_ c: CheckpointRecord, _ labels: [String]) -> [String] {
        let exactKinds = Set(c.results.filter { $0.method == "exact" }.map { "\($0.kind)/\($0.direction)" })
        return c.results.filter { $0.method == "exact" || !exactKinds.contains("\($0.kind)/\($0.direction)") }.map { r in
            let top = r.effect.values.enumerated().compactMap { i, v in v.map { (i, $0) } }.sorted { abs($0.1) > abs($1.1) }.prefix(3)
            let cells = top.map { i, v in
                // The JSON's interval is the normalised value's; the effect of noising is one minus it.
                let (lo, hi) = r.direction == "noising" ? (r.ciHigh.values[i].map { 1 - $0 }, r.ciLow.values[i].map { 1 - $0 })
                                                        : (r.ciLow.values[i], r.ciHigh.values[i])
                return "\(cellName(i, r, labels)) \(num(v)) [\(opt(lo)), \(opt(hi))]"
            }
            return "| \(c.step) | \(r.kind) | \(r.direction) | \(r.method) | " + cells.joined(separator: "; ") + " |"
        }
    }

    /// A cell's name: its index on each axis, with the position's label.
    func cellName(_ cell: Int, _ r: ResultRecord, _ labels: [String]) -> String {
        zip(r.axes, unflatten(cell, r.shape)).map { axis, i in
            switch axis {
            case "layer": "L\(i)"
            case "head": "H\(i)"
            case "pos", "dest_pos", "src_pos": "@\(i)`\(i < labels.count ? labels[i] : "?")`"
            default: "\(axis)\(i)"
            }
        }.joined(separator: " ")
    }
}

private func metricMeaning(_ m: String) -> String {
    switch m {
    case "logit_diff": "logit of the clean answer token minus that of the corrupted one"
    case "logprob": "log-probability of the clean answer token"
    case "prob": "probability of the clean answer token"
    default: "KL divergence from the clean run's distribution"
    }
}

func num(_ x: Double) -> String { String(format: "%.3f", x) }
func opt(_ x: Double?) -> String { x.map(num) ?? "–" }
private func pct(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }
