import Foundation
import Testing
import TestSupport

/// Hostile command lines: every numeric flag of every command given -1, 0, 1e12, nan, inf, a huge
/// integer, 1e9, "" and letters; every path (input or output) given a missing file, a directory,
/// /dev/null, an empty file, /dev/zero (an endless input), a `../` escape, "" and a name too long for
/// the system. The rest of each command line is valid and cheap, so an accepted value runs a small job.
/// (No FIFOs: a FIFO without a writer blocks any reader, as it blocks `cat`; and no devices as outputs:
/// as root a writer could replace /dev/null.)
@Suite struct FlagFuzzTests {
    @Test func hostileFlagsAndPaths() throws {
        let fixture = try FuzzFixture.shared.get()
        let dir = try fixture.scratch("flags")
        let inputs = try Inputs(fixture, dir)
        let pairs = Self.pairs(inputs)
        let cases = try Fuzz.generate("flags") { i, rng -> FuzzCase in
            let caseDir = dir + "/case\(i)"
            try FileManager.default.createDirectory(atPath: caseDir + "/cwd/a/b", withIntermediateDirectories: true)
            return pairs[i % pairs.count](caseDir, &rng)
        }
        try Fuzz.run(family: "flags", test: "FlagFuzzTests", cases)
    }

    /// The valid, cheap inputs every command line starts from.
    struct Inputs {
        let fixture: FuzzFixture
        let activations: String      // the fixture's activation file alone in a directory
        let split: String            // a bench probe split of its rows
        let empty: String            // an empty regular file
        let emptyDir: String

        init(_ fixture: FuzzFixture, _ dir: String) throws {
            self.fixture = fixture
            activations = dir + "/activations/step_000020.h5"
            try FileManager.default.createDirectory(atPath: dir + "/activations", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: fixture.activations, toPath: activations)
            split = dir + "/split.json"
            try Data("{\"train\": [\((0..<30).map(String.init).joined(separator: ","))], \"test\": [\((30..<40).map(String.init).joined(separator: ","))]}".utf8)
                .write(to: URL(fileURLWithPath: split))
            empty = dir + "/empty"
            try Data().write(to: URL(fileURLWithPath: empty))
            emptyDir = dir + "/empty-dir"
            try FileManager.default.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
        }
    }

    /// A command line with one slot left for the attacked value; `out` is a fresh directory of the case.
    struct Command {
        let name: String
        let line: (_ value: String, _ out: String) -> [String]
    }

    typealias Make = (_ caseDir: String, _ rng: inout FuzzRNG) -> FuzzCase

    /// Every (flag, value) and (path, value) pair, in an order shuffled by the seed: n cases cover n pairs.
    static func pairs(_ inputs: Inputs) -> [Make] {
        var all: [Make] = []
        for flag in numericFlags(inputs) {
            for (value, expectOf) in numericValues {
                all.append { caseDir, rng in
                    // Both spellings a user may type: `--n -1` and `--n=-1`.
                    let spelled = rng.int(0..<2) == 0 ? [flag.flag, value] : ["\(flag.flag)=\(value)"]
                    let line = flag.command.line("", caseDir + "/out").filter { !$0.isEmpty }
                    // A value in range may still name nothing (`--steps 7`): the input it is looked for in will do.
                    return FuzzCase(name: "\(flag.command.name) \(spelled.joined(separator: " "))", args: line + spelled,
                                    expect: expectOf(flag), mentions: [flag.flag] + line.filter { $0.hasPrefix("/") },
                                    directory: caseDir + "/cwd/a/b")
                }
            }
        }
        for slot in pathSlots(inputs) {
            for (label, value, output) in hostilePaths(inputs) where !slot.output || output != nil {
                all.append { caseDir, _ in
                    let path = value(caseDir)
                    let expect = slot.output ? (output ?? .invalid) : .invalid
                    // An empty path is named by an empty string: any one error line will do.
                    return FuzzCase(name: "\(slot.command.name) \(slot.flag) \(label)", args: slot.command.line(path, caseDir + "/out"),
                                    expect: expect, mentions: [path, slot.flag], directory: caseDir + "/cwd/a/b")
                }
            }
        }
        var rng = FuzzRNG(seed: FuzzSettings.seed, family: "flags/pairs", index: 0)
        all.shuffle(using: &rng)
        return all
    }

    // MARK: numeric flags

    struct NumericFlag {
        let command: Command
        let flag: String
        var double = false
        /// Whether 0 and 1e9 are in range (1e9 may still be refused for what it would cost).
        var zero: Expectation = .invalid
        var billion: Expectation = .either
    }

