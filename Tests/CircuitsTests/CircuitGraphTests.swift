import Foundation
import Testing
import TestSupport
import Transformer
@testable import Circuits

// Fixtures/eap-ig is a copy of ../shared/fixtures/eap-ig: graphs written by EAP-IG's own
// `Graph.from_model(cfg).to_json(path)` (hannamw/EAP-IG 795f560), all scores 0, only `logits` in the graph.
private let fixtures = Repo.root + "/Tests/CircuitsTests/Fixtures/eap-ig"

/// One fixture, read with JSONSerialization (not our reader), with the counts its README states.
private struct Fixture: CustomStringConvertible, Sendable {
    let file: String, nodes: Int, edges: Int
    var description: String { file }
    var path: String { fixtures + "/" + file }

    func json() throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }
    func cfg() throws -> [String: Any] { try #require(json()["cfg"] as? [String: Any]) }
    func names(_ key: String) throws -> [String] { try #require(json()[key] as? [String: Any]).keys.sorted() }
    func graph() throws -> CircuitGraph {
        let cfg = try cfg()
        return try CircuitGraph(nLayers: try #require(cfg["n_layers"] as? Int), nHeads: try #require(cfg["n_heads"] as? Int),
                                dModel: try #require(cfg["d_model"] as? Int))
    }
}

private let all = [Fixture(file: "eapig-graph-tiny.json", nodes: 5, edges: 13),
                   Fixture(file: "eapig-graph-l2h4.json", nodes: 12, edges: 110),
                   Fixture(file: "eapig-graph-base.json", nodes: 20, edges: 310)]

@Suite struct CircuitGraphFixtureTests {
    @Test(arguments: all)
    fileprivate func namesAndCountsAreEAPIGs(_ f: Fixture) throws {
        let g = try f.graph()
        #expect(g.nodeCount == f.nodes && g.edgeCount == f.edges)
        #expect(try f.names("nodes").count == f.nodes && f.names("edges").count == f.edges)
        #expect(g.nodes.map(\.name).sorted() == (try f.names("nodes")))
        #expect(g.edges.map(\.name).sorted() == (try f.names("edges")))
        let ours = try #require(JSONSerialization.jsonObject(with: g.eapigJSON()) as? [String: Any])
        #expect(Set(ours.keys) == Set(try f.json().keys))
        #expect(Set(try #require(ours["cfg"] as? [String: Any]).keys) == Set(try f.cfg().keys))
    }

    // All scores 0 and only logits in the graph is what from_model builds, so the bytes must agree too
    // (key order, separators, number format).
    @Test(arguments: all)
    fileprivate func anUntouchedGraphIsTheFixtureByteForByte(_ f: Fixture) throws {
        let want = try Data(contentsOf: URL(fileURLWithPath: f.path))
        #expect(try f.graph().eapigJSON() == want)
    }

    @Test(arguments: all)
    fileprivate func theFixtureLoadsThroughTheReader(_ f: Fixture) throws {
        #expect(try CircuitGraph.read(path: f.path) == f.graph())
    }
}

@Suite struct CircuitGraphTests {
    /// A graph with every kind of state set: scores of both signs and tiny and large, some nodes scored.
    static func scored(nLayers: Int, nHeads: Int) throws -> CircuitGraph {
        var g = try CircuitGraph(nLayers: nLayers, nHeads: nHeads, dModel: 8)
        var rng = SystemRandomNumberGenerator()
        for i in g.edges.indices {
            g[edge: i].score = [Float.random(in: -1...1, using: &rng), 1e-7, -3e8, 0.1][i % 4]
            g[edge: i].inGraph = Bool.random(using: &rng)
        }
        for i in g.nodes.indices where i % 2 == 0 {
            g[node: i].score = Float.random(in: -2...2, using: &rng)
            g[node: i].inGraph.toggle()
        }
        return g
    }

    @Test func writtenAndReadBackIsTheSameGraphAndTheSameBytes() throws {
        let g = try Self.scored(nLayers: 3, nHeads: 2)
        let dir = try TempDir("circuits")
        try g.write(to: dir.path("g.json"))
        let back = try CircuitGraph.read(path: dir.path("g.json"))
        #expect(back == g)
        #expect(try back.eapigJSON() == g.eapigJSON())
        #expect(try g.eapigJSON() == g.eapigJSON())
        // a node without a score has no "score" key (EAP-IG's from_json would write null into a tensor)
        let nodes = try #require((JSONSerialization.jsonObject(with: g.eapigJSON()) as? [String: Any])?["nodes"] as? [String: [String: Any]])
        #expect(nodes["a0.h0"]?["score"] == nil && nodes["input"]?["score"] != nil)
    }

    @Test func edgesRunForwardAndHeadsReadOnlyEarlierLayers() throws {
        let g = try CircuitGraph(nLayers: 3, nHeads: 4, dModel: 8)
        func layer(_ k: CircuitGraph.Kind) -> Int? {
            if case .head(let l, _) = k { return l }; if case .mlp(let l) = k { return l }; return nil
        }
        for (i, e) in g.edges.enumerated() {
            let s = g.nodes[e.source], t = g.nodes[e.target]
            #expect(e.source < e.target)
            #expect(s.outgoing.contains(i) && t.incoming.contains(i))
            #expect(g.edgeIndex(named: e.name) == i && g.edge(named: e.name) == e)
            if case .head = t.kind {
                #expect(e.slot != nil)
                #expect(e.name == "\(s.name)->\(t.name)<\(e.slot!.rawValue)>")
                if case .head = s.kind { #expect(layer(s.kind)! < layer(t.kind)!) }
                if case .mlp = s.kind { #expect(layer(s.kind)! < layer(t.kind)!) }
            } else {
                #expect(e.slot == nil && e.name == "\(s.name)->\(t.name)")
            }
        }
        // m1 reads the heads of layer 1; a1.h0 does not
        #expect(g.edge(named: "a1.h3->m1") != nil && g.edge(named: "a1.h0->a1.h1<q>") == nil)
        #expect(g.edge(named: "m1->m1") == nil && g.edge(named: "m1->a1.h0<k>") == nil)
        #expect(g.nodes[0].incoming.isEmpty && g.nodes.last!.outgoing.isEmpty)
        #expect(g.nodes.map(\.inGraph) == g.nodes.map { $0.name == "logits" })
        // a head has 3 inputs, an MLP and the logits one: EAP-IG's n_backward columns, each used
        let inputs = Set(g.edges.map(\.input))
        #expect(inputs == Set(0..<g.inputCount) && g.inputCount == 3 * (3 * 4 + 1) + 1)
        #expect(g.edge(named: "a2.h1->logits")!.input == g.inputCount - 1)
        #expect(g.edge(named: "input->a1.h2<k>")!.input == 1 * 13 + 1 * 4 + 2)
    }

    // Counted independently of the graph's loops: a layer's heads read r = 1 + l (H + 1) nodes through
    // 3 inputs each, its MLP reads r + H, the logits read all 1 + L (H + 1) nodes before them. Summed:
    // E = (3H + 1) (L + (H + 1) L (L - 1) / 2) + L H + 1 + L (H + 1).
    @Test(arguments: [(1, 1), (1, 3), (3, 2), (4, 3), (6, 16), (12, 12)])
    func nodeAndEdgeCountsFollowTheFormula(shape: (Int, Int)) throws {
        let (L, H) = shape
        let g = try CircuitGraph(nLayers: L, nHeads: H, dModel: 4)
        #expect(g.nodeCount == 2 + L * (H + 1))
        #expect(g.edgeCount == (3 * H + 1) * (L + (H + 1) * L * (L - 1) / 2) + L * H + 1 + L * (H + 1))
        #expect(Set(g.edges.map(\.name)).count == g.edgeCount)
        if L == 12 && H == 12 { #expect(g.edgeCount == 32491) }  // GPT-2 small, as the EAP-IG papers count it
    }

    @Test func builtFromAModelConfig() throws {
        let cfg = ModelConfig(n_layers: 2, d_model: 32, n_heads: 4, d_head: 8, d_mlp: 128, n_ctx: 16, d_vocab: 50)
        let g = try CircuitGraph(cfg)
        #expect(g == (try CircuitGraph(nLayers: 2, nHeads: 4, dModel: 32)))
    }

    @Test func badConfigsAndScoresAreOneLineErrors() throws {
        for (l, h, d) in [(0, 2, 8), (2, -1, 8), (2, 2, 0), (1_000_000_000, 12, 8), (2, Int.max, 8)] {
            #expect(throws: CircuitGraphError.self) { try CircuitGraph(nLayers: l, nHeads: h, dModel: d) }
        }
        var g = try CircuitGraph(nLayers: 1, nHeads: 1, dModel: 8)
        g[edge: 2].score = .nan
        #expect(throws: CircuitGraphError.unwritable("edge input->a0.h0<v> has score nan; JSON needs a finite number")) {
            try g.eapigJSON()
        }
    }

    /// Each bad file, and a part of the one-line message it must give.
    static let badFiles: [(String, String)] = {
        let tiny = String(decoding: FileManager.default.contents(atPath: all[0].path)!, as: UTF8.self)
        func edit(_ a: String, _ b: String) -> String { tiny.replacingOccurrences(of: a, with: b) }
        return [
            ("{\"cfg\": {", "not valid JSON"),
            ("[1, 2]", "top level: expected"),
            (edit("\"n_heads\": 2", "\"n_heads\": 1"), "unknown node \"a0.h1\" for cfg n_layers 1, n_heads 1"),
            (edit("\"n_heads\": 2", "\"n_heads\": 3"), "missing node \"a0.h2\": cfg n_layers 1, n_heads 3 has 6 nodes, the file 5"),
            (edit("\"n_layers\": 1", "\"n_layers\": 2"), "missing node \"a1.h0\""),
            (edit("\"m0\": {", "\"m7\": {"), "unknown node \"m7\""),
            (edit("\"a0.h1->m0\"", "\"a0.h1->a0.h0<q>\""), "unknown edge \"a0.h1->a0.h0<q>\""),
            (edit(", \"a0.h1->m0\": {\"score\": 0.0, \"in_graph\": false}", ""), "missing edge \"a0.h1->m0\": cfg n_layers 1, n_heads 2 has 13 edges, the file 12"),
            (edit("\"parallel_attn_mlp\": false", "\"parallel_attn_mlp\": true"), "cfg.parallel_attn_mlp is true"),
            (edit(", \"parallel_attn_mlp\": false", ""), "cfg.parallel_attn_mlp: missing"),
            (edit("\"n_layers\": 1", "\"n_layers\": 0"), "cfg: invalid circuit graph config: n_layers must be > 0, got 0"),
            (edit("\"n_layers\": 1", "\"n_layers\": 1000000000"), "more than 10000000 edges"),
            (edit("{\"in_graph\": true}", "{\"in_graph\": 1}"), "nodes.logits.in_graph: expected Bool"),
            (edit("\"input->m0\": {\"score\": 0.0", "\"input->m0\": {\"score\": \"high\""), "edges.input->m0.score: expected Float"),
            (edit("\"input->m0\": {\"score\": 0.0", "\"input->m0\": {\"score\": null"), "edges.input->m0.score: expected Float, found null"),
            (edit("\"input->m0\": {\"score\": 0.0", "\"input->m0\": {\"score\": 1e300"), "edges.input->m0.score: 1e+300 is beyond a 32-bit float"),
            // Python's json.dump writes a NaN score as NaN, which is not JSON
            (edit("\"input->m0\": {\"score\": 0.0", "\"input->m0\": {\"score\": NaN"), "not valid JSON (Invalid value around character"),
        ]
    }()

    @Test(arguments: badFiles.indices)
    func aBadFileGivesOneLineNamingTheFile(_ i: Int) throws {
        let (text, want) = Self.badFiles[i]
        let dir = try TempDir("circuits")
        let path = dir.path("bad.json")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try CircuitGraph.read(path: path)
            Issue.record("read \(want) without an error")
        } catch {
            let message = error.description
            #expect(message.hasPrefix(path + ": ") && message.contains(want), "\(message)")
            #expect(!message.contains("\n"), "\(message)")
        }
    }

    @Test func aMissingFileIsAnError() {
        #expect(throws: CircuitGraphError.self) { try CircuitGraph.read(path: "/nonexistent/g.json") }
    }
}
