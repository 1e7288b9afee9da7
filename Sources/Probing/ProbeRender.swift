import Figures
import Foundation
import Tensors

extension ProbeReport {
    /// A markdown table, one row per cell: the score with its interval and every baseline beside it.
    public func markdown() -> String {
        let metric = spec.kind == .ridge ? "R²" : "accuracy"
        var s = "## Probe `\(spec.name)`: \(spec.question)\n\n"
        s += "Target `/labels/\(spec.target)`, \(spec.kind.rawValue) probe, test fraction \(spec.testFraction), seed \(spec.seed)."
        let selectivity = Selectivity.header(spec.kind)
        s += spec.control ? " Selectivity = \(selectivity) (Hewitt & Liang 2019; one random control label per `\(spec.controlType)`"
            + (spec.kind == .ridge ? "; both R² floored at 0, so it lies in [-1, 1]" : "") + ").\n\n" : "\n\n"
        s += "| run | step | hook | position | \(metric) [95% CI] | majority | step 0 | control | selectivity: \(selectivity) | λ | n train/test |\n"
        s += "| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "–" }
        for c in cells {
            let r = c.result
            s += "| \(c.run) | \(c.step) | `\(c.hook)` | \(c.position) | \(f(r.score)) [\(f(r.ciLow)), \(f(r.ciHigh))]"
            s += "\(r.converged ? "" : " ⚠︎") | \(f(r.baseline)) | \(f(c.untrainedScore)) | \(f(r.controlScore)) | \(f(r.selectivity))"
            s += " | \(String(format: "%.0e", r.lambda)) | \(r.nTrain)/\(r.nTest) |\n"
        }
        if !warnings.isEmpty {
            s += "\nWarnings (⚠︎ = did not converge):\n\n" + warnings.map { "- \($0)" }.joined(separator: "\n") + "\n"
        }
        return s
    }

    /// SVG figures by path relative to the output directory:
    /// - `<name>-steps-<hook>-<position>.svg`: the score over training steps (symlog step axis), one
    ///   colour per model size: the mean over its seeds bold, each seed thin, the control task dashed,
    ///   the majority baseline dotted. Only sizes with a probe at that hook appear.
    /// - `<name>/heatmaps/<run>/step_<N>.svg`: hook x position per checkpoint of every run (many
    ///   files, hence a folder per probe and run).
    public func figures() -> [String: String] {
        var out: [String: String] = [:]
        let metric = spec.kind == .ridge ? "R²" : "accuracy"
        let hooks = Array(Set(cells.map(\.hook))).sorted { natural($0, $1) }
        let positions = orderedPositions()
        for key in Set(cells.map { "\($0.run)|\($0.step)" }).sorted() {
            let parts = key.split(separator: "|"), run = String(parts[0]), step = Int(parts[1])!
            let values = hooks.map { h in positions.map { p in
                cells.first { $0.run == run && $0.step == step && $0.hook == h && $0.position == p }?.result.score ?? .nan } }
            out[Self.heatmapPath(probe: spec.name, run: run, step: step)] = SVG.heatmap(HeatmapSpec(
                title: "\(spec.name): \(metric), \(run) step \(step)", rowLabels: hooks, columnLabels: positions, values: values,
                colorBarLabel: "test \(metric)", range: spec.kind == .ridge ? nil : 0...1))
        }
        let sizes = sizeOrder()
        for h in hooks {
            for p in positions {
                let here = cells.filter { $0.hook == h && $0.position == p }
                let series = stepSeries(here, sizes: sizes)
                guard !series.isEmpty else { continue }
                let safeHook = h.replacingOccurrences(of: "/", with: "_")
                out["\(spec.name)-steps-\(safeHook)-\(p).svg"] = SVG.lineChart(LineChartSpec(
                    title: "\(spec.name): \(metric) at \(h), position \(p)", xLabel: "training step (optimizer updates)",
                    yLabel: spec.kind == .ridge ? "test R² (0 = predicting the mean)" : "test accuracy (fraction correct)",
                    series: series, xScale: .symlog, yRange: spec.kind == .ridge ? nil : 0...1))
            }
        }
        return out
    }

