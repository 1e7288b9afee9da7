import ActivationStore
import Dispatch
import Foundation
import Runs
import Tensors
import Testing
import TestSupport
import Transformer
@testable import Dumps

/// Issue 10's worst case: two `lens dump` processes into one `--out`. Whatever the interleaving, both must
/// end cleanly, every published file must hold exactly what a lone dump writes, and no partial file may be
/// left. (The outcome is asserted for any interleaving, so the test cannot pass or fail by timing.)
@Suite(.serialized) struct ConcurrentDumpTests {
    let dir: TempDir
    let run: TrainingRun

    init() throws {
        dir = try TempDir("concurrent-dump")
        let study = StudyFixtures.trainable(name: "conc", tasks: ["add", "sub"], layers: 2, seeds: [4], steps: 10, batch: 8,
                                            warmup: 2, checkpoints: "{dense_until: 10, dense_count: 1, every: 0}", evalItems: 10)
        run = try Sweep(study: try StudySpec.parse(study, file: "conc.yaml"), outDir: dir.root, jobs: 1).run()[0]
    }

    @Test func twoDumpsIntoOneDirectoryPublishOnlyWholeFiles() throws {
        let out = dir.path("shared-out"), alone = dir.path("alone")
        let args = ["dump", "--run", run.dir, "--n", "150", "--batch", "4", "--threads", "1", "--json",
                    "--hooks", "blocks.*.hook_resid_post", "blocks.*.mlp.hook_post"]
        let results = Shared<[ProcessOutput]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let r = try? runLens(args + ["--out", out])
            results.update { $0.append(r ?? (status: -1, out: "", err: "could not start lens")) }
        }
        let outcomes = results.value
        for r in outcomes { #expect(r.status == 0, "lens dump failed: \(r.err)") }
        // Each file was written by exactly one of them; the other found it whole and kept it.
        let reports = outcomes.compactMap { try? JSONSerialization.jsonObject(with: Data($0.out.utf8)) as? [[String: Any]] }
        #expect(reports.count == 2)
        for step in run.spec.checkpointSteps {
            let wrote = reports.filter { $0.contains { ($0["step"] as? Int) == step && ($0["skipped"] as? Bool) == false } }
            #expect(wrote.count == 1, "step \(step) written \(wrote.count) times")
        }
        // Byte for byte what a lone dump publishes (same values, same layout; HDF5 stamps no times here).
        let lone = try runLens(args + ["--out", alone])
        #expect(lone.status == 0, "\(lone.err)")
        for step in run.spec.checkpointSteps {
            let name = ActivationDump.fileName(step: step)
            let summary = try validateActivationFile(out + "/" + name)
            #expect(summary.n == 300)
            let a = try ActivationFileReader(path: out + "/" + name), b = try ActivationFileReader(path: alone + "/" + name)
            for h in b.hooks { #expect(try a.readHook(h.name, rows: 0..<300) == b.readHook(h.name, rows: 0..<300), "\(name) \(h.name)") }
            #expect(try a.tokens() == b.tokens())
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.contains(".partial") }
        #expect(leftovers.isEmpty, "partial files left: \(leftovers)")
    }

    @Test func aKilledWritersPartialFileIsRemovedAndNeverPublished() throws {
        let out = dir.path("stale")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let stale = out + "/" + ActivationDump.fileName(step: 0) + ".partial-999999"
        try Data("half a file".utf8).write(to: URL(fileURLWithPath: stale))
        var dump = ActivationDump(runDir: run.dir, outDir: out, hookPatterns: ["blocks.0.hook_resid_post"], tasks: nil, perTask: 5)
        dump.batchSize = 4
        _ = try dump.run(steps: [0])
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try validateActivationFile(out + "/" + ActivationDump.fileName(step: 0)).n == 10)
    }

    @Test func aHeldLockMakesTheDumpWaitAndSaySo() throws {
        // The lock is held by this process on another descriptor (flock locks belong to open file
        // descriptions), so the dump's attempt finds it busy, reports waiting, and proceeds once released.
        let out = dir.path("held")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let held = try FileLock(ActivationDump.lockPath(outDir: out))
        let waited = Shared(false)
        let done = DispatchSemaphore(value: 0)
        let dumpOut = dir.path("held")
        let runDir = run.dir
        DispatchQueue.global().async {
            let dump = ActivationDump(runDir: runDir, outDir: dumpOut, hookPatterns: ["blocks.0.hook_resid_post"], tasks: nil, perTask: 3)
            _ = try? dump.run(steps: [0], waiting: { waited.update { $0 = true } })
            done.signal()
        }
        // The dump can only finish after the lock is released, and it must have said it waited.
        for _ in 0..<60_000 where !waited.value { usleep(1000) }   // a bound against a hang, not a timing
        #expect(waited.value, "the dump did not report waiting for the held lock")
        #expect(!FileManager.default.fileExists(atPath: out + "/" + ActivationDump.fileName(step: 0)))
        held.unlock()
        done.wait()
        #expect(try validateActivationFile(out + "/" + ActivationDump.fileName(step: 0)).n == 6)
    }
}

/// kill -9 at the dump writer's rename: no file appears under the final name, and a rerun publishes
/// the whole file and removes the dead writer's partial.
@Suite struct DumpKillAtRenameTests {
    @Test func aDumpKilledBeforeItsRenameLeavesNoFileAndARerunFinishes() throws {
        let dir = try TempDir("dump-kill")
        try withExtendedLifetime(dir) {
            let study = StudyFixtures.trainable(name: "dk", steps: 10, checkpoints: "{dense_until: 10, dense_count: 1, every: 0}", evalItems: 10)
            let run = try Sweep(study: try StudySpec.parse(study, file: "dk.yaml"), outDir: dir.root, jobs: 1).run()[0]
            let out = dir.path("acts"), name = ActivationDump.fileName(step: 0)
            let args = ["dump", "--run", run.dir, "--n", "5", "--threads", "1", "--out", out]
            var env = ProcessInfo.processInfo.environment
            env["LENS_TEST_KILL_BEFORE_RENAME"] = name
            let killed = try runLens(args, environment: env)
            #expect(killed.status == 128 + SIGKILL, "status \(killed.status): \(killed.err)")
            #expect(!FileManager.default.fileExists(atPath: out + "/" + name))
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).contains { $0.hasPrefix(name + ".partial-") })
            let again = try runLens(args)
            #expect(again.status == 0, "\(again.err)")
            #expect(try validateActivationFile(out + "/" + name).n == 10)
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: out).contains { $0.contains(".partial") }))
        }
    }
}
