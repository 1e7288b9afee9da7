import Foundation
import Testing
import TestSupport
@testable import Runs
import Transformer

/// A run whose loss stops being finite (issue 10, point 5: `lr: 1e308` left a NaN checkpoint without a
/// metrics line and failed in the JSON encoder on every rerun).
@Suite struct DivergenceTests {
    @Test func aDivergingRunStopsWithTheStepAndKeepsAFiniteResumePoint() throws {
        let dir = try TempDir("diverge")
        try withExtendedLifetime(dir) {
            let study = StudyFixtures.trainable(name: "div", steps: 40) + "lr: 1e308\n"
            let spec = try StudySpec.parse(study, file: "div.yaml")
            let sweep = Sweep(study: spec, outDir: dir.root, jobs: 1)
            for attempt in 1...2 {   // a rerun resumes from the kept checkpoint and stops the same way
                do { _ = try sweep.run(); Issue.record("attempt \(attempt): a run with lr 1e308 finished") } catch {
                    #expect("\(error)".contains("training diverged at step"), "attempt \(attempt): \(error)")
                }
            }
            let runDir = dir.root + "/d16-s3"
            let runSpec = try JSONDecoder().decode(RunSpec.self, from: Data(contentsOf: URL(fileURLWithPath: runDir + "/run.json")))
            let run = TrainingRun(spec: runSpec, dir: runDir)
            let metrics = run.readMetrics()
            #expect(!metrics.isEmpty)
            for step in TrainingRun.completedSteps(runDir) {
                let model = try Checkpoint.load(TrainingRun.checkpointPath(runDir, step: step)).model
                let finite = model.params.data.allSatisfy { $0.isFinite }
                #expect(finite, "checkpoint \(step) holds non-finite weights")
                #expect(metrics.contains { $0.step == step }, "checkpoint \(step) has no metrics line")
            }
        }
    }
}
