import Foundation
import Testing
import TestSupport

/// Study files (`lens sweep --check`) and probe specs (`lens probe` on the fixture's activation file)
/// attacked in depth (nested `[` and `{`, deep blocks), size (over 1 MiB), alias bombs, every key's
/// type (a list, a map, a string, a bool, null) and value (0, -1, 1e18, 1e9, .nan, .inf, -.inf, a huge
/// integer, `../x`, `[]`), duplicate keys, a byte-order mark, binary garbage, truncation and byte flips.
/// Each key's schema (`YAMLSchema`) says which attacks leave the spec valid, so an accepted invalid spec
/// is a silent acceptance and a refused valid one is a failure too.
@Suite struct YAMLFuzzTests {
    @Test func studyFiles() throws {
        let fixture = try FuzzFixture.shared.get()
        let dir = try fixture.scratch("yaml-study")
        let cases = try Fuzz.generate("yaml-study") { i, rng -> FuzzCase in
            let path = dir + "/case\(i).yaml"
            let (name, text, expect) = YAMLAttack.make(index: i, YAMLSchema.study, family: "yaml-study", &rng)
            try text.write(to: URL(fileURLWithPath: path))
            return FuzzCase(name: name, args: ["sweep", "--study", path, "--check", "--json"], expect: expect, mentions: [path],
                            directory: dir)
        }
        try Fuzz.run(family: "yaml-study", test: "YAMLFuzzTests/studyFiles", cases)
    }

    @Test func probeSpecs() throws {
        let fixture = try FuzzFixture.shared.get()
        let dir = try fixture.scratch("yaml-probe")
        // Alone in its directory, so the probe reads this file only (not the run's step-0 file beside it).
        let activations = dir + "/activations/step_000020.h5"
        try FileManager.default.createDirectory(atPath: dir + "/activations", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture.activations, toPath: activations)
        let cases = try Fuzz.generate("yaml-probe") { i, rng -> FuzzCase in
            let path = dir + "/case\(i).yaml"
            let (name, text, expect) = YAMLAttack.make(index: i, YAMLSchema.probe, family: "yaml-probe", &rng)
            try text.write(to: URL(fileURLWithPath: path))
            return FuzzCase(name: name, args: ["probe", "--spec", path, "--activations", activations, "--out", dir + "/out\(i)",
                                               "--json", "--threads", "1"],
                            expect: expect, mentions: [path, activations], directory: dir)
        }
        try Fuzz.run(family: "yaml-probe", test: "YAMLFuzzTests/probeSpecs", cases)
    }
}

/// A YAML document as the fuzz suite builds it: scalars are written as given, lists and maps in flow
/// style below the top level.
indirect enum YNode {
    case scalar(String)
    case list([YNode])
    case map([(String, YNode)])

    var flow: String {
        switch self {
        case .scalar(let s): s
        case .list(let items): "[" + items.map(\.flow).joined(separator: ", ") + "]"
        case .map(let pairs): "{" + pairs.map { "\($0.0): \($0.1.flow)" }.joined(separator: ", ") + "}"
        }
    }

    /// Every path in the tree (`split.test`, `models[0].d_model`), containers included.
    func paths(_ prefix: String = "") -> [String] {
        switch self {
        case .scalar: return [prefix]
        case .list(let items):
            return [prefix] + items.indices.flatMap { items[$0].paths(prefix + "[\($0)]") }
        case .map(let pairs):
            return (prefix.isEmpty ? [] : [prefix]) + pairs.flatMap { $0.1.paths(prefix.isEmpty ? $0.0 : prefix + "." + $0.0) }
        }
    }

    /// The tree with the node at `path` replaced.
    func replacing(_ path: String, with node: YNode, _ prefix: String = "") -> YNode {
        if path == prefix { return node }
        switch self {
        case .scalar: return self
        case .list(let items):
            return .list(items.indices.map { items[$0].replacing(path, with: node, prefix + "[\($0)]") })
        case .map(let pairs):
            return .map(pairs.map { ($0.0, $0.1.replacing(path, with: node, prefix.isEmpty ? $0.0 : prefix + "." + $0.0)) })
        }
    }

    /// A top-level mapping as a block, one key per line.
    var document: String {
        guard case .map(let pairs) = self else { return flow + "\n" }
        return pairs.map { "\($0.0): \($0.1.flow)\n" }.joined()
    }
}

