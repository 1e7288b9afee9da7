import Foundation
import TestSupport

/// The valid inputs every family mutates, made once per test process by the `lens` under test: a tiny
/// trained run (its checkpoints), one activation file dumped from it, a study and a probe spec.
struct FuzzFixture: Sendable {
    let temp: TempDir
    var root: String { temp.root }
    var run: String { root + "/runs/d16-s3" }
    /// The trained checkpoint (step 20).
    var checkpoint: String { run + "/checkpoints/step_000020.safetensors" }
    /// step_000020.h5 of the run, two tasks (add, sub) x 20 items, one hook.
    var activations: String { run + "/activations/step_000020.h5" }
    /// The same dump with gzip + shuffle, so byte flips also land in compressed chunks.
    var compressedActivations: String { root + "/compressed/step_000020.h5" }
    var study: String { root + "/study.yaml" }
    var probeSpec: String { root + "/probe.yaml" }

    /// One layer, so the activation files stay small; add and sub have the `equals` position and the
    /// `answer_tens` and `operand_a` labels the probe spec reads.
    static let studyText = StudyFixtures.trainable(name: "fuzz", tasks: ["add", "sub"], steps: 20, batch: 8,
                                                   checkpoints: "{dense_until: 20, dense_count: 1, every: 0}", evalItems: 8)
    static let hook = "blocks.0.hook_resid_post"

    static let probeText = """
        name: tens
        question: Is the answer's tens digit linearly present?
        target: answer_tens
        kind: multiclass
        hooks: [\(hook)]
        positions: [equals]
        tasks: [add, sub]
        where: {num_steps: 1}
        split: {test: 0.25, seed: 0}
        l2: 0.01
        control: true
        control_type: operand_a
        items: {add: 20}

        """

    static let shared: Result<FuzzFixture, FixtureError> = {
        do {
            let f = FuzzFixture(temp: try TempDir("fuzz-fixture"))
            try Data(studyText.utf8).write(to: URL(fileURLWithPath: f.study))
            try Data(probeText.utf8).write(to: URL(fileURLWithPath: f.probeSpec))
            let lens = FuzzSettings.lens
            let sweep = try TestSupport.run(lens, ["sweep", "--study", f.study, "--out", f.root + "/runs", "--threads", "1"])
            guard sweep.status == 0 else { return .failure(FixtureError(message: "sweep: \(sweep.err)")) }
            let dump = try TestSupport.run(lens, ["dump", "--run", f.run, "--n", "20", "--hooks", hook, "--threads", "1"])
            guard dump.status == 0 else { return .failure(FixtureError(message: "dump: \(dump.err)")) }
            let gzip = try TestSupport.run(lens, ["dump", "--run", f.run, "--n", "20", "--hooks", hook, "--steps", "20",
                                                  "--compress", "--out", f.root + "/compressed", "--threads", "1"])
            guard gzip.status == 0 else { return .failure(FixtureError(message: "dump --compress: \(gzip.err)")) }
            let probe = try TestSupport.run(lens, ["probe", "--spec", f.probeSpec, "--activations", f.activations,
                                                   "--out", f.root + "/probe-out", "--threads", "1"])
            guard probe.status == 0 else { return .failure(FixtureError(message: "probe on the valid file: \(probe.err)")) }
            // A static is never deinitialized: remove the directory when the process exits, unless
            // LENS_FUZZ_KEEP asks to keep the mutated files (to look at a replayed failure).
            if FuzzSettings.environment["LENS_FUZZ_KEEP"] != nil {
                print("fuzz: keeping the fixture and every mutated file in \(f.root)")
            } else {
                atexit { if case .success(let f) = FuzzFixture.shared { try? FileManager.default.removeItem(at: f.temp.url) } }
            }
            return .success(f)
        } catch { return .failure(FixtureError(message: "\(error)")) }
    }()

    struct FixtureError: Error { let message: String }

    /// A fresh directory for one family's mutated files, inside the fixture's.
    func scratch(_ name: String) throws -> String {
        let dir = root + "/" + name
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
