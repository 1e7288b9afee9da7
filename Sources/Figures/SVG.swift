import Foundation

/// Shared pieces of the report figures: escaping, number formatting, axis ticks and colours.
/// Output is plain SVG 1.1 with the generic "sans-serif" family (no fonts, scripts or CSS
/// imports), so GitHub renders it; everything is pure string building, hence deterministic.
public enum SVG {
    /// Escapes the five XML special characters for text content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Fixed-decimal number without "-0" (String(format:) uses the POSIX locale: "." decimal point).
    public static func fmt(_ x: Double, _ decimals: Int = 2) -> String {
        let s = String(format: "%.\(max(0, decimals))f", x)
        return Double(s) == 0 ? String(format: "%.\(max(0, decimals))f", 0.0) : s
    }

    static func text(_ s: String, x: Double, y: Double, size: Int = 12, anchor: String = "middle",
                     extra: String = "") -> String {
        "<text x=\"\(fmt(x, 1))\" y=\"\(fmt(y, 1))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\"\(extra)>\(escape(s))</text>"
    }

    static func document(width: Double, height: Double, title: String, body: [String]) -> String {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(fmt(width, 0))\" height=\"\(fmt(height, 0))\" viewBox=\"0 0 \(fmt(width, 0)) \(fmt(height, 0))\" font-family=\"sans-serif\">",
            "<title>\(escape(title))</title>",
            "<rect x=\"0\" y=\"0\" width=\"\(fmt(width, 0))\" height=\"\(fmt(height, 0))\" fill=\"white\"/>",
        ]
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Rough width of a label at 12 px, to size margins without font metrics.
    static func textWidth(_ s: String, size: Double = 12) -> Double { Double(s.count) * size * 0.6 }

    /// Rough width of a bold 16 px title: bold sans-serif glyphs run wider, ~0.65 em on average.
    public static func titleWidth(_ s: String) -> Double { Double(s.count) * 16 * 0.65 }

    /// "Nice" linear ticks (steps of 1, 2 or 5 times a power of ten) covering [lo, hi].
    static func linearTicks(_ lo: Double, _ hi: Double, target: Int = 5) -> (ticks: [Double], decimals: Int) {
        let raw = (hi - lo) / Double(max(1, target))
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var ticks: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 { ticks.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return (ticks, max(0, Int(-floor(log10(step)))))
    }

    /// Powers of ten in [lo, hi]; adds 2x and 5x when fewer than three decades are visible.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = Int(floor(log10(lo))), b = Int(ceil(log10(hi)))
        let decades: [Double] = (a...b).map { pow(10, Double($0)) }
        let lower = lo * (1 - 1e-9), upper = hi * (1 + 1e-9)
        func inside(_ v: Double) -> Bool { v >= lower && v <= upper }
        let ticks = decades.filter(inside)
        if ticks.count >= 3 { return ticks }
        var dense: [Double] = []
        for p in decades { dense += [p, 2 * p, 5 * p] }
        return dense.filter(inside)
    }

    /// Compact tick label: plain below 1e5, otherwise scientific.
    static func tickLabel(_ v: Double, decimals: Int) -> String {
        if v != 0 && (abs(v) >= 1e5 || abs(v) < 1e-3) { return String(format: "%.0e", v) }
        return fmt(v, decimals)
    }

    /// Viridis sampled at 9 stops, interpolated linearly: perceptually ordered and colour-blind safe.
    static let viridis: [[Double]] = [
        [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
        [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
    ]

    /// Colour for t in [0, 1] (clamped), and whether black text is readable on it.
    static func color(_ t: Double) -> (hex: String, darkText: Bool) {
        let u = min(max(t.isFinite ? t : 0, 0), 1) * Double(viridis.count - 1)
        let i = min(Int(u), viridis.count - 2), f = u - Double(i)
        let a = viridis[i], b = viridis[i + 1]
        let r: Double = a[0] + f * (b[0] - a[0])
        let g: Double = a[1] + f * (b[1] - a[1])
        let bl: Double = a[2] + f * (b[2] - a[2])
        let hex = String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(bl.rounded()))
        let luma: Double = 0.299 * r + 0.587 * g + 0.114 * bl
        return (hex, luma > 140)
    }

    /// Diverging blue-white-red (ColorBrewer RdBu, reversed so that positive is red): t = 0.5 is white,
    /// for signed values such as patching effects, where the sign matters as much as the size.
    static func divergingColor(_ t: Double) -> (hex: String, darkText: Bool) {
        let u = min(max(t.isFinite ? t : 0.5, 0), 1) * Double(rdbu.count - 1)
        let i = min(Int(u), rdbu.count - 2), f = u - Double(i)
        let a = rdbu[i], b = rdbu[i + 1]
        let c = (0..<3).map { a[$0] + f * (b[$0] - a[$0]) }
        let hex = String(format: "#%02x%02x%02x", Int(c[0].rounded()), Int(c[1].rounded()), Int(c[2].rounded()))
        return (hex, 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140)
    }

    private static let rdbu: [[Double]] = [
        [5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240], [247, 247, 247],
        [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31],
    ]

    /// Distinct line colours (matplotlib's tab10), cycled.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
}
