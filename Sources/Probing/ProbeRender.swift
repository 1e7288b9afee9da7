import Foundation

extension ProbeReport {
    /// A markdown table, one row per cell: the score with its interval and every baseline beside it.
    public func markdown() -> String {
        let metric = spec.kind == .ridge ? "R²" : "accuracy"
        var s = "## Probe `\(spec.name)`: \(spec.question)\n\n"
        s += "Target `/labels/\(spec.target)`, \(spec.kind.rawValue) probe, test fraction \(spec.testFraction), seed \(spec.seed)."
        s += spec.control ? " Selectivity = \(metric) − control \(metric) (Hewitt & Liang 2019; one random control label per `\(spec.controlType)`).\n\n" : "\n\n"
        s += "| run | step | hook | position | \(metric) [95% CI] | majority | step 0 | control | selectivity | λ | n train/test |\n"
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

    /// SVG figures by file name: a hook x position heatmap per (run, checkpoint), and the score over
    /// training steps per (hook, position), one line per model size (mean over seeds), with the
    /// control task and majority baseline dashed.
    public func figures() -> [String: String] {
        var out: [String: String] = [:]
        let metric = spec.kind == .ridge ? "R²" : "accuracy"
        let hooks = Array(Set(cells.map(\.hook))).sorted { natural($0, $1) }
        let positions = orderedPositions()
        for key in Set(cells.map { "\($0.run)|\($0.step)" }).sorted() {
            let parts = key.split(separator: "|"), run = String(parts[0]), step = Int(parts[1])!
            let values = hooks.map { h in positions.map { p in
                cells.first { $0.run == run && $0.step == step && $0.hook == h && $0.position == p }?.result.score ?? .nan } }
            out["\(spec.name)-heatmap-\(run)-step\(String(format: "%06d", step)).svg"] = SVG.heatmap(HeatmapSpec(
                title: "\(spec.name): \(metric), \(run) step \(step)", rowLabels: hooks, columnLabels: positions, values: values,
                colorBarLabel: "test \(metric)", range: spec.kind == .ridge ? nil : 0...1))
        }
        let sizes = Array(Set(cells.map { sizeName($0.run) })).sorted()
        for h in hooks {
            for p in positions {
                var series: [LineSeries] = []
                for size in sizes {
                    let steps = Array(Set(cells.filter { sizeName($0.run) == size && $0.hook == h && $0.position == p }.map(\.step))).sorted()
                    func mean(_ f: (ProbeCell) -> Double?) -> [Double] {
                        steps.map { s in
                            let v = cells.filter { sizeName($0.run) == size && $0.hook == h && $0.position == p && $0.step == s }.compactMap(f)
                            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
                        }
                    }
                    let x = steps.map { Double($0) }
                    series.append(LineSeries(name: size, x: x, y: mean { $0.result.score }))
                    if spec.control { series.append(LineSeries(name: "\(size) control", x: x, y: mean { $0.result.controlScore }, dashed: true)) }
                    series.append(LineSeries(name: "\(size) majority", x: x, y: mean { $0.result.baseline }, dashed: true))
                }
                guard !series.isEmpty else { continue }
                let safeHook = h.replacingOccurrences(of: "/", with: "_")
                out["\(spec.name)-steps-\(safeHook)-\(p).svg"] = SVG.lineChart(LineChartSpec(
                    title: "\(spec.name): \(metric) at \(h), position \(p)", xLabel: "training step", yLabel: "test \(metric)",
                    series: series, logX: false, yRange: spec.kind == .ridge ? nil : 0...1))
            }
        }
        return out
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
