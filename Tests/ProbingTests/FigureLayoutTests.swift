import Foundation
import Testing
import Tensors
import TestSupport
@testable import Figures
@testable import Probing

/// The geometry of the report figures: legends list only what is drawn, the step axis places the
/// log-spaced checkpoints (and step 0) in order inside the plot, titles fit their canvas, and heat
/// maps land in a folder per probe and run.
@Suite struct FigureLayoutTests {
    /// The default study's checkpoint steps (dense_until 1000, dense_count 6, every 500, 7000 steps).
    static let steps = [0, 3, 10, 32, 100, 316, 1000] + stride(from: 1500, through: 7000, by: 500).map { $0 }

    /// A report shaped like the default study's: tiny has one layer (no blocks.1), small one seed, base two.
    static func report(kind: ProbeKind = .multiclass) throws -> ProbeReport {
        var rng = RNG(seed: 3)
        let n = 40, d = 2
        let x = (0..<(n * d)).map { _ in Float(rng.normal()) }
        let template = try fitProbe(features: x, n: n, d: d, labels: (0..<n).map { Int32($0 % 2) }, kind: .binary,
                                    trainIdx: Array(0..<30), testIdx: Array(30..<n), lambda: .fixed(0.01),
                                    controlKeys: (0..<n).map { .int($0 % 5) })
        let runs: [(run: String, width: Int, layers: Int)] = [("tiny-s1", 16, 1), ("tiny-s2", 16, 1), ("small-s1", 32, 2),
                                                               ("base-s1", 64, 2), ("base-s2", 64, 2)]
        var cells: [ProbeCell] = []
        for (k, r) in runs.enumerated() {
            for layer in 0..<r.layers {
                for step in steps {
                    var result = template
                    result.nFeatures = r.width
                    result.score = min(1, 0.3 + Double(step) / 8000 + 0.01 * Double(k + layer))
                    result.controlScore = 0.3
                    result.baseline = 0.25
                    cells.append(ProbeCell(run: r.run, step: step, file: "", hook: "blocks.\(layer).hook_resid_post",
                                           position: "equals", result: result, trainRows: [], testRows: [], untrainedScore: nil))
                }
            }
        }
        let spec = ProbeSpec(name: "answer_tens", question: "q", target: "answer_tens", kind: kind,
                             hooks: ["blocks.*.hook_resid_post"], positions: [.named("equals")])
        return ProbeReport(spec: spec, cells: cells, warnings: [])
    }

    static func legendNames(_ series: [LineSeries]) -> [String] {
        let spec = LineChartSpec(title: "t", xLabel: "x", yLabel: "y", series: series, xScale: .symlog)
        return LineChartLayout(spec).legend.map { series[$0].name }
    }

