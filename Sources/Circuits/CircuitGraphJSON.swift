import Foundation

// EAP-IG's JSON layout (`Graph.to_json` / `Graph.from_json`, CONTRACTS section 7):
//   {"cfg": {"n_layers", "n_heads", "d_model", "parallel_attn_mlp"},
//    "nodes": {name: {"in_graph", "score"?}}, "edges": {name: {"score", "in_graph"}}}
extension CircuitGraph {
    /// The graph as EAP-IG's `to_json` writes it: same key order, same separators (Python's `json.dump`),
    /// nodes and edges in graph order, no trailing newline. So the same graph gives the same bytes, and an
    /// untouched graph gives exactly the file EAP-IG writes for that config.
    public func eapigJSON() throws(CircuitGraphError) -> Data {
        var s = "{\"cfg\": {\"n_layers\": \(nLayers), \"n_heads\": \(nHeads), \"d_model\": \(dModel), "
            + "\"parallel_attn_mlp\": false}, \"nodes\": {"
        s.reserveCapacity(64 * (nodes.count + edges.count))
        for (i, node) in nodes.enumerated() {
            s += (i == 0 ? "" : ", ") + "\"\(node.name)\": {\"in_graph\": \(node.inGraph)"
            if let score = node.score { s += ", \"score\": " + (try number(score, of: "node \(node.name)")) }
            s += "}"
        }
        s += "}, \"edges\": {"
        for (i, edge) in edges.enumerated() {
            s += (i == 0 ? "" : ", ") + "\"\(edge.name)\": {\"score\": " + (try number(edge.score, of: "edge \(edge.name)"))
                + ", \"in_graph\": \(edge.inGraph)}"
        }
        s += "}}"
        return Data(s.utf8)
    }

    public func write(to path: String) throws(CircuitGraphError) {
        let data = try eapigJSON()
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .file(path: path, problem: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a graph in EAP-IG's layout, e.g. one that EAP-IG wrote. Stricter than `from_json`: every node
    /// and edge of the graph for its cfg must be there (EAP-IG writes them all), and nothing else.
    public static func read(path: String) throws(CircuitGraphError) -> CircuitGraph {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .file(path: path, problem: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, source: path)
    }

    /// `source` names the data in errors (a path, or "stdin").
    public static func decode(_ data: Data, source: String) throws(CircuitGraphError) -> CircuitGraph {
        let file: EAPIGFile
        do { file = try JSONDecoder().decode(EAPIGFile.self, from: data) } catch let error as DecodingError {
            throw .file(path: source, problem: describe(error, data))
        } catch {
            throw .file(path: source, problem: oneLine("\(error)"))
        }
        let cfg = file.cfg
        guard !cfg.parallel_attn_mlp else {
            throw .file(path: source, problem: "cfg.parallel_attn_mlp is true; only attention before the MLP is supported")
        }
        var graph: CircuitGraph
        do { graph = try CircuitGraph(nLayers: cfg.n_layers, nHeads: cfg.n_heads, dModel: cfg.d_model) } catch {
            throw .file(path: source, problem: "cfg: \(error)")
        }
        let shape = "cfg n_layers \(cfg.n_layers), n_heads \(cfg.n_heads)"

        // Sorted, so that the error for a file with several problems is always the same one.
        for (name, record) in file.nodes.sorted(by: { $0.key < $1.key }) {
            guard let i = graph.nodeIndex(named: name) else {
                throw .file(path: source, problem: "unknown node \"\(name)\" for \(shape)")
            }
            graph[node: i].inGraph = record.in_graph
            graph[node: i].score = record.score
        }
        for (name, record) in file.edges.sorted(by: { $0.key < $1.key }) {
            guard let i = graph.edgeIndex(named: name) else {
                throw .file(path: source, problem: "unknown edge \"\(name)\" for \(shape)")
            }
            graph[edge: i].score = record.score
            graph[edge: i].inGraph = record.in_graph
        }
        if let missing = graph.nodes.first(where: { file.nodes[$0.name] == nil }) {
            throw .file(path: source, problem: "missing node \"\(missing.name)\": \(shape) has \(graph.nodeCount) nodes, "
                        + "the file \(file.nodes.count)")
        }
        if let missing = graph.edges.first(where: { file.edges[$0.name] == nil }) {
            throw .file(path: source, problem: "missing edge \"\(missing.name)\": \(shape) has \(graph.edgeCount) edges, "
                        + "the file \(file.edges.count)")
        }
        return graph
    }

    // Float's shortest round-trip form ("0.0", "0.125", "1e-05") is valid JSON and reads back exactly.
    private func number(_ x: Float, of what: String) throws(CircuitGraphError) -> String {
        guard x.isFinite else { throw .unwritable("\(what) has score \(x); JSON needs a finite number") }
        return x.description
    }
}

// Other cfg keys (EAP-IG keeps whatever dict it was given) and top-level keys (our "meta") are ignored.
private struct EAPIGFile: Decodable {
    struct Config: Decodable { let n_layers: Int, n_heads: Int, d_model: Int, parallel_attn_mlp: Bool }
    struct NodeRecord: Decodable { let in_graph: Bool; let score: Float? }
    struct EdgeRecord: Decodable { let score: Float; let in_graph: Bool }
    let cfg: Config
    let nodes: [String: NodeRecord]
    let edges: [String: EdgeRecord]
}

private func describe(_ error: DecodingError, _ data: Data) -> String {
    func at(_ path: [CodingKey]) -> String { path.isEmpty ? "top level" : path.map(\.stringValue).joined(separator: ".") }
    switch error {
    case .typeMismatch(let type, let c): return "\(at(c.codingPath)): expected \(type) (\(oneLine(c.debugDescription)))"
    case .valueNotFound(let type, let c): return "\(at(c.codingPath)): expected \(type), found null"
    case .keyNotFound(let key, let c): return "\(at(c.codingPath + [key])): missing"
    case .dataCorrupted(let c) where !c.codingPath.isEmpty: return oneLine("\(at(c.codingPath)): \(c.debugDescription)")
    // Foundation on Linux says only "not valid JSON", also for a score beyond Float's range; the
    // untyped parser tells the two apart and says where.
    case .dataCorrupted: return jsonProblem(data)
    @unknown default: return oneLine("\(error)")
    }
}

private func jsonProblem(_ data: Data) -> String {
    let parsed: Any
    do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
        let cause = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return oneLine("not valid JSON" + (cause.map { " (\($0))" } ?? ""))
    }
    for key in ["nodes", "edges"] {
        for (name, record) in ((parsed as? [String: Any])?[key] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let score = (record as? [String: Any])?["score"] as? Double, !Float(score).isFinite {
                return "\(key).\(name).score: \(score) is beyond a 32-bit float"
            }
        }
    }
    return "not readable as an EAP-IG graph"
}

private func oneLine(_ s: String) -> String {
    s.split(whereSeparator: \.isNewline).joined(separator: " ")
}
