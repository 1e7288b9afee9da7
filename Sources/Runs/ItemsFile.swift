import Foundation
import HDF5
import Skills
import Tensors

/// One task's held-out items at one checkpoint, column by column in evaluation order: the item (prompt,
/// answer, labels) and its outcome (ItemResult). What `<run>/items/step_<N>.h5` holds per task.
public struct ItemTable: Sendable, Equatable {
    public var task: String
    public var prompt: [String]
    public var answer: [String]
    /// The greedy output up to EOS, as text (a special token appears as its name, e.g. `<pad>`).
    public var output: [String]
    public var exactMatch: [Bool]
    /// Teacher-forced argmax hits over answer tokens + EOS, and how many such tokens there are
    /// (answer tokens + 1).
    public var correctTokens: [Int]
    public var scoredTokens: [Int]
    public var answerLogProb: [Double]
    public var editDistance: [Int]
    /// The chance levels of ItemResult, per item.
    public var chance: [Double]
    public var chanceCorrectTokens: [Double]
    public var chanceLogProb: [Double]
    public var chanceEditDistance: [Int]
    /// Every label of LabelCatalog, one value per item (-1: does not apply to the item).
    public var labels: [String: [LabelValue]]

    public var count: Int { prompt.count }

    public init(task: String, examples: [Example], results: [ItemResult], tokenizer: Tokenizer = .standard) {
        precondition(examples.count == results.count, "one result per example")
        self.task = task
        prompt = examples.map(\.prompt)
        answer = examples.map(\.answer)
        output = results.map { tokenizer.decode($0.decoded) }
        exactMatch = results.map(\.exactMatch)
        correctTokens = results.map(\.correctTokens)
        scoredTokens = results.map(\.scoredTokens)
        answerLogProb = results.map(\.answerLogProb)
        editDistance = results.map(\.editDistance)
        chance = results.map(\.chance)
        chanceCorrectTokens = results.map(\.chanceCorrectTokens)
        chanceLogProb = results.map(\.chanceLogProb)
        chanceEditDistance = results.map(\.chanceEditDistance)
        labels = Dictionary(uniqueKeysWithValues: LabelCatalog.labelNames.map { name in
            (name, examples.map { $0.labels[name] ?? .int32(-1) })
        })
    }

    /// No items yet: the reader fills the columns in.
    init(task: String) {
        self.task = task
        prompt = []; answer = []; output = []; exactMatch = []; correctTokens = []; scoredTokens = []
        answerLogProb = []; editDistance = []; chance = []; chanceCorrectTokens = []; chanceLogProb = []
        chanceEditDistance = []; labels = [:]
    }

    /// The aggregate metrics of these items, computed as training computes the lines of metrics.jsonl
    /// (TaskMetrics from the items' results and labels), so the two agree exactly.
    public func metrics() -> TaskMetrics {
        let examples = prompt.indices.map { i in
            Example(task: task, prompt: prompt[i], answer: answer[i], labels: labels.mapValues { $0[i] })
        }
        // The decoded tokens do not enter any metric; `output` keeps them as text.
        let results = prompt.indices.map { i in
            ItemResult(exactMatch: exactMatch[i], correctTokens: correctTokens[i], scoredTokens: scoredTokens[i],
                       answerLogProb: answerLogProb[i], editDistance: editDistance[i], decoded: [], chance: chance[i],
                       chanceLogProb: chanceLogProb[i], chanceCorrectTokens: chanceCorrectTokens[i],
                       chanceEditDistance: chanceEditDistance[i])
        }
        return TaskMetrics(task: task, examples: examples, items: results)
    }
}

/// A problem with an items file: `file: problem`, one line.
public struct ItemsFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let problem: String
    public init(file: String, problem: String) { self.file = file; self.problem = problem }
    public var description: String { "\(file): \(problem)" }
}