    public static func heatmapPath(probe: String, run: String, step: Int) -> String {
        "\(probe)/heatmaps/\(run)/" + String(format: "step_%06d.svg", step)
    }

    /// Writes `figures()` under `directory`, creating the sub-folders; returns how many were written.
    public func writeFigures(into directory: String) throws -> Int {
        let figures = figures()
        for (name, svg) in figures {
            let path = (directory as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(Data(svg.utf8), to: path)
        }
        return figures.count
    }

    /// Model sizes from smallest to largest (by probed width, then name), so a size keeps its colour
    /// in every figure of the report, including those where it has no line.
    func sizeOrder() -> [String] {
        var width: [String: Int] = [:]
        for c in cells { width[sizeName(c.run)] = max(width[sizeName(c.run)] ?? 0, c.result.nFeatures) }
        return width.keys.sorted { (width[$0]!, $0) < (width[$1]!, $1) }
    }

    /// The curves of one (hook, position): per size with cells there, its seeds (thin), their mean
    /// (bold) and the control's mean (dashed); the majority baseline once if every size shares it.
    func stepSeries(_ here: [ProbeCell], sizes: [String]) -> [LineSeries] {
        var series: [LineSeries] = [], majorities: [(String, [Double], [Double], String)] = []
        for (k, size) in sizes.enumerated() {
            let mine = here.filter { sizeName($0.run) == size }
            guard !mine.isEmpty else { continue }
            let colour = SVG.palette[k % SVG.palette.count]
            let runs = Array(Set(mine.map(\.run))).sorted { natural($0, $1) }
            let steps = Array(Set(mine.map(\.step))).sorted()
            let x = steps.map(Double.init)
            func mean(_ f: (ProbeCell) -> Double?) -> [Double] {
                steps.map { s in
                    let v = mine.filter { $0.step == s }.compactMap(f)
                    return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
                }
            }
            if runs.count > 1 {
                for (j, run) in runs.enumerated() {
                    let y = steps.map { s in mine.first { $0.run == run && $0.step == s }?.result.score ?? .nan }
                    series.append(LineSeries(name: "\(size): each of \(runs.count) seeds", x: x, y: y, style: .thin, color: colour, inLegend: j == 0))
                }
                series.append(LineSeries(name: "\(size): mean of \(runs.count) seeds", x: x, y: mean { $0.result.score }, style: .solid, color: colour))
            } else {
                series.append(LineSeries(name: "\(size) (\(runs[0]))", x: x, y: mean { $0.result.score }, style: .solid, color: colour))
            }
            if spec.control {
                series.append(LineSeries(name: "\(size): control task\(runs.count > 1 ? ", mean" : "")", x: x,
                                         y: mean { $0.result.controlScore }, style: .dashed, color: colour))
            }
            majorities.append((size, x, mean { $0.result.baseline }, colour))
        }
        // The baseline depends only on the items and the split, which every run of a study shares: one line, not one per size.
        let baselineName = spec.kind == .ridge ? "mean predictor" : "majority class"
        let values = Set(majorities.flatMap { $0.2.filter(\.isFinite).map { ($0 * 1e9).rounded() } })
        if values.count == 1, let widest = majorities.max(by: { $0.1.count < $1.1.count }) {
            series.append(LineSeries(name: baselineName, x: widest.1, y: widest.2, style: .dotted, color: "#555555"))
        } else {
            for m in majorities { series.append(LineSeries(name: "\(m.0): \(baselineName)", x: m.1, y: m.2, style: .dotted, color: m.3)) }
        }
        return series
    }

    func orderedPositions() -> [String] {
        var seen: [String] = []
        for c in cells where !seen.contains(c.position) { seen.append(c.position) }
        return seen
    }
}

/// "base-s2" -> "base": runs of one model size differ only in their seed suffix.
func sizeName(_ run: String) -> String {
    if let r = run.range(of: "-s", options: .backwards), Int(run[r.upperBound...]) != nil { return String(run[..<r.lowerBound]) }
    return run
}

/// "blocks.2.x" sorts after "blocks.10.x"? No: numbers compare as numbers.
func natural(_ a: String, _ b: String) -> Bool { a.compare(b, options: .numeric) == .orderedAscending }