/// What a key accepts, to tell which attacks leave the spec valid.
enum KeyKind {
    case fileName                               // one path component (name)
    case text                                   // any string (question)
    case reference                              // a string naming something that exists (task, hook, label, choice)
    case int(zeroOK: Bool, billionOK: Bool)     // a whole number >= 0 (or >= 1 without zeroOK)
    case number(zeroOK: Bool, bigOK: Bool)      // a finite number >= 0 (or > 0)
    case flag                                   // true or false
    case position                               // a named position or an index inside the sequence
    case refused                                // every attack breaks this spec (e.g. a filter that then matches nothing)
    case map                                    // a mapping of other keys
    case references(emptyOK: Bool)              // a list of references (a lone string is allowed)
    case ints                                   // a list of whole numbers >= 0
    case positions                              // a list of positions
    case numbers                                // a number or a list of them (l2)
}

struct KeySchema {
    let kind: KeyKind
    /// Absent is allowed, so `null` may read as absent.
    let optional: Bool
}

enum YAMLSchema {
    struct Spec {
        let base: YNode
        let keys: [String: KeySchema]
    }

    static func s(_ v: String) -> YNode { .scalar(v) }

    static let study = Spec(
        base: .map([
            ("name", s("fuzz")), ("tasks", .map([("add", s("1")), ("sub", s("1"))])), ("eval_tasks", .list([s("add"), s("sub")])),
            ("problem", .map([("max_operand", s("9")), ("max_step", s("5")), ("max_result", s("99"))])),
            ("models", .list([.map([("name", s("d16")), ("n_layers", s("1")), ("d_model", s("16")), ("n_heads", s("2")),
                                    ("d_head", s("8")), ("d_mlp", s("32"))])])),
            ("act_fn", s("gelu_new")), ("seeds", .list([s("3")])), ("steps", s("20")), ("batch", s("8")), ("lr", s("0.003")),
            ("warmup", s("5")), ("weight_decay", s("0.01")), ("grad_clip", s("1.0")), ("loss", s("answer")),
            ("checkpoints", .map([("dense_until", s("20")), ("dense_count", s("1")), ("every", s("0"))])),
            ("eval", .map([("n", s("8"))])),
            ("split", .map([("seed", s("0")), ("validation", s("0.1")), ("test", s("0.1")), ("held_out_templates", .list([s("relative")]))])),
        ]),
        keys: [
            "name": .init(kind: .fileName, optional: true), "tasks": .init(kind: .map, optional: false),
            // Two tasks share each batch of 8: a weight of 1e9 or more leaves the other none, an error.
            "tasks.add": .init(kind: .number(zeroOK: false, bigOK: false), optional: false),
            "tasks.sub": .init(kind: .number(zeroOK: false, bigOK: false), optional: false),
            "eval_tasks": .init(kind: .references(emptyOK: false), optional: true), "eval_tasks[0]": .init(kind: .reference, optional: false),
            "eval_tasks[1]": .init(kind: .reference, optional: false),
            "problem": .init(kind: .map, optional: true),
            "problem.max_operand": .init(kind: .int(zeroOK: true, billionOK: false), optional: true),
            "problem.max_step": .init(kind: .int(zeroOK: false, billionOK: false), optional: true),
            "problem.max_result": .init(kind: .int(zeroOK: false, billionOK: true), optional: true),
            "models": .init(kind: .refused, optional: false), "models[0]": .init(kind: .map, optional: false),
            "models[0].name": .init(kind: .fileName, optional: true),
            "models[0].n_layers": .init(kind: .int(zeroOK: false, billionOK: false), optional: false),
            "models[0].d_model": .init(kind: .int(zeroOK: false, billionOK: false), optional: false),
            "models[0].n_heads": .init(kind: .int(zeroOK: false, billionOK: false), optional: false),
            "models[0].d_head": .init(kind: .int(zeroOK: false, billionOK: false), optional: true),
            "models[0].d_mlp": .init(kind: .int(zeroOK: false, billionOK: false), optional: false),
            "act_fn": .init(kind: .reference, optional: true), "seeds": .init(kind: .ints, optional: true),
            "seeds[0]": .init(kind: .int(zeroOK: true, billionOK: true), optional: false),
            "steps": .init(kind: .int(zeroOK: false, billionOK: false), optional: true),
            "batch": .init(kind: .int(zeroOK: false, billionOK: false), optional: true),
            "lr": .init(kind: .number(zeroOK: true, bigOK: true), optional: true),
            "warmup": .init(kind: .int(zeroOK: true, billionOK: true), optional: true),
            "weight_decay": .init(kind: .number(zeroOK: true, bigOK: true), optional: true),
            "grad_clip": .init(kind: .number(zeroOK: true, bigOK: true), optional: true),
            "loss": .init(kind: .reference, optional: true), "checkpoints": .init(kind: .map, optional: true),
            "checkpoints.dense_until": .init(kind: .int(zeroOK: true, billionOK: true), optional: true),
            "checkpoints.dense_count": .init(kind: .int(zeroOK: true, billionOK: false), optional: true),
            "checkpoints.every": .init(kind: .int(zeroOK: true, billionOK: true), optional: true),
            "eval": .init(kind: .map, optional: true), "eval.n": .init(kind: .int(zeroOK: false, billionOK: false), optional: true),
            "split": .init(kind: .map, optional: true), "split.seed": .init(kind: .int(zeroOK: true, billionOK: true), optional: true),
            "split.validation": .init(kind: .number(zeroOK: true, bigOK: false), optional: true),
            "split.test": .init(kind: .number(zeroOK: false, bigOK: false), optional: true),
            // An empty list holds out no template, the same as leaving the key out.
            "split.held_out_templates": .init(kind: .references(emptyOK: true), optional: true),
            "split.held_out_templates[0]": .init(kind: .reference, optional: false),
        ])

