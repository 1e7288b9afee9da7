import Foundation
import Testing
import TestSupport
@testable import Runs

/// kill -9 at each training writer's rename (issue 10): the process dies with its finished temporary
/// file not yet renamed; a rerun must resume and end with exactly the files of an uninterrupted run.
@Suite(.serialized) struct KillAtRenameTests {
    static let study = StudyFixtures.trainable(name: "rename", steps: 40, checkpoints: "{dense_until: 20, dense_count: 1, every: 20}")

    @Test(arguments: ["step_000020.safetensors", "step_000020.state.safetensors", "step_000020.h5", "metrics.jsonl", "run.json", "study.json"])
    func killedJustBeforeARenameResumesToIdenticalFiles(file: String) throws {
        let base = try TempDir("kill-rename")
        try withExtendedLifetime(base) {
            try Self.study.write(toFile: base.path("s.yaml"), atomically: true, encoding: .utf8)
            let args = ["sweep", "--study", base.path("s.yaml"), "--threads", "1", "--jobs", "1", "--out"]
            #expect(try runLens(args + [base.path("straight")]).status == 0)
            var env = ProcessInfo.processInfo.environment
            env["LENS_TEST_KILL_BEFORE_RENAME"] = file
            let killed = try runLens(args + [base.path("killed")], environment: env)
            #expect(killed.status == 128 + SIGKILL, "\(file): status \(killed.status), \(killed.err)")
            let again = try runLens(args + [base.path("killed")])
            #expect(again.status == 0, "\(again.err)")
            let a = filesBelow(base.path("straight")), b = filesBelow(base.path("killed"))
            #expect(Set(a.keys) == Set(b.keys), "\(file): \(Set(b.keys).symmetricDifference(a.keys))")
            for (name, data) in a { #expect(b[name] == data, "\(file): \(name) differs after resume") }
        }
    }
}
