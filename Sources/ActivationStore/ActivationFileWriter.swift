import Foundation
import HDF5
import Tensors

/// Writes one activation file (CONTRACTS section 4) in batches, so that a writer never holds all N examples.
///
/// The file is written as `<path>.partial-<pid>` (a name no other process uses, so a second writer can
/// never truncate this one's file) and renamed to `path` by `finish()`. The `format` attribute is written
/// last, just before the rename: a partial file left by an error or a kill is never taken for a whole
/// file, and `validate` rejects it even if someone renames it.
///
/// Not Sendable: it keeps the row count of the batches written so far. Use it from one task.
public final class ActivationFileWriter {
    public let path: String
    public let partialPath: String
    public let n: Int
    public let seqLen: Int
    public private(set) var rowsWritten = 0

    private var file: H5File?
    private let tokens, lengths, prompts, tasks: H5Dataset
    private let positions: [String: H5Dataset]
    private let labels: [String: (H5Dataset, LabelKind)]
    private let hooks: [String: (H5Dataset, Int)]   // dataset, values per example

    /// - hooks: each hook's TransformerLens shape without the batch axis, e.g. ([16, 64]) for resid_post.
    /// - chunkRows: examples per chunk of each activation dataset; nil picks chunks of about 1 MiB.
    public init(path: String, attributes: FileAttributes, n: Int, seqLen: Int,
                hooks: [(name: String, shapeAfterBatch: [Int])],
                labels: [(name: String, kind: LabelKind)] = [], positionNames: [String] = [],
                compress: Bool = false, chunkRows: Int? = nil) throws {
        self.path = path
        let partial = Self.partialPath(for: path)
        self.partialPath = partial
        self.n = n
        self.seqLen = seqLen
        let fail = { (what: String) in ActivationStoreError(file: partial, problem: what) }
        guard n >= 0, seqLen > 0 else { throw fail("bad sizes n=\(n) seqLen=\(seqLen)") }
        for (what, names) in [("hook", hooks.map(\.name)), ("label", labels.map(\.name)), ("position", positionNames)] {
            if Set(names).count != names.count { throw fail("duplicate \(what) names in \(names)") }
            if let bad = names.first(where: { $0.isEmpty || $0.contains("/") }) {
                throw fail("\(what) name '\(bad)' is empty or contains '/'")
            }
        }
        if let bad = hooks.first(where: { $0.shapeAfterBatch.contains { $0 <= 0 } }) {
            throw fail("hook \(bad.name) has a bad shape \(bad.shapeAfterBatch)")
        }

        let f = try H5File.create(partial)
        let root = f.root
        for (k, v) in try attributes.encodedWithoutFormat() { try root.setAttribute(k, .string(v)) }
        func make(_ p: String, _ t: H5DType, _ shape: [Int], chunk: Int? = nil) throws -> H5Dataset {
            try root.createDataset(p, dtype: t, shape: [n] + shape, extendible: true, chunkRows: chunk, compress: compress)
        }
        tokens = try make(Paths.tokens, .int32, [seqLen])
        lengths = try make(Paths.lengths, .int32, [])
        prompts = try make(Paths.prompts, .string, [])
        tasks = try make(Paths.tasks, .string, [])
        // The groups exist even when empty, so readers always find them.
        try root.createGroup(Paths.positions).close()
        try root.createGroup(Paths.labels).close()
        try root.createGroup(Paths.activations).close()
        var pos: [String: H5Dataset] = [:]
        for name in positionNames { pos[name] = try make(Paths.positions + "/" + name, .int32, []) }
        var lab: [String: (H5Dataset, LabelKind)] = [:]
        for (name, kind) in labels { lab[name] = (try make(Paths.labels + "/" + name, kind.dtype, []), kind) }
        var hk: [String: (H5Dataset, Int)] = [:]
        for (name, shape) in hooks {
            hk[name] = (try make(Paths.activations + "/" + name, .float32, shape, chunk: chunkRows), shape.reduce(1, *))
        }
        positions = pos
        self.labels = lab
        self.hooks = hk
        file = f
    }

    /// Where this process writes `path` until it is complete.
    public static func partialPath(for path: String) -> String { AtomicFile.temporaryPath(for: path) }

