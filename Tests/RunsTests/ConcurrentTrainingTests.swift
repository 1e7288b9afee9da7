import Foundation
import Testing
import Tensors
import TestSupport
@testable import Runs

/// Two trainers on one run directory, and the leftovers of killed writers (issue 10, point 5).
@Suite struct ConcurrentTrainingTests {
    @Test func aSecondTrainerOnOneRunDirectoryStopsBeforeTouchingIt() throws {
        let dir = try TempDir("train-lock")
        try withExtendedLifetime(dir) {
            let spec = try StudySpec.parse(StudyFixtures.trainable(name: "lock", steps: 20), file: "lock.yaml")
            let runSpec = try #require(try spec.runs().first)
            let runDir = dir.path(runSpec.name)
            try FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
            // The first trainer, as another process would hold it (flock locks conflict across descriptors).
            let first = try FileLock(TrainingRun.lockPath(runDir))
            do { try TrainingRun(spec: runSpec, dir: runDir).run(); Issue.record("a second trainer ran") } catch {
                #expect("\(error)".contains("another lens train or sweep is training this run"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: runDir + "/run.json"), "the second trainer wrote run.json")
            first.unlock()
            try TrainingRun(spec: runSpec, dir: runDir).run()
            #expect(TrainingRun(spec: runSpec, dir: runDir).isComplete)
        }
    }

    @Test func aKilledWritersStudyJsonTemporaryIsRemovedALiveOnesIsNot() throws {
        let dir = try TempDir("study-partial")
        try withExtendedLifetime(dir) {
            let study = dir.path("study.json")
            let dead = study + ".partial-2147483646", live = study + ".partial-1"   // pid 1 is always alive
            for f in [dead, live] { try Data("{".utf8).write(to: URL(fileURLWithPath: f)) }
            let spec = try StudySpec.parse(StudyFixtures.trainable(name: "p", steps: 20), file: "p.yaml")
            _ = try Sweep(study: spec, outDir: dir.root, jobs: 1).run()
            #expect(!FileManager.default.fileExists(atPath: dead))
            #expect(FileManager.default.fileExists(atPath: live))
            #expect(FileManager.default.fileExists(atPath: study))
        }
    }
}
