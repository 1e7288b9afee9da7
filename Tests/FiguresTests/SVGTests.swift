import Testing
import Figures
import TestSupport

@Suite struct SVGTests {
    static let heat = HeatmapSpec(
        title: "Accuracy of a+b <carry> & sum", rowLabels: ["embed", "blocks.0.resid_post", "blocks.1.resid_post"],
        columnLabels: ["a", "+", "b", "="],
        values: [[0.31, 0.33, 0.35, 0.34], [0.52, 0.61, 0.87, 0.9], [0.55, .nan, 0.93, 0.991]],
        xLabel: "token position", yLabel: "hook", colorBarLabel: "test accuracy", range: 0...1)

    static let lines = LineChartSpec(
        title: "Probe accuracy over training", xLabel: "training step", yLabel: "accuracy",
        series: [
            LineSeries(name: "resid_post L1", x: [0, 10, 100, 1000, 10000], y: [0.3, 0.35, 0.6, .nan, 0.97]),
            LineSeries(name: "resid_post L0", x: [0, 10, 100, 1000, 10000], y: [0.3, 0.31, 0.4, 0.5, 0.6]),
            LineSeries(name: "control task", x: [0, 10, 100, 1000, 10000], y: [0.33, 0.33, 0.34, 0.33, 0.34], dashed: true),
        ],
        logX: true, yRange: 0...1)

    static func checkWellFormed(_ svg: String) {
        #expect(XMLCheck.isWellFormed(svg))
        if let ok = XMLCheck.pythonParses(svg) { #expect(ok, "python's minidom rejected the SVG") }
    }

    @Test func heatmapIsWellFormedAndLabelled() {
        let svg = SVG.heatmap(Self.heat)
        Self.checkWellFormed(svg)
        #expect(svg.contains("Accuracy of a+b &lt;carry&gt; &amp; sum"))
        #expect(!svg.contains("<carry>"))
        for label in ["embed", "blocks.1.resid_post", "token position", ">hook<", "test accuracy", ">0.87<", ">0.99<"] {
            #expect(svg.contains(label), "missing \(label)")
        }
        #expect(svg.contains("missing"))  // the NaN cell is marked, not coloured
        #expect(svg == SVG.heatmap(Self.heat))
    }

    @Test func divergingHeatmapIsWhiteAtZeroAndSymmetric() {
        var spec = HeatmapSpec(title: "effect", rowLabels: ["L0", "L1"], columnLabels: ["a", "b"],
                               values: [[0, 0.5], [-2, 1]], colorBarLabel: "normalised effect")
        spec.diverging = true
        let svg = SVG.heatmap(spec)
        Self.checkWellFormed(svg)
        func fill(_ cell: String) -> String? {
            guard let r = svg.range(of: "<title>\(cell)</title>") else { return nil }
            let before = svg[..<r.lowerBound]
            guard let f = before.range(of: "fill=\"", options: .backwards) else { return nil }
            return String(before[f.upperBound...].prefix(7))
        }
        #expect(fill("L0, a: 0.00") == "#f7f7f7", "zero is the scale's white middle")
        #expect(fill("L1, a: -2.00") == "#053061", "the most negative value is the darkest blue")
        // The scale runs from -2 to 2, so 1 sits three quarters of the way, halfway between RdBu's
        // (244, 165, 130) and (214, 96, 77): (229, 131, 104) after rounding.
        #expect(fill("L1, b: 1.00") == "#e58368")
        #expect(svg.contains(">-2<") || svg.contains(">-2.0<"), "the colour bar starts at -max|v|")
    }

    @Test func lineChartIsWellFormedWithLegendAndDashedBaseline() {
        let svg = SVG.lineChart(Self.lines)
        Self.checkWellFormed(svg)
        for label in ["Probe accuracy over training", "training step (log scale)", ">accuracy<",
                      ">resid_post L1<", ">resid_post L0<", ">control task<", ">1000<", ">0.8<"] {
            #expect(svg.contains(label), "missing \(label)")
        }
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.contains("3 point(s) with x <= 0 omitted") == false)  // "<" must be escaped
        #expect(svg.contains("3 point(s) with x &lt;= 0 omitted"))
        #expect(svg == SVG.lineChart(Self.lines))
    }

    @Test func checkerRejectsBrokenXML() {
        #expect(!XMLCheck.isWellFormed("<svg><text>a & b</text></svg>"))
        #expect(!XMLCheck.isWellFormed("<svg><g></svg>"))
        #expect(XMLCheck.isWellFormed("<svg><g a=\"1\"/><text>a &amp; b</text></svg>"))
        if let ok = XMLCheck.pythonParses("<svg><g></svg>") { #expect(!ok) }
    }
}
