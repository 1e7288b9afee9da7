import Foundation

/// Why a circuit drawing was refused; one line, naming the offending edge or node by its index.
public enum CircuitDrawingError: Error, CustomStringConvertible, Equatable {
    case endpointOutOfRange(edge: Int, index: Int, nodeCount: Int)
    case unknownSlot(edge: Int, slot: String)
    case nonFiniteScore(edge: Int)
    case positionOutOfRange(node: Int, row: Int, column: Int)

    public var description: String {
        switch self {
        case .endpointOutOfRange(let e, let i, let n): return "circuit drawing: edge \(e) refers to node \(i), but there are \(n) nodes"
        case .unknownSlot(let e, let s): return "circuit drawing: edge \(e) has slot \"\(s)\"; a slot is q, k, v or none"
        case .nonFiniteScore(let e): return "circuit drawing: edge \(e) has a score that is not a finite number"
        case .positionOutOfRange(let n, let r, let c):
            return "circuit drawing: node \(n) is at row \(r), column \(c); both must be in 0..<\(CircuitDrawing.maxPosition)"
        }
    }
}

/// A circuit (e.g. an EAP-IG graph of a small transformer) as plain data for an SVG drawing: nodes placed
/// in rows by the caller (row 0 `input` at the bottom, then per layer a row of heads and a row for its MLP,
/// `logits` on top), edges from a node's output to a later node's input, a head's input named by its slot.
/// The caller keeps the model's vocabulary (Figures imports only Foundation).
public struct CircuitDrawing: Sendable {
    public struct Node: Sendable {
        public var name: String
        public var row: Int
        public var column: Int
        public var inCircuit: Bool
        public init(name: String, row: Int, column: Int, inCircuit: Bool = true) {
            self.name = name; self.row = row; self.column = column; self.inCircuit = inCircuit
        }
    }

    /// `from` and `to` index `nodes`; `slot` is "q", "k" or "v" for an edge into a head, nil otherwise.
    public struct Edge: Sendable {
        public var from: Int
        public var to: Int
        public var slot: String?
        public var score: Double
        public var inCircuit: Bool
        public init(from: Int, to: Int, slot: String? = nil, score: Double, inCircuit: Bool = true) {
            self.from = from; self.to = to; self.slot = slot; self.score = score; self.inCircuit = inCircuit
        }
    }

    /// Rows and columns beyond this are refused: a hostile row must not ask for a kilometre-high canvas
    /// (GPT-2 small needs 26 rows and 12 columns).
    public static let maxPosition = 1000

    public var title: String
    /// Read-only so that what `init` validated stays valid: `svg()` indexes `nodes` with edge endpoints.
    public private(set) var nodes: [Node]
    public private(set) var edges: [Edge]

    /// Throws if an edge's endpoint is not an index into `nodes`, its slot is not q, k, v or nil, or its
    /// score is not finite, or if a node's row or column is outside 0..<maxPosition. Edges may run in any
    /// direction between rows: the drawing does not check the graph's order.
    public init(title: String, nodes: [Node], edges: [Edge]) throws(CircuitDrawingError) {
        for (i, n) in nodes.enumerated() where !(0..<Self.maxPosition).contains(n.row) || !(0..<Self.maxPosition).contains(n.column) {
            throw .positionOutOfRange(node: i, row: n.row, column: n.column)
        }
        for (i, e) in edges.enumerated() {
            for end in [e.from, e.to] where !nodes.indices.contains(end) {
                throw .endpointOutOfRange(edge: i, index: end, nodeCount: nodes.count)
            }
            if let s = e.slot, !["q", "k", "v"].contains(s) { throw .unknownSlot(edge: i, slot: s) }
            if !e.score.isFinite { throw .nonFiniteScore(edge: i) }
        }
        self.title = title; self.nodes = nodes; self.edges = edges
    }

    // RdBu's darkest blue and red. Positive is blue here, as in the issue (the diverging heat maps run the
    // other way); the legend says which is which.
    static let positive = "#2166ac", negative = "#b2182b"

