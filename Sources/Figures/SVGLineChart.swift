import Foundation

/// One named curve; NaN y values break the line (e.g. a checkpoint that was not probed).
public struct LineSeries: Sendable {
    public enum Style: Sendable, Equatable {
        /// Bold with markers: the curve the figure is about (e.g. the mean over seeds).
        case solid
        /// Dashed, no markers: a control drawn next to the real curve.
        case dashed
        /// Dotted, no markers: a baseline such as the majority class.
        case dotted
        /// Thin and faint, no markers: the individual seeds behind a mean.
        case thin
    }

    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var style: Style
    /// nil: the palette colour of the series' index.
    public var color: String?
    /// Series that repeat another's legend entry (every seed after the first) set this to false.
    public var inLegend: Bool

    public var dashed: Bool { style == .dashed }

    public init(name: String, x: [Double], y: [Double], dashed: Bool = false) {
        self.init(name: name, x: x, y: y, style: dashed ? .dashed : .solid)
    }

    public init(name: String, x: [Double], y: [Double], style: Style, color: String? = nil, inLegend: Bool = true) {
        self.name = name; self.x = x; self.y = y; self.style = style; self.color = color; self.inLegend = inLegend
    }

    var hasPoints: Bool { zip(x, y).contains { $0.isFinite && $1.isFinite } }
}

public struct LineChartSpec: Sendable {
    public enum XScale: Sendable, Equatable {
        case linear
        /// log10; points with x <= 0 cannot be placed and are omitted, which the figure states in a footnote.
        case log
        /// Linear from 0 to the smallest positive x, log10 above: training steps, whose checkpoints are
        /// log-spaced but start at step 0.
        case symlog
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    public var xScale: XScale
    /// Fixed y limits (e.g. 0...1 for accuracy); nil fits the data.
    public var yRange: ClosedRange<Double>?

    public var logX: Bool { xScale == .log }

    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries],
                logX: Bool = false, yRange: ClosedRange<Double>? = nil) {
        self.init(title: title, xLabel: xLabel, yLabel: yLabel, series: series, xScale: logX ? .log : .linear, yRange: yRange)
    }

    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries],
                xScale: XScale, yRange: ClosedRange<Double>? = nil) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.series = series; self.xScale = xScale; self.yRange = yRange
    }
}

