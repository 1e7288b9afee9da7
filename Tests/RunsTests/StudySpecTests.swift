import Foundation
import Testing
import Skills
import TestSupport
@testable import Runs

private let minimal = StudyFixtures.parseOnly()

/// Bad study files and what their one-line error must say.
private let badStudies: [(text: String, expected: String)] = [
    ("name: t\ntasks: {add: 1}\nmodels: []\n", "models"),
    (minimal + "\nstepz: 10\n", "unknown key \"stepz\""),
    (minimal + "\nsteps: many\n", "steps: must be an integer"),
    (minimal + "\nsteps: 0\n", "steps: must be >= 1"),
    (minimal.replacingOccurrences(of: "n_heads: 2", with: "n_heads: 0"), "n_heads"),
    (minimal.replacingOccurrences(of: "n_layers: 1", with: "n_layers: 0"), "impossible size"),
    (minimal.replacingOccurrences(of: "d_mlp: 16", with: "d_mlp: 16, width: 3"), "unknown key \"models[0].width\""),
    ("name: t\ntasks: {mul: 1}\nmodels: []\n", "unknown task \"mul\""),
    (minimal + "\nproblem: {max_operand: x}\n", "problem.max_operand"),
    ("name: [unclosed\n", "malformed YAML"),
    (minimal + "\nsplit: {test: 0.6, validation: 0.5}\n", "split"),
    (minimal + "\nseeds: [1, 1]\n", "duplicate seeds"),
    (StudyFixtures.parseOnly(tasks: "add: 100, sub: 0.1"), "tasks.sub: weight 0.1 gives 0 of 64 rows"),
    (minimal + "\nsplit: {held_out_templates: [sideways]}\n", "unknown template \"sideways\""),
    (minimal + "\nsplit: {held_out_templates: [absolute, relative]}\n", "every template"),
]

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

    @Test(arguments: badStudies)
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

    /// lens study's sample of the checkpoints: nearest to each half decade, plus the first and last.
    @Test func theHalfDecadeSampleOfTheShippedSchedules() {
        let defaultSteps = CheckpointSchedule(denseUntil: 1000, denseCount: 6, every: 500).steps(total: 7000)
        #expect(CheckpointSchedule.halfDecades(of: defaultSteps) == [0, 3, 10, 32, 100, 316, 1000, 3000, 7000])
        let cot = CheckpointSchedule(denseUntil: 1000, denseCount: 6, every: 1000).steps(total: 20000)
        #expect(CheckpointSchedule.halfDecades(of: cot) == [0, 3, 10, 32, 100, 316, 1000, 3000, 10000, 20000])
        #expect(CheckpointSchedule.halfDecades(of: [500, 0, 60]) == [0, 60, 500], "unsorted input; 60 is nearest to u = 2 and the first and last stay")
        #expect(CheckpointSchedule.halfDecades(of: []) == [])
    }

    @Test func batchesArePureFunctionsOfStepAndDrawOnlyTrainItems() throws {
        let run = try StudySpec.parse(minimal, file: "m.yaml").runs()[0]
        let a = try run.batches(at: 7), b = try run.batches(at: 7), c = try run.batches(at: 8)
        #expect(a.map(\.tokens) == b.map(\.tokens) && a.map(\.targets) == b.map(\.targets) && a.map(\.mask) == b.map(\.mask))
        #expect(a.map(\.tokens) != c.map(\.tokens))
        #expect(a.map(\.batch).reduce(0, +) == run.batch && a.allSatisfy { $0.tokens.count == $0.batch * $0.length })
        // Every item of a batch is from the training split, and none is an evaluation item.
        let task = try Tasks.named("add", config: run.problem)
        let items = try run.trainingItems(at: 7)
        #expect(items.allSatisfy { run.split.split(of: $0, task: task) == .train })
        let evalPrompts = Set(try run.evaluationSets().flatMap { $0.examples.map(\.prompt) })
        #expect(!evalPrompts.isEmpty && items.allSatisfy { !evalPrompts.contains($0.prompt) })
    }

    @Test func heldOutTemplateIsNeverTrainedAndIsTested() throws {
        let text = StudyFixtures.parseOnly(tasks: "order: 1, multistep_pad: 1",
                                           extra: "eval: {n: 60}\nsplit: {held_out_templates: [relative]}\n")
        let run = try StudySpec.parse(text, file: "h.yaml").runs()[0]
        #expect(run.split.heldOutTemplates == [.relative])
        let trained = try (0..<5).flatMap { try run.trainingItems(at: $0) }
        #expect(trained.allSatisfy { $0.label("template") == StoryTemplate.absolute.rawValue })
        for (task, examples) in try run.evaluationSets() {
            #expect(examples.contains { $0.label("template") == StoryTemplate.relative.rawValue })
            // Test keys stay disjoint from training keys with a template held out.
            let trainKeys = Set(trained.filter { $0.task == task.name }.map { task.splitKey(of: $0) })
            #expect(examples.allSatisfy { !trainKeys.contains(task.splitKey(of: $0)) }, "\(task.name)")
        }
        // A run.json from before held-out templates existed still loads (none held out).
        let old = try JSONDecoder().decode(SplitPolicy.self, from: Data(#"{"seed": 0, "validationFraction": 0.1, "testFraction": 0.1}"#.utf8))
        #expect(old.heldOutTemplates.isEmpty)
    }

    // Short (add, ~10 tokens) and long (multistep_pad) items in one batch: two length buckets, holding
    // exactly the step's items, each as long as its tasks' longest item, fewer padded cells than one
    // batch; the mixture is stratified (rows per task fixed by the weights), so shapes never change.
    @Test func batchesAreTwoLengthBucketsOfTheStepsItems() throws {
        let text = StudyFixtures.parseOnly(tasks: "add: 1, multistep_pad: 1")
        let run = try StudySpec.parse(text, file: "m.yaml").runs()[0]
        for step in 0..<5 {
            let items = try run.trainingItems(at: step), groups = try run.batches(at: step)
            let encoded = try items.map { try Tokenizer.standard.encode($0) }
            try #require(groups.count == 2)
            let real = groups.map { g in
                (0..<g.batch).map { b in Array(g.tokens[(b * g.length)..<((b + 1) * g.length)].prefix { $0 != Tokenizer.pad }) }
            }
            for (g, rows) in zip(groups, real) { #expect(rows.map(\.count).max()! <= g.length) }
            #expect(groups.map(\.length) == [10, try Tasks.named("multistep_pad").maxEncodedLength])
            #expect(groups.map(\.batch) == [32, 32], "weights 1:1 of a batch of 64")
            #expect(items.filter { $0.task == "add" }.count == 32)
            func sorted(_ r: [[Int32]]) -> [[Int32]] { r.sorted { $0.lexicographicallyPrecedes($1) } }
            #expect(sorted(real.flatMap { $0 }) == sorted(encoded))
            // Sorted by length: no row of the short bucket is longer than a row of the long one.
            #expect(real[0].map(\.count).max()! <= real[1].map(\.count).min()!)
            // The same loss targets as the one padded batch, so the same normaliser.
            let longest = groups.map(\.length).max()!
            let one = try EncodedBatch(examples: items, length: longest, lossScope: run.loss)
            let weight: Float = groups.flatMap { $0.mask! }.reduce(0, +)
            let targets: Int = groups.flatMap(\.targets).filter { $0 >= 0 }.count
            #expect(weight == one.lossMask.reduce(0, +))
            #expect(targets == one.targets.filter { $0 >= 0 }.count)
            let cells = groups.map { $0.batch * $0.length }.reduce(0, +)
            #expect(cells < items.count * longest, "\(cells) padded cells vs \(items.count * longest)")
        }
    }

    @Test func rowsPerTaskFollowTheWeightsByLargestRemainder() throws {
        let text = StudyFixtures.parseOnly(tasks: "add: 1, sub: 1.5, double: 0.5, order: 0.5, multistep_pad: 2")
        let run = try StudySpec.parse(text, file: "w.yaml").runs()[0]
        // 64 x (1, 1.5, .5, .5, 2) / 5.5 = 11.6, 17.5, 5.8, 5.8, 23.3 -> floors 11, 17, 5, 5, 23 (61);
        // the three largest remainders (double .82, order .82, add .64) get the last three rows.
        #expect(run.rowsPerTask().map(\.rows) == [12, 17, 6, 6, 23])
        #expect(try run.trainingItems(at: 3).count == 64)
    }
}
