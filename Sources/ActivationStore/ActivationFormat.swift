import Foundation
import HDF5

// The activation-file format, CONTRACTS section 4:
//
//   /                   attrs (all UTF-8 strings): format = "emergence-lens.activations/1", config (JSON),
//                       run, step (decimal), tasks (JSON list), seed (decimal), vocab (JSON list of tokens)
//   /tokens             int32 [N, T]  padded with the PAD id        /lengths  int32 [N]
//   /prompts, /tasks    variable-length UTF-8 strings [N]
//   /positions/<name>   int32 [N]
//   /labels/<name>      int32 or float32 [N]
//   /activations/<hook> float32 [N, ...] (TransformerLens shape, batch = N), chunked along N
//
// Every dataset is chunked along N with an unlimited N axis (h5py: maxshape (None, ...)), whose extent is N.

/// A problem with an activation file, whether the format or HDF5 found it: `file: object: problem`.
public typealias ActivationStoreError = HDF5Error

/// The root attributes of an activation file. On disk every one is a variable-length UTF-8 string
/// (h5py returns `str`): `step` and `seed` in decimal, `tasks` and `vocab` as JSON lists of strings.
public struct FileAttributes: Codable, Sendable, Equatable {
    public static let currentFormat = "emergence-lens.activations/1"

    /// Always `currentFormat` for files we write; what the file says for files we read.
    public var format: String
    /// The model config (CONTRACTS section 1) as a JSON document.
    public var config: String
    public var run: String
    public var step: Int
    public var tasks: [String]
    public var seed: UInt64
    public var vocab: [String]

    public init(config: String, run: String, step: Int, tasks: [String], seed: UInt64, vocab: [String]) {
        self.format = FileAttributes.currentFormat
        self.config = config
        self.run = run
        self.step = step
        self.tasks = tasks
        self.seed = seed
        self.vocab = vocab
    }

    static let names = ["format", "config", "run", "step", "tasks", "seed", "vocab"]

    /// The attributes as written to the file (format excluded: the writer sets it last, in `finish`).
    func encodedWithoutFormat() throws -> [(String, String)] {
        [("config", config), ("run", run), ("step", String(step)), ("tasks", try jsonList(tasks)),
         ("seed", String(seed)), ("vocab", try jsonList(vocab))]
    }

    /// Reads the attributes back from the root group; `step`/`seed` may also be integer attributes.
    static func read(from root: H5Node) throws -> FileAttributes {
        func int(_ name: String) throws -> Int64 {
            let v = try root.attribute(name)
            if let i = v.intValue { return i }
            if let s = v.stringValue, let i = Int64(s) { return i }
            if let s = v.stringValue, let u = UInt64(s) { return Int64(bitPattern: u) }
            throw root.error("attribute '\(name)' is not an integer (found '\(v)')")
        }
        func list(_ name: String) throws -> [String] {
            let s = try root.stringAttribute(name)
            guard let data = s.data(using: .utf8),
                  let l = try? JSONDecoder().decode([String].self, from: data) else {
                throw root.error("attribute '\(name)' is not a JSON list of strings")
            }
            return l
        }
        var a = FileAttributes(config: try root.stringAttribute("config"), run: try root.stringAttribute("run"),
                               step: Int(try int("step")), tasks: try list("tasks"),
                               seed: UInt64(bitPattern: try int("seed")), vocab: try list("vocab"))
        a.format = try root.stringAttribute("format")
        return a
    }
}

func jsonList(_ l: [String]) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.withoutEscapingSlashes]
    return String(decoding: try enc.encode(l), as: UTF8.self)
}

/// The element type of a label dataset.
public enum LabelKind: String, Codable, Sendable {
    case int32, float32

    var dtype: H5DType { self == .int32 ? .int32 : .float32 }
}

/// One label column (a batch's worth, or a whole file's).
public enum LabelColumn: Equatable, Sendable {
    case int32([Int32])
    case float32([Float])

    public var count: Int {
        switch self {
        case .int32(let v): return v.count
        case .float32(let v): return v.count
        }
    }
    public var kind: LabelKind {
        if case .int32 = self { return .int32 } else { return .float32 }
    }
    /// The values as Float (int32 labels converted), e.g. as probe targets.
    public var floats: [Float] {
        switch self {
        case .int32(let v): return v.map { Float($0) }
        case .float32(let v): return v
        }
    }
}

/// A hook dataset's name and full shape [N, ...].
public struct HookInfo: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    /// Shape without the batch axis.
    public var shapeAfterBatch: [Int] { Array(shape.dropFirst()) }
}

enum Paths {
    static let tokens = "/tokens", lengths = "/lengths", prompts = "/prompts", tasks = "/tasks"
    static let positions = "/positions", labels = "/labels", activations = "/activations"
}
