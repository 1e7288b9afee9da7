import Foundation

/// One named curve; NaN y values break the line (e.g. a checkpoint that was not probed).
public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Dashed and without markers: for baselines and controls drawn next to the real curves.
    public var dashed: Bool

    public init(name: String, x: [Double], y: [Double], dashed: Bool = false) {
        self.name = name; self.x = x; self.y = y; self.dashed = dashed
    }
}

public struct LineChartSpec: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    /// Log-scaled x (training steps); points with x <= 0 cannot be placed and are omitted,
    /// which the figure states in a footnote rather than hiding.
    public var logX: Bool
    /// Fixed y limits (e.g. 0...1 for accuracy); nil fits the data.
    public var yRange: ClosedRange<Double>?

    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries],
                logX: Bool = false, yRange: ClosedRange<Double>? = nil) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.series = series; self.logX = logX; self.yRange = yRange
    }
}

extension SVG {
    public static func lineChart(_ spec: LineChartSpec) -> String {
        let plotW = 480.0, plotH = 300.0, left = 70.0, top = 50.0
        let legendW = 30 + (spec.series.map { textWidth($0.name) }.max() ?? 0)
        let width = left + plotW + 20 + legendW + 10, height = top + plotH + 70

        // Points that can be drawn; log scale drops x <= 0 and counts them.
        var omitted = 0
        let usable: [[(Double, Double)]] = spec.series.map { s in
            zip(s.x, s.y).compactMap { (x: Double, y: Double) -> (Double, Double)? in
                guard x.isFinite else { return nil }
                if spec.logX && x <= 0 { omitted += 1; return nil }
                return (spec.logX ? log10(x) : x, y)
            }
        }
        let xs = usable.flatMap { $0.map { $0.0 } }
        let ys = usable.flatMap { $0.map { $0.1 } }.filter { $0.isFinite }
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1
        if x1 <= x0 { x0 -= 0.5; x1 += 0.5 }
        // A little air so end points and their markers are not cut by the clip path.
        let xPad = 0.03 * (x1 - x0); x0 -= xPad; x1 += xPad
        var y0 = spec.yRange?.lowerBound ?? ys.min() ?? 0, y1 = spec.yRange?.upperBound ?? ys.max() ?? 1
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        if spec.yRange == nil { let pad = 0.05 * (y1 - y0); y0 -= pad; y1 += pad }
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotH }

        var body: [String] = [
            text(spec.title, x: left + plotW / 2, y: 24, size: 16, extra: " font-weight=\"bold\""),
            "<defs><clipPath id=\"plot-area\"><rect x=\"\(fmt(left, 1))\" y=\"\(fmt(top, 1))\" width=\"\(fmt(plotW, 1))\" height=\"\(fmt(plotH, 1))\"/></clipPath></defs>",
            "<rect x=\"\(fmt(left, 1))\" y=\"\(fmt(top, 1))\" width=\"\(fmt(plotW, 1))\" height=\"\(fmt(plotH, 1))\" fill=\"none\" stroke=\"black\"/>",
        ]
        // Axes: ticks, light grid, labels.
        let yt = linearTicks(y0, y1)
        for t in yt.ticks {
            let y = py(t)
            body.append("<line x1=\"\(fmt(left, 1))\" y1=\"\(fmt(y, 1))\" x2=\"\(fmt(left + plotW, 1))\" y2=\"\(fmt(y, 1))\" stroke=\"#e0e0e0\"/>")
            body.append("<line x1=\"\(fmt(left - 5, 1))\" y1=\"\(fmt(y, 1))\" x2=\"\(fmt(left, 1))\" y2=\"\(fmt(y, 1))\" stroke=\"black\"/>")
            body.append(text(tickLabel(t, decimals: yt.decimals), x: left - 8, y: y + 4, size: 11, anchor: "end"))
        }
        let xTicks: [(pos: Double, label: String)]
        if spec.logX {
            xTicks = logTicks(pow(10, x0), pow(10, x1)).map { (log10($0), tickLabel($0, decimals: 0)) }
        } else {
            let xt = linearTicks(x0, x1)
            xTicks = xt.ticks.map { ($0, tickLabel($0, decimals: xt.decimals)) }
        }
        for t in xTicks {
            let x = px(t.pos)
            body.append("<line x1=\"\(fmt(x, 1))\" y1=\"\(fmt(top + plotH, 1))\" x2=\"\(fmt(x, 1))\" y2=\"\(fmt(top + plotH + 5, 1))\" stroke=\"black\"/>")
            body.append(text(t.label, x: x, y: top + plotH + 18, size: 11))
        }
        body.append(text(spec.xLabel + (spec.logX ? " (log scale)" : ""), x: left + plotW / 2, y: top + plotH + 42, size: 13))
        let yMid = top + plotH / 2
        body.append(text(spec.yLabel, x: 18, y: yMid, size: 13, extra: " transform=\"rotate(-90 18 \(fmt(yMid, 1)))\""))

        // Curves, clipped to the plot area; a NaN y starts a new sub-path.
        for (i, s) in spec.series.enumerated() {
            let colour = palette[i % palette.count]
            var d = "", pen = false
            for (x, y) in usable[i] {
                guard y.isFinite else { pen = false; continue }
                d += (pen ? " L" : (d.isEmpty ? "M" : " M")) + "\(fmt(px(x), 2)) \(fmt(py(y), 2))"
                pen = true
            }
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            if !d.isEmpty {
                body.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash) clip-path=\"url(#plot-area)\"/>")
            }
            if !s.dashed {
                for (x, y) in usable[i] where y.isFinite {
                    body.append("<circle cx=\"\(fmt(px(x), 2))\" cy=\"\(fmt(py(y), 2))\" r=\"2.5\" fill=\"\(colour)\" clip-path=\"url(#plot-area)\"/>")
                }
            }
            // Legend entry: a line sample in the series' style, then its name.
            let ly = top + 10 + Double(i) * 20, lx = left + plotW + 20
            body.append("<line x1=\"\(fmt(lx, 1))\" y1=\"\(fmt(ly, 1))\" x2=\"\(fmt(lx + 22, 1))\" y2=\"\(fmt(ly, 1))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>")
            body.append(text(s.name, x: lx + 28, y: ly + 4, anchor: "start"))
        }
        if omitted > 0 {
            body.append(text("\(omitted) point(s) with x <= 0 omitted on the log axis", x: left, y: height - 6,
                             size: 10, anchor: "start", extra: " fill=\"#555555\""))
        }
        return document(width: width, height: height, title: spec.title, body: body)
    }
}