    static let probe = Spec(
        base: .map([
            ("name", s("tens")), ("question", s("Is the answer's tens digit linearly present?")), ("target", s("answer_tens")),
            ("kind", s("multiclass")), ("hooks", .list([s(FuzzFixture.hook)])), ("positions", .list([s("equals")])),
            ("tasks", .list([s("add"), s("sub")])), ("where", .map([("num_steps", s("1"))])),
            ("split", .map([("test", s("0.25")), ("seed", s("0"))])), ("l2", s("0.01")), ("control", s("true")),
            ("control_type", s("operand_a")), ("items", .map([("add", s("20"))])),
        ]),
        keys: [
            "name": .init(kind: .fileName, optional: false), "question": .init(kind: .text, optional: false),
            "target": .init(kind: .reference, optional: false), "kind": .init(kind: .reference, optional: false),
            "hooks": .init(kind: .references(emptyOK: false), optional: false), "hooks[0]": .init(kind: .reference, optional: false),
            "positions": .init(kind: .positions, optional: false), "positions[0]": .init(kind: .position, optional: false),
            "tasks": .init(kind: .references(emptyOK: false), optional: true), "tasks[0]": .init(kind: .reference, optional: false),
            "tasks[1]": .init(kind: .reference, optional: false),
            // Every row has num_steps 1, so any other filter value leaves no examples: an error.
            "where": .init(kind: .map, optional: true), "where.num_steps": .init(kind: .refused, optional: false),
            "split": .init(kind: .map, optional: true),
            "split.test": .init(kind: .number(zeroOK: false, bigOK: false), optional: true),
            "split.seed": .init(kind: .int(zeroOK: true, billionOK: true), optional: true),
            "l2": .init(kind: .numbers, optional: true), "control": .init(kind: .flag, optional: true),
            "control_type": .init(kind: .reference, optional: true), "items": .init(kind: .map, optional: true),
            "items.add": .init(kind: .int(zeroOK: false, billionOK: true), optional: false),
        ])
}

