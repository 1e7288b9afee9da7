/// One patching result: the metric after each patch, in TransformerLens's shape, as the mean over
/// pairs (`raw`, what `get_act_patch_<kind>` returns for denoising) and per pair.
public struct PatchResult: Sendable, Codable, Equatable {
    public var kind: String
    public var method: String               // "exact" | "attribution"
    public var direction: PatchDirection
    public var ablation: String             // "resample" | "mean" | "zero"
    public var metric: PatchMetric
    public var shape: [Int]
    public var raw: [Double]                // [shape], row-major: mean over pairs of the patched metric
    public var perPair: [Double]            // [pairs, shape...], row-major
    public var clean: [Double]              // [pairs]: the clean run's metric
    public var corrupted: [Double]          // [pairs]: the corrupted run's metric

    public var pairs: Int { clean.count }
    public var cells: Int { raw.count }

    /// The metric after patching cell `cell` (row-major in `shape`), pair by pair.
    public func pairValues(cell: Int) -> [Double] { (0..<pairs).map { perPair[$0 * cells + cell] } }

    /// The mean metric of the unpatched run this direction patches (corrupted when denoising).
    public var baseMean: Double { mean(direction == .denoising ? corrupted : clean) }
}

/// Results of one kind on several sets of pairs (prompt layouts) as one result over all their pairs: per-pair
/// arrays joined in order, `raw` the mean over every pair.
public func concatenate(_ parts: [PatchResult]) -> PatchResult {
    var r = parts[0]
    r.perPair = parts.flatMap(\.perPair)
    r.clean = parts.flatMap(\.clean)
    r.corrupted = parts.flatMap(\.corrupted)
    r.raw = columnMeans(r.perPair, columns: r.cells)
    return r
}

/// The mean of each column of a row-major [rows, columns] array.
func columnMeans(_ x: [Double], columns: Int) -> [Double] {
    let rows = x.count / max(columns, 1)
    return (0..<columns).map { j in (0..<rows).reduce(0.0) { $0 + x[$1 * columns + j] } / Double(rows) }
}

/// Results of single kinds stacked along a new leading axis (TransformerLens's `*_every`).
func stack(_ parts: [PatchResult], kind: String) -> PatchResult {
    let N = parts[0].pairs, cells = parts[0].cells
    var perPair = [Double](repeating: 0, count: N * cells * parts.count)
    for (p, part) in parts.enumerated() {
        for i in 0..<N { for j in 0..<cells { perPair[(i * parts.count + p) * cells + j] = part.perPair[i * cells + j] } }
    }
    var r = parts[0]
    r.kind = kind
    r.shape = [parts.count] + parts[0].shape
    r.raw = parts.flatMap(\.raw)
    r.perPair = perPair
    return r
}

/// The last two axes of a result swapped ([layer, head, pos] -> [layer, pos, head], as
/// `head_by_pos_every` stacks the pattern part with TransformerLens's einops.rearrange).
func swapLastAxes(_ r: PatchResult) -> PatchResult {
    let s = r.shape, a = s[s.count - 2], b = s[s.count - 1], outer = r.cells / (a * b)
    func swap(_ x: [Double], _ blocks: Int) -> [Double] {
        var y = x
        for o in 0..<blocks { for i in 0..<a { for j in 0..<b { y[o * a * b + j * a + i] = x[o * a * b + i * b + j] } } }
        return y
    }
    var out = r
    out.shape = Array(s.dropLast(2)) + [b, a]
    out.raw = swap(r.raw, outer)
    out.perPair = swap(r.perPair, outer * r.pairs)
    return out
}

func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }

/// Row-major index of `cell` in a tensor of `sizes`.
func unflatten(_ cell: Int, _ sizes: [Int]) -> [Int] {
    var idx = [Int](repeating: 0, count: sizes.count), r = cell
    for ax in stride(from: sizes.count - 1, through: 0, by: -1) { idx[ax] = r % sizes[ax]; r /= sizes[ax] }
    return idx
}
