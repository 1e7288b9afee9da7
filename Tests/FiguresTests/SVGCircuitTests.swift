import Foundation
#if canImport(FoundationXML)
import FoundationXML  // XMLParser lives here on Linux
#endif
import XCTest
import Figures

/// The SVG as XMLParser reads it: every element with its attributes, the `<g id>` it sits in, its own
/// text, and (for an edge `<path>`) the text of its `<title>`.
private final class SVGElements: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var group: String?; var text = "" }
    var elements: [Element] = []
    private var open: [Int] = []  // indices into `elements` of the elements not yet closed

    /// nil if the document is not well-formed XML.
    static func parse(_ svg: String) -> SVGElements? {
        let delegate = SVGElements(), parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = delegate
        return parser.parse() ? delegate : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let group = open.reversed().lazy.map { self.elements[$0] }.first { $0.name == "g" }?.attributes["id"]
        elements.append(Element(name: name, attributes: attributes, group: group))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = open.last { elements[i].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        let i = open.removeLast()
        if name == "title", let parent = open.last, elements[parent].name == "path" { elements[parent].text = elements[i].text }
    }

    var edges: [Element] { elements.filter { $0.name == "path" && $0.group == "edges" } }
    /// Where an edge ends: the last two numbers of its path.
    static func end(_ edge: Element) -> (x: Double, y: Double)? {
        let numbers = (edge.attributes["d"] ?? "").split(separator: " ").compactMap { Double($0) }
        return numbers.count >= 4 ? (numbers[numbers.count - 2], numbers[numbers.count - 1]) : nil
    }
    func texts(_ s: String) -> Int { elements.filter { $0.name == "text" && $0.text == s }.count }
}

final class SVGCircuitTests: XCTestCase {
    typealias Node = CircuitDrawing.Node
    typealias Edge = CircuitDrawing.Edge

    /// Two layers of two heads, laid out as EAP-IG's graph: input, a0 heads, m0, a1 heads, m1, logits.
    static let nodes = [
        Node(name: "input", row: 0, column: 0),
        Node(name: "a0.h0", row: 1, column: 0), Node(name: "a0.h1", row: 1, column: 1, inCircuit: false),
        Node(name: "m0", row: 2, column: 0),
        Node(name: "a1.h0", row: 3, column: 0, inCircuit: false), Node(name: "a1.h1", row: 3, column: 1),
        Node(name: "m1", row: 4, column: 0, inCircuit: false),
        Node(name: "logits", row: 5, column: 0),
    ]
    static let edges = [
        Edge(from: 0, to: 1, slot: "q", score: 0.2), Edge(from: 0, to: 1, slot: "k", score: -0.1),
        Edge(from: 0, to: 1, slot: "v", score: 0.05), Edge(from: 1, to: 3, score: 0.4),
        Edge(from: 3, to: 5, slot: "v", score: -0.9),  // the largest |score|, and negative
        Edge(from: 5, to: 7, score: 0.6),
        Edge(from: 0, to: 7, score: 0.01, inCircuit: false), Edge(from: 2, to: 3, score: 3, inCircuit: false),
    ]

    func drawing(title: String = "circuit of a+b") throws -> CircuitDrawing {
        try CircuitDrawing(title: title, nodes: Self.nodes, edges: Self.edges)
    }

    fileprivate func parsed(_ svg: String, file: StaticString = #filePath, line: UInt = #line) throws -> SVGElements {
        try XCTUnwrap(SVGElements.parse(svg), "not well-formed XML:\n\(svg)", file: file, line: line)
    }

    func testWellFormedInBothViews() throws {
        let d = try drawing()
        for svg in [d.svg(), d.svg(showAll: true)] {
            let doc = try parsed(svg)
            XCTAssertEqual(doc.elements.first?.name, "svg")
            XCTAssertFalse(svg.contains("<style") || svg.contains("<script"), "plain SVG only")
        }
    }

    func testEachCircuitNodeLabelledOnceAndOthersOnlyWhenShowingAll() throws {
        let d = try drawing()
        let circuit = try parsed(d.svg()), all = try parsed(d.svg(showAll: true))
        for n in Self.nodes {
            XCTAssertEqual(circuit.texts(n.name), n.inCircuit ? 1 : 0, n.name)
            XCTAssertEqual(all.texts(n.name), 1, n.name)
        }
        XCTAssertEqual(circuit.texts("6 edges, 5 nodes in the circuit"), 1)
    }

    func testOnePathPerDrawnEdge() throws {
        let d = try drawing()
        XCTAssertEqual(try parsed(d.svg()).edges.count, Self.edges.filter(\.inCircuit).count)
        XCTAssertEqual(try parsed(d.svg(showAll: true)).edges.count, Self.edges.count)
    }