extension SVG {
    public static func lineChart(_ spec: LineChartSpec) -> String {
        let g = LineChartLayout(spec)
        let left = g.left, top = g.top, plotW = g.plotW, plotH = g.plotH
        var body: [String] = [
            text(spec.title, x: g.width / 2, y: 24, size: 16, extra: " font-weight=\"bold\""),
            "<defs><clipPath id=\"plot-area\"><rect x=\"\(fmt(left, 1))\" y=\"\(fmt(top, 1))\" width=\"\(fmt(plotW, 1))\" height=\"\(fmt(plotH, 1))\"/></clipPath></defs>",
            "<rect x=\"\(fmt(left, 1))\" y=\"\(fmt(top, 1))\" width=\"\(fmt(plotW, 1))\" height=\"\(fmt(plotH, 1))\" fill=\"none\" stroke=\"black\"/>",
        ]
        // Axes: ticks, light grid, labels.
        for (t, label) in g.yTicks {
            let y = g.py(t)
            body.append("<line x1=\"\(fmt(left, 1))\" y1=\"\(fmt(y, 1))\" x2=\"\(fmt(left + plotW, 1))\" y2=\"\(fmt(y, 1))\" stroke=\"#e0e0e0\"/>")
            body.append("<line x1=\"\(fmt(left - 5, 1))\" y1=\"\(fmt(y, 1))\" x2=\"\(fmt(left, 1))\" y2=\"\(fmt(y, 1))\" stroke=\"black\"/>")
            body.append(text(label, x: left - 8, y: y + 4, size: 11, anchor: "end"))
        }
        for t in g.xMinorTicks {
            let x = g.px(t)!
            body.append("<line x1=\"\(fmt(x, 1))\" y1=\"\(fmt(top + plotH, 1))\" x2=\"\(fmt(x, 1))\" y2=\"\(fmt(top + plotH + 3, 1))\" stroke=\"#555555\"/>")
        }
        for (t, label) in g.xTicks {
            let x = g.px(t)!
            body.append("<line x1=\"\(fmt(x, 1))\" y1=\"\(fmt(top, 1))\" x2=\"\(fmt(x, 1))\" y2=\"\(fmt(top + plotH, 1))\" stroke=\"#f0f0f0\"/>")
            body.append("<line x1=\"\(fmt(x, 1))\" y1=\"\(fmt(top + plotH, 1))\" x2=\"\(fmt(x, 1))\" y2=\"\(fmt(top + plotH + 5, 1))\" stroke=\"black\"/>")
            body.append(text(label, x: x, y: top + plotH + 18, size: 11))
        }
        if let b = g.breakX {
            // Two slashes on the axis: the scale changes from linear to log here.
            let y = top + plotH
            for dx in [-3.0, 3.0] {
                body.append("<line x1=\"\(fmt(b + dx - 3, 1))\" y1=\"\(fmt(y + 5, 1))\" x2=\"\(fmt(b + dx + 3, 1))\" y2=\"\(fmt(y - 5, 1))\" stroke=\"black\"/>")
            }
        }
        let scaleNote: String
        switch spec.xScale {
        case .linear: scaleNote = ""
        case .log: scaleNote = " (log scale)"
        case .symlog: scaleNote = " (log scale; linear from 0 to \(tickLabel(g.linearThreshold, decimals: 0)))"
        }
        // "training step (optimizer updates)" + " (log scale)" reads as "training step (optimizer updates; log scale)".
        let xLabel = spec.xLabel.hasSuffix(")") && !scaleNote.isEmpty
            ? String(spec.xLabel.dropLast()) + "; " + scaleNote.dropFirst(2) : spec.xLabel + scaleNote
        body.append(text(xLabel, x: left + plotW / 2, y: top + plotH + 42, size: 13))
        let yMid = top + plotH / 2
        body.append(text(spec.yLabel, x: 18, y: yMid, size: 13, extra: " transform=\"rotate(-90 18 \(fmt(yMid, 1)))\""))

        // Curves, clipped to the plot area; a NaN y starts a new sub-path. Thin lines first, so the
        // means they summarise are drawn on top of them.
        let order = spec.series.indices.filter { spec.series[$0].style == .thin } + spec.series.indices.filter { spec.series[$0].style != .thin }
        for i in order {
            let s = spec.series[i], colour = g.colour(i)
            var d = "", pen = false
            for (x, y) in g.points[i] {
                guard y.isFinite else { pen = false; continue }
                d += (pen ? " L" : (d.isEmpty ? "M" : " M")) + "\(fmt(x, 2)) \(fmt(g.py(y), 2))"
                pen = true
            }
            if !d.isEmpty {
                body.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\"\(stroke(s.style)) clip-path=\"url(#plot-area)\"/>")
            }
            if s.style == .solid {
                for (x, y) in g.points[i] where y.isFinite {
                    body.append("<circle cx=\"\(fmt(x, 2))\" cy=\"\(fmt(g.py(y), 2))\" r=\"2.5\" fill=\"\(colour)\" clip-path=\"url(#plot-area)\"/>")
                }
            }
        }
        // Legend: a line sample in the series' style, then its name; series without a drawable point are left out.
        for (k, i) in g.legend.enumerated() {
            let s = spec.series[i]
            let ly = top + 10 + Double(k) * 20, lx = left + plotW + 20
            body.append("<line x1=\"\(fmt(lx, 1))\" y1=\"\(fmt(ly, 1))\" x2=\"\(fmt(lx + 22, 1))\" y2=\"\(fmt(ly, 1))\" stroke=\"\(g.colour(i))\"\(stroke(s.style))/>")
            body.append(text(s.name, x: lx + 28, y: ly + 4, anchor: "start"))
        }
        if g.omitted > 0 {
            body.append(text("\(g.omitted) point(s) with x <= 0 omitted on the log axis", x: left, y: g.height - 6,
                             size: 10, anchor: "start", extra: " fill=\"#555555\""))
        }
        return document(width: g.width, height: g.height, title: spec.title, body: body)
    }

    static func stroke(_ style: LineSeries.Style) -> String {
        switch style {
        case .solid: " stroke-width=\"2.5\""
        case .dashed: " stroke-width=\"1.5\" stroke-dasharray=\"6 4\""
        case .dotted: " stroke-width=\"1.5\" stroke-dasharray=\"2 3\""
        case .thin: " stroke-width=\"1\" stroke-opacity=\"0.45\""
        }
    }
}

/// Where everything of a line chart goes: canvas size, the data-to-pixel maps, ticks and legend.
/// Separate from the drawing so tests can check the geometry without parsing SVG.
struct LineChartLayout {
    let plotW = 480.0, plotH = 300.0, left = 70.0, top = 50.0
    let width: Double, height: Double
    let scale: LineChartSpec.XScale
    /// Symlog: the smallest positive x; [0, threshold] is linear and as wide as one decade.
    let linearThreshold: Double
    /// Transformed x range shown (with a little air on both sides).
    let x0: Double, x1: Double
    let y0: Double, y1: Double
    /// Per series: (pixel x, data y) of the points that can be placed.
    let points: [[(Double, Double)]]
    let omitted: Int
    /// Data-space tick values and their labels; minor ticks are unlabelled.
    let xTicks: [(Double, String)]
    let xMinorTicks: [Double]
    let yTicks: [(Double, String)]
    /// Pixel x of the symlog break mark (between 0 and the threshold), if shown.
    let breakX: Double?
    /// Indices of the series listed in the legend, in order.
    let legend: [Int]
    let colours: [String]

    init(_ spec: LineChartSpec) {
        scale = spec.xScale
        let positive = spec.series.flatMap { $0.x }.filter { $0.isFinite && $0 > 0 }
        linearThreshold = positive.min() ?? 1
        legend = spec.series.indices.filter { spec.series[$0].inLegend && spec.series[$0].hasPoints }
        colours = spec.series.indices.map { spec.series[$0].color ?? SVG.palette[$0 % SVG.palette.count] }
        let legendW = legend.isEmpty ? 0 : 30 + (legend.map { SVG.textWidth(spec.series[$0].name) }.max() ?? 0)
        // The title is centred on the canvas, so the canvas is at least as wide as the title (bold: ~0.65 em per glyph).
        width = max(left + plotW + 20 + legendW + 10, SVG.titleWidth(spec.title) + 20)
        height = max(top + plotH + 70, top + 10 + Double(legend.count) * 20 + 10)

        var omitted = 0
        let threshold = linearThreshold, scale = spec.xScale
        let transformed: [[(Double, Double)]] = spec.series.map { s in
            zip(s.x, s.y).compactMap { (x: Double, y: Double) -> (Double, Double)? in
                guard x.isFinite else { return nil }
                guard let t = Self.transform(x, scale, threshold) else { omitted += 1; return nil }
                return (t, y)
            }
        }
        self.omitted = omitted
        let xs = transformed.flatMap { $0.map { $0.0 } }
        let ys = transformed.flatMap { $0.map { $0.1 } }.filter { $0.isFinite }
        var a = xs.min() ?? 0, b = xs.max() ?? 1
        if b <= a { a -= 0.5; b += 0.5 }
        // A little air so end points and their markers are not cut by the clip path.
        let xPad = 0.03 * (b - a); a -= xPad; b += xPad
        x0 = a; x1 = b
        var c = spec.yRange?.lowerBound ?? ys.min() ?? 0, d = spec.yRange?.upperBound ?? ys.max() ?? 1
        if d <= c { c -= 0.5; d += 0.5 }
        if spec.yRange == nil { let pad = 0.05 * (d - c); c -= pad; d += pad }
        y0 = c; y1 = d
        let yt = SVG.linearTicks(c, d)
        yTicks = yt.ticks.map { ($0, SVG.tickLabel($0, decimals: yt.decimals)) }

        let (lo, hi) = (xs.min() ?? 0, xs.max() ?? 1)
        let inside = { (t: Double) in t >= lo - 1e-9 && t <= hi + 1e-9 }
        switch spec.xScale {
        case .linear:
            let xt = SVG.linearTicks(a, b)
            xTicks = xt.ticks.map { ($0, SVG.tickLabel($0, decimals: xt.decimals)) }
            xMinorTicks = []
            breakX = nil
        case .log:
            xTicks = SVG.logTicks(pow(10, a), pow(10, b)).map { ($0, SVG.tickLabel($0, decimals: 0)) }
            xMinorTicks = []
            breakX = nil
        case .symlog:
            // Step 0, then 1-2-5 or decade ticks above the threshold, labelled with the real step numbers.
            let top = positive.max() ?? 1
            var major: [Double] = spec.series.contains { $0.x.contains(0) } ? [0] : []
            let logs = SVG.logTicks(threshold, top).filter { $0 >= threshold }
            major += logs.isEmpty ? [threshold] : logs
            xTicks = major.filter { inside(Self.transform($0, scale, threshold)!) }.map { ($0, SVG.tickLabel($0, decimals: 0)) }
            var minor: [Double] = []
            var p = pow(10, floor(log10(threshold)))
            while p <= top {
                for k in 1...9 {
                    let v = Double(k) * p
                    if v >= threshold && v <= top && !major.contains(v) { minor.append(v) }
                }
                p *= 10
            }
            xMinorTicks = minor
            // Halfway between step 0 and the threshold, where the scale turns from linear to log.
            breakX = major.first == 0 ? Self.pixel(0.5, a, b, left: left, width: plotW) : nil
        }
        let (l, w) = (left, plotW)
        points = transformed.map { $0.map { (Self.pixel($0.0, a, b, left: l, width: w), $0.1) } }
    }

    static func pixel(_ t: Double, _ a: Double, _ b: Double, left: Double, width: Double) -> Double {
        left + (t - a) / (b - a) * width
    }

    /// The axis coordinate of a data x, or nil where the scale cannot place it (log scale, x <= 0).
    static func transform(_ x: Double, _ scale: LineChartSpec.XScale, _ threshold: Double) -> Double? {
        switch scale {
        case .linear: return x
        case .log: return x > 0 ? log10(x) : nil
        case .symlog:
            let m = abs(x)
            let t = m <= threshold ? m / threshold : 1 + log10(m / threshold)
            return x < 0 ? -t : t
        }
    }

    /// Pixel x of a data x (nil where the scale cannot place it).
    func px(_ x: Double) -> Double? {
        Self.transform(x, scale, linearThreshold).map { Self.pixel($0, x0, x1, left: left, width: plotW) }
    }
    func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * plotH }
    func colour(_ i: Int) -> String { colours[i] }
}

extension LineSeries {
    /// One group's runs (a model size's seeds) on shared x: each run thin under one legend entry, then
    /// their mean bold, taken at each x over the runs that have a finite value there (a half-written run
    /// thins the mean at its end). One run: just its curve, bold, named `label`.
    public static func seeds(_ label: String, x: [Double], perRun: [[Double]], color: String) -> [LineSeries] {
        guard perRun.count > 1 else {
            return perRun.map { LineSeries(name: label, x: x, y: $0, style: .solid, color: color) }
        }
        var out = perRun.enumerated().map { j, y in
            LineSeries(name: "\(label): each of \(perRun.count) seeds", x: x, y: y, style: .thin, color: color, inLegend: j == 0)
        }
        let mean = x.indices.map { i -> Double in
            let v = perRun.map { $0[i] }.filter(\.isFinite)
            return v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        }
        out.append(LineSeries(name: "\(label): mean of \(perRun.count) seeds", x: x, y: mean, style: .solid, color: color))
        return out
    }
}
