import Foundation
import HDF5
import Tensors
import Transformer

/// Reads an activation file (CONTRACTS section 4) without loading activations whole: hooks are read by
/// row range, at one position, or gathered at a per-example position, in row blocks.
///
/// `@unchecked Sendable`: after `init` it holds only immutable metadata and the open file, and every HDF5
/// call goes through the module's global lock, so concurrent reads are serialised, never racing.
public final class ActivationFileReader: @unchecked Sendable {
    public let path: String
    public let attributes: FileAttributes
    /// Number of examples.
    public let n: Int
    /// Token positions per example (T).
    public let seqLen: Int
    /// Hook datasets under /activations, in name order, with their full shapes [N, ...].
    public let hooks: [HookInfo]
    /// Label datasets under /labels, in name order, with their dtype (int32 or float32).
    public let labels: [(name: String, kind: LabelKind)]
    /// Named position datasets under /positions, in name order.
    public let positionNames: [String]

    private let file: H5File

    /// Opens `path` after the same validation as `lens inspect` (`validateActivationFile`): a reader never
    /// computes on a file whose datasets are missing, short, of the wrong dtype or shape, or out of range.
    /// Activation values are checked as they are read (`finite`), not all up front.
    public init(path: String) throws {
        self.path = path
        _ = try validateActivationFile(path, readingActivations: false)
        let file = try H5File.openReadOnly(path)
        self.file = file
        let format = try file.root.stringAttribute("format")
        guard format == FileAttributes.currentFormat else {
            throw ActivationStoreError(file: path, object: "/", problem: "format is '\(format)', expected '\(FileAttributes.currentFormat)'")
        }
        attributes = try FileAttributes.read(from: file.root)
        let shape = try file.openDataset(Paths.tokens).shape()
        guard shape.count == 2 else {
            throw ActivationStoreError(file: path, object: Paths.tokens, problem: "rank is \(shape.count), expected 2 [N, T]")
        }
        n = shape[0]
        seqLen = shape[1]
        hooks = try file.openGroup(Paths.activations).memberNames().map {
            HookInfo(name: $0, shape: try file.openDataset(Paths.activations + "/" + $0).shape())
        }
        labels = try file.openGroup(Paths.labels).memberNames().map { name in
            let t = try file.openDataset(Paths.labels + "/" + name).dtype()
            guard let kind = LabelKind(rawValue: t.rawValue) else {
                throw ActivationStoreError(file: path, object: Paths.labels + "/" + name, problem: "dtype is \(t), expected int32 or float32")
            }
            return (name, kind)
        }
        positionNames = try file.openGroup(Paths.positions).memberNames()
    }

    /// Closes the file now (it is also closed when the reader is released).
    public func close() throws { try file.close() }

    public func hook(_ name: String) throws -> HookInfo {
        guard let h = hooks.first(where: { $0.name == name }) else {
            throw ActivationStoreError(file: path, object: Paths.activations + "/" + name,
                                       problem: "no such hook (have: \(hooks.map(\.name).joined(separator: ", ")))")
        }
        return h
    }

    // MARK: per-example data

    /// Tokens [rows, T], row-major.
    public func tokens(rows: Range<Int>? = nil) throws -> [Int32] {
        try file.openDataset(Paths.tokens).read(rows: rows ?? 0..<n)
    }
    public func lengths() throws -> [Int32] { try file.openDataset(Paths.lengths).readAll() }
    public func prompts() throws -> [String] { try file.openDataset(Paths.prompts).readStrings() }
    public func tasks() throws -> [String] { try file.openDataset(Paths.tasks).readStrings() }
    public func position(_ name: String) throws -> [Int32] {
        try file.openDataset(Paths.positions + "/" + name).readAll()
    }
    public func label(_ name: String) throws -> LabelColumn {
        let ds = try file.openDataset(Paths.labels + "/" + name)
        switch try ds.dtype() {
        case .int32: return .int32(try ds.readAll())
        case .float32: return .float32(try ds.readAll())
        case let t: throw ActivationStoreError(file: path, object: ds.path, problem: "dtype is \(t), expected int32 or float32")
        }
    }

    // MARK: activations

    /// Activations of examples `rows`: shape [rows.count, ...].
    public func readHook(_ name: String, rows: Range<Int>) throws -> Tensor {
        let h = try hook(name)
        let data: [Float] = try file.openDataset(Paths.activations + "/" + name).read(rows: rows)
        try finite(data, name, rows)
        return Tensor(shape: [rows.count] + h.shapeAfterBatch, data: data)
    }