    static var numericValues: [(String, (NumericFlag) -> Expectation)] { [
        ("-1", { _ in .invalid }), ("0", { $0.zero }), ("1e12", { $0.double ? .either : .invalid }), ("nan", { _ in .invalid }),
        ("inf", { _ in .invalid }), ("9999999999999999999999", { $0.double ? .either : .invalid }), ("", { _ in .invalid }),
        ("abc", { _ in .invalid }), ("1000000000", { $0.billion }),
    ] }

    static func numericFlags(_ i: Inputs) -> [NumericFlag] {
        let f = i.fixture
        let tasks = Command(name: "tasks") { _, _ in ["tasks", "--task", "add", "--n", "2"] }
        let eval = Command(name: "eval") { _, _ in ["eval", f.checkpoint, "--tasks", "add", "--n", "4", "--threads", "1"] }
        let dump = Command(name: "dump") { _, out in
            ["dump", "--run", f.run, "--n", "4", "--hooks", FuzzFixture.hook, "--steps", "20", "--out", out, "--threads", "1"]
        }
        let sweep = Command(name: "sweep --check") { _, _ in ["sweep", "--study", f.study, "--check"] }
        let train = Command(name: "train") { _, out in ["train", "--study", f.study, "--out", out, "--threads", "1"] }
        let probe = Command(name: "probe") { _, out in
            ["probe", "--spec", f.probeSpec, "--activations", i.activations, "--out", out, "--threads", "1"]
        }
        let inspect = Command(name: "inspect") { _, _ in ["inspect", i.activations] }
        let benchTrain = Command(name: "bench train") { _, _ in
            ["bench", "train", "--d-model", "16", "--layers", "1", "--heads", "2", "--d-mlp", "32", "--ctx", "8", "--vocab", "16",
             "--batch", "2", "--steps", "1", "--warmup", "0", "--threads", "1"]
        }
        let benchGemm = Command(name: "bench gemm") { _, _ in ["bench", "gemm", "--n", "32", "--repeats", "1", "--threads", "1"] }
        let benchDump = Command(name: "bench dump") { _, out in
            ["bench", "dump", "--n", "16", "--t", "4", "--d", "8", "--chunk", "8", "--datasets", "1", "--out", out + ".h5"]
        }
        let benchProbe = Command(name: "bench probe") { _, _ in
            ["bench", "probe", "--h5", i.activations, "--hook", FuzzFixture.hook, "--position", "equals", "--label", "answer_tens",
             "--split", i.split, "--repeats", "1", "--threads", "1"]
        }
        // A flag given twice takes its last value, so the attacked value follows the valid line.
        return [
            NumericFlag(command: tasks, flag: "--n", billion: .invalid), NumericFlag(command: tasks, flag: "--seed", zero: .valid),
            NumericFlag(command: tasks, flag: "--max-operand", zero: .valid), NumericFlag(command: tasks, flag: "--max-step"),
            NumericFlag(command: tasks, flag: "--threads", billion: .invalid),
            NumericFlag(command: eval, flag: "--n", billion: .invalid), NumericFlag(command: eval, flag: "--errors", zero: .valid, billion: .invalid),
            NumericFlag(command: eval, flag: "--threads", billion: .invalid),
            NumericFlag(command: dump, flag: "--n", billion: .invalid), NumericFlag(command: dump, flag: "--batch", billion: .invalid),
            NumericFlag(command: dump, flag: "--steps", zero: .valid, billion: .invalid),
            NumericFlag(command: dump, flag: "--threads", billion: .invalid),
            NumericFlag(command: sweep, flag: "--jobs", billion: .invalid), NumericFlag(command: sweep, flag: "--threads", billion: .invalid),
            NumericFlag(command: train, flag: "--seed", zero: .valid, billion: .valid),
            NumericFlag(command: probe, flag: "--threads", billion: .invalid), NumericFlag(command: inspect, flag: "--threads", billion: .invalid),
            NumericFlag(command: benchTrain, flag: "--d-model"), NumericFlag(command: benchTrain, flag: "--layers"),
            NumericFlag(command: benchTrain, flag: "--heads"), NumericFlag(command: benchTrain, flag: "--d-mlp"),
            NumericFlag(command: benchTrain, flag: "--ctx"), NumericFlag(command: benchTrain, flag: "--vocab"),
            NumericFlag(command: benchTrain, flag: "--batch"), NumericFlag(command: benchTrain, flag: "--steps", zero: .either),
            NumericFlag(command: benchTrain, flag: "--warmup", zero: .valid),
            NumericFlag(command: benchGemm, flag: "--n"), NumericFlag(command: benchGemm, flag: "--repeats"),
            NumericFlag(command: benchDump, flag: "--n"), NumericFlag(command: benchDump, flag: "--t"), NumericFlag(command: benchDump, flag: "--d"),
            NumericFlag(command: benchDump, flag: "--chunk"), NumericFlag(command: benchDump, flag: "--datasets"),
            NumericFlag(command: benchProbe, flag: "--inverse-l2", double: true), NumericFlag(command: benchProbe, flag: "--tol", double: true, zero: .either),
            NumericFlag(command: benchProbe, flag: "--repeats"),
        ]
    }