/// The attacks, and the verdict the schema gives each.
enum YAMLAttack {
    static let kinds = 10

    /// Case `index`: six in ten attack one key's type or value, taken in turn from every (key, attack)
    /// pair in an order shuffled by the seed, so n cases cover about 0.6 n distinct pairs; the rest are
    /// the document-wide attacks.
    static func make(index: Int, _ spec: YAMLSchema.Spec, family: String, _ rng: inout FuzzRNG) -> (String, Data, Expectation) {
        let base = spec.base.document
        let kind = index % kinds
        if kind < 6 {
            let pairs = keyAttacks(spec, family: family)
            let (path, attack) = pairs[(index / kinds * 6 + kind) % pairs.count]
            let schema = spec.keys[path]!
            switch attack {
            case .value(let v, let text):
                return ("\(path): \(text)", Data(spec.base.replacing(path, with: .scalar(text)).document.utf8), verdict(schema, value: v))
            case .type(let t, let text):
                return ("\(path) as \(text)", Data(spec.base.replacing(path, with: .scalar(text)).document.utf8), verdict(schema, type: t))
            }
        }
        switch kind {
        case 6 where rng.int(0..<2) == 0:
            let k = rng.pick([65, 200, 5000, 100_000]), open = rng.pick(["[", "{a: "])
            let close = open == "[" ? "]" : "}"
            let path = rng.pick(spec.base.paths())
            let nested = String(repeating: open, count: k) + (rng.int(0..<2) == 0 ? String(repeating: close, count: k) : "")
            return ("\(path) nested \(k) deep with \(open)", Data(spec.base.replacing(path, with: .scalar(nested)).document.utf8), .invalid)
        case 6:
            let k = rng.pick([65, 300])
            let block = (0..<k).map { String(repeating: "  ", count: $0) + "k\($0):\n" }.joined()
            return ("a block mapping \(k) levels deep", Data((base + "deep:\n" + block.split(separator: "\n").map { "  " + $0 }
                .joined(separator: "\n") + "\n").utf8), .invalid)
        case 7 where rng.int(0..<2) == 0:
            let size = (1 << 20) + rng.int(1..<4096)
            let padding = rng.int(0..<2) == 0 ? "# " + String(repeating: "x", count: size) + "\n"
                : "question2: \"" + String(repeating: "y", count: size) + "\"\n"
            return ("over 1 MiB (\(size) bytes of \(padding.hasPrefix("#") ? "comment" : "string"))", Data((base + padding).utf8), .invalid)
        case 7:
            let width = rng.pick([10, 20]), depth = rng.pick([6, 9])
            var bomb = "a0: &a0 [" + Array(repeating: "x", count: width).joined(separator: ", ") + "]\n"
            for i in 1...depth {
                bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: width).joined(separator: ", ") + "]\n"
            }
            return ("alias bomb \(width)^\(depth)", Data((base + bomb).utf8), .invalid)
        case 8 where rng.int(0..<3) == 0:
            guard case .map(let pairs) = spec.base else { fatalError("a spec is a mapping") }
            let (key, value) = rng.pick(pairs)
            let again = rng.int(0..<2) == 0 ? value.flow : "0"
            return ("duplicate key \(key)", Data((base + "\(key): \(again)\n").utf8), .invalid)
        case 8:
            if rng.int(0..<3) == 0 { return ("byte-order mark", Data(("\u{FEFF}" + base).utf8), .valid) }
            var bytes = Data(base.utf8)
            // Random bytes and at least one control character: never a text file.
            let garbage = (0..<rng.int(1..<16)).map { _ in UInt8(rng.int(0..<256)) } + [rng.pick([0, 1, 2, 7, 8, 0x0B, 0x0C, 0x1B] as [UInt8])]
            let at = rng.int(0..<bytes.count)
            bytes.insert(contentsOf: garbage, at: at)
            return ("\(garbage.count) bytes of binary at \(at)", bytes, .invalid)
        default:
            var bytes = Data(base.utf8)
            if rng.int(0..<2) == 0 {
                let cut = rng.int(0..<bytes.count)
                return ("truncate at \(cut) of \(bytes.count)", bytes.prefix(cut), .either)
            }
            let flips = (0..<rng.int(1..<4)).map { _ in (rng.int(0..<bytes.count), UInt8(1 << rng.int(0..<8))) }
            for (at, bit) in flips { bytes[at] ^= bit }
            return ("bit flips \(flips.map { "\($0.0)^\($0.1)" }.joined(separator: ","))", bytes, .either)
        }
    }

