import ActivationStore
import Dumps
import Foundation
import Runs
import Testing
import TestSupport
import Transformer
@testable import Probing

private let fixtures = Repo.root + "/Tests/ProbingTests/Fixtures"

/// A run directory holding a real trained checkpoint (the default study's `base-s1` at step 4000 of 7000,
/// where its intermediate probe peaks,
/// committed as a fixture) and its step-0 checkpoint (re-created from the seed), dumped to HDF5.
/// Built once per test process (the dump takes most of a minute in a debug build) and shared by every
/// test that reads it; a global is never deinitialized, so its directory is removed at exit instead.
func dumpedRun() throws -> (dir: TempDir, acts: String) { try sharedDumpedRun.get() }
private let sharedDumpedRun: Result<(dir: TempDir, acts: String), SharedFixtureError> = {
    do {
        let made = try makeDumpedRun()
        atexit { if case .success(let r) = sharedDumpedRun { try? FileManager.default.removeItem(at: r.dir.url) } }
        return .success(made)
    } catch { return .failure(SharedFixtureError(message: "\(error)")) }
}()
struct SharedFixtureError: Error { let message: String }

private func makeDumpedRun() throws -> (dir: TempDir, acts: String) {
    let run = try TempDir("probe")
    let dir = run.root
    try FileManager.default.createDirectory(atPath: dir + "/checkpoints", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: fixtures + "/base-s1-run.json", toPath: dir + "/run.json")
    try FileManager.default.copyItem(atPath: fixtures + "/base-s1-step4000.safetensors", toPath: TrainingRun.checkpointPath(dir, step: 4000))
    let spec = try JSONDecoder().decode(RunSpec.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/run.json")))
    try Checkpoint.save(try Transformer(config: spec.model), step: 0, run: spec.name, to: TrainingRun.checkpointPath(dir, step: 0))
    let dump = ActivationDump(runDir: dir, outDir: dir + "/acts", hookPatterns: ["blocks.1.hook_resid_post"],
                              tasks: ["multistep_pad", "multistep", "sub"], perTask: 300)
    _ = try dump.run(steps: nil)
    return (run, dir + "/acts")
}

@Suite(.serialized) struct ProbeJobTests {
    @Test func intermediateResultProbeOnATrainedModelBeatsTheUntrainedBaseline() throws {
        let (run, acts) = try dumpedRun()
        defer { withExtendedLifetime(run) {} }   // the directory is removed when `run` goes
        let spec = try ProbeSpec.parse("""
            name: intermediate
            question: q
            target: intermediate
            kind: ridge
            hooks: [blocks.1.hook_resid_post]
            positions: [step1_equals]
            tasks: [multistep_pad]
            l2: [0.1, 1, 10]
            control_type: start
            """, file: "i.yaml")
        let report = try ProbeJob.run(spec, files: try ProbeJob.files([acts + "/step_004000.h5"]))
        let trained = report.cells.first { $0.step == 4000 }!, untrained = report.cells.first { $0.step == 0 }!
        #expect(trained.untrainedScore == untrained.result.score, "step-0 baseline found from the sibling file")
        #expect(trained.result.score > untrained.result.score + 0.1,
                "trained R² \(trained.result.score) vs untrained \(untrained.result.score)")
        #expect(trained.result.ciLow > untrained.result.score, "the interval clears the untrained baseline")
        // Control task: a random value per start value; a probe that only memorised start values would fit it.
        #expect(trained.result.selectivity! > 0.3, "selectivity \(trained.result.selectivity!), control \(trained.result.controlScore!)")
        // The split is the same at every checkpoint, and recorded as file rows.
        #expect(trained.testRows == untrained.testRows && !trained.testRows.isEmpty)
        #expect(Set(trained.trainRows).isDisjoint(with: trained.testRows))
        // Report renders: markdown with every cell, figures as SVG.
        #expect(report.markdown().contains("| base-s1 | 4000 |"))
        let figures = report.figures()
        #expect(figures.keys.contains { $0.contains("heatmap") } && figures.keys.contains { $0.contains("steps") })
        #expect(figures.values.allSatisfy { $0.hasPrefix("<svg") || $0.hasPrefix("<?xml") })
    }

    @Test func specErrorsNameTheFileAndListWhatIsAvailable() throws {
        let (run, acts) = try dumpedRun()
        defer { withExtendedLifetime(run) {} }   // the directory is removed when `run` goes
        let base = "name: x\nquestion: q\nkind: binary\ntarget: borrow\nhooks: [blocks.1.hook_resid_post]\npositions: [equals]\n"
        let cases: [(String, String)] = [
            (base.replacingOccurrences(of: "target: borrow", with: "target: nope"), "no label \"nope\" (available: "),
            (base.replacingOccurrences(of: "blocks.1.hook_resid_post", with: "blocks.7.hook_mlp_out"), "no hook matches \"blocks.7.hook_mlp_out\" (available: blocks.1.hook_resid_post)"),
            (base.replacingOccurrences(of: "[equals]", with: "[nowhere]"), "no position \"nowhere\" (available: "),
        ]
        for (text, expected) in cases {
            let spec = try ProbeSpec.parse(text, file: "x.yaml")
            do { _ = try ProbeJob.run(spec, files: [acts + "/step_004000.h5"]); Issue.record("accepted \(text)") }
            catch { #expect("\(error)".contains(expected), "\(error)") }
        }
        for (text, expected) in [(base + "colour: red\n", "unknown key \"colour\""), (base.replacingOccurrences(of: "binary", with: "svm"), "kind:"),
                                 ("name: [x\n", "malformed YAML"), (base + "l2: -1\n", "l2:")] {
            do { _ = try ProbeSpec.parse(text, file: "x.yaml"); Issue.record("accepted \(text)") }
            catch { #expect(error.description.hasPrefix("x.yaml: ") && error.description.contains(expected), "\(error)") }
        }
    }

    /// A study directory holds each run's items/step_*.h5 beside its activations/step_*.h5: searching the
    /// directory finds the activation files only. A step_*.h5 that is not HDF5 is still found, so that
    /// reading it reports the problem.
    @Test func aDirectorySearchLeavesOutItemsFiles() throws {
        let temp = try TempDir("probe-files")
        let run = temp.path("study/d16-s1")
        for sub in ["activations", "items"] { try FileManager.default.createDirectory(atPath: run + "/" + sub, withIntermediateDirectories: true) }
        let attributes = FileAttributes(config: "{}", run: "d16-s1", step: 0, tasks: ["add"], seed: 1, vocab: ["<pad>"])
        let writer = try ActivationFileWriter(path: run + "/activations/step_000000.h5", attributes: attributes, n: 0, seqLen: 1, hooks: [])
        try writer.finish()
        try ItemsFile.write(ItemsFile.Contents(run: "d16-s1", study: "study", step: 0, seed: 1, tables: []), to: ItemsFile.path(run, step: 0))
        try ItemsFile.write(ItemsFile.Contents(run: "d16-s1", study: "study", step: 20, seed: 1, tables: []), to: ItemsFile.path(run, step: 20))
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: run + "/activations/step_000020.h5"))
        #expect(try ProbeJob.files([temp.path("study")]) == [run + "/activations/step_000000.h5", run + "/activations/step_000020.h5"])
        // Named explicitly, a file is taken as it is (and then rejected by the reader, naming it).
        #expect(try ProbeJob.files([ItemsFile.path(run, step: 20)]) == [ItemsFile.path(run, step: 0), ItemsFile.path(run, step: 20)])
    }

    @Test func shippedSpecsParse() throws {
        let dir = Repo.root + "/Probes"
        let specs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }
        #expect(specs.count >= 5)
        let targets = try specs.map { try ProbeSpec.load(path: dir + "/" + $0).target }
        for t in ["intermediate", "op1", "answer_tens", "borrow", "operand_a"] { #expect(targets.contains(t), "no shipped probe for \(t)") }
    }
}

@Suite struct FastExpTests {
    @Test func expDoubleMatchesLibm() {
        var worst = 0.0
        var x = -700.0
        while x < 700 {
            let want = Foundation.exp(x), got = expDouble(x)
            worst = max(worst, abs(got - want) / want)
            x += 0.0137
        }
        #expect(worst < 5e-16, "max relative error \(worst)")
        #expect(expDouble(-1000) == 0 || expDouble(-1000) < 1e-300)
        #expect(expDouble(0) == 1)
    }
}