/// `<run>/items/step_<N>.h5` (N zero-padded to 6 digits, as the checkpoints): the outcome of every held-out
/// item of every evaluated task at checkpoint N, one group per task. docs/ITEMS.md describes the layout
/// for h5py users; `columns` and `write` below are its definition.
///
/// One file per checkpoint, written once, when the checkpoint is saved (to a temporary name, renamed
/// when complete), like the checkpoint and the activation file of that step; never rewritten or appended
/// to, so a resumed run rewrites exactly the files of the steps it retrains. Datasets are contiguous and
/// carry no modification times: the same items and outcomes give the same bytes.
public enum ItemsFile {
    public static let format = "emergence-lens.items/1"

    public static func directory(_ runDir: String) -> String { runDir + "/items" }

    public static func path(_ runDir: String, step: Int) -> String {
        directory(runDir) + "/" + String(format: "step_%06d.h5", step)
    }

    /// What one file holds: whose evaluation it is and the tables, in evaluation order.
    public struct Contents: Sendable, Equatable {
        public var run: String
        public var study: String
        public var step: Int
        public var seed: UInt64
        public var tables: [ItemTable]

        public init(run: String, study: String, step: Int, seed: UInt64, tables: [ItemTable]) {
            self.run = run; self.study = study; self.step = step; self.seed = seed; self.tables = tables
        }
    }

    /// The per-item datasets of a task group, each 1-d with one row per item, and their `meaning`
    /// attribute. Labels are in the group's `labels/` subgroup.
    static let columns: [(name: String, dtype: H5DType, meaning: String)] = [
        ("index", .int32, "position of the item in the task's evaluation set (the i-th distinct test item drawn); "
         + "the same item in every checkpoint and every run of the study"),
        ("prompt", .string, "the prompt the model sees after <bos> (UTF-8)"),
        ("answer", .string, "the correct answer (UTF-8)"),
        ("output", .string, "the greedy output up to <eos>, as text (UTF-8)"),
        ("exact_match", .uint8, "1 if greedy decoding produced exactly the answer followed by <eos>, else 0"),
        ("answer_tokens", .int32, "number of answer tokens (<eos> not counted)"),
        ("scored_tokens", .int32, "tokens scored for token accuracy: answer tokens + <eos>"),
        ("correct_tokens", .int32, "teacher-forced argmax hits over the scored tokens"),
        ("token_accuracy", .float64, "correct_tokens / scored_tokens"),
        ("answer_log_prob", .float64, "sum of the teacher-forced log-probabilities (nats) of the answer tokens, <eos> excluded"),
        ("edit_distance", .int32, "token Levenshtein distance between output and answer"),
        ("chance/exact_match", .float64, "exact-match chance of a uniform guess over the task's answers (1 / answer-space size)"),
        ("chance/correct_tokens", .float64, "expected correct tokens of a uniform guess over the vocabulary (scored_tokens / vocabulary size)"),
        ("chance/answer_log_prob", .float64, "answer log-probability under a uniform distribution over the vocabulary (-answer_tokens * ln V)"),
        ("chance/edit_distance", .int32, "edit distance from this item's answer to the next item's (cyclically): another well-formed answer"),
    ]

    /// Writes `contents` to `path` (its directory must exist), through a temporary file renamed when complete.
    public static func write(_ contents: Contents, to path: String) throws(ItemsFileError) {
        let partial = AtomicFile.temporaryPath(for: path)
        do {
            let file = try H5File.create(partial)
            do {
                try fill(file, contents, path: path)
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
            try AtomicFile.publish(temporary: partial, to: path)
        } catch let e as ItemsFileError {
            unlink(partial)
            throw e
        } catch let e as HDF5Error {
            unlink(partial)
            throw ItemsFileError(file: path, problem: describe(e))
        } catch {
            unlink(partial)
            throw ItemsFileError(file: path, problem: "cannot write: \(error)")
        }
    }

    private static func fill(_ file: H5File, _ contents: Contents, path: String) throws {
        let names = contents.tables.map(\.task)
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw ItemsFileError(file: path, problem: "task \(twice) is listed twice")
        }
        let root = file.root
        try root.setAttribute("run", .string(contents.run))
        try root.setAttribute("study", .string(contents.study))
        try root.setAttribute("step", .int64(Int64(contents.step)))
        try root.setAttribute("seed", .int64(Int64(bitPattern: contents.seed)))
        try root.setAttribute("tasks", .string(json(names)))
        let categories = Dictionary(uniqueKeysWithValues: TaskMetrics.categoryDefinitions.map {
            ($0.category, CategoryDefinition(label: $0.label, value: $0.value))
        })
        try root.setAttribute("categories", .string(json(categories)))
        for table in contents.tables {
            let g = try root.createGroup(table.task)
            try writeTable(table, into: g)
            g.close()
        }
        // Last, as in activation files: a file without it was not finished.
        try root.setAttribute("format", .string(format))
    }