    enum Attack { case value(Value, String), type(TypeAttack, String) }

    /// Every (key path, attack) pair of a spec, shuffled by the seed.
    static func keyAttacks(_ spec: YAMLSchema.Spec, family: String) -> [(String, Attack)] {
        var pairs = spec.base.paths().flatMap { path in
            values.map { (path, Attack.value($0.0, $0.1)) } + types.map { (path, Attack.type($0.0, $0.1)) }
        }
        var rng = FuzzRNG(seed: FuzzSettings.seed, family: family + "/pairs", index: 0)
        pairs.shuffle(using: &rng)
        return pairs
    }

    enum Value { case zero, negative, big, billion, nan, inf, negativeInf, hugeInt, dotdot, emptyList }
    static let values: [(Value, String)] = [(.zero, "0"), (.negative, "-1"), (.big, "1.0e+18"), (.billion, "1000000000"),
                                            (.nan, ".nan"), (.inf, ".inf"), (.negativeInf, "-.inf"),
                                            (.hugeInt, "99999999999999999999"), (.dotdot, "../x"), (.emptyList, "[]")]

    enum TypeAttack { case list, map, string, bool, null }
    static let types: [(TypeAttack, String)] = [(.list, "[1, 2]"), (.map, "{a: 1}"), (.string, "x"), (.bool, "true"), (.null, "null")]

    static func verdict(_ key: KeySchema, value: Value) -> Expectation {
        switch (key.kind, value) {
        case (.text, .dotdot): return .valid
        case (.text, .hugeInt), (.fileName, .hugeInt): return .either   // YAML may read it as the string of digits
        case (.references(let emptyOK), .emptyList): return emptyOK ? .valid : .invalid
        case (.int(let zeroOK, _), .zero): return zeroOK ? .valid : .invalid
        case (.int(_, let billionOK), .billion): return billionOK ? .either : .invalid
        case (.number(let zeroOK, _), .zero): return zeroOK ? .valid : .invalid
        case (.number(_, let bigOK), .big), (.number(_, let bigOK), .billion): return bigOK ? .valid : .invalid
        case (.number(_, let bigOK), .hugeInt): return bigOK ? .either : .invalid
        case (.position, .zero), (.positions, .zero): return .valid
        case (.numbers, .zero), (.numbers, .big), (.numbers, .billion): return .valid
        case (.numbers, .hugeInt): return .either
        default: return .invalid
        }
    }

    static func verdict(_ key: KeySchema, type: TypeAttack) -> Expectation {
        switch (key.kind, type) {
        case (_, .null): return key.optional ? .either : .invalid
        case (.fileName, .string), (.text, .string), (.flag, .bool): return .valid
        case (.ints, .list), (.positions, .list), (.numbers, .list): return .valid
        default: return .invalid
        }
    }
}
