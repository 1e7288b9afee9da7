import Foundation
import Testing
import TestSupport

/// `lens study`: the shipped specs are the repository's Probes/ files byte for byte, and the pipeline runs
/// every stage on a tiny study, then resumes: a second run keeps every result, an edited spec reruns alone.
@Suite(.serialized) struct StudyCommandTests {
    @Test func theEmbeddedSpecsAreTheFilesInProbes() throws {
        let temp = try TempDir("study-specs")
        let r = try CLIConventionTests.lens(["study", "--specs-only", "--out", temp.root])
        #expect(r.status == 0, "\(r.err)")
        for sub in ["", "patching"] {
            let source = Repo.root + "/Probes/" + sub, written = temp.root + "/specs/" + (sub.isEmpty ? "probes" : sub)
            let names = try FileManager.default.contentsOfDirectory(atPath: source).filter { $0.hasSuffix(".yaml") }.sorted()
            #expect(try FileManager.default.contentsOfDirectory(atPath: written).sorted() == names,
                    "Probes/\(sub) and the binary's specs differ: run `make specs`")
            for name in names {
                #expect(FileManager.default.contentsEqual(atPath: source + "/" + name, andPath: written + "/" + name),
                        "\(name) differs from the embedded copy: run `make specs`")
            }
        }
    }

    /// `lens study --study cot --out cot` creates `cot/` first; a directory of a shipped study's name is
    /// not a study file, so the name still selects the shipped study.
    @Test func aDirectoryNamedLikeAShippedStudyDoesNotShadowIt() throws {
        let temp = try TempDir("study-name")
        try FileManager.default.createDirectory(atPath: temp.root + "/cot", withIntermediateDirectories: true)
        let r = try run(Repo.lens, ["sweep", "--study", "cot", "--check", "--json"], directory: temp.root)
        #expect(r.status == 0, "\(r.err)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(doc["study"] as? String == "cot")
    }

    static let probe = """
        name: tens
        question: Is the answer's tens digit linearly present?
        target: answer_tens
        kind: multiclass
        hooks: [blocks.0.hook_resid_post]
        positions: [equals]
        tasks: [add, sub]
        l2: 0.01
        control: false
        """
    static let patch = """
        name: sub-small
        question: Which components carry a subtraction's operands?
        task: sub
        corruption: operand
        pairs: 12
        min_pairs: 2
        kinds: [resid_pre, head_out_all_pos]
        directions: [denoising]
        """

    @Test func everyStageRunsAndASecondRunKeepsTheResults() throws {
        let temp = try TempDir("study-run")
        let dir = temp.root
        try FileManager.default.createDirectory(atPath: dir + "/specs/probes", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/specs/patching", withIntermediateDirectories: true)
        try Self.probe.write(toFile: dir + "/specs/probes/tens.yaml", atomically: true, encoding: .utf8)
        try Self.patch.write(toFile: dir + "/specs/patching/sub-small.yaml", atomically: true, encoding: .utf8)
        let study = StudyFixtures.trainable(tasks: ["add", "sub"], steps: 20, checkpoints: "{dense_until: 20, dense_count: 1, every: 0}",
                                            evalItems: 10)
        try study.write(toFile: dir + "/study.yaml", atomically: true, encoding: .utf8)
        let args = ["study", "--study", dir + "/study.yaml", "--out", dir + "/out", "--specs", dir + "/specs", "--threads", "1", "--json"]
        let first = try CLIConventionTests.lens(args)
        #expect(first.status == 0, "\(first.err)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(first.out.utf8)) as? [String: Any])
        #expect(summary["exact_steps"] as? String == "last", "a study without step 1000 patches exactly at its last step")
        #expect(summary["steps"] as? String == "0,20", "the half-decade sample of checkpoints 0 and 20 is both")
        let results = [dir + "/out/d16-s3/metrics.jsonl", dir + "/out/probes/tens.json", dir + "/out/patching/sub-small/sub-small.json"]
        #expect(summary["report"] as? String == dir + "/out/REPORT.md")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/REPORT.md") && FileManager.default.fileExists(atPath: dir + "/out/REPORT.json"))
        for f in results { #expect(FileManager.default.fileExists(atPath: f), "\(f)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/out/d16-s3/activations").contains { $0.hasSuffix(".h5") })
        func modified(_ f: String) throws -> Date { try FileManager.default.attributesOfItem(atPath: f)[.modificationDate] as! Date }
        let before = try results.map(modified)
        let contents = try results.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        // Everything done: the second run keeps every result file as it was.
        let second = try CLIConventionTests.lens(args)
        #expect(second.status == 0, "\(second.err)")
        #expect(try results.map(modified) == before, "a finished study is not redone")
        #expect(try results.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == contents)

        // An edited spec reruns that stage alone, with the same numbers.
        try (Self.patch + "\nseed: 0\n").write(toFile: dir + "/specs/patching/sub-small.yaml", atomically: true, encoding: .utf8)
        let third = try CLIConventionTests.lens(args)
        #expect(third.status == 0, "\(third.err)")
        #expect(try modified(results[1]) == before[1] && modified(results[2]) != before[2])
        #expect(try Data(contentsOf: URL(fileURLWithPath: results[2])).count > 0)

        // A deleted result reruns its stage (its marker alone does not count as done), with the same bytes.
        let probeBytes = try Data(contentsOf: URL(fileURLWithPath: results[1]))
        try FileManager.default.removeItem(atPath: dir + "/out/probes")
        let fourth = try CLIConventionTests.lens(args)
        #expect(fourth.status == 0, "\(fourth.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: results[1])) == probeBytes)
    }

    /// A probe whose tasks the study evaluates only in part runs on that part, from a narrowed copy of
    /// its spec (the cot study evaluates `multistep`, not `multistep_pad`); a spec with none is skipped.
    @Test func aProbeIsNarrowedToTheTasksTheStudyEvaluates() throws {
        let temp = try TempDir("study-narrow")
        let dir = temp.root
        try FileManager.default.createDirectory(atPath: dir + "/specs/probes", withIntermediateDirectories: true)
        let both = Self.probe.replacingOccurrences(of: "name: tens", with: "name: both")
            .replacingOccurrences(of: "tasks: [add, sub]", with: "tasks: [sub, add]")
        let none = Self.probe.replacingOccurrences(of: "name: tens", with: "name: none")
            .replacingOccurrences(of: "tasks: [add, sub]", with: "tasks: [sub]")
        // `step1_equals` is a scratchpad position: `add` has no such position, so it goes, and a probe
        // left with no position is skipped.
        let scratch = both.replacingOccurrences(of: "positions: [equals]", with: "positions: [equals, step1_equals]")
            .replacingOccurrences(of: "tasks: [sub, add]", with: "tasks: [multistep_pad, add]")
        let onlyScratch = scratch.replacingOccurrences(of: "name: both", with: "name: pad")
            .replacingOccurrences(of: "positions: [equals, step1_equals]", with: "positions: [step1_equals]")
        try scratch.write(toFile: dir + "/specs/probes/both.yaml", atomically: true, encoding: .utf8)
        try onlyScratch.write(toFile: dir + "/specs/probes/pad.yaml", atomically: true, encoding: .utf8)
        try none.write(toFile: dir + "/specs/probes/none.yaml", atomically: true, encoding: .utf8)
        let study = StudyFixtures.trainable(tasks: ["add"], steps: 20, checkpoints: "{dense_until: 20, dense_count: 1, every: 0}", evalItems: 10)
        try study.write(toFile: dir + "/study.yaml", atomically: true, encoding: .utf8)
        let r = try CLIConventionTests.lens(["study", "--study", dir + "/study.yaml", "--out", dir + "/out", "--specs", dir + "/specs",
                                             "--threads", "1", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(summary["skipped_specs"] as? [String] == [dir + "/specs/probes/none.yaml", dir + "/specs/probes/pad.yaml"])
        #expect(summary["specs"] as? [String] == [dir + "/out/specs/narrowed/both.yaml"])
        let narrowed = try String(contentsOfFile: dir + "/out/specs/narrowed/both.yaml", encoding: .utf8)
        #expect(narrowed.contains("\ntasks: [add]\n") && narrowed.hasPrefix("# \(dir)/specs/probes/both.yaml with its tasks narrowed"))
        #expect(narrowed.contains("\npositions: [equals]\n"), "\(narrowed)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/probes/both.json"))) as? [String: Any])
        #expect((result["spec"] as? [String: Any])?["tasks"] as? [String] == ["add"])
    }

    /// A stage's child that fails stops the study with a non-zero exit, its own error line, and a line
    /// naming the command; the stages before it keep their results.
    @Test func aFailingChildIsNamedAndStopsTheStudy() throws {
        let temp = try TempDir("study-fail")
        let dir = temp.root
        try FileManager.default.createDirectory(atPath: dir + "/specs/probes", withIntermediateDirectories: true)
        let bad = Self.probe.replacingOccurrences(of: "hooks: [blocks.0.hook_resid_post]", with: "hooks: [blocks.7.hook_resid_post]")
        try bad.write(toFile: dir + "/specs/probes/tens.yaml", atomically: true, encoding: .utf8)
        let study = StudyFixtures.trainable(tasks: ["add", "sub"], steps: 20, checkpoints: "{dense_until: 20, dense_count: 1, every: 0}", evalItems: 10)
        try study.write(toFile: dir + "/study.yaml", atomically: true, encoding: .utf8)
        let r = try CLIConventionTests.lens(["study", "--study", dir + "/study.yaml", "--out", dir + "/out", "--specs", dir + "/specs", "--threads", "1"])
        #expect(r.status != 0 && r.status < 128, "\(r.err)")
        #expect(r.err.contains("lens study: failed: lens probe --spec \(dir)/specs/probes/tens.yaml"), "\(r.err)")
        #expect(r.err.contains("blocks.7.hook_resid_post"), "the child's own error names the hook: \(r.err)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/d16-s3/metrics.jsonl"), "training is kept")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/REPORT.md"), "no report after a failed stage")
    }

    @Test func aMissingStudyOrSpecDirectoryIsOneLine() throws {
        let temp = try TempDir("study-bad")
        for args in [["study", "--study", temp.root + "/nope.yaml", "--out", temp.root + "/o"],
                     ["study", "--specs", temp.root, "--out", temp.root + "/o"]] {
            let r = try CLIConventionTests.lens(args)
            #expect(r.status != 0 && r.status < 128)
            #expect(r.errLines.count == 1 && r.err.contains(temp.root), "\(r.err)")
        }
    }
}
