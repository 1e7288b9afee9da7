import Transformer

/// The computational graph of EAP-IG (hannamw/EAP-IG, `src/eap/graph.py`, `Graph.from_model`) for a
/// transformer whose layers run attention, then the MLP (`parallel_attn_mlp: false`).
///
/// Nodes, in topological order: `input`, then for each layer l its heads `a{l}.h{h}` and its MLP `m{l}`,
/// then `logits`: 2 + n_layers * (n_heads + 1) nodes. An edge runs from a node's output to the input of
/// every later node that reads the residual stream it writes to: a head of layer l reads `input` and all
/// nodes of the layers before l (not the other heads of its own layer); `m{l}` reads those and the heads
/// of layer l; `logits` reads every node but itself. A head has three inputs (its q, k and v), so an edge
/// into a head carries a slot and a name ending in `<q>`, `<k>` or `<v>`; `a0.h1->m0` and `m1->logits`
/// have none. Nodes and edges are stored in EAP-IG's order (the order of its JSON), and each holds its
/// score and whether it is in the circuit. Edge scores are plain numbers (EAP-IG keeps them in a tensor
/// of zeros, and its `from_json` needs a number); a node's score is optional (absent from the JSON).
public struct CircuitGraph: Sendable, Equatable {
    public enum Kind: Sendable, Hashable {
        case input, head(layer: Int, head: Int), mlp(layer: Int), logits
    }

    /// Which of a head's three inputs an edge feeds.
    public enum Slot: String, Sendable, CaseIterable { case q, k, v }

    /// `incoming` and `outgoing` are indices into `edges`, in edge order.
    public struct Node: Sendable, Equatable {
        public let name: String
        public let kind: Kind
        public let incoming: [Int]
        public let outgoing: [Int]
        public var inGraph: Bool
        public var score: Float?
    }

    /// `source` and `target` are indices into `nodes`. `input` numbers the (target, slot) pair as
    /// EAP-IG's `backward_index` does (a layer's q inputs, k inputs, v inputs, then its MLP; `logits`
    /// last), so a scorer can lay gradients out in EAP-IG's [n_forward, n_backward] matrix, whose row is
    /// `source` (every node but `logits`).
    public struct Edge: Sendable, Equatable {
        public let name: String
        public let source: Int
        public let target: Int
        public let slot: Slot?
        public let input: Int
        public var score: Float
        public var inGraph: Bool
    }

    public let nLayers: Int
    public let nHeads: Int
    /// Not used by the graph; EAP-IG keeps it in `cfg` (for neuron-level circuits).
    public let dModel: Int
    public private(set) var nodes: [Node]
    public private(set) var edges: [Edge]
    private let nodeIndices: [String: Int]
    private let edgeIndices: [String: Int]

    /// Graphs beyond this are refused: GPT-2 small has 32,491 edges, and a hostile cfg must not allocate
    /// billions.
    public static let maxEdges = 10_000_000

    public init(_ config: ModelConfig) throws(CircuitGraphError) {
        try self.init(nLayers: config.n_layers, nHeads: config.n_heads, dModel: config.d_model)
    }

    /// Everything out of the circuit but `logits` (EAP-IG's `LogitNode.in_graph` is always true), every
    /// edge score 0: the graph `Graph.from_model` builds.
    public init(nLayers: Int, nHeads: Int, dModel: Int) throws(CircuitGraphError) {
        for (name, v) in [("n_layers", nLayers), ("n_heads", nHeads), ("d_model", dModel)] where v <= 0 {
            throw .invalidConfig("\(name) must be > 0, got \(v)")
        }
        guard let count = CircuitGraph.edgeCount(nLayers: nLayers, nHeads: nHeads) else {
            throw .invalidConfig("n_layers \(nLayers), n_heads \(nHeads) gives more than \(CircuitGraph.maxEdges) edges")
        }
        self.nLayers = nLayers; self.nHeads = nHeads; self.dModel = dModel

        var kinds: [Kind] = [.input]
        for l in 0..<nLayers {
            kinds += (0..<nHeads).map { Kind.head(layer: l, head: $0) }
            kinds.append(.mlp(layer: l))
        }
        kinds.append(.logits)
        let names = kinds.map(CircuitGraph.name)

        // Built in the loop order of `from_model`, which is the order of EAP-IG's JSON.
        var edges: [Edge] = []
        edges.reserveCapacity(count)
        var incoming = Array(repeating: [Int](), count: kinds.count)
        var outgoing = incoming
        func add(_ source: Int, _ target: Int, _ slot: Slot?) {
            let name = names[source] + "->" + names[target] + (slot.map { "<\($0.rawValue)>" } ?? "")
            let input = CircuitGraph.inputIndex(kinds[target], slot, nLayers: nLayers, nHeads: nHeads)
            incoming[target].append(edges.count); outgoing[source].append(edges.count)
            edges.append(Edge(name: name, source: source, target: target, slot: slot, input: input, score: 0, inGraph: false))
        }
        var residual = [0]
        for l in 0..<nLayers {
            let first = 1 + l * (nHeads + 1), heads = Array(first..<first + nHeads), mlp = first + nHeads
            for s in residual { for h in heads { for slot in Slot.allCases { add(s, h, slot) } } }
            residual += heads
            for s in residual { add(s, mlp, nil) }
            residual.append(mlp)
        }
        for s in residual { add(s, kinds.count - 1, nil) }

        nodes = kinds.indices.map {
            Node(name: names[$0], kind: kinds[$0], incoming: incoming[$0], outgoing: outgoing[$0],
                 inGraph: kinds[$0] == .logits, score: nil)
        }
        self.edges = edges
        nodeIndices = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        edgeIndices = Dictionary(uniqueKeysWithValues: edges.enumerated().map { ($1.name, $0) })
    }

