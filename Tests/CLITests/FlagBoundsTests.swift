import Foundation
import Testing
import TestSupport

/// Sizes and counts on the command line are bounded (issue 10: `--n 1e12` and `--threads 1000000` hung,
/// `--errors -1` and `--batch -5` crashed, `--threads 0` and `--jobs -2` were silently clamped): each is
/// one error line naming the flag and its bound, exit code 64, before any work starts.
@Suite struct FlagBoundsTests {
    static let cases: [(args: [String], flag: String)] = [
        (["dump", "--run", "/nonexistent", "--n", "0"], "--n must be between 1 and 100000, got 0"),
        (["dump", "--run", "/nonexistent", "--n", "1000000000000"], "--n must be between 1 and 100000"),
        (["dump", "--run", "/nonexistent", "--batch=-5"], "--batch must be between 1 and 4096"),
        (["eval", "/nonexistent", "--errors=-1"], "--errors must be between 0 and 100000, got -1"),
        (["eval", "/nonexistent", "--n", "1000000000"], "--n must be between 1 and 100000"),
        (["sweep", "--jobs=-2"], "--jobs must be between 1 and 1024, got -2"),
        (["sweep", "--threads", "1000000"], "--threads must be between 1 and 1024, got 1000000"),
        (["tasks", "--threads", "0"], "--threads must be between 1 and 1024, got 0"),
        (["tasks", "--n=-3"], "--n must be between 1 and 10000"),
        // Empty paths (found by the fuzz suite): `train --out ""` trained into the working directory.
        (["train", "--out", ""], "--out must not be an empty path"),
        (["dump", "--run", "/nonexistent", "--out", ""], "--out must not be an empty path"),
        (["eval", ""], "the checkpoint or run directory must not be an empty path"),
        (["probe", "--spec", "", "--activations", "/nonexistent"], "--spec must not be an empty path"),
        (["sweep", "--study", "", "--check"], "--study must not be an empty path"),
        // Found by the fuzz suite: an empty --steps dumped nothing and exited 0.
        (["dump", "--run", "/nonexistent", "--steps", ""], "--steps: \"\" is not a step"),
        (["dump", "--run", "/nonexistent", "--steps", "0,,20"], "--steps: \"\" is not a step"),
        (["dump", "--run", "/nonexistent", "--steps=-1"], "--steps: \"-1\" is not a step"),
        // Found by the fuzz suite: the task bounds named TaskConfig's fields (maxOperand), not the flags.
        (["tasks", "--max-step", "0"], "--max-step must be between 1 and 99"),
        (["tasks", "--max-operand", "1000000000"], "--max-operand must be between 0 and 99"),
        // Found by the fuzz suite: bench train checked nothing (-1 steps trapped, 1e9 steps aborted on allocation).
        (["bench", "train", "--steps=-1"], "--steps must be between 1 and 100000, got -1"),
        (["bench", "train", "--warmup", "1000000000"], "--warmup must be between 0 and 100000"),
        (["bench", "train", "--d-mlp", "0"], "--d-mlp must be between 1 and 1048576, got 0"),
        (["bench", "train", "--batch", "60000", "--ctx", "60000"], "--batch 60000 x --ctx 60000 need more than"),
        (["bench", "train", "--d-model", "4096", "--vocab", "1000000"], "--d-model, --layers, --d-mlp, --ctx, --vocab: invalid model config: model has"),
        // Found by the fuzz suite: bench gemm printed a rate of 0 for --n 0, trapped on --repeats -1,
        // aborted on --n 1e9 and ran for ever with --repeats 1e9.
        (["bench", "gemm", "--n", "0"], "--n must be between 1 and"),
        (["bench", "gemm", "--n", "1000000000"], "(three n x n matrices in half of this machine's"),
        (["bench", "gemm", "--repeats=-1"], "--repeats must be between 1 and 10000, got -1"),
        // Found by the fuzz suite: bench dump trapped on any size of 0 or -1 and ran for ever or aborted on 1e9.
        (["bench", "dump", "--chunk", "0"], "--chunk must be between 1 and 2147483647, got 0"),
        (["bench", "dump", "--datasets=-1"], "--datasets must be between 1 and 2147483647, got -1"),
        (["bench", "dump", "--n", "1000000000"], "--n x --t x --d x --datasets floats need more than the"),
        (["bench", "dump", "--chunk", "1000000000", "--d", "1000000"], "--chunk x --t x --d floats per batch are more than"),
        // Found by the fuzz suite: bench probe ran for ever with --repeats 1e9 and gave a result for
        // --inverse-l2 inf and --tol nan, -1 or inf.
        (["bench", "probe", "--synthetic", "--repeats", "1000000000"], "--repeats must be between 1 and 1000"),
        (["bench", "probe", "--synthetic", "--inverse-l2", "inf"], "--inverse-l2 must be a positive number, got inf"),
        (["bench", "probe", "--synthetic", "--tol", "nan"], "--tol must be a finite number >= 0, got nan"),
        (["bench", "probe", "--synthetic", "--tol=-1"], "--tol must be a finite number >= 0, got -1.0"),
    ]

    @Test(arguments: 0..<cases.count)
    func anOutOfRangeFlagIsOneLine(index: Int) throws {
        let (args, words) = Self.cases[index]
        let r = try runLens(args)
        #expect(r.status == 64, "\(args): exit \(r.status)")
        let lines = r.err.split(separator: "\n")
        #expect(lines.count == 1, "\(args): \(r.err)")
        #expect(lines.first.map { $0.hasPrefix("Error: ") && $0.contains(words) } == true, "\(args): \(r.err)")
        #expect(r.out.isEmpty)
    }

    /// bench dump renames its file onto --out and then deletes it: as root, `--out /dev/null` would have
    /// replaced the device and removed it. A link to it stands in for it here.
    @Test func benchDumpRefusesAnOutThatIsNotARegularFile() throws {
        let dir = try TempDir("bench-dump-out")
        let link = dir.path("null")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/null")
        let r = try runLens(["bench", "dump", "--n", "16", "--t", "4", "--d", "8", "--chunk", "8", "--datasets", "1", "--out", link])
        #expect(r.status == 64)
        #expect(r.err == "Error: --out \(link) exists and is not a regular file (the benchmark deletes its file afterwards)\n")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == "/dev/null", "the link was replaced")
    }

    @Test func helpIsStillTheWholeHelp() throws {
        let r = try runLens(["dump", "--help"])
        #expect(r.status == 0)
        #expect(r.out.contains("USAGE:") && r.out.contains("--for-probes"))
    }
}
