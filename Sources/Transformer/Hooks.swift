import Tensors

/// The hook points of a model (CONTRACTS section 3), derived from the table in HookTable.swift.
public enum HookPoints {
    /// Every hook name of a model, in the order the forward pass fires them.
    public static func names(_ c: ModelConfig) -> [String] {
        Stage.all(c).flatMap { $0.hooks.map(\.name) }
    }

    /// The hook and layer behind a full name (`blocks.1.attn.hook_z` -> (.z, 1)), if the model has it.
    public static func locate(_ name: String, _ c: ModelConfig) -> (hook: Hook, layer: Int)? {
        guard let (hook, layer) = locate(name), !hook.inBlock || layer < c.n_layers, hook.exists(in: c) else { return nil }
        return (hook, layer)
    }

    /// The same, for any number of layers.
    static func locate(_ name: String) -> (hook: Hook, layer: Int)? {
        if let hook = Hook(rawValue: name), !hook.inBlock { return (hook, 0) }
        let parts = name.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "blocks", let l = Int(parts[1]), l >= 0, String(l) == parts[1],
              let hook = Hook(rawValue: String(parts[2])), hook.inBlock else { return nil }
        return (hook, l)
    }

    /// TransformerLens shape of a hook's activation for a batch of `batch` sequences of `length` tokens.
    public static func shape(_ name: String, _ c: ModelConfig, batch B: Int, length T: Int) -> [Int]? {
        locate(name, c).map { $0.hook.point.shape.dims(c, batch: B, length: T) }
    }

    /// Which axis of a hook's activation is the (query) position, and which the head, if any.
    public static func axes(_ name: String) -> (position: Int, head: Int?)? {
        locate(name).map { ($0.hook.point.shape.positionAxis, $0.hook.point.shape.headAxis) }
    }

    /// Hook names matching any of the patterns (exact names, or globs with `*` and `?`; `*` crosses dots).
    public static func resolve(_ patterns: [String], _ c: ModelConfig) throws(ModelError) -> [String] {
        let all = names(c)
        var picked = Set<String>()
        for p in patterns {
            let hits = all.filter { glob(p, $0) }
            if hits.isEmpty { throw .unknownHook(p, available: all) }
            picked.formUnion(hits)
        }
        return all.filter { picked.contains($0) }
    }

    /// Throws for the first name that is not a hook of a model of this config.
    public static func validate(_ names: some Sequence<String>, _ c: ModelConfig) throws(ModelError) {
        for n in names where locate(n, c) == nil { throw .unknownHook(n, available: self.names(c)) }
    }

    public static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// Reads and rewrites one activation before the rest of the forward pass uses it. A closure that
/// throws stops the pass with its error; one that changes the activation's shape is an error too.
public struct Intervention: Sendable {
    public let apply: @Sendable (_ name: String, _ activation: inout Tensor) throws(ModelError) -> Void

    public init(_ apply: @escaping @Sendable (_ name: String, _ activation: inout Tensor) throws(ModelError) -> Void) {
        self.apply = apply
    }

    /// Replace the whole activation (shapes must match).
    public static func replace(with source: Tensor) -> Intervention {
        Intervention { name, a throws(ModelError) in
            guard a.shape == source.shape else {
                throw .shapeMismatch("replace at \(name): the activation is \(a.shape), the replacement \(source.shape)")
            }
            a = source
        }
    }

    public static var zero: Intervention { Intervention { _, a in a.data = [Float](repeating: 0, count: a.count) } }

    /// Copy the slice at the given (query) positions and/or heads from `source` (same shape) into the
    /// activation; nil means every position / head. This is activation patching.
    public static func patch(from source: Tensor, positions: [Int]? = nil, heads: [Int]? = nil) -> Intervention {
        Intervention { name, a throws(ModelError) in
            guard a.shape == source.shape else {
                throw .shapeMismatch("patch at \(name): the activation is \(a.shape), the source \(source.shape)")
            }
            guard let (posAxis, headAxis) = HookPoints.axes(name) else { throw .unknownHook(name, available: []) }
            if heads != nil && headAxis == nil {
                throw .unsupported("patch at \(name): heads are selected but \(name) has no head axis")
            }
            let pos = try selection(positions, of: a.shape[posAxis], "position", name)
            var hs: (axis: Int, keep: [Bool])? = nil
            if let headAxis { hs = (headAxis, try selection(heads, of: a.shape[headAxis], "head", name)) }
            copySlices(from: source.data, into: &a.data, shape: a.shape, keep: { idx in
                pos[idx[posAxis]] && (hs.map { $0.keep[idx[$0.axis]] } ?? true)
            }, through: max(posAxis, headAxis ?? 0))
        }
    }

    private static func selection(_ picked: [Int]?, of size: Int, _ what: String, _ hook: String) throws(ModelError) -> [Bool] {
        guard let picked else { return [Bool](repeating: true, count: size) }
        var keep = [Bool](repeating: false, count: size)
        for i in picked {
            guard i >= 0 && i < size else { throw .shapeMismatch("patch at \(hook): \(what) \(i) outside 0..<\(size)") }
            keep[i] = true
        }
        return keep
    }

    // For every index of the axes 0...last whose slice `keep` selects, copies that contiguous slice.
    private static func copySlices(from src: [Float], into dst: inout [Float], shape: [Int],
                                   keep: ([Int]) -> Bool, through last: Int) {
        let inner = shape[(last + 1)...].reduce(1, *)
        let outer = shape[...last].reduce(1, *)
        var idx = [Int](repeating: 0, count: last + 1)
        for o in 0..<outer {
            var r = o
            for ax in stride(from: last, through: 0, by: -1) { idx[ax] = r % shape[ax]; r /= shape[ax] }
            guard keep(idx) else { continue }
            let base = o * inner
            for i in base..<(base + inner) { dst[i] = src[i] }
        }
    }
}

/// What a forward pass should expose: activations to cache and activations to rewrite. (Gradients
/// at hooks are asked of the backward pass: `backward(_:dlogits:activationGradients:)`.)
public struct HookPlan: Sendable {
    public var cache: Set<String> = []
    public var interventions: [String: [Intervention]] = [:]

    public init(cache: [String] = []) {
        self.cache = Set(cache)
    }

    public mutating func intervene(_ hook: String, _ i: Intervention) { interventions[hook, default: []].append(i) }

    var touched: Set<String> { cache.union(interventions.keys) }
    var isEmpty: Bool { cache.isEmpty && interventions.isEmpty }

    /// Checks every named hook exists in a model of this config.
    func validate(_ c: ModelConfig) throws(ModelError) {
        try HookPoints.validate(touched.sorted(), c)
    }
}
