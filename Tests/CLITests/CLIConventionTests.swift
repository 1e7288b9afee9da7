import Foundation
import Testing
import TestSupport

/// The conventions every `lens` command keeps (CONTRACTS section 5 and the README's Commands section),
/// checked on the built binary: kebab-case flags, one-line path errors, pipes as input, JSON that
/// parses, sparse progress in logs, benchmark lines that end with a newline.
@Suite(.serialized) struct CLIConventionTests {
    // MARK: running the binary

    struct Outcome {
        let status: Int32, out: String, err: String
        var errLines: [String] { err.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// Runs `lens args` with `stdin` piped in (stdout and stderr are pipes: not terminals).
    static func lens(_ args: [String], stdin: String? = nil) throws -> Outcome {
        let r = try run(Repo.lens, args, input: stdin.map { Data($0.utf8) })
        return Outcome(status: r.status, out: r.out, err: r.err)
    }

    // MARK: a tiny trained run, shared by the tests that need activations

    /// Two layers (the probe reads blocks.1), runs named `d16-s1`, two checkpoints.
    static let tinyStudy = StudyFixtures.trainable(tasks: ["multistep_pad"], layers: 2, seeds: [1], steps: 20,
                                                   checkpoints: "{dense_until: 20, dense_count: 1, every: 0}",
                                                   evalItems: 10)

    static let probeSpec = """
        name: tens
        question: Is the answer's tens digit linearly present?
        target: answer_tens
        kind: multiclass
        hooks: [blocks.1.hook_resid_post]
        positions: [equals]
        l2: 0.01
        control: false
        """

    /// A scratch directory holding `runs/d16-s1` (trained from the study piped to /dev/stdin, so that
    /// path is exercised too) and its activations; built once, as training and dumping take seconds.
    /// A static is never deinitialized, so the directory is removed at process exit instead.
    static let fixture: Result<TempDir, FixtureError> = {
        do {
            let temp = try TempDir("cli-fixture")
            let dir = temp.root
            let sweep = try lens(["sweep", "--study", "/dev/stdin", "--out", dir + "/runs", "--threads", "1", "--json"], stdin: tinyStudy)
            guard sweep.status == 0 else { return .failure(FixtureError(message: "sweep: \(sweep.err)")) }
            let dump = try lens(["dump", "--run", dir + "/runs/d16-s1", "--n", "40", "--threads", "1", "--json"])
            guard dump.status == 0 else { return .failure(FixtureError(message: "dump: \(dump.err)")) }
            atexit {
                if case .success(let temp) = CLIConventionTests.fixture { try? FileManager.default.removeItem(at: temp.url) }
            }
            return .success(temp)
        } catch { return .failure(FixtureError(message: "\(error)")) }
    }()
    struct FixtureError: Error { let message: String }

    static func activationFile(_ dir: String) throws -> String {
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/runs/d16-s1/activations").filter { $0.hasSuffix(".h5") }.sorted()
        return dir + "/runs/d16-s1/activations/" + (try #require(files.last))
    }

    static func parsesAsJSON(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
    }

    // MARK: flags

    @Test func benchProbeTakesKebabCaseInverseL2WithTheScikitLearnMapping() throws {
        let help = try Self.lens(["bench", "probe", "--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("--inverse-l2"))
        #expect(help.out.contains("1 / (C · n_train)"))
        #expect(!help.out.contains("--C "))
        let old = try Self.lens(["bench", "probe", "--synthetic", "--C", "2"])
        #expect(old.status != 0, "the old upper-case flag is still accepted")
    }

    @Test func everyFlagOfEveryCommandIsLowerCaseKebab() throws {
        let commands = [["tasks"], ["study"], ["train"], ["sweep"], ["eval"], ["dump"], ["inspect"], ["probe"],
                        ["bench", "train"], ["bench", "gemm"], ["bench", "dump"], ["bench", "probe"], ["bench", "patch"]]
        for command in commands {
            let help = try Self.lens(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            let flags = help.out.split(whereSeparator: { " ,|[]<>()\n".contains($0) }).filter { $0.hasPrefix("--") }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".:;`'\"")) }
            #expect(!flags.isEmpty, "\(command): no flags in its help")
            for flag in flags {
                #expect(flag.dropFirst(2).allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(command): \(flag)")
            }
            // The shared options come from one group, so every command lists both.
            #expect(help.out.contains("--threads") && help.out.contains("--json"), "\(command)")
        }
    }

    // MARK: paths

    @Test(arguments: ["directory", "missing"])
    func anUnreadableSpecOrStudyIsOneLineNamingThePath(_ kind: String) throws {
        let temp = try TempDir("cli-bad")
        defer { withExtendedLifetime(temp) {} }   // the directory is removed when `temp` goes
        let scratch = temp.root
        let path = kind == "directory" ? scratch : scratch + "/nothing-here.yaml"
        let expected = kind == "directory" ? "\(path): is a directory, not a file" : "\(path): no such file or directory"
        let calls = [["probe", "--spec", path, "--activations", scratch, "--out", scratch + "/p"],
                     ["sweep", "--study", path, "--out", scratch + "/runs"],
                     ["train", "--study", path, "--out", scratch + "/run"],
                     ["bench", "probe", "--h5", scratch + "/x.h5", "--hook", "h", "--position", "0", "--label", "l", "--split", path]]
        for args in calls {
            let r = try Self.lens(args)
            #expect(r.status != 0, "\(args)")
            #expect(r.errLines.count == 1, "\(args): \(r.err)")
            #expect(r.errLines.first?.hasSuffix(expected) == true, "\(args): \(r.err)")
            #expect(!r.err.contains("NSCocoaErrorDomain"))
        }
    }

    /// An endless input is one error line, not a read until memory runs out (issue 10's fuzz suite: each
    /// of these hung). `timeout` turns a regression into a failure rather than a stuck test run.
    @Test func anEndlessInputIsOneLineNamingThePath() throws {
        let dir = try Self.fixture.get().root
        let runDir = dir + "/runs/d16-s1", h5 = try Self.activationFile(dir)
        let calls = [["eval", "/dev/zero"], ["sweep", "--study", "/dev/zero", "--check"], ["train", "--study", "/dev/zero"],
                     ["probe", "--spec", "/dev/zero", "--activations", h5], ["dump", "--run", runDir, "--for-probes", "/dev/zero"],
                     ["bench", "probe", "--h5", h5, "--hook", "blocks.1.hook_resid_post", "--position", "equals", "--label", "answer_tens",
                      "--split", "/dev/zero"]]
        for args in calls {
            let r = try run("/usr/bin/timeout", ["60", Repo.lens] + args)
            #expect(r.status == 1, "\(args): exit \(r.status)")
            let lines = r.err.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: /dev/zero: "), "\(args): \(r.err)")
        }
    }

    /// An output directory that cannot be made is one line, before any work (issue 10's fuzz suite: raw
    /// NSCocoaErrorDomain lines, and lens probe failed only after fitting, below its progress lines).
    @Test func anUnusableOutputDirectoryIsOneLineBeforeAnyWork() throws {
        let dir = try Self.fixture.get().root
        let h5 = try Self.activationFile(dir), file = dir + "/runs/d16-s1/run.json"
        let calls: [([String], String?)] = [
            (["probe", "--spec", "/dev/stdin", "--activations", h5, "--out", file + "/x"], Self.probeSpec),
            (["dump", "--run", dir + "/runs/d16-s1", "--n", "4", "--out", file + "/x"], nil),
            (["train", "--study", "/dev/stdin", "--out", file + "/x"], Self.tinyStudy),
            (["sweep", "--study", "/dev/stdin", "--out", file], Self.tinyStudy),
        ]
        for (args, stdin) in calls {
            let r = try Self.lens(args + ["--threads", "1"], stdin: stdin)
            #expect(r.status == 1, "\(args)")
            #expect(r.errLines.count == 1 && r.errLines[0].hasPrefix("Error: \(file)") && r.errLines[0].contains(": cannot write: "), "\(args): \(r.err)")
            #expect(!r.err.contains("NSCocoaErrorDomain"))
        }
    }

    /// Found by the fuzz suite (issue 10): one flipped byte in a string attribute's global-heap index made
    /// libhdf5 1.10 itself crash (SIGSEGV in H5HG_read) in lens inspect and lens probe. lens cannot stop
    /// libhdf5 from faulting, but reports it as one error line naming the file.
    @Test func aFileThatCrashesLibhdf5IsOneLineNamingIt() throws {
        let dir = try Self.fixture.get().root
        var bytes = try Data(contentsOf: URL(fileURLWithPath: try Self.activationFile(dir)))
        // A string attribute's value is (length u32, global heap collection address u64, index u32): find
        // the first such record that points into the file's first collection, and push its index past it.
        let gcol = try #require(bytes.firstRange(of: Data("GCOL".utf8))).lowerBound
        let address = withUnsafeBytes(of: UInt64(gcol).littleEndian) { Data($0) }
        func u32(_ at: Int) -> UInt32 { bytes.subdata(in: at..<at + 4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        var from = bytes.startIndex, record: Int?
        while record == nil, let r = bytes[from...].firstRange(of: address) {
            if r.lowerBound >= 4, (1...100_000).contains(u32(r.lowerBound - 4)), (1...1000).contains(u32(r.upperBound)) { record = r.upperBound }
            from = r.lowerBound + 1
        }
        let index = try #require(record, "no string attribute record found")
        bytes[index + 1] ^= 0xAC                                     // index k -> k + 44032, past the collection
        let path = dir + "/damaged-heap.h5"
        try bytes.write(to: URL(fileURLWithPath: path))
        for args in [["inspect", path], ["probe", "--spec", "/dev/stdin", "--activations", path, "--out", dir + "/damaged-out"]] {
            let r = try run("/usr/bin/timeout", ["60", Repo.lens] + args + ["--threads", "1"], input: Data(Self.probeSpec.utf8))
            #expect(r.status == 1, "\(args[0]): exit \(r.status)")
            #expect(r.err.split(separator: "\n").count == 1 && r.err.hasPrefix("Error: \(path): "), "\(args[0]): \(r.err.prefix(300))")
        }
    }

    /// Found by the fuzz suite (issue 10, seed 7): a finite weight of 3.4e38 overflowed the forward pass, and
    /// lens eval printed `log-prob nan` as a result, or with --json failed in the encoder with a raw
    /// EncodingError. It is one error line naming the checkpoint.
    @Test func aCheckpointWhoseOutputsOverflowIsOneLineNamingIt() throws {
        let dir = try Self.fixture.get().root
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/runs/d16-s1/checkpoints/step_000020.safetensors"))
        let n = Int(bytes.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let header = try #require(try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<8 + n)) as? [String: Any])
        let gain = try #require((header["ln_final.w"] as? [String: Any])?["data_offsets"] as? [Int])
        for k in 0..<4 {   // every position's final LayerNorm gain at float32's largest value: logits overflow
            let at = 8 + n + gain[0] + 4 * k
            bytes.replaceSubrange(at..<at + 4, with: withUnsafeBytes(of: Float.greatestFiniteMagnitude.bitPattern.littleEndian) { Data($0) })
        }
        let path = dir + "/overflow.safetensors"
        try bytes.write(to: URL(fileURLWithPath: path))
        for json in [false, true] {
            let r = try Self.lens(["eval", path, "--tasks", "add", "--n", "5", "--threads", "1"] + (json ? ["--json"] : []))
            #expect(r.status == 1, "json \(json): exit \(r.status): \(r.out.prefix(200))")
            #expect(r.errLines.count == 1 && r.errLines[0].hasPrefix("Error: \(path): the model's log-probabilities on add are not finite (")
                    && r.errLines[0].hasSuffix("): its weights overflow float32"), "json \(json): \(r.err)")
        }
    }

    @Test func anUnreadableFileIsOneLineNamingThePath() throws {
        guard getuid() != 0 else { return }   // root reads mode-000 files; nothing to check
        let temp = try TempDir("cli-perm")
        defer { withExtendedLifetime(temp) {} }   // the directory is removed when `temp` goes
        let scratch = temp.root
        let path = scratch + "/locked.yaml"
        _ = FileManager.default.createFile(atPath: path, contents: Data(Self.probeSpec.utf8), attributes: [.posixPermissions: 0])
        let r = try Self.lens(["probe", "--spec", path, "--activations", scratch])
        #expect(r.status != 0)
        #expect(r.errLines == ["Error: \(path): permission denied"], "\(r.err)")
    }

    @Test func specAndSplitAreReadFromStdin() throws {
        let dir = try Self.fixture.get().root
        let h5 = try Self.activationFile(dir)
        let probe = try Self.lens(["probe", "--spec", "/dev/stdin", "--activations", h5, "--out", dir + "/probes", "--json",
                                   "--threads", "1"], stdin: Self.probeSpec)
        #expect(probe.status == 0, "\(probe.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(probe.out.utf8)) as? [String: Any])
        let cells = try #require(report["cells"] as? [[String: Any]])
        let cell = try #require(cells.first { $0["file"] as? String == h5 })
        let train = try #require(cell["trainRows"] as? [Int]), test = try #require(cell["testRows"] as? [Int])
        let split = String(decoding: try JSONSerialization.data(withJSONObject: ["train": train, "test": test]), as: UTF8.self)
        let bench = try Self.lens(["bench", "probe", "--h5", h5, "--hook", "blocks.1.hook_resid_post", "--position", "equals",
                                   "--label", "answer_tens", "--split", "/dev/stdin", "--repeats", "1", "--threads", "1"], stdin: split)
        #expect(bench.status == 0, "\(bench.err)")
        #expect(bench.out.hasPrefix("lens probe accuracy="))
        #expect(bench.out.hasSuffix("\n"))
        #expect(bench.out.contains("n_train=\(train.count) n_test=\(test.count) "))
    }

    @Test func sweepCheckValidatesAStudyWithoutTraining() throws {
        let temp = try TempDir("cli-check")
        defer { withExtendedLifetime(temp) {} }   // the directory is removed when `temp` goes
        let out = temp.root + "/runs"
        let ok = try Self.lens(["sweep", "--study", "/dev/stdin", "--out", out, "--check", "--json"], stdin: Self.tinyStudy)
        #expect(ok.status == 0, "\(ok.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(ok.out.utf8)) as? [String: Any])
        #expect(report["runs"] as? [String] == ["d16-s1"])
        #expect(!FileManager.default.fileExists(atPath: out), "--check wrote the output directory")
        let bad = try Self.lens(["sweep", "--study", "/dev/stdin", "--out", out, "--check"], stdin: Self.tinyStudy + "steps: 0\n")
        #expect(bad.status != 0)
        #expect(bad.errLines.count == 1 && bad.errLines[0].hasPrefix("Error: /dev/stdin: duplicate key \"steps\""), "\(bad.err)")
    }

    /// Found by the fuzz suite (issue 10): a task name no example has (a typo) was dropped silently.
    @Test func aProbeTaskThatNoExampleHasIsOneLineNamingTheFile() throws {
        let dir = try Self.fixture.get().root
        let h5 = try Self.activationFile(dir)
        let spec = Self.probeSpec + "\ntasks: [multistep_pad, multstep]\n"
        let r = try Self.lens(["probe", "--spec", "/dev/stdin", "--activations", h5, "--out", dir + "/probes-typo", "--threads", "1"], stdin: spec)
        #expect(r.status == 1)
        #expect(r.errLines.filter { !$0.hasPrefix("probe ") }
                == ["Error: \(dir)/runs/d16-s1/activations/step_000000.h5: probe tens: tasks: no example of task \"multstep\" in this file (it holds multistep_pad)"],
                "\(r.err)")
    }

    // MARK: output

    @Test func everyJSONOutputParses() throws {
        let dir = try Self.fixture.get().root
        let h5 = try Self.activationFile(dir), run = dir + "/runs/d16-s1"
        let calls: [[String]] = [
            ["tasks", "--json"], ["tasks", "--labels", "--json"],
            ["train", "--study", "/dev/stdin", "--out", run, "--json", "--threads", "1"],
            ["sweep", "--study", "/dev/stdin", "--out", dir + "/runs", "--json", "--threads", "1"],
            ["eval", run, "--n", "5", "--json", "--threads", "1"],
            ["dump", "--run", run, "--n", "40", "--json", "--threads", "1"],
            ["inspect", h5, "--json"],
            ["probe", "--spec", "/dev/stdin", "--activations", h5, "--out", dir + "/probes", "--json", "--threads", "1"],
            ["bench", "gemm", "--n", "32", "--repeats", "1", "--json", "--threads", "1"],
            ["bench", "train", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--ctx", "8", "--batch", "2", "--steps", "1",
             "--warmup", "0", "--json", "--threads", "1"],
            ["bench", "dump", "--n", "16", "--t", "4", "--d", "8", "--chunk", "8", "--datasets", "1", "--out", dir + "/bench.h5", "--json"],
            ["bench", "patch", "--kind", "head_out_by_pos", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--ctx", "8",
             "--batch", "2", "--json", "--threads", "1"],
        ]
        for args in calls {
            let stdin = args.contains("/dev/stdin") ? (args[0] == "probe" ? Self.probeSpec : Self.tinyStudy) : nil
            let r = try Self.lens(args, stdin: stdin)
            #expect(r.status == 0, "\(args): \(r.err)")
            #expect(Self.parsesAsJSON(r.out), "\(args): not one JSON document: \(r.out.prefix(300))")
        }
    }

    @Test func benchmarkLinesAreKeyValueAndEndWithANewline() throws {
        let temp = try TempDir("cli-bench")
        defer { withExtendedLifetime(temp) {} }   // the directory is removed when `temp` goes
        let dir = temp.root
        let calls: [(String, [String])] = [
            ("gemm", ["bench", "gemm", "--n", "32", "--repeats", "1", "--threads", "1"]),
            ("dump", ["bench", "dump", "--n", "16", "--t", "4", "--d", "8", "--chunk", "8", "--datasets", "1", "--out", dir + "/b.h5"]),
            ("train", ["bench", "train", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--ctx", "8", "--batch", "2",
                       "--steps", "1", "--warmup", "0", "--threads", "1"]),
            ("patch", ["bench", "patch", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--ctx", "8", "--batch", "2", "--threads", "1"]),
            ("patch-compare", ["bench", "patch", "--method", "compare", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--ctx", "8",
                               "--batch", "2", "--threads", "1"]),
        ]
        for (what, args) in calls {
            let r = try Self.lens(args)
            #expect(r.status == 0, "\(args): \(r.err)")
            #expect(r.out.hasSuffix("\n"), "\(what): \(r.out)")
            let fields = r.out.trimmingCharacters(in: .newlines).split(separator: " ")
            #expect(fields.prefix(2) == ["lens", Substring(what)], "\(r.out)")
            #expect(fields.count > 2 && fields.dropFirst(2).allSatisfy { $0.split(separator: "=").count == 2 }, "\(r.out)")
        }
    }

    // MARK: progress

    /// That `lens dump` sends its progress through the log policy when stderr is not a terminal: not a
    /// line per batch, no terminal escapes, a closing N/N line. The dump ends in well under the 5 s that
    /// must pass between lines, so only its first and last lines print here; the per-tenth and quiet-time
    /// rules themselves are checked with a fake clock in RunsTests' ProgressReporterTests.
    @Test func progressInALogIsNotALinePerBatch() throws {
        let dir = try Self.fixture.get().root
        let out = dir + "/sparse"
        // One example per batch: over a hundred batches, each of which used to print its own line.
        let r = try Self.lens(["dump", "--run", dir + "/runs/d16-s1", "--n", "60", "--batch", "1", "--out", out, "--threads", "1"])
        #expect(r.status == 0, "\(r.err)")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".h5") }.count
        #expect(checkpoints * 60 >= 100, "too few batches for the bound to mean anything")
        let progress = r.errLines.filter { $0.hasPrefix("dump ") }
        #expect(progress.count >= 1, "no progress at all: \(r.err)")
        // The bound of the log policy (first line, one per tenth, last line), far below one per batch.
        #expect(progress.count <= 12, "\(progress.count) progress lines:\n\(r.err)")
        #expect(progress.last?.contains("\(checkpoints * 60)/\(checkpoints * 60)") == true, "\(r.err)")
        #expect(!r.err.contains("\u{1B}["), "terminal escapes in a log")
    }
}