    public var nodeCount: Int { nodes.count }
    public var edgeCount: Int { edges.count }
    /// EAP-IG's `n_backward`: the distinct `Edge.input` values.
    public var inputCount: Int { nLayers * (3 * nHeads + 1) + 1 }

    public func nodeIndex(named name: String) -> Int? { nodeIndices[name] }
    public func edgeIndex(named name: String) -> Int? { edgeIndices[name] }
    public func node(named name: String) -> Node? { nodeIndices[name].map { nodes[$0] } }
    public func edge(named name: String) -> Edge? { edgeIndices[name].map { edges[$0] } }

    /// Read and write a node's state; its structure (name, kind, edges) cannot change.
    public subscript(node i: Int) -> Node {
        get { nodes[i] }
        set {
            precondition(newValue.name == nodes[i].name, "node \(i) is \(nodes[i].name), not \(newValue.name)")
            nodes[i].inGraph = newValue.inGraph; nodes[i].score = newValue.score
        }
    }

    /// Read and write an edge's state; its structure (name, ends, slot) cannot change.
    public subscript(edge i: Int) -> Edge {
        get { edges[i] }
        set {
            precondition(newValue.name == edges[i].name, "edge \(i) is \(edges[i].name), not \(newValue.name)")
            edges[i].inGraph = newValue.inGraph; edges[i].score = newValue.score
        }
    }

    static func name(_ kind: Kind) -> String {
        switch kind {
        case .input: "input"
        case .head(let l, let h): "a\(l).h\(h)"
        case .mlp(let l): "m\(l)"
        case .logits: "logits"
        }
    }

    static func inputIndex(_ kind: Kind, _ slot: Slot?, nLayers: Int, nHeads: Int) -> Int {
        let perLayer = 3 * nHeads + 1
        switch kind {
        case .head(let l, let h): return l * perLayer + Slot.allCases.firstIndex(of: slot!)! * nHeads + h
        case .mlp(let l): return l * perLayer + 3 * nHeads
        case .logits: return nLayers * perLayer
        case .input: preconditionFailure("input has no inputs")
        }
    }

    /// The number of edges, or nil if it is beyond `maxEdges`: per layer l, with r = 1 + l (n_heads + 1)
    /// nodes before it, 3 n_heads r into its heads and r + n_heads into its MLP; then 1 + n_layers
    /// (n_heads + 1) into the logits.
    static func edgeCount(nLayers: Int, nHeads: Int) -> Int? {
        // With these bounds and the return as soon as the total passes maxEdges, no product reaches 2^63.
        guard nLayers <= maxEdges, nHeads <= maxEdges else { return nil }
        var total = 1 + nLayers * (nHeads + 1)
        for l in 0..<nLayers {
            let r = 1 + l * (nHeads + 1)
            total += 3 * nHeads * r + r + nHeads
            if total > maxEdges { return nil }
        }
        return total
    }
}

/// A circuit graph that cannot be built, read or written; `description` is one line naming the file (if
/// any) and the problem.
public enum CircuitGraphError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case file(path: String, problem: String)
    case unwritable(String)
    /// A circuit selection (`applyTopN`, `applyThreshold`, `applyGreedy`) given a bad argument or score.
    case invalidSelection(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid circuit graph config: \(m)"
        case .file(let path, let problem): return "\(path): \(problem)"
        case .unwritable(let m): return "cannot write circuit graph: \(m)"
        case .invalidSelection(let m): return "invalid circuit selection: \(m)"
        }
    }
}