    @Test func legendListsOnlySizesWithALine() throws {
        let report = try Self.report()
        let sizes = report.sizeOrder()
        #expect(sizes == ["tiny", "small", "base"], "smallest first, by probed width")
        let layer1 = Self.legendNames(report.stepSeries(report.cells.filter { $0.hook == "blocks.1.hook_resid_post" }, sizes: sizes))
        #expect(layer1 == ["small (small-s1)", "small: control task", "base: each of 2 seeds", "base: mean of 2 seeds",
                           "base: control task, mean", "majority class"])
        let layer0 = Self.legendNames(report.stepSeries(report.cells.filter { $0.hook == "blocks.0.hook_resid_post" }, sizes: sizes))
        #expect(layer0.filter { $0.hasPrefix("tiny") } == ["tiny: each of 2 seeds", "tiny: mean of 2 seeds", "tiny: control task, mean"])
        // The rendered figure agrees: no tiny entry where tiny has no layer, one thin line per seed.
        let svg = try #require(report.figures()["answer_tens-steps-blocks.1.hook_resid_post-equals.svg"])
        #expect(!svg.contains(">tiny"))
        #expect(svg.components(separatedBy: "stroke-opacity=\"0.45\"").count - 1 == 2 + 1, "two seed lines and their legend sample")
        // A series with no finite point is drawn nowhere, so it is not listed either.
        let empty = Self.legendNames([LineSeries(name: "empty", x: [0, 10], y: [.nan, .nan]), LineSeries(name: "full", x: [0, 10], y: [0.1, 0.2])])
        #expect(empty == ["full"])
    }

    @Test func symlogAxisPlacesEveryCheckpointInOrderInsideThePlot() throws {
        let x = Self.steps.map(Double.init)
        let spec = LineChartSpec(title: "t", xLabel: "training step", yLabel: "accuracy",
                                 series: [LineSeries(name: "a", x: x, y: x.map { $0 / 7000 })], xScale: .symlog, yRange: 0...1)
        let g = LineChartLayout(spec)
        let px = x.map { g.px($0)! }
        #expect(zip(px, px.dropFirst()).allSatisfy { $0 < $1 }, "monotonic: \(px)")
        #expect(px.first! >= g.left && px.last! <= g.left + g.plotW, "step 0 and the last step inside the plot")
        #expect(g.omitted == 0, "step 0 is placed, not dropped")
        // Log-spaced: 3 -> 30 -> 300 are equal steps, and step 0 sits one such step left of 3.
        let decade = g.px(30)! - g.px(3)!
        #expect(abs((g.px(300)! - g.px(30)!) - decade) < 1e-9 && abs((g.px(3)! - g.px(0)!) - decade) < 1e-9)
        // Early checkpoints are spread out: 0..100 takes more than a third of the width, not 1/70 of it.
        #expect(g.px(100)! - g.px(0)! > g.plotW / 3)
        // Ticks carry real step numbers, inside the plot.
        #expect(g.xTicks.map(\.1) == ["0", "10", "100", "1000"])
        for (t, _) in g.xTicks { #expect(g.px(t)! >= g.left && g.px(t)! <= g.left + g.plotW) }
        let svg = SVG.lineChart(spec)
        #expect(svg.contains("training step (log scale; linear from 0 to 3)"))
        // The log scale still drops x <= 0 and says so.
        let log = LineChartLayout(LineChartSpec(title: "t", xLabel: "x", yLabel: "y", series: spec.series, logX: true))
        #expect(log.omitted == 1 && log.px(0) == nil)
    }

    @Test func titlesFitTheirCanvas() throws {
        func width(_ svg: String) throws -> Double {
            let r = try #require(svg.range(of: "width=\"", range: svg.range(of: "<svg")!.upperBound..<svg.endIndex))
            return Double(svg[r.upperBound...].prefix { $0 != "\"" })!
        }
        // The case from the issue: one position, two hooks, a title wider than the grid.
        let title = "answer_tens: accuracy, base-s1 step 7000"
        let heat = SVG.heatmap(HeatmapSpec(title: title, rowLabels: ["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"],
                                           columnLabels: ["equals"], values: [[0.5], [0.9]], range: 0...1))
        let w = try width(heat)
        #expect(SVG.titleWidth(title) <= w - 10, "title ~\(SVG.titleWidth(title)) px on a \(w) px canvas")
        #expect(heat.contains("<text x=\"\(SVG.fmt(w / 2, 1))\" y=\"24.0\""), "title centred on the canvas")
        #expect(XMLCheck.isWellFormed(heat))
        // Every figure of a report: the title's estimated width fits its canvas.
        for (name, svg) in try Self.report(kind: .ridge).figures() {
            let t = String(svg.split(separator: "<title>")[1].split(separator: "<")[0])
            #expect(SVG.titleWidth(t) <= (try width(svg)) - 10, "\(name)")
        }
    }

    @Test func heatmapsLandInAFolderPerProbeAndRun() throws {
        let report = try Self.report()
        let names = report.figures().keys
        let heatmaps = names.filter { $0.contains("/heatmaps/") }
        #expect(heatmaps.count == 5 * Self.steps.count)
        #expect(heatmaps.contains("answer_tens/heatmaps/base-s2/step_007000.svg"))
        #expect(names.filter { !$0.contains("/") }.sorted() == ["answer_tens-steps-blocks.0.hook_resid_post-equals.svg",
                                                                "answer_tens-steps-blocks.1.hook_resid_post-equals.svg"])
        let temp = try TempDir("figures")
        defer { withExtendedLifetime(temp) {} }   // the directory is removed when `temp` goes
        let dir = temp.root
        #expect(try report.writeFigures(into: dir) == names.count)
        let top = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(top == ["answer_tens", "answer_tens-steps-blocks.0.hook_resid_post-equals.svg",
                        "answer_tens-steps-blocks.1.hook_resid_post-equals.svg"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/answer_tens/heatmaps/tiny-s1").count == Self.steps.count)
    }
}