    /// Appends the next `b = lengths.count` examples. `tokens` is row-major [b, seqLen]; every position,
    /// label and hook of the file must be present, each with b rows (hooks: b * shapeAfterBatch values).
    public func appendBatch(tokens tok: [Int32], lengths len: [Int32], prompts pr: [String], tasks ta: [String],
                            positions pos: [String: [Int32]] = [:], labels lab: [String: LabelColumn] = [:],
                            activations act: [String: [Float]]) throws {
        guard file != nil else { throw ActivationStoreError(file: partialPath, problem: "writer is finished") }
        let b = len.count
        let rows = rowsWritten..<(rowsWritten + b)
        func fail(_ what: String) -> ActivationStoreError { ActivationStoreError(file: partialPath, problem: what) }
        guard rows.upperBound <= n else { throw fail("batch of \(b) rows would exceed n=\(n) (\(rowsWritten) written)") }
        guard tok.count == b * seqLen else { throw fail("tokens: expected \(b) x \(seqLen) values, got \(tok.count)") }
        guard pr.count == b, ta.count == b else { throw fail("prompts/tasks: expected \(b) rows, got \(pr.count)/\(ta.count)") }
        guard Set(pos.keys) == Set(positions.keys) else {
            throw fail("positions: expected \(positions.keys.sorted()), got \(pos.keys.sorted())")
        }
        guard Set(lab.keys) == Set(labels.keys) else {
            throw fail("labels: expected \(labels.keys.sorted()), got \(lab.keys.sorted())")
        }
        guard Set(act.keys) == Set(hooks.keys) else {
            throw fail("activations: expected \(hooks.keys.sorted()), got \(act.keys.sorted())")
        }
        for (name, v) in pos where v.count != b { throw fail("position \(name): expected \(b) rows, got \(v.count)") }
        for (name, v) in lab {
            if v.count != b { throw fail("label \(name): expected \(b) rows, got \(v.count)") }
            if v.kind != labels[name]!.1 { throw fail("label \(name): expected \(labels[name]!.1), got \(v.kind)") }
        }
        for (name, v) in act where v.count != b * hooks[name]!.1 {
            throw fail("hook \(name): expected \(b * hooks[name]!.1) values, got \(v.count)")
        }
        try tokens.write(rows: rows, tok)
        try lengths.write(rows: rows, len)
        try prompts.write(rows: rows, strings: pr)
        try tasks.write(rows: rows, strings: ta)
        // In name order, not the dictionaries' (which changes from process to process): the chunks are
        // allocated in the order they are written, so the same batches give the same file bytes.
        for (name, v) in pos.sorted(by: { $0.key < $1.key }) { try positions[name]!.write(rows: rows, v) }
        for (name, v) in lab.sorted(by: { $0.key < $1.key }) {
            switch v {
            case .int32(let x): try labels[name]!.0.write(rows: rows, x)
            case .float32(let x): try labels[name]!.0.write(rows: rows, x)
            }
        }
        for (name, v) in act.sorted(by: { $0.key < $1.key }) { try hooks[name]!.0.write(rows: rows, v) }
        rowsWritten += b
    }

    /// Checks that all n rows were written, sets the format attribute, closes the file and renames
    /// the partial file to `path` (atomically replacing an older file of that name).
    public func finish() throws {
        guard let f = file else { throw ActivationStoreError(file: partialPath, problem: "writer is already finished") }
        guard rowsWritten == n else {
            throw ActivationStoreError(file: partialPath, problem: "only \(rowsWritten) of \(n) rows were written")
        }
        try f.root.setAttribute("format", .string(FileAttributes.currentFormat))
        closeDatasets()
        file = nil
        do { try f.close() } catch {
            // Usually a full disk: the partial file is useless and holds the space the user needs back.
            unlink(partialPath)
            throw error
        }
        TestKillPoint.beforeRename(to: path)
        if rename(partialPath, path) != 0 {
            throw ActivationStoreError(file: partialPath, problem: "cannot rename to \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func closeDatasets() {
        for d in [tokens, lengths, prompts, tasks] { d.close() }
        // In name order: a dataset's cached chunks get their file space when it closes.
        positions.sorted { $0.key < $1.key }.forEach { $0.value.close() }
        labels.sorted { $0.key < $1.key }.forEach { $0.value.0.close() }
        hooks.sorted { $0.key < $1.key }.forEach { $0.value.0.close() }
    }

    deinit {
        // Unfinished: close the handles; the partial file stays behind, without a format attribute.
        closeDatasets()
        try? file?.close()
    }
}