    /// The SVG document: rows bottom (input) to top (logits), each row's columns centred; edges under
    /// the nodes, width proportional to |score| (relative to the largest drawn), blue if the score is
    /// positive, red if negative; an edge into a head ends at the left (q), middle (k) or right (v) of the
    /// head's bottom edge. By default only the circuit is drawn; `showAll` adds the rest of the graph,
    /// faint. Edges are `<path>`s in `<g id="edges">` (straight between adjacent rows, quadratic curves
    /// across more), nodes in `<g id="nodes">`.
    public func svg(showAll: Bool = false) -> String {
        let circuitEdges = edges.indices.filter { edges[$0].inCircuit }
        // Edges outside the circuit first, so that the circuit's own edges are drawn over them.
        let drawnEdges = showAll ? edges.indices.filter { !edges[$0].inCircuit } + circuitEdges : circuitEdges
        // A node outside the circuit is still drawn (faint) when a drawn circuit edge ends at it, so that
        // no line ends in empty space on inconsistent input.
        var drawnNodes = Set(nodes.indices.filter { showAll || nodes[$0].inCircuit })
        for e in circuitEdges { drawnNodes.formUnion([edges[e].from, edges[e].to]) }
        let circuitNodeCount = nodes.filter(\.inCircuit).count

        // Layout over all nodes, drawn or not, so that a node sits at the same place in both views.
        let boxW = max(44, (nodes.map { SVG.textWidth($0.name, size: 11) }.max() ?? 0) + 12), boxH = 22.0
        let colGap = boxW + 12, rowGap = 64.0, margin = 30.0, top = 96.0
        let maxRow = nodes.map(\.row).max() ?? 0
        var span: [Int: (lo: Int, hi: Int)] = [:]  // each row's column range, to centre the row
        for n in nodes { let s = span[n.row]; span[n.row] = (min(s?.lo ?? n.column, n.column), max(s?.hi ?? n.column, n.column)) }
        let widest = Double(span.values.map { $0.hi - $0.lo + 1 }.max() ?? 1)

        let maxAbs = drawnEdges.map { abs(edges[$0].score) }.max() ?? 0
        let edgeWord = circuitEdges.count == 1 ? "edge" : "edges", nodeWord = circuitNodeCount == 1 ? "node" : "nodes"
        let count = circuitEdges.isEmpty ? "empty circuit: no edge is in the circuit (\(circuitNodeCount) \(nodeWord))"
            : "\(circuitEdges.count) \(edgeWord), \(circuitNodeCount) \(nodeWord) in the circuit" + (showAll ? "; the rest of the graph faint" : "")
        let legend = [count] + (drawnEdges.isEmpty ? [] : [
            "edge width proportional to |score| (widest: \(String(format: "%.4g", maxAbs))); blue positive, red negative",
            "an edge into a head ends at the left (q), middle (k) or right (v) of its bottom edge",
        ])
        let content = max(widest * colGap, legend.map { SVG.textWidth($0, size: 11) }.max() ?? 0)
        let width = max(content + 2 * margin, SVG.titleWidth(title) + 20)
        let height = top + Double(maxRow) * rowGap + boxH + 24

        func center(_ i: Int) -> (x: Double, y: Double) {
            let n = nodes[i], s = span[n.row] ?? (n.column, n.column)
            return (width / 2 + (Double(n.column) - Double(s.lo + s.hi) / 2) * colGap,
                    top + Double(maxRow - n.row) * rowGap + boxH / 2)
        }
        func name(_ e: Edge) -> String { "\(nodes[e.from].name)->\(nodes[e.to].name)" + (e.slot.map { "<\($0)>" } ?? "") }

        var body = [SVG.text(title, x: width / 2, y: 24, size: 16, extra: " font-weight=\"bold\"")]
        for (k, line) in legend.enumerated() {
            body.append(SVG.text(line, x: margin, y: 46 + Double(k) * 15, size: 11, anchor: "start"))
        }
        body.append("<g id=\"edges\">")
        for i in drawnEdges {
            let e = edges[i], a = center(e.from), b = center(e.to)
            let slotX: Double = e.slot == "q" ? -0.3 : e.slot == "v" ? 0.3 : 0  // k and slot-less edges: the middle
            let (x1, y1, x2, y2) = (a.x, a.y - boxH / 2, b.x + slotX * boxW, b.y + boxH / 2)
            // An edge that skips rows (into logits, say) bows sideways, more the more rows it skips, so
            // that it neither hides behind the boxes between its ends nor lies on the other skipping edges.
            let skipped = Double(abs(nodes[e.to].row - nodes[e.from].row) - 1)
            let bow = skipped > 0 ? min(120, 20 * skipped) * (x2 < x1 ? -1 : 1) : 0
            let path = bow == 0 ? "M \(SVG.fmt(x1, 1)) \(SVG.fmt(y1, 1)) L"
                : "M \(SVG.fmt(x1, 1)) \(SVG.fmt(y1, 1)) Q \(SVG.fmt((x1 + x2) / 2 + bow, 1)) \(SVG.fmt((y1 + y2) / 2, 1))"
            // min 0.5 px so that the weakest drawn edge stays visible, 6 px for the strongest.
            let w = maxAbs > 0 ? 0.5 + 5.5 * abs(e.score) / maxAbs : 0.5
            let faint = e.inCircuit ? "" : " stroke-opacity=\"0.25\""
            body.append("<path d=\"\(path) \(SVG.fmt(x2, 1)) \(SVG.fmt(y2, 1))\" fill=\"none\" stroke=\"\(e.score < 0 ? Self.negative : Self.positive)\" stroke-width=\"\(SVG.fmt(w, 2))\" stroke-linecap=\"round\"\(faint)><title>\(SVG.escape("\(name(e)): \(String(format: "%.4g", e.score))"))</title></path>")
        }
        body.append("</g>")
        body.append("<g id=\"nodes\">")
        for i in nodes.indices where drawnNodes.contains(i) {
            let n = nodes[i], c = center(i)
            let (fill, stroke, ink) = n.inCircuit ? ("#f2f2f2", "black", "black") : ("white", "#cccccc", "#aaaaaa")
            body.append("<rect x=\"\(SVG.fmt(c.x - boxW / 2, 1))\" y=\"\(SVG.fmt(c.y - boxH / 2, 1))\" width=\"\(SVG.fmt(boxW, 1))\" height=\"\(SVG.fmt(boxH, 1))\" rx=\"3\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>")
            body.append(SVG.text(n.name, x: c.x, y: c.y + 4, size: 11, extra: " fill=\"\(ink)\""))
        }
        body.append("</g>")
        return SVG.document(width: width, height: height, title: title, body: body)
    }
}
