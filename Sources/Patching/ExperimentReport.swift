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
                    out.append("| step | m_clean | m_corrupted | m_clean − m_corrupted [95% CI] | effects |")
                    out.append("| ---: | ---: | ---: | --- | --- |")
                    for c in l.checkpoints {
                        let m = c.metric
                        out.append("| \(c.step) | \(num(m.clean)) | \(num(m.corrupted)) | \(num(m.difference)) [\(num(m.differenceCI[0])), "
                                   + "\(num(m.differenceCI[1]))] | \(m.normalisationDefined ? "defined" : "undefined: the interval contains 0") |")
                    }
                    let shown = l.checkpoints.filter(\.metric.normalisationDefined)
                    if !shown.isEmpty {
                        out += ["", "Strongest components (three largest effects per result; exact patching where it ran, else attribution):", "",
                                "| step | kind | direction | method | components: effect [95% CI] |", "| ---: | --- | --- | --- | --- |"]
                        for c in shown { out += topRows(c, l) }
                    }
                    if let last = l.checkpoints.last, !last.logitAttribution.isEmpty {
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
                    }
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
                    let agreements = l.checkpoints.flatMap { c in c.agreement.map { (c.step, $0) } }
                    if !agreements.isEmpty {
                        out += ["", "Attribution against exact patching (per-cell effects):", "",
                                "| step | kind | direction | Pearson | Spearman | top-k overlap |", "| ---: | --- | --- | ---: | ---: | ---: |"]
                        for (step, a) in agreements {
                            out.append("| \(step) | \(a.kind) | \(a.direction) | \(opt(a.pearson)) | \(opt(a.spearman)) | "
                                       + "\(opt(a.topKOverlap)) of \(a.topK) |")
                        }
                    }
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The three largest effects of each result (exact where it ran, else attribution), one row per result.
    private func topRows(_ c: CheckpointRecord, _ l: LayoutRecord) -> [String] {
        let exactKinds = Set(c.results.filter { $0.method == "exact" }.map { "\($0.kind)/\($0.direction)" })
        return c.results.filter { $0.method == "exact" || !exactKinds.contains("\($0.kind)/\($0.direction)") }.map { r in
            let top = r.effect.values.enumerated().compactMap { i, v in v.map { (i, $0) } }.sorted { abs($0.1) > abs($1.1) }.prefix(3)
            let cells = top.map { i, v in
                // The JSON's interval is the normalised value's; the effect of noising is one minus it.
                let (lo, hi) = r.direction == "noising" ? (r.ciHigh.values[i].map { 1 - $0 }, r.ciLow.values[i].map { 1 - $0 })
                                                        : (r.ciLow.values[i], r.ciHigh.values[i])
                return "\(cellName(i, r, l)) \(num(v)) [\(opt(lo)), \(opt(hi))]"
            }
            return "| \(c.step) | \(r.kind) | \(r.direction) | \(r.method) | " + cells.joined(separator: "; ") + " |"
        }
    }

    public func figures() -> [String: String] {
        var out: [String: String] = [:]
        for run in runs {
            for d in run.decisions {
                for l in d.layouts {
                    let stem = "\(run.run)/\(d.decision.rawValue)-layout\(l.layout)"
                    guard let last = l.checkpoints.last(where: { $0.metric.normalisationDefined }) else { continue }
                    for r in last.results {
                        guard let grid = heatGrid(r, l) else { continue }
                        var spec = HeatmapSpec(title: "\(experiment.name) \(run.run) step \(last.step): \(r.kind) \(r.direction) (\(r.method))",
                                               rowLabels: grid.rows, columnLabels: grid.columns,
                                               values: grid.values, xLabel: grid.xLabel, yLabel: grid.yLabel,
                                               colorBarLabel: "effect (share of clean−corrupted difference)")
                        spec.diverging = true
                        out["\(stem)-\(r.kind)-\(r.direction)-\(r.method).svg"] = SVG.heatmap(spec)
                    }
                    for r in last.results { out["\(stem)-\(r.kind)-\(r.direction)-\(r.method)-steps.svg"] = curves(r, l) }
                    for p in last.pathPatching {
                        var spec = HeatmapSpec(title: "\(experiment.name) \(run.run) step \(last.step): path patching, \(p.direction)",
                                               rowLabels: p.senders, columnLabels: p.receivers,
                                               values: p.effect.map { $0.map { $0 ?? .nan } }, xLabel: "receiver", yLabel: "sender",
                                               colorBarLabel: "effect through the direct path")
                        spec.diverging = true
                        out["\(stem)-path-\(p.direction).svg"] = SVG.heatmap(spec)
                    }
                }
            }
        }
        return out
    }

    /// Over the runs of a study: for the largest layout of each decision, the three cells with the largest
    /// mean attribution effect at the last step (attribution runs at every step), one chart per cell and
    /// result: one colour per model size, each seed thin and their mean bold, as in the probe figures.
    public func studyFigures() -> [String: String] {
        guard runs.count > 1, let first = runs.first else { return [:] }
        var out: [String: String] = [:]
        let sizes = runs.map { RunSpec.sizeName(ofRun: $0.run) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for (d, decision) in first.decisions.enumerated() {
            guard let layout = decision.layouts.first else { continue }
            // The same layout in every run (runs of one study share their held-out items, so their layouts).
            let same = runs.compactMap { r -> (String, LayoutRecord)? in
                guard d < r.decisions.count, let l = r.decisions[d].layouts.first(where: {
                    $0.length == layout.length && $0.namedPositions == layout.namedPositions }) else { return nil }
                return (r.run, l)
            }
            for last in layout.checkpoints.last?.results.filter({ $0.method == "attribution" }) ?? [] {
                func result(_ c: CheckpointRecord) -> ResultRecord? {
                    c.results.first { $0.kind == last.kind && $0.direction == last.direction && $0.method == "attribution" }
                }
                let finals = same.compactMap { $0.1.checkpoints.last.flatMap(result) }
                let cells = (0..<last.effect.values.count).map { i -> (Int, Double) in
                    let v = finals.compactMap { value($0, at: unflatten(i, last.shape)) }
                    return (i, v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count))
                }.sorted { abs($0.1) > abs($1.1) }.prefix(3)
                for (cell, _) in cells {
                    var series: [LineSeries] = []
                    for (k, size) in sizes.enumerated() {
                        let mine = same.filter { RunSpec.sizeName(ofRun: $0.0) == size }
                        guard !mine.isEmpty else { continue }
                        let steps = Array(Set(mine.flatMap { $0.1.checkpoints.map(\.step) })).sorted()
                        let colour = SVG.palette[k % SVG.palette.count]
                        // Sizes differ in layers and heads: a cell is its coordinates, absent where a model lacks them.
                        let perRun = mine.map { _, l in steps.map { s in
                            l.checkpoints.first { $0.step == s }.flatMap(result).flatMap { value($0, at: unflatten(cell, last.shape)) } ?? .nan } }
                        for (j, y) in perRun.enumerated() where mine.count > 1 {
                            series.append(LineSeries(name: "\(size): each of \(mine.count) seeds", x: steps.map(Double.init), y: y,
                                                     style: .thin, color: colour, inLegend: j == 0))
                        }
                        let meanY = steps.indices.map { i -> Double in
                            let v = perRun.map { $0[i] }.filter(\.isFinite)
                            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
                        }
                        series.append(LineSeries(name: mine.count > 1 ? "\(size): mean of \(mine.count) seeds" : size,
                                                 x: steps.map(Double.init), y: meanY, style: .solid, color: colour))
                    }
                    let name = cellName(cell, last, layout).replacingOccurrences(of: "`", with: "")
                    let file = name.replacingOccurrences(of: " ", with: "-").filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
                    out["study/\(decision.decision.rawValue)-\(last.kind)-\(last.direction)-\(file).svg"] = SVG.lineChart(LineChartSpec(
                        title: "\(experiment.name) \(decision.decision.rawValue): \(last.kind) \(name), \(last.direction) (attribution)",
                        xLabel: "training step", yLabel: "effect", series: series, xScale: .symlog))
                }
            }
        }
        return out
    }

    /// A result's effect at the given coordinates, nil where its shape has no such cell or the effect is undefined.
    private func value(_ r: ResultRecord, at index: [Int]) -> Double? {
        guard index.count == r.shape.count, zip(index, r.shape).allSatisfy({ $0 < $1 }) else { return nil }
        return r.effect.values[zip(index, r.shape).reduce(0) { $0 * $1.1 + $1.0 }]
    }

    /// The five cells with the largest effect at the last defined checkpoint, over every checkpoint.
    private func curves(_ last: ResultRecord, _ l: LayoutRecord) -> String {
        let top = last.effect.values.enumerated().compactMap { i, v in v.map { (i, $0) } }.sorted { abs($0.1) > abs($1.1) }.prefix(5)
        let series = top.enumerated().map { k, cell in
            let points = l.checkpoints.map { c -> (Double, Double) in
                let r = c.results.first { $0.kind == last.kind && $0.direction == last.direction && $0.method == last.method }
                return (Double(c.step), r?.effect.values[cell.0] ?? .nan)
            }
            return LineSeries(name: cellName(cell.0, last, l).replacingOccurrences(of: "`", with: ""), x: points.map(\.0), y: points.map(\.1), style: .solid, color: SVG.palette[k % 10])
        }
        return SVG.lineChart(LineChartSpec(title: "\(experiment.name): \(last.kind) \(last.direction) (\(last.method)) over training",
                                           xLabel: "training step", yLabel: "effect", series: series, xScale: .symlog))
    }

    /// A result as a 2-D grid: [layer x pos], [layer x head], [layer.head x pos]; nil for 4-D and stacked kinds.
    private func heatGrid(_ r: ResultRecord, _ l: LayoutRecord) -> (rows: [String], columns: [String], values: [[Double]], xLabel: String, yLabel: String)? {
        let v = r.effect.values.map { $0 ?? .nan }
        switch r.axes {
        case ["layer", "pos"]:
            return ((0..<r.shape[0]).map { "L\($0)" }, labels(l), rows(v, r.shape[1]), "position", "layer")
        case ["layer", "head"]:
            return ((0..<r.shape[0]).map { "L\($0)" }, (0..<r.shape[1]).map { "H\($0)" }, rows(v, r.shape[1]), "head", "layer")
        case ["layer", "pos", "head"]:
            let (L, T, H) = (r.shape[0], r.shape[1], r.shape[2])
            let grid = (0..<(L * H)).map { lh in (0..<T).map { t in v[((lh / H) * T + t) * H + lh % H] } }
            return ((0..<(L * H)).map { "L\($0 / H)H\($0 % H)" }, labels(l), grid, "position", "head")
        case ["layer", "head", "dest_pos"]:
            return ((0..<(r.shape[0] * r.shape[1])).map { "L\($0 / r.shape[1])H\($0 % r.shape[1])" }, labels(l), rows(v, r.shape[2]),
                    "destination position", "head")
        default:
            return nil
        }
    }

    private func labels(_ l: LayoutRecord) -> [String] { l.positionLabels.enumerated().map { "\($0.offset) \($0.element)" } }
    private func rows(_ v: [Double], _ width: Int) -> [[Double]] { stride(from: 0, to: v.count, by: width).map { Array(v[$0..<($0 + width)]) } }

    /// A cell's name: its index on each axis, with the position's label.
    private func cellName(_ cell: Int, _ r: ResultRecord, _ l: LayoutRecord) -> String {
        zip(r.axes, unflatten(cell, r.shape)).map { axis, i in
            switch axis {
            case "layer": "L\(i)"
            case "head": "H\(i)"
            case "pos", "dest_pos", "src_pos": "@\(i)`\(i < l.positionLabels.count ? l.positionLabels[i] : "?")`"
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

private func num(_ x: Double) -> String { String(format: "%.3f", x) }
private func opt(_ x: Double?) -> String { x.map(num) ?? "–" }
private func pct(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }
