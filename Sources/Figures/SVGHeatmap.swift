/// A labelled grid of values, e.g. probe accuracy per (hook, token position).
public struct HeatmapSpec: Sendable {
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// rows x columns; NaN marks a missing cell (drawn grey, no value).
    public var values: [[Double]]
    public var xLabel: String
    public var yLabel: String
    public var colorBarLabel: String
    /// Colour scale limits; nil uses the finite min and max of `values`.
    public var range: ClosedRange<Double>?
    public var decimals: Int
    /// Signed values (patching effects): a blue-white-red scale centred on 0, symmetric unless `range` is set.
    public var diverging = false
    /// Square cells without printed values and vertical column labels: for large grids whose axes are
    /// both positions (attention patterns); values stay in each cell's tooltip.
    public var compact = false

    public init(title: String, rowLabels: [String], columnLabels: [String], values: [[Double]],
                xLabel: String = "position", yLabel: String = "hook", colorBarLabel: String = "accuracy",
                range: ClosedRange<Double>? = nil, decimals: Int = 2) {
        self.title = title; self.rowLabels = rowLabels; self.columnLabels = columnLabels
        self.values = values; self.xLabel = xLabel; self.yLabel = yLabel
        self.colorBarLabel = colorBarLabel; self.range = range; self.decimals = decimals
    }
}

extension SVG {
    public static func heatmap(_ spec: HeatmapSpec) -> String {
        let rows = spec.rowLabels.count, cols = spec.columnLabels.count
        let columnLabelW = spec.columnLabels.map { textWidth($0) }.max() ?? 0
        let cellW = spec.compact ? 20 : max(44, columnLabelW + 8), cellH = spec.compact ? 20.0 : 28.0
        let columnLabelH = spec.compact ? columnLabelW + 8 : 16.0
        let rowLabelW = spec.rowLabels.map { textWidth($0) }.max() ?? 0
        var left = 40 + rowLabelW
        let top = 50.0
        let gridW = Double(cols) * cellW, gridH = Double(rows) * cellH
        let barW = 16.0
        let content = left + gridW + 24 + barW + max(60, textWidth(spec.colorBarLabel, size: 11) / 2 + 10)
        // The title is centred on the canvas: widen the canvas to hold it (bold 16 px, ~0.65 em per glyph)
        // and centre the grid in the extra room.
        let width = max(content, titleWidth(spec.title) + 20)
        left += (width - content) / 2
        let barX = left + gridW + 24
        let height = top + gridH + columnLabelH + 44

        let finite = spec.values.flatMap { $0 }.filter { $0.isFinite }
        var lo = spec.range?.lowerBound ?? finite.min() ?? 0
        var hi = spec.range?.upperBound ?? finite.max() ?? 1
        if spec.diverging && spec.range == nil {
            let m = finite.map(abs).max() ?? 1
            (lo, hi) = (-m, m)
        }
        let color = spec.diverging ? divergingColor : SVG.color
        if hi <= lo { lo -= 0.5; hi += 0.5 }  // constant grid: keep a non-empty scale
        func value(_ r: Int, _ c: Int) -> Double {
            r < spec.values.count && c < spec.values[r].count ? spec.values[r][c] : .nan
        }

        var body: [String] = [text(spec.title, x: width / 2, y: 24, size: 16, extra: " font-weight=\"bold\"")]
        for r in 0..<rows {
            for c in 0..<cols {
                let v = value(r, c)
                let x = left + Double(c) * cellW, y = top + Double(r) * cellH
                let (fill, dark) = v.isFinite ? color((v - lo) / (hi - lo)) : ("#dddddd", true)
                body.append("<rect x=\"\(fmt(x, 1))\" y=\"\(fmt(y, 1))\" width=\"\(fmt(cellW, 1))\" height=\"\(fmt(cellH, 1))\" fill=\"\(fill)\" stroke=\"white\"><title>\(escape("\(spec.rowLabels[r]), \(spec.columnLabels[c]): \(v.isFinite ? fmt(v, spec.decimals) : "missing")"))</title></rect>")
                if v.isFinite && !spec.compact {
                    body.append(text(fmt(v, spec.decimals), x: x + cellW / 2, y: y + cellH / 2 + 4, size: 11,
                                     extra: " fill=\"\(dark ? "black" : "white")\""))
                }
            }
            body.append(text(spec.rowLabels[r], x: left - 6, y: top + (Double(r) + 0.5) * cellH + 4, anchor: "end"))
        }
        for c in 0..<cols {
            let x = left + (Double(c) + 0.5) * cellW
            if spec.compact {
                let y = top + gridH + 6
                body.append(text(spec.columnLabels[c], x: x + 4, y: y, anchor: "end",
                                 extra: " transform=\"rotate(-90 \(fmt(x + 4, 1)) \(fmt(y, 1)))\""))
            } else {
                body.append(text(spec.columnLabels[c], x: x, y: top + gridH + 16))
            }
        }
        body.append(text(spec.xLabel, x: left + gridW / 2, y: top + gridH + columnLabelH + 24, size: 13))
        let yMid = top + gridH / 2
        let yLabelX = left - rowLabelW - 24  // beside the row labels, wherever centring put the grid
        body.append(text(spec.yLabel, x: yLabelX, y: yMid, size: 13, extra: " transform=\"rotate(-90 \(fmt(yLabelX, 1)) \(fmt(yMid, 1)))\""))

        // Colour bar: 32 bands from lo (bottom) to hi (top), with ticks and its label.
        let bands = 32
        for b in 0..<bands {
            let t0 = Double(b) / Double(bands)
            let y = top + gridH * (1 - t0 - 1 / Double(bands))
            body.append("<rect x=\"\(fmt(barX, 1))\" y=\"\(fmt(y, 2))\" width=\"\(fmt(barW, 1))\" height=\"\(fmt(gridH / Double(bands) + 0.5, 2))\" fill=\"\(color(t0 + 0.5 / Double(bands)).hex)\"/>")
        }
        body.append("<rect x=\"\(fmt(barX, 1))\" y=\"\(fmt(top, 1))\" width=\"\(fmt(barW, 1))\" height=\"\(fmt(gridH, 1))\" fill=\"none\" stroke=\"black\" stroke-width=\"0.5\"/>")
        let (ticks, dec) = linearTicks(lo, hi, target: 4)
        for t in ticks {
            let y = top + gridH * (1 - (t - lo) / (hi - lo))
            body.append("<line x1=\"\(fmt(barX + barW, 1))\" y1=\"\(fmt(y, 1))\" x2=\"\(fmt(barX + barW + 4, 1))\" y2=\"\(fmt(y, 1))\" stroke=\"black\"/>")
            body.append(text(tickLabel(t, decimals: dec), x: barX + barW + 7, y: y + 4, size: 10, anchor: "start"))
        }
        body.append(text(spec.colorBarLabel, x: barX + barW / 2, y: top - 8, size: 11))
        return document(width: width, height: height, title: spec.title, body: body)
    }
}
