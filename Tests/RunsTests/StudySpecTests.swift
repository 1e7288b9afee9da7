import Foundation
import Testing
import Skills
@testable import Runs

private let minimal = """
name: t
tasks: {add: 1}
models:
  - {name: a, n_layers: 1, d_model: 8, n_heads: 2, d_mlp: 16}
"""

@Suite struct StudySpecTests {
    @Test func defaultStudyParsesAndExpandsToSizesTimesSeeds() throws {
        let s = DefaultStudy.spec()
        let runs = try s.runs()
        #expect(runs.count == s.models.count * s.seeds.count)
        #expect(Set(runs.map(\.name)).count == runs.count)
        #expect(runs.allSatisfy { $0.model.n_ctx == (try? s.sequenceLength()) })
    }

    @Test func minimalStudyGetsDefaults() throws {
        let s = try StudySpec.parse(minimal, file: "m.yaml")
        #expect(s.models[0].d_head == 4)
        #expect(s.evaluatedTasks == ["add"])
        #expect(s.seeds == [1])
    }

    @Test(arguments: [
        ("name: t\ntasks: {add: 1}\nmodels: []\n", "models"),
        (minimal + "\nstepz: 10\n", "unknown key \"stepz\""),
        (minimal + "\nsteps: many\n", "steps: must be an integer"),
        (minimal + "\nsteps: 0\n", "steps: must be >= 1"),
        ("name: t\ntasks: {add: 1}\nmodels:\n  - {name: a, n_layers: 1, d_model: 8, n_heads: 0, d_mlp: 16}\n", "n_heads"),
        ("name: t\ntasks: {add: 1}\nmodels:\n  - {name: a, n_layers: 0, d_model: 8, n_heads: 2, d_mlp: 16}\n", "impossible size"),
        ("name: t\ntasks: {add: 1}\nmodels:\n  - {name: a, n_layers: 1, d_model: 8, n_heads: 2, d_mlp: 16, width: 3}\n", "unknown key \"models[0].width\""),
        ("name: t\ntasks: {mul: 1}\nmodels: []\n", "unknown task \"mul\""),
        (minimal + "\nproblem: {max_operand: x}\n", "problem.max_operand"),
        ("name: [unclosed\n", "malformed YAML"),
        (minimal + "\nsplit: {test: 0.6, validation: 0.5}\n", "split"),
        (minimal + "\nseeds: [1, 1]\n", "duplicate seeds"),
        (minimal + "\nsplit: {held_out_templates: [sideways]}\n", "unknown template \"sideways\""),
        (minimal + "\nsplit: {held_out_templates: [absolute, relative]}\n", "every template"),
    ])
    func badStudiesAreOneLineErrorsNamingTheFileAndKey(text: String, expected: String) {
        do {
            _ = try StudySpec.parse(text, file: "bad.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.hasPrefix("bad.yaml: "), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"), "\(error)")
        }
    }

    @Test func checkpointScheduleIsDenseEarlyThenRegular() {
        let s = CheckpointSchedule(denseUntil: 1000, denseCount: 6, every: 1000)
        let steps = s.steps(total: 4000)
        #expect(steps.first == 0 && steps.last == 4000)
        #expect(steps == steps.sorted() && Set(steps).count == steps.count)
        #expect(steps.contains(1000) && steps.contains(2000) && steps.contains(3000))
        #expect(steps.filter { $0 < 100 }.count >= 2, "\(steps)")
    }

    @Test func batchesArePureFunctionsOfStepAndDrawOnlyTrainItems() throws {
        let run = try StudySpec.parse(minimal, file: "m.yaml").runs()[0]
        let a = try run.batch(at: 7), b = try run.batch(at: 7), c = try run.batch(at: 8)
        #expect(a.tokens == b.tokens && a.targets == b.targets)
        #expect(a.tokens != c.tokens)
        #expect(a.batch == run.batch && a.tokens.count == a.batch * a.length)
        // Every item of a batch is from the training split, and none is an evaluation item.
        let task = try Tasks.named("add", config: run.problem)
        let items = try run.trainingItems(at: 7)
        #expect(items.allSatisfy { run.split.split(of: $0, task: task) == .train })
        let evalPrompts = Set(try run.evaluationSets().flatMap { $0.examples.map(\.prompt) })
        #expect(!evalPrompts.isEmpty && items.allSatisfy { !evalPrompts.contains($0.prompt) })
    }

    @Test func heldOutTemplateIsNeverTrainedAndIsTested() throws {
        let text = "name: t\ntasks: {order: 1, multistep_pad: 1}\neval: {n: 60}\n"
            + "models:\n  - {name: a, n_layers: 1, d_model: 8, n_heads: 2, d_mlp: 16}\n"
            + "split: {held_out_templates: [relative]}\n"
        let run = try StudySpec.parse(text, file: "h.yaml").runs()[0]
        #expect(run.split.heldOutTemplates == [.relative])
        let trained = try (0..<5).flatMap { try run.trainingItems(at: $0) }
        #expect(trained.allSatisfy { $0.label("template") == StoryTemplate.absolute.rawValue })
        for (_, examples) in try run.evaluationSets() {
            #expect(examples.contains { $0.label("template") == StoryTemplate.relative.rawValue })
        }
    }
}
