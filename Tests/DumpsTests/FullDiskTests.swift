import ActivationStore
import Foundation
import Runs
import Testing
import TestSupport
@testable import Dumps

/// Issue 10: a full disk during `lens dump` printed the error and then crashed inside libhdf5 (its exit
/// handler closed the half-closed file again). A file-size limit (`ulimit -f`, with SIGXFSZ ignored so a
/// write fails with EFBIG as on a full disk) makes the failure reproducible without root or a small
/// filesystem. Each limit below fails at a different place: the superblock, a dataset, the final flush.
@Suite struct FullDiskTests {
    @Test func aFullDiskIsOneErrorLineNoCrashNoFileAndARerunFinishes() throws {
        let dir = try TempDir("full-disk")
        try withExtendedLifetime(dir) {
            let study = StudyFixtures.trainable(name: "fd", layers: 2, steps: 10,
                                                checkpoints: "{dense_until: 10, dense_count: 1, every: 0}", evalItems: 10)
            let trained = try Sweep(study: try StudySpec.parse(study, file: "fd.yaml"), outDir: dir.root, jobs: 1).run()[0]
            let out = dir.path("acts"), name = ActivationDump.fileName(step: 0)
            let args = ["dump", "--run", trained.dir, "--n", "150", "--threads", "1", "--out", out,
                        "--hooks", "blocks.*.hook_resid_post", "blocks.*.mlp.hook_post"]
            for blocks in [4, 40, 200] {   // 1 KiB blocks; a whole file of this dump is about 700 KiB
                let limited = "trap '' XFSZ; ulimit -f \(blocks); exec \"$0\" \"$@\""
                let r = try run("/bin/bash", ["-c", limited, Repo.lens] + args)
                #expect(r.status == 1, "limit \(blocks) KiB: status \(r.status): \(r.err)")
                let lines = r.err.split(separator: "\n").filter { !$0.hasPrefix("dump [") }
                #expect(lines.count == 1, "limit \(blocks) KiB: \(r.err)")
                #expect(lines.first?.contains(name) == true && lines.first?.contains("File too large") == true,
                        "limit \(blocks) KiB: \(r.err)")
                let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { !$0.hasPrefix(".lens-") }
                #expect(left.isEmpty, "limit \(blocks) KiB left \(left)")
            }
            let again = try runLens(args)
            #expect(again.status == 0, "\(again.err)")
            #expect(try validateActivationFile(out + "/" + name).n == 300)
        }
    }
}
