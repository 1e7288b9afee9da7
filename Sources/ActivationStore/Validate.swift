import Foundation
import HDF5
import Transformer

/// What `validate` found in a good activation file: an h5ls-like listing in our terms, Codable for `--json`.
public struct FileSummary: Codable, Sendable, Equatable, CustomStringConvertible {
    public struct Dataset: Codable, Sendable, Equatable {
        /// Absolute path in the file, e.g. `/activations/blocks.0.hook_resid_post`.
        public var path: String
        public var dtype: H5DType
        public var shape: [Int]
        /// Chunk shape, nil when contiguous.
        public var chunks: [Int]?
        public var compressed: Bool
    }

    public var path: String
    public var format: String
    public var n: Int
    public var seqLen: Int
    /// Root attributes as stored (all strings in our files).
    public var attributes: [String: String]
    /// /tokens, /lengths, /prompts, /tasks.
    public var core: [Dataset]
    public var hooks: [Dataset]
    public var labels: [Dataset]
    public var positions: [Dataset]

    /// The text rendering (like h5ls, in our terms).
    public var description: String {
        func row(_ d: Dataset, _ name: String, _ width: Int) -> String {
            var s = "  " + name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0)
            s += "  " + d.dtype.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            s += "[" + d.shape.map(String.init).joined(separator: ", ") + "]"
            if let c = d.chunks { s += "  chunks [" + c.map(String.init).joined(separator: ", ") + "]" }
            if d.compressed { s += " gzip" }
            return s
        }
        func section(_ title: String, _ ds: [Dataset], prefix: String) -> [String] {
            let names = ds.map { String($0.path.dropFirst(prefix.count)) }
            let w = names.map(\.count).max() ?? 0
            return ["\(title) (\(ds.count)):"] + zip(ds, names).map { row($0, $1, w) }
        }
        var lines = ["\(path): \(format)  N=\(n) T=\(seqLen)", "attributes:"]
        let aw = attributes.keys.map(\.count).max() ?? 0
        for k in attributes.keys.sorted() {
            var v = attributes[k]!.split(whereSeparator: \.isNewline).joined(separator: " ")
            if v.count > 72 { v = String(v.prefix(69)) + "..." }
            lines.append("  " + k.padding(toLength: aw, withPad: " ", startingAt: 0) + "  " + v)
        }
        lines += section("datasets", core, prefix: "/")
        lines += section("hooks", hooks, prefix: Paths.activations + "/")
        lines += section("labels", labels, prefix: Paths.labels + "/")
        lines += section("positions", positions, prefix: Paths.positions + "/")
        return lines.joined(separator: "\n")
    }

    /// Pretty, key-sorted JSON.
    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

/// Checks that `path` is a complete activation file (CONTRACTS section 4) and summarises it.
/// Throws one `ActivationStoreError` naming the file, the object and the first problem found.
/// - readingActivations: also read every activation value (in blocks, so files larger than memory are
///   checked too): each chunk must decompress and each value be finite. The reader skips this and
///   checks what it reads instead, so a probe does not read its files twice.
public func validateActivationFile(_ path: String, readingActivations: Bool = true) throws -> FileSummary {
    try ActivationFileValidator(path: path, readingActivations: readingActivations).run()
}

private struct ActivationFileValidator {
    let path: String
    let readingActivations: Bool

    func fail(_ object: String, _ problem: String) -> ActivationStoreError {
        ActivationStoreError(file: path, object: object, problem: problem)
    }

    func describe(_ ds: H5Dataset) throws -> FileSummary.Dataset {
        .init(path: ds.path, dtype: try ds.dtype(), shape: try ds.shape(), chunks: try ds.chunkShape(),
              compressed: try ds.isCompressed())
    }

    /// Opens `p` and checks its dtype (one of `dtypes`) and, when given, its exact shape.
    func dataset(_ file: H5File, _ p: String, _ dtypes: [H5DType], shape: [Int]? = nil) throws -> (H5Dataset, FileSummary.Dataset) {
        guard try file.exists(p) else { throw fail(p, "required dataset is missing") }
        let ds = try file.openDataset(p)
        let d = try describe(ds)
        guard dtypes.contains(d.dtype) else {
            throw fail(p, "dtype is \(d.dtype), expected \(dtypes.map(\.rawValue).joined(separator: " or "))")
        }
        if let shape, d.shape != shape { throw fail(p, "shape is \(d.shape), expected \(shape)") }
        return (ds, d)
    }

