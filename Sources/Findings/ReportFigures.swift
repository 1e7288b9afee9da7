import Figures
import Foundation
import Runs
import Skills

// Section 2's figures: one per task and metric, each size in its colour, its seeds thin, their mean bold,
// chance dashed, on the symlog step axis (STYLE.md: log-spaced checkpoints get a log step axis).

enum ReportFigures {
    /// `value` and `chance` of `tasks.<task>.overall` in every run's metrics.jsonl.
    static func curve(data: StudyData, task: String, label: String, value: KeyPath<MetricSummary, Double>,
                      chance: KeyPath<MetricSummary, Double>, yRange: ClosedRange<Double>?) -> String {
        var series: [LineSeries] = []
        var chanceSteps: [Double] = [], chanceValues: [Double] = []
        for (k, size) in data.sizes.enumerated() {
            let runs = data.runs(ofSize: size)
            let colour = SVG.palette[k % SVG.palette.count]
            let steps = Array(Set(runs.flatMap { $0.metrics.map(\.step) })).sorted()
            let perRun: [[Double]] = runs.map { r in
                let byStep = Dictionary(r.metrics.compactMap { m in m.tasks[task].map { (m.step, $0.overall[keyPath: value]) } }, uniquingKeysWith: { a, _ in a })
                return steps.map { byStep[$0] ?? .nan }
            }
            series += LineSeries.seeds(size, x: steps.map(Double.init), perRun: perRun, color: colour)
            if chanceSteps.count < steps.count, let r = runs.first {
                chanceSteps = r.metrics.compactMap { $0.tasks[task] != nil ? Double($0.step) : nil }
                chanceValues = r.metrics.compactMap { $0.tasks[task]?.overall[keyPath: chance] }
            }
        }
        if !chanceSteps.isEmpty {
            series.append(LineSeries(name: "chance", x: chanceSteps, y: chanceValues, style: .dashed, color: "#555555"))
        }
        return SVG.lineChart(LineChartSpec(title: "\(task): \(label) over training, by size", xLabel: "training step (symlog)",
                                           yLabel: label, series: series, xScale: .symlog, yRange: yRange))
    }
}
