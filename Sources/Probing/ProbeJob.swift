import ActivationStore
import Foundation
import HDF5
import Tensors
import Transformer

/// One fitted probe: a (run, checkpoint, hook, position) cell of a probe spec.
public struct ProbeCell: Codable, Sendable {
    public var run: String
    public var step: Int
    public var file: String
    public var hook: String
    public var position: String
    public var result: ProbeResult
    /// File row indices of the training and test examples (result.trainIndices index into the
    /// selected examples; these index the HDF5 file, for peers such as sklearn_probe_bench.py).
    public var trainRows: [Int]
    public var testRows: [Int]
    /// The same cell on the run's step-0 (untrained) checkpoint.
    public var untrainedScore: Double?
    /// The fitted probe in activation space; too large for the JSON (d_model x classes per cell), so it is
    /// written to `<probe>/directions.h5`, dataset `directionsDataset` (`ProbeDirectionsFile`).
    public var directions: ProbeDirections?
    public var directionsDataset: String?

    enum CodingKeys: String, CodingKey {
        case run, step, file, hook, position, result, trainRows, testRows, untrainedScore, directionsDataset
    }
}

public struct ProbeReport: Codable, Sendable {
    public var spec: ProbeSpec
    public var cells: [ProbeCell]
    public var warnings: [String]
}