    private static func writeTable(_ t: ItemTable, into g: H5Group) throws {
        let n = t.count
        var counts: [Int] = [t.answer.count, t.output.count, t.exactMatch.count, t.correctTokens.count, t.scoredTokens.count]
        counts += [t.answerLogProb.count, t.editDistance.count, t.chance.count, t.chanceCorrectTokens.count]
        counts += [t.chanceLogProb.count, t.chanceEditDistance.count]
        counts += t.labels.values.map(\.count)
        guard counts.allSatisfy({ $0 == n }) else { throw g.error("columns of unequal length (\(n) prompts)") }
        let meaning = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0.meaning) })
        func numbers<T: H5Element>(_ name: String, _ values: [T]) throws {
            let ds = try g.createDataset(name, dtype: T.h5DType, shape: [n])
            try ds.write(rows: 0..<n, values)
            try ds.setAttribute("meaning", .string(meaning[name] ?? ""))
            ds.close()
        }
        func strings(_ name: String, _ values: [String]) throws {
            let ds = try g.createDataset(name, dtype: .string, shape: [n])
            try ds.write(rows: 0..<n, strings: values)
            try ds.setAttribute("meaning", .string(meaning[name]!))
            ds.close()
        }
        try numbers("index", (0..<n).map { Int32($0) })
        try strings("prompt", t.prompt)
        try strings("answer", t.answer)
        try strings("output", t.output)
        try numbers("exact_match", t.exactMatch.map { UInt8($0 ? 1 : 0) })
        try numbers("answer_tokens", t.scoredTokens.map { Int32($0 - 1) })
        try numbers("scored_tokens", t.scoredTokens.map { Int32($0) })
        try numbers("correct_tokens", t.correctTokens.map { Int32($0) })
        try numbers("token_accuracy", zip(t.correctTokens, t.scoredTokens).map { $1 == 0 ? 0 : Double($0) / Double($1) })
        try numbers("answer_log_prob", t.answerLogProb)
        try numbers("edit_distance", t.editDistance.map { Int32($0) })
        try numbers("chance/exact_match", t.chance)
        try numbers("chance/correct_tokens", t.chanceCorrectTokens)
        try numbers("chance/answer_log_prob", t.chanceLogProb)
        try numbers("chance/edit_distance", t.chanceEditDistance.map { Int32($0) })
        let labelMeaning = Dictionary(uniqueKeysWithValues: LabelCatalog.labels.map { ($0.name, $0.meaning) })
        let labels = try g.createGroup("labels")
        for name in t.labels.keys.sorted() {
            let column = t.labels[name]!
            let isFloat = column.contains { if case .float32 = $0 { return true } else { return false } }
            let ds = try labels.createDataset(name, dtype: isFloat ? .float32 : .int32, shape: [n])
            if isFloat { try ds.write(rows: 0..<n, column.map(\.floatValue)) }
            else { try ds.write(rows: 0..<n, column.map { Int32($0.intValue) }) }
            let text = labelMeaning[name] ?? name
            try ds.setAttribute("meaning", .string(text.contains("-1") ? text : text + "; -1: does not apply"))
            ds.close()
        }
        labels.close()
    }

    /// Reads a file back, checking its format, that every task group has every column with one row per
    /// item and the documented dtype. A problem is one ItemsFileError naming the file.
    public static func read(_ path: String) throws(ItemsFileError) -> Contents {
        do {
            let file = try H5File.openReadOnly(path)
            defer { try? file.close() }
            let root = file.root
            let found = try root.hasAttribute("format") ? try root.attribute("format") : nil
            guard found == .string(format) else {
                throw ItemsFileError(file: path, problem: "not an items file (format \(found.map { "\"\($0)\"" } ?? "missing"), expected \"\(format)\")")
            }
            guard let names = try? JSONDecoder().decode([String].self, from: Data(try root.stringAttribute("tasks").utf8)) else {
                throw ItemsFileError(file: path, problem: "attribute tasks is not a JSON list of task names")
            }
            guard let step = try root.attribute("step").intValue, let seed = try root.attribute("seed").intValue else {
                throw ItemsFileError(file: path, problem: "attributes step and seed must be integers")
            }
            var tables: [ItemTable] = []
            for name in names {
                tables.append(try readTable(name, try file.openGroup(name), path: path))
            }
            return Contents(run: try root.stringAttribute("run"), study: try root.stringAttribute("study"),
                            step: Int(step), seed: UInt64(bitPattern: seed), tables: tables)
        } catch let e as ItemsFileError {
            throw e
        } catch let e as HDF5Error {
            throw ItemsFileError(file: path, problem: describe(e))
        } catch {
            throw ItemsFileError(file: path, problem: "\(error)")
        }
    }

    private static func readTable(_ task: String, _ g: H5Group, path: String) throws -> ItemTable {
        let n = try g.openDataset("prompt").shape().first ?? 0
        func dataset(_ name: String, _ dtypes: [H5DType], in group: H5Group? = nil) throws -> H5Dataset {
            let ds = try (group ?? g).openDataset(name)
            let shape = try ds.shape(), dtype = try ds.dtype()
            guard shape == [n] else { throw ds.error("shape \(shape), expected [\(n)] (one row per prompt)") }
            guard dtypes.contains(dtype) else { throw ds.error("dtype \(dtype), expected \(dtypes.map(\.rawValue).joined(separator: " or "))") }
            return ds
        }
        func ints(_ name: String) throws -> [Int] { try dataset(name, [.int32]).readAll(as: Int32.self).map { Int($0) } }
        func doubles(_ name: String) throws -> [Double] { try dataset(name, [.float64]).readAll(as: Double.self) }
        func strings(_ name: String) throws -> [String] { try dataset(name, [.string]).readStrings() }
        for c in columns { _ = try dataset(c.name, [c.dtype]) }
        var t = ItemTable(task: task)
        let index = try ints("index")
        guard index == Array(0..<n) else { throw g.error("index is not 0..<\(n) in order") }
        t.prompt = try strings("prompt")
        t.answer = try strings("answer")
        t.output = try strings("output")
        let exact = try dataset("exact_match", [.uint8]).readAll(as: UInt8.self)
        guard exact.allSatisfy({ $0 <= 1 }) else { throw g.error("exact_match holds a value other than 0 and 1") }
        t.exactMatch = exact.map { $0 == 1 }
        t.correctTokens = try ints("correct_tokens")
        t.scoredTokens = try ints("scored_tokens")
        t.answerLogProb = try doubles("answer_log_prob")
        t.editDistance = try ints("edit_distance")
        t.chance = try doubles("chance/exact_match")
        t.chanceCorrectTokens = try doubles("chance/correct_tokens")
        t.chanceLogProb = try doubles("chance/answer_log_prob")
        t.chanceEditDistance = try ints("chance/edit_distance")
        let labels = try g.openGroup("labels")
        for name in try labels.memberNames() {
            let ds = try dataset(name, [.int32, .float32], in: labels)
            t.labels[name] = try ds.dtype() == .int32
                ? try ds.readAll(as: Int32.self).map { LabelValue.int32($0) }
                : try ds.readAll(as: Float.self).map { LabelValue.float32($0) }
        }
        return t
    }

    private struct CategoryDefinition: Encodable {
        let label: String
        let value: Int
    }

    private static func json(_ value: some Encodable) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    /// An HDF5Error without its file (the ItemsFileError names the file the caller knows).
    private static func describe(_ e: HDF5Error) -> String {
        var s = e.object.isEmpty ? e.problem : e.object + ": " + e.problem
        if let r = e.reason, !r.isEmpty { s += " (HDF5: " + r + ")" }
        return s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