    // MARK: paths

    struct PathSlot {
        let command: Command
        let flag: String
        let output: Bool
    }

    static func pathSlots(_ i: Inputs) -> [PathSlot] {
        let f = i.fixture
        func slot(_ name: String, _ flag: String, output: Bool = false, _ line: @escaping (String, String) -> [String]) -> PathSlot {
            PathSlot(command: Command(name: name, line: line), flag: flag, output: output)
        }
        return [
            slot("eval", "CHECKPOINT") { p, _ in ["eval", p, "--tasks", "add", "--n", "4", "--threads", "1"] },
            slot("inspect", "FILE") { p, _ in ["inspect", p] },
            slot("probe", "--spec") { p, out in ["probe", "--spec", p, "--activations", i.activations, "--out", out, "--threads", "1"] },
            slot("probe", "--activations") { p, out in ["probe", "--spec", f.probeSpec, "--activations", p, "--out", out, "--threads", "1"] },
            slot("sweep", "--study") { p, _ in ["sweep", "--study", p, "--check"] },
            slot("train", "--study") { p, out in ["train", "--study", p, "--out", out, "--threads", "1"] },
            slot("dump", "--run") { p, out in ["dump", "--run", p, "--n", "4", "--out", out, "--threads", "1"] },
            slot("dump", "--for-probes") { p, out in
                ["dump", "--run", f.run, "--n", "4", "--hooks", FuzzFixture.hook, "--steps", "20", "--for-probes", p, "--out", out, "--threads", "1"]
            },
            slot("bench probe", "--h5") { p, _ in
                ["bench", "probe", "--h5", p, "--hook", FuzzFixture.hook, "--position", "equals", "--label", "answer_tens", "--split", i.split,
                 "--repeats", "1", "--threads", "1"]
            },
            slot("bench probe", "--split") { p, _ in
                ["bench", "probe", "--h5", i.activations, "--hook", FuzzFixture.hook, "--position", "equals", "--label", "answer_tens",
                 "--split", p, "--repeats", "1", "--threads", "1"]
            },
            slot("dump", "--out", output: true) { p, _ in
                ["dump", "--run", f.run, "--n", "4", "--hooks", FuzzFixture.hook, "--steps", "20", "--out", p, "--threads", "1"]
            },
            slot("probe", "--out", output: true) { p, _ in
                ["probe", "--spec", f.probeSpec, "--activations", i.activations, "--out", p, "--threads", "1"]
            },
            slot("train", "--out", output: true) { p, _ in ["train", "--study", f.study, "--out", p, "--threads", "1"] },
        ]
    }

    /// (label, path in the case's directory, expectation as an output or nil: not offered to outputs).
    static func hostilePaths(_ i: Inputs) -> [(String, (String) -> String, Expectation?)] {
        [
            ("missing", { $0 + "/no/such/file" }, .valid),                    // an output directory is created
            ("a directory", { _ in i.emptyDir }, nil),
            ("/dev/null", { _ in "/dev/null" }, .invalid),                    // as a directory: not one
            ("/dev/zero", { _ in "/dev/zero" }, .invalid),
            ("an empty file", { _ in i.empty }, .invalid),
            ("below a file", { _ in i.empty + "/x" }, .invalid),
            ("../ escape", { $0 + "/cwd/a/b/../../../../../../../../../../../../etc/passwd" }, nil),
            ("relative ../", { _ in "../../escape" }, .valid),                 // from <case>/cwd/a/b: inside the case
            ("\"\"", { _ in "" }, .invalid),
            ("a 5000-byte name", { $0 + "/" + String(repeating: "n", count: 5000) }, .invalid),
        ]
    }
}
