import Foundation
import Testing
import Skills
import TestSupport
@testable import Runs

private let tinyStudy = StudyFixtures.trainable()

/// Runs `lens` in `dir`: its exit status, 128 + the signal number if a signal ended it.
private func lens(_ args: [String], dir: String, environment: [String: String]? = nil) throws -> Int32 {
    try runLens(args, directory: dir, environment: environment).status
}

@Suite(.serialized) struct TrainingRunTests {
    @Test func tinyStudyTrainsEndToEndAndItsMetricsParse() throws {
        let dir = try TempDir("tiny")
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let study = try StudySpec.parse(tinyStudy, file: "tiny.yaml")
        let runs = try Sweep(study: study, outDir: dir.root, jobs: 1).run()
        #expect(runs.count == 1)
        let run = runs[0]
        #expect(TrainingRun.completedSteps(run.dir) == run.spec.checkpointSteps)
        let text = try String(contentsOfFile: run.dir + "/metrics.jsonl", encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == run.spec.checkpointSteps.count)
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let tasks = obj["tasks"] as! [String: Any]
            #expect(Set(tasks.keys) == ["add", "sub"])
            let add = (tasks["add"] as! [String: Any])["overall"] as! [String: Any]
            for key in ["exactMatch", "tokenAccuracy", "meanAnswerLogProb", "meanEditDistance", "chanceExactMatch", "n"] {
                #expect(add[key] != nil, "metrics lack \(key)")
            }
        }
        let metrics = run.readMetrics()
        #expect(metrics.first!.step == 0 && metrics.first!.trainLoss == nil)
        #expect(metrics.last!.trainLoss! < 3.7, "loss should fall below log(39) = 3.66")
        #expect(run.isComplete)
    }

    /// kill -9 in the middle of a run, start again: the finished files equal an uninterrupted run's.
    /// The run kills itself (SIGKILL, as `kill -9`) right after its step-20 checkpoint, when told to by
    /// LENS_TEST_KILL_AFTER_CHECKPOINT, so where it stops never depends on timing.
    @Test func resumeAfterKillGivesIdenticalFiles() throws {
        let base = try TempDir("kill")
        try tinyStudy.write(toFile: base.path("tiny.yaml"), atomically: true, encoding: .utf8)
        let args = ["sweep", "--study", base.path("tiny.yaml"), "--threads", "1", "--jobs", "1", "--out"]
        #expect(try lens(args + [base.path("straight")], dir: base.root) == 0)
        var env = ProcessInfo.processInfo.environment
        env["LENS_TEST_KILL_AFTER_CHECKPOINT"] = "20"
        let killed = try lens(args + [base.path("killed")], dir: base.root, environment: env)
        #expect(killed == 128 + SIGKILL, "the run should have killed itself after step 20 (status \(killed))")
        let run = base.path("killed/d16-s3")
        #expect(TrainingRun.completedSteps(run).last == 20, "\(TrainingRun.completedSteps(run))")
        #expect(!FileManager.default.fileExists(atPath: TrainingRun.checkpointPath(run, step: 40)))
        #expect(try lens(args + [base.path("killed")], dir: base.root) == 0)
        let a = filesBelow(base.path("straight/d16-s3")), b = filesBelow(run)
        #expect(["items/step_000020.h5", "items/step_000040.h5", "items/step_000060.h5"].allSatisfy { a[$0] != nil },
                "the items files, before and after the kill, are among the files compared: \(a.keys.sorted())")
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs after resume") }
    }

    /// A sweep resumed with fewer runs pending than --jobs keeps each run's thread (shard) count, so its
    /// floating-point sums and files are the same as an uninterrupted sweep's.
    @Test func resumeWithFewerPendingRunsGivesIdenticalFiles() throws {
        let base = try TempDir("pending")
        try StudyFixtures.trainable(seeds: [3, 4]).write(toFile: base.path("two.yaml"), atomically: true, encoding: .utf8)
        let args = ["sweep", "--study", base.path("two.yaml"), "--threads", "2", "--jobs", "2", "--out"]
        #expect(try lens(args + [base.path("a")], dir: base.root) == 0)
        // "Kill" run d16-s4 after its step-20 checkpoint: drop what came later.
        try FileManager.default.copyItem(atPath: base.path("a"), toPath: base.path("b"))
        let run = base.path("b/d16-s4")
        for f in try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints") where f > "step_000020.state.safetensors" {
            try FileManager.default.removeItem(atPath: run + "/checkpoints/" + f)
        }
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        try (lines.filter { !$0.contains("\"step\":40") && !$0.contains("\"step\":60") }.joined(separator: "\n") + "\n")
            .write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        #expect(try lens(args + [base.path("b")], dir: base.root) == 0)
        let a = filesBelow(base.path("a/d16-s4")), b = filesBelow(run)
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs after resuming with one run pending") }
    }
}