/// Fits a probe spec on activation files: one probe per (checkpoint, hook, position), features
/// gathered from HDF5 at each example's own position without loading whole datasets.
public enum ProbeJob {
    /// Activation files among `paths` (files, or directories searched recursively for step_*.h5);
    /// for every directory holding a checkpoint's file, its step-0 file is added (the untrained baseline).
    /// A file found in a directory that declares another format is not an activation file and is left out:
    /// a study directory also holds each run's items/step_*.h5 (the per-item evaluation files). Files given
    /// by name, and files without a readable format, are kept, so that reading them reports what is wrong.
    public static func files(_ paths: [String]) throws(ProbeSpecError) -> [String] {
        var out = Set<String>()
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { throw ProbeSpecError(file: p, problem: "no such file or directory") }
            if isDir.boolValue {
                let e = fm.enumerator(atPath: p)
                while let f = e?.nextObject() as? String {
                    let path = (p as NSString).appendingPathComponent(f)
                    if f.hasSuffix(".h5") && (f as NSString).lastPathComponent.hasPrefix("step_") && !declaresOtherFormat(path) {
                        out.insert(path)
                    }
                }
            } else { out.insert(p) }
        }
        for f in Array(out) {
            let zero = ((f as NSString).deletingLastPathComponent as NSString).appendingPathComponent("step_000000.h5")
            if fm.fileExists(atPath: zero) { out.insert(zero) }
        }
        guard !out.isEmpty else { throw ProbeSpecError(file: paths.joined(separator: " "), problem: "no activation files (step_*.h5) found") }
        return out.sorted()
    }

    /// True when `path` is an HDF5 file whose root `format` attribute names a format other than activations.
    static func declaresOtherFormat(_ path: String) -> Bool {
        guard let file = try? H5File.openReadOnly(path) else { return false }
        defer { try? file.close() }
        guard (try? file.root.hasAttribute("format")) == true, let format = try? file.root.stringAttribute("format") else { return false }
        let family = FileAttributes.currentFormat.prefix { $0 != "/" } + "/"   // any version of the activation format
        return !format.hasPrefix(family)
    }

    public static func run(_ spec: ProbeSpec, files: [String], progress: (Int, Int) -> Void = { _, _ in }) throws -> ProbeReport {
        var cells: [ProbeCell] = []
        var warnings: [String] = []
        for (fi, path) in files.enumerated() {
            cells += try fit(spec, path: path, warnings: &warnings)
            progress(fi + 1, files.count)
        }
        // Step-0 baseline of each cell, from the same run's untrained checkpoint.
        var untrained: [String: Double] = [:]
        for c in cells where c.step == 0 { untrained["\(c.run)|\(c.hook)|\(c.position)"] = c.result.score }
        for run in Set(cells.map(\.run)).sorted() where !cells.contains(where: { $0.run == run && $0.step == 0 }) {
            warnings.append("\(run): no step-0 activation file (step_000000.h5) beside the given files; the untrained baseline is missing")
        }
        for i in cells.indices { cells[i].untrainedScore = untrained["\(cells[i].run)|\(cells[i].hook)|\(cells[i].position)"] }
        cells.sort { ($0.run, $0.step, $0.hook, $0.position) < ($1.run, $1.step, $1.hook, $1.position) }
        return ProbeReport(spec: spec, cells: cells, warnings: warnings)
    }

    static func fit(_ spec: ProbeSpec, path: String, warnings: inout [String]) throws -> [ProbeCell] {
        func fail(_ m: String) -> ProbeSpecError { ProbeSpecError(file: path, problem: m) }
        let reader = try ActivationFileReader(path: path)
        defer { try? reader.close() }
        let n = reader.n
        let labelNames = reader.labels.map(\.name)
        guard labelNames.contains(spec.target) else {
            throw fail("probe \(spec.name): no label \"\(spec.target)\" (available: \(labelNames.joined(separator: ", ")))")
        }
        let hookNames = reader.hooks.map(\.name)
        let hooks = hookNames.filter { h in spec.hooks.contains { HookPoints.glob($0, h) } }
        for pattern in spec.hooks where !hookNames.contains(where: { HookPoints.glob(pattern, $0) }) {
            throw fail("probe \(spec.name): no hook matches \"\(pattern)\" (available: \(hookNames.joined(separator: ", ")))")
        }
        var positions = spec.positions
        if spec.allPositions { positions = (0..<reader.seqLen).map { .index($0) } }
        for case .named(let p) in positions where !reader.positionNames.contains(p) {
            throw fail("probe \(spec.name): no position \"\(p)\" (available: \(reader.positionNames.joined(separator: ", ")), or integers, or all)")
        }
        for case .index(let i) in positions where i >= reader.seqLen {
            throw fail("probe \(spec.name): position \(i) is past the sequence length \(reader.seqLen)")
        }
        // Which examples: task, label filters, a defined target.
        let target = try reader.label(spec.target).floats
        let tasks = try reader.tasks()
        // A listed task that no example has is a typo or the wrong files, not a filter: it used to drop
        // those examples without a word (`tasks: [add, sbu]` probed add alone).
        if let missing = spec.tasks.first(where: { !tasks.contains($0) }) {
            throw fail("probe \(spec.name): tasks: no example of task \"\(missing)\" in this file (it holds \(Set(tasks).sorted().joined(separator: ", ")))")
        }
        var keep = (0..<n).map { i in target[i] != -1 && (spec.tasks.isEmpty || spec.tasks.contains(tasks[i])) }
        for (label, value) in spec.filters {
            guard labelNames.contains(label) else { throw fail("probe \(spec.name): where: no label \"\(label)\"") }
            let column = try reader.label(label).floats
            for i in 0..<n where Double(column[i]) != Double(value) { keep[i] = false }
        }
        // A class is a whole number (Int32: the file format's integer labels); a float label with a
        // fraction or beyond that range can only be a ridge target.
        if spec.kind != .ridge, let i = (0..<n).first(where: { keep[$0] && (target[$0].rounded() != target[$0] || abs(target[$0]) > 2_147_483_520) }) {
            throw fail("probe \(spec.name): label \(spec.target) has value \(target[i]) at row \(i), not a class (a whole number); use kind: ridge")
        }
        let prompts = try reader.prompts()
        let run = reader.attributes.run, step = reader.attributes.step
        for (task, wanted) in spec.items.sorted(by: { $0.key < $1.key }) {
            let have = tasks.filter { $0 == task }.count
            let note = "\(run): the spec asks for \(wanted) \(task) items, the activation files hold \(have) (lens dump --for-probes <spec> writes them; a task with fewer distinct held-out items gives all it has)"
            if have < wanted && !warnings.contains(note) { warnings.append(note) }
        }
        // Control-task input types (see ProbeSpec.controlType).
        var typeLabel: [Float]? = nil
        if spec.control, !["prompt", "token"].contains(spec.controlType) {
            guard labelNames.contains(spec.controlType) else {
                throw fail("probe \(spec.name): control_type: no label \"\(spec.controlType)\" (available: prompt, token, \(labelNames.joined(separator: ", ")))")
            }
            typeLabel = try reader.label(spec.controlType).floats
        }
        let tokens = spec.control && spec.controlType == "token" ? try reader.tokens() : []
        var cells: [ProbeCell] = []
        for position in positions {
            var rows = (0..<n).filter { keep[$0] }
            var perRow = [Int32](repeating: 0, count: n)
            switch position {
            case .named(let name):
                let p = try reader.position(name)
                rows = rows.filter { p[$0] >= 0 && Int(p[$0]) < reader.seqLen }
                perRow = p.map { max($0, 0) }
            case .index(let i):
                perRow = [Int32](repeating: Int32(i), count: n)
            }
            guard rows.count >= 10 else {
                throw fail("probe \(spec.name): only \(rows.count) examples at position \(position) after filters (need at least 10)")
            }
            // Split by distinct prompt, so a repeated item can never sit on both sides; it depends only on
            // the spec's seed and the items, so it is the same at every checkpoint of a run.
            var distinct: [String] = []
            var seen = Set<String>()
            for r in rows where seen.insert(prompts[r]).inserted { distinct.append(prompts[r]) }
            var rng = RNG(seed: spec.seed)
            rng.shuffle(&distinct)
            let testPrompts = Set(distinct.prefix(max(1, Int((Double(distinct.count) * spec.testFraction).rounded()))))
            let testIdx = rows.indices.filter { testPrompts.contains(prompts[rows[$0]]) }
            let trainIdx = rows.indices.filter { !testPrompts.contains(prompts[rows[$0]]) }
            let labels = rows.map { Int32(target[$0]) }
            var keys: [ProbeInputKey]? = !spec.control ? nil : rows.map { r -> ProbeInputKey in
                switch spec.controlType {
                case "prompt": return .string(prompts[r])
                case "token":
                    let p: Int
                    switch position { case .index(let i): p = i; case .named: p = Int(perRow[r]) }
                    return .int(Int(tokens[r * reader.seqLen + p]))
                default: return .int(Int(typeLabel![r]))
                }
            }
            if let k = keys, Set(k).count < 2 {
                warnings.append("\(run) step \(step) @\(position): control_type \(spec.controlType) has a single input type here; no control task fitted")
                keys = nil
            }
            for hook in hooks {
                let t = try reader.readHook(hook, rows: 0..<n, positions: perRow)
                let d = t.count / max(n, 1)
                var features = [Float](repeating: 0, count: rows.count * d)
                for (k, r) in rows.enumerated() {
                    for j in 0..<d { features[k * d + j] = t.data[r * d + j] }
                }
                // Ridge regresses on the label's value as stored (float32 labels keep their fraction).
                let (result, directions) = try fitProbeCell(
                    features: features, n: rows.count, d: d, labels: labels,
                    targets: spec.kind == .ridge ? rows.map { Double(target[$0]) } : nil, kind: spec.kind,
                    trainIdx: trainIdx, testIdx: testIdx, lambda: spec.lambdaChoice, controlKeys: keys, seed: spec.seed)
                for w in result.warnings { warnings.append("\(run) step \(step) \(hook) @\(position): \(w)") }
                cells.append(ProbeCell(run: run, step: step, file: path, hook: hook, position: position.description,
                                       result: result, trainRows: trainIdx.map { rows[$0] }, testRows: testIdx.map { rows[$0] },
                                       untrainedScore: nil, directions: directions))
            }
        }
        return cells
    }
}
