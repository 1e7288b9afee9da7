import Figures

extension CircuitGraph {
    /// The drawing of this graph: `input` at the bottom, each layer's heads in a row with its MLP in the
    /// row above, `logits` on top; edges scored and in or out of the circuit as in the graph.
    public func drawing(title: String) throws -> CircuitDrawing {
        let nodes = self.nodes.map { n -> CircuitDrawing.Node in
            switch n.kind {
            case .input: CircuitDrawing.Node(name: n.name, row: 0, column: 0, inCircuit: n.inGraph)
            case .head(let l, let h): CircuitDrawing.Node(name: n.name, row: 1 + 2 * l, column: h, inCircuit: n.inGraph)
            case .mlp(let l): CircuitDrawing.Node(name: n.name, row: 2 + 2 * l, column: 0, inCircuit: n.inGraph)
            case .logits: CircuitDrawing.Node(name: n.name, row: 1 + 2 * nLayers, column: 0, inCircuit: n.inGraph)
            }
        }
        let edges = self.edges.map {
            CircuitDrawing.Edge(from: $0.source, to: $0.target, slot: $0.slot?.rawValue, score: Double($0.score), inCircuit: $0.inGraph)
        }
        return try CircuitDrawing(title: title, nodes: nodes, edges: edges)
    }
}
