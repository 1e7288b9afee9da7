import Foundation
import Testing
import Skills
@testable import Runs

private let tinyStudy = """
name: tiny
tasks: {add: 1, sub: 1}
eval_tasks: [add, sub]
problem: {max_operand: 9, max_step: 5}
models:
  - {name: d16, n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 32}
seeds: [3]
steps: 60
batch: 16
warmup: 5
checkpoints: {dense_until: 20, dense_count: 3, every: 20}
eval: {n: 30}
"""

private let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

private func lens(_ args: [String], killWhen: ((String) -> Bool)? = nil, dir: String) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["LENS_BIN_DIR"].map { $0 + "/lens" } ?? repo + "/.build/debug/lens")
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    p.standardError = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    if let killWhen {
        while p.isRunning {
            if killWhen(dir) { kill(p.processIdentifier, SIGKILL); break }
            usleep(2000)
        }
    }
    p.waitUntilExit()
    return p.terminationStatus
}

private func files(_ dir: String) -> [String: Data] {
    var out: [String: Data] = [:]
    let e = FileManager.default.enumerator(atPath: dir)!
    while let f = e.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue {
            out[f] = FileManager.default.contents(atPath: dir + "/" + f)
        }
    }
    return out
}

@Suite(.serialized) struct TrainingRunTests {
    @Test func tinyStudyTrainsEndToEndAndItsMetricsParse() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let study = try StudySpec.parse(tinyStudy, file: "tiny.yaml")
        let runs = try Sweep(study: study, outDir: dir, jobs: 1).run()
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
    @Test func resumeAfterKillGivesIdenticalFiles() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kill-\(UUID())").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try tinyStudy.write(toFile: base + "/tiny.yaml", atomically: true, encoding: .utf8)
        let args = ["sweep", "--study", base + "/tiny.yaml", "--threads", "1", "--jobs", "1", "--out"]
        #expect(try lens(args + [base + "/straight"], dir: base) == 0)
        // Kill as soon as the step-20 checkpoint exists (the run is then past its first checkpoints).
        let status = try lens(args + [base + "/killed"], killWhen: { _ in
            FileManager.default.fileExists(atPath: base + "/killed/d16-s3/checkpoints/step_000020.safetensors")
        }, dir: base)
        #expect(status != 0, "the run should have been killed")
        #expect(!FileManager.default.fileExists(atPath: base + "/killed/d16-s3/checkpoints/step_000060.safetensors"))
        #expect(try lens(args + [base + "/killed"], dir: base) == 0)
        let a = files(base + "/straight/d16-s3"), b = files(base + "/killed/d16-s3")
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs after resume") }
    }

    /// A sweep resumed with fewer runs pending than --jobs keeps each run's thread (shard) count, so its
    /// floating-point sums and files are the same as an uninterrupted sweep's.
    @Test func resumeWithFewerPendingRunsGivesIdenticalFiles() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pending-\(UUID())").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try tinyStudy.replacingOccurrences(of: "seeds: [3]", with: "seeds: [3, 4]").write(toFile: base + "/two.yaml", atomically: true, encoding: .utf8)
        let args = ["sweep", "--study", base + "/two.yaml", "--threads", "2", "--jobs", "2", "--out"]
        #expect(try lens(args + [base + "/a"], dir: base) == 0)
        // "Kill" run d16-s4 after its step-20 checkpoint: drop what came later.
        try FileManager.default.copyItem(atPath: base + "/a", toPath: base + "/b")
        let run = base + "/b/d16-s4"
        for f in try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints") where f > "step_000020.state.safetensors" {
            try FileManager.default.removeItem(atPath: run + "/checkpoints/" + f)
        }
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        try (lines.filter { !$0.contains("\"step\":40") && !$0.contains("\"step\":60") }.joined(separator: "\n") + "\n")
            .write(toFile: run + "/metrics.jsonl", atomically: true, encoding: .utf8)
        #expect(try lens(args + [base + "/b"], dir: base) == 0)
        let a = files(base + "/a/d16-s4"), b = files(run)
        #expect(Set(a.keys) == Set(b.keys))
        for (name, data) in a { #expect(b[name] == data, "\(name) differs after resuming with one run pending") }
    }
}
