import Figures
import Runs

// The SVG figures of a patching experiment, from its record alone (so `lens report` can redraw them from
// the JSON): heat maps of the last defined checkpoint, curves over training, attention patterns of the
// strongest heads, and, over a study, curves per model size.

extension ExperimentRecord {
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
                    for p in last.attentionPatterns { out.merge(patternFigures(p, l, stem: stem, run: run.run)) { a, _ in a } }
                    for p in last.pathPatching {
                        var spec = HeatmapSpec(title: "\(experiment.name) \(run.run) step \(last.step): path patching, \(p.direction)",
                                               rowLabels: p.senders, columnLabels: p.receivers,
                                               values: p.effect.map { $0.map { $0 ?? .nan } }, xLabel: "receiver", yLabel: "sender",
                                               colorBarLabel: "effect through the direct path")
                        spec.diverging = true
                        out["\(stem)-path-\(p.direction).svg"] = SVG.heatmap(spec)
                    }
                }
                if let p = d.pooled, let last = p.checkpoints.last(where: { $0.metric.normalisationDefined }) {
                    let stem = "\(run.run)/\(d.decision.rawValue)-pooled"
                    let pool = LayoutRecord(layout: -1, length: 0, positionLabels: [], namedPositions: [:],
                                            pairs: PairsRecord(clean: [], corrupted: [], position: [], correct: [], wrong: [], dropped: 0,
                                                               items: [], changedLatents: []), checkpoints: p.checkpoints)
                    for r in last.results {
                        guard let grid = heatGrid(r, pool) else { continue }
                        var spec = HeatmapSpec(title: "\(experiment.name) \(run.run) step \(last.step), \(p.pairs) pairs of \(p.layouts) layouts: "
                                               + "\(r.kind) \(r.direction) (\(r.method))",
                                               rowLabels: grid.rows, columnLabels: grid.columns, values: grid.values, xLabel: grid.xLabel,
                                               yLabel: grid.yLabel, colorBarLabel: "effect (share of clean−corrupted difference)")
                        spec.diverging = true
                        out["\(stem)-\(r.kind)-\(r.direction)-\(r.method).svg"] = SVG.heatmap(spec)
                        out["\(stem)-\(r.kind)-\(r.direction)-\(r.method)-steps.svg"] = curves(r, pool)
                    }
                }
            }
        }
        return out
    }

    /// One heat map per pair of a head's clean attention pattern, destination rows by source columns, each
    /// axis labelled with the pair's own tokens.
    private func patternFigures(_ p: PatternRecord, _ l: LayoutRecord, stem: String, run: String) -> [String: String] {
        let T = p.pattern.shape[1]
        var out: [String: String] = [:]
        for (k, pair) in p.pairs.enumerated() {
            let tokens = (0..<T).map { t in "\(t) " + tokenText(l, text: p.tokens[k][t], at: t) }
            let values = (0..<T).map { d in (0..<T).map { s in p.pattern.values[(k * T + d) * T + s] ?? .nan } }
            var spec = HeatmapSpec(title: "\(experiment.name) \(run): L\(p.layer)H\(p.head) attention, pair \(pair) (clean run)",
                                   rowLabels: tokens, columnLabels: tokens, values: values, xLabel: "source position (attended to)",
                                   yLabel: "destination position", colorBarLabel: "attention probability", range: 0...1)
            spec.compact = true
            out["\(stem)-pattern-L\(p.layer)H\(p.head)-pair\(pair).svg"] = SVG.heatmap(spec)
        }
        return out
    }

    /// The layout's name for a position where it has one, else the pair's own token (spaces shown as ␣).
    private func tokenText(_ l: LayoutRecord, text: String, at t: Int) -> String {
        let label = t < l.positionLabels.count ? l.positionLabels[t] : "·"
        if label != "·" && label.contains(where: { !$0.isWhitespace }) && label.count > 1 { return label }
        return text.replacingOccurrences(of: " ", with: "␣")
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
                        series += LineSeries.seeds(size, x: steps.map(Double.init), perRun: perRun, color: colour)
                    }
                    let name = cellName(cell, last, layout.positionLabels).replacingOccurrences(of: "`", with: "")
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
            return LineSeries(name: cellName(cell.0, last, l.positionLabels).replacingOccurrences(of: "`", with: ""), x: points.map(\.0), y: points.map(\.1), style: .solid, color: SVG.palette[k % 10])
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

}