    func testEdgesSkippingRowsAreCurvedOthersStraight() throws {
        let edges = try parsed(try drawing().svg()).edges
        func d(_ name: String) throws -> String { try XCTUnwrap(edges.first { $0.text.hasPrefix(name + ":") }?.attributes["d"]) }
        XCTAssertTrue(try d("a0.h0->m0").contains(" L "), "adjacent rows: a straight line")
        XCTAssertTrue(try d("a1.h1->logits").contains(" Q "), "across the m1 row: a curve")
    }

    func testWidestEdgeHasLargestAbsoluteScore() throws {
        let edges = try parsed(try drawing().svg()).edges
        let widths = try edges.map { try XCTUnwrap(Double($0.attributes["stroke-width"] ?? "")) }
        let widest = try XCTUnwrap(widths.indices.max { widths[$0] < widths[$1] })
        XCTAssertEqual(edges[widest].text, "m0->a1.h1<v>: -0.9")
        XCTAssertEqual(widths[widest], 6, accuracy: 1e-9)
        XCTAssertEqual(widths.min() ?? 0, 0.5 + 5.5 * 0.05 / 0.9, accuracy: 0.01)
        XCTAssertEqual(edges[widest].attributes["stroke"], "#b2182b", "negative is red")
        XCTAssertEqual(edges[0].attributes["stroke"], "#2166ac", "positive is blue")
    }

    func testQKVEndAtLeftMiddleRightOfTheHead() throws {
        let edges = try parsed(try drawing().svg()).edges
        func end(_ slot: String) throws -> (x: Double, y: Double) {
            let e = try XCTUnwrap(edges.first { $0.text.hasPrefix("input->a0.h0<\(slot)>") })
            return try XCTUnwrap(SVGElements.end(e))
        }
        let q = try end("q"), k = try end("k"), v = try end("v")
        XCTAssertLessThan(q.x, k.x)
        XCTAssertLessThan(k.x, v.x)
        XCTAssertEqual(Set([q.y, k.y, v.y]).count, 1, "all three on the head's bottom edge")
    }

    func testBadInputThrowsNamingTheIndex() {
        func message(_ nodes: [Node], _ edges: [Edge]) -> String? {
            do { _ = try CircuitDrawing(title: "t", nodes: nodes, edges: edges); return nil } catch { return error.description }
        }
        let bad = message(Self.nodes, Self.edges + [Edge(from: 2, to: 17, score: 1)])
        XCTAssertEqual(bad, "circuit drawing: edge 8 refers to node 17, but there are 8 nodes")
        XCTAssertEqual(message(Self.nodes, [Edge(from: -1, to: 0, score: 1)])?.contains("node -1"), true)
        XCTAssertEqual(message(Self.nodes, [Edge(from: 0, to: 1, slot: "x", score: 1)])?.contains("slot \"x\""), true)
        XCTAssertEqual(message(Self.nodes, [Edge(from: 0, to: 1, score: .nan)])?.contains("edge 0"), true)
        XCTAssertEqual(message([Node(name: "n", row: Int.max, column: 0)], [])?.contains("node 0"), true)
        XCTAssertNil(message(Self.nodes, [Edge(from: 7, to: 0, score: 1)]), "edges may run downwards")
    }

    func testDeterministic() throws {
        XCTAssertEqual(try drawing().svg(), try drawing().svg())
        XCTAssertEqual(try drawing().svg(showAll: true), try drawing().svg(showAll: true))
    }

    func testTitleAndNamesAreEscaped() throws {
        let svg = try drawing(title: "circuit <&> \"x\"").svg()
        XCTAssertTrue(svg.contains("circuit &lt;&amp;&gt; &quot;x&quot;"))
        XCTAssertFalse(svg.contains("<&>"))
        XCTAssertFalse(svg.contains("<q>"), "slot names in edge titles are escaped too")
        let doc = try parsed(svg)
        XCTAssertEqual(doc.texts("circuit <&> \"x\""), 1)
    }

    func testEmptyCircuitIsStillADrawing() throws {
        let edges = Self.edges.map { e -> Edge in var e = e; e.inCircuit = false; return e }
        let d = try CircuitDrawing(title: "nothing", nodes: Self.nodes, edges: edges)
        let doc = try parsed(d.svg())
        XCTAssertTrue(d.svg().contains("empty circuit"))
        XCTAssertEqual(doc.edges.count, 0)
        let none = try parsed(try CircuitDrawing(title: "no graph", nodes: [], edges: []).svg())
        XCTAssertEqual(none.elements.filter { $0.name == "text" && $0.text.hasPrefix("empty circuit") }.count, 1)
    }
}
