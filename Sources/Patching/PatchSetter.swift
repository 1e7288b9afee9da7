/// The axes a patch experiment iterates over (TransformerLens's index_axis_names); the first is
/// always the layer.
public enum PatchAxis: String, Sendable, Codable {
    case layer, pos, head, destPos = "dest_pos", srcPos = "src_pos"
}

/// What one patch index copies (TransformerLens's patch setters): for each axis of the hook's
/// activation (batch first), the coordinate the index fixes, or nil for the whole axis. The copy itself
/// is `forEachSlice`, the same for every setter, so a setter is one line.
public struct PatchSetter: Sendable {
    public let slice: @Sendable (_ index: [Int]) -> [Int?]
    public init(_ slice: @escaping @Sendable (_ index: [Int]) -> [Int?]) { self.slice = slice }

    /// [layer, pos] on [batch, pos, ...]
    public static let layerPos = PatchSetter { [nil, $0[1]] }
    /// [layer, pos, head] on [batch, pos, head, d_head]
    public static let layerPosHeadVector = PatchSetter { [nil, $0[1], $0[2]] }
    /// [layer, head] on [batch, pos, head, d_head]
    public static let layerHeadVector = PatchSetter { [nil, nil, $0[1]] }
    /// [layer, head] on [batch, head, dest_pos, src_pos]
    public static let layerHeadPattern = PatchSetter { [nil, $0[1]] }
    /// [layer, head, dest_pos] on [batch, head, dest_pos, src_pos]
    public static let layerHeadPosPattern = PatchSetter { [nil, $0[1], $0[2]] }
    /// [layer, head, dest_pos, src_pos] on [batch, head, dest_pos, src_pos]
    public static let layerHeadDestSrcPattern = PatchSetter { [nil, $0[1], $0[2], $0[3]] }
}

/// Calls body(offset, count) for every contiguous run of a row-major tensor of `shape` that the
/// fixed coordinates select (nil or missing = every coordinate of that axis).
func forEachSlice(shape: [Int], fixed: [Int?], _ body: (_ offset: Int, _ count: Int) -> Void) {
    guard let last = fixed.lastIndex(where: { $0 != nil }) else { body(0, shape.reduce(1, *)); return }
    var strides = [Int](repeating: 1, count: shape.count)
    for ax in stride(from: shape.count - 2, through: 0, by: -1) { strides[ax] = strides[ax + 1] * shape[ax + 1] }
    let inner = strides[last]
    var idx = (0...last).map { fixed[$0] ?? 0 }
    while true {
        var offset = 0
        for ax in 0...last { offset += idx[ax] * strides[ax] }
        body(offset, inner)
        // odometer over the free axes 0...last, last fastest
        var ax = last
        while ax >= 0 {
            if fixed[ax] == nil {
                idx[ax] += 1
                if idx[ax] < shape[ax] { break }
                idx[ax] = 0
            }
            ax -= 1
        }
        if ax < 0 { return }
    }
}