    /// Activations of examples `rows` at one position, along `HookPoints.axes(name)`:
    /// [rows, d...] for [N, pos, d...] hooks; [rows, heads, key_pos] (query `position`) for attention
    /// scores and patterns [N, heads, query_pos, key_pos].
    public func readHook(_ name: String, rows: Range<Int>, position: Int) throws -> Tensor {
        let h = try hook(name)
        let axis = try positionAxis(h)
        let data: [Float] = try file.openDataset(Paths.activations + "/" + name).read(rows: rows, axis: axis, index: position)
        try finite(data, name, rows)
        var shape = h.shape
        shape.remove(at: axis)
        shape[0] = rows.count
        return Tensor(shape: shape, data: data)
    }

    /// Activations of each example of `rows` at its own position (`positions[i]` for row `rows[i]`, e.g.
    /// `position("answer_start")[rows]`), along `HookPoints.axes(name)`. Reads blocks of whole rows
    /// (about 32 MiB at a time, aligned with the chunk size) and gathers from them.
    public func readHook(_ name: String, rows: Range<Int>, positions: [Int32]) throws -> Tensor {
        try readHook(name, rows: rows, positions: positions, blockBytes: 32 << 20)
    }

    /// `readHook(_:rows:positions:)` reading blocks of about `blockBytes` (internal: tests use tiny blocks).
    func readHook(_ name: String, rows: Range<Int>, positions: [Int32], blockBytes: Int) throws -> Tensor {
        let h = try hook(name)
        let axis = try positionAxis(h)
        guard positions.count == rows.count else {
            throw ActivationStoreError(file: path, object: Paths.activations + "/" + name,
                                       problem: "\(positions.count) positions for \(rows.count) rows")
        }
        let len = h.shape[axis]
        if let bad = positions.first(where: { $0 < 0 || Int($0) >= len }) {
            throw ActivationStoreError(file: path, object: Paths.activations + "/" + name,
                                       problem: "position \(bad) out of range 0..<\(len)")
        }
        var outShape = h.shape
        outShape.remove(at: axis)
        outShape[0] = rows.count
        let outer = h.shape[1..<axis].reduce(1, *)          // axes between batch and position
        let inner = h.shape[(axis + 1)...].reduce(1, *)     // axes after position
        let rowSize = h.shape.dropFirst().reduce(1, *)
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        let ds = try file.openDataset(Paths.activations + "/" + name)
        let chunk = try ds.chunkShape()?.first ?? 1
        var block = max(1, blockBytes / max(1, rowSize * 4))
        if block > chunk { block = block / chunk * chunk }
        var start = rows.lowerBound
        var o = 0
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + block)
            let data: [Float] = try ds.read(rows: start..<end)
            for r in 0..<(end - start) {
                let p = Int(positions[start - rows.lowerBound + r])
                for a in 0..<outer {
                    let src = r * rowSize + (a * len + p) * inner
                    out.withUnsafeMutableBufferPointer { dst in
                        data.withUnsafeBufferPointer { s in
                            (dst.baseAddress! + o).update(from: s.baseAddress! + src, count: inner)
                        }
                    }
                    o += inner
                }
            }
            start = end
        }
        try finite(out, name, rows)
        return Tensor(shape: outShape, data: out)
    }

    /// Values read for `rows` must be numbers: a NaN or infinity (a damaged file) would otherwise become
    /// a probe result (issue 10's fuzz suite: a probe printed a table from a hook holding inf).
    private func finite(_ values: [Float], _ hook: String, _ rows: Range<Int>) throws {
        guard let i = values.firstIndex(where: { !$0.isFinite }) else { return }
        let perRow = values.count / max(1, rows.count)
        throw ActivationStoreError(file: path, object: Paths.activations + "/" + hook,
                                   problem: "value \(values[i]) in row \(rows.lowerBound + i / max(1, perRow)); activations must be finite")
    }

    private func positionAxis(_ h: HookInfo) throws -> Int {
        guard let axis = HookPoints.axes(h.name)?.position else {
            throw ActivationStoreError(file: path, object: Paths.activations + "/" + h.name,
                                       problem: "not a TransformerLens hook name")
        }
        guard axis < h.shape.count else {
            throw ActivationStoreError(file: path, object: Paths.activations + "/" + h.name,
                                       problem: "shape \(h.shape) has no position axis \(axis)")
        }
        return axis
    }
}