    /// Reads a hook in blocks of about 32 MiB of rows. A file whose activations cannot be read (a gzip
    /// chunk that fails to inflate) or hold NaN or infinity is not one to keep or to fit probes on, even
    /// though its structure is right (issue 10: such files used to pass `lens inspect`).
    func checkValues(_ ds: H5Dataset, _ d: FileSummary.Dataset) throws {
        let rowSize = d.shape.dropFirst().reduce(1, *)
        let block = max(1, (32 << 20) / max(1, rowSize * 4))
        var start = 0
        while start < d.shape[0] {
            let end = min(d.shape[0], start + block)
            let values: [Float] = try ds.read(rows: start..<end)
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw fail(d.path, "value \(values[i]) in row \(start + i / rowSize); activations must be finite")
            }
            start = end
        }
    }

    func group(_ file: H5File, _ p: String) throws -> H5Group {
        guard try file.exists(p) else { throw fail(p, "required group is missing") }
        return try file.openGroup(p)
    }

    func run() throws -> FileSummary {
        let file = try H5File.openReadOnly(path)
        defer { try? file.close() }
        let root = file.root
        guard try root.hasAttribute("format") else {
            throw fail("/", "attribute 'format' is missing (not an activation file, or an unfinished .partial)")
        }
        let format = try root.stringAttribute("format")
        guard format == FileAttributes.currentFormat else {
            throw fail("/", "format is '\(format)', expected '\(FileAttributes.currentFormat)'")
        }
        for name in FileAttributes.names where !(try root.hasAttribute(name)) {
            throw fail("/", "attribute '\(name)' is missing")
        }
        let attrs = try FileAttributes.read(from: root)
        guard let cfgData = attrs.config.data(using: .utf8), (try? JSONSerialization.jsonObject(with: cfgData)) != nil else {
            throw fail("/", "attribute 'config' is not valid JSON")
        }
        // The model config, when it is lens's (TransformerLens names): hook names and shapes are checked against it.
        let model = try? JSONDecoder().decode(ModelConfig.self, from: cfgData)
        var stored: [String: String] = [:]
        for name in try root.attributeNames() { stored[name] = try root.attribute(name).description }

        let (tokDs, tok) = try dataset(file, Paths.tokens, [.int32])
        guard tok.shape.count == 2 else { throw fail(Paths.tokens, "rank is \(tok.shape.count), expected 2 [N, T]") }
        let n = tok.shape[0], t = tok.shape[1]
        let (lenDs, len) = try dataset(file, Paths.lengths, [.int32], shape: [n])
        let (promptDs, prompts) = try dataset(file, Paths.prompts, [.string], shape: [n])
        let (taskDs, tasks) = try dataset(file, Paths.tasks, [.string], shape: [n])
        // Read, not only described: every dataset but the activations is small, and one that cannot be
        // read (a damaged chunk or filter) must fail here, before anything computes on the file.
        _ = try promptDs.readStrings()
        _ = try taskDs.readStrings()

        let tokens: [Int32] = try tokDs.readAll()
        if !attrs.vocab.isEmpty, let bad = tokens.first(where: { $0 < 0 || Int($0) >= attrs.vocab.count }) {
            throw fail(Paths.tokens, "token id \(bad) outside the vocabulary of \(attrs.vocab.count)")
        }
        let lengths: [Int32] = try lenDs.readAll()
        if let bad = lengths.first(where: { $0 < 0 || Int($0) > t }) {
            throw fail(Paths.lengths, "length \(bad) outside 0...\(t)")
        }

        var positions: [FileSummary.Dataset] = []
        for name in try group(file, Paths.positions).memberNames() {
            let (ds, d) = try dataset(file, Paths.positions + "/" + name, [.int32], shape: [n])
            // -1 marks an example without that position; anything else must index the sequence.
            let values: [Int32] = try ds.readAll()
            if let bad = values.first(where: { $0 < -1 || Int($0) >= t }) {
                throw fail(d.path, "position \(bad) outside -1..<\(t) (-1: the example has no such position)")
            }
            positions.append(d)
        }
        var labels: [FileSummary.Dataset] = []
        for name in try group(file, Paths.labels).memberNames() {
            let (ds, d) = try dataset(file, Paths.labels + "/" + name, [.int32, .float32], shape: [n])
            if d.dtype == .float32, let bad = (try ds.readAll(as: Float.self)).first(where: { !$0.isFinite }) {
                throw fail(d.path, "label value \(bad) is not a finite number")
            }
            if d.dtype == .int32 { _ = try ds.readAll(as: Int32.self) }
            labels.append(d)
        }
        var hooks: [FileSummary.Dataset] = []
        for name in try group(file, Paths.activations).memberNames() {
            let p = Paths.activations + "/" + name
            let d = try dataset(file, p, [.float32]).1
            guard d.shape.count >= 2, d.shape[0] == n else {
                throw fail(p, "shape is \(d.shape), expected [\(n), ...] (N from /tokens)")
            }
            guard let axis = HookPoints.axes(name)?.position else {
                throw fail(p, "no hook named '\(name)' in TransformerLens's hook names")
            }
            guard axis < d.shape.count, d.shape[axis] == t else {
                throw fail(p, "shape is \(d.shape), expected T=\(t) at axis \(axis)")
            }
            if let model {
                guard let expected = HookPoints.shape(name, model, batch: n, length: t) else {
                    throw fail(p, "no hook named '\(name)' in a model of this config (\(model.n_layers) layers)")
                }
                guard d.shape == expected else {
                    throw fail(p, "shape is \(d.shape), expected \(expected) (TransformerLens shape for this config)")
                }
            }
            if readingActivations { try checkValues(try file.openDataset(p), d) }
            hooks.append(d)
        }
        return FileSummary(path: path, format: format, n: n, seqLen: t, attributes: stored,
                           core: [tok, len, prompts, tasks], hooks: hooks, labels: labels, positions: positions)
    }
}
