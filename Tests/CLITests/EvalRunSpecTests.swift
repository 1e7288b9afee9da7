import Foundation
import Testing
import TestSupport

/// lens eval reads the tasks, ranges and split from the run.json beside the checkpoints; a damaged one was
/// silently replaced by the defaults (another item set, no word), found by the fuzz work of issue 10.
@Suite struct EvalRunSpecTests {
    @Test func aDamagedRunJSONIsOneLineNamingIt() throws {
        let fixture = try CLIConventionTests.fixture.get().root
        let dir = try TempDir("eval-runjson")
        try withExtendedLifetime(dir) {
            let run = dir.path("d16-s1")
            try FileManager.default.copyItem(atPath: fixture + "/runs/d16-s1", toPath: run)
            let good = try CLIConventionTests.lens(["eval", run, "--n", "5", "--threads", "1"])
            #expect(good.status == 0, "\(good.err)")
            try Data("{\"name\": ".utf8).write(to: URL(fileURLWithPath: run + "/run.json"))
            let bad = try CLIConventionTests.lens(["eval", run, "--n", "5", "--threads", "1"])
            #expect(bad.status == 1 && bad.errLines.count == 1, "\(bad.status) \(bad.err)")
            #expect(bad.err.contains(run + "/run.json: not a run spec"), "\(bad.err)")
        }
    }
}
