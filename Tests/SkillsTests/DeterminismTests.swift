import Testing
import Tensors
@testable import Skills

@Suite struct DeterminismTests {
    func draw(_ task: any SkillTask, seed: UInt64, count: Int = 50) -> [Example] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in task.example(rng: &rng) }
    }

    @Test(arguments: Tasks.names)
    func sameSeedSameExamplesDifferentSeedDifferent(name: String) throws {
        let task = try Tasks.named(name)
        #expect(draw(task, seed: 5) == draw(task, seed: 5))
        #expect(draw(task, seed: 5) != draw(task, seed: 6))
    }

    @Test func datasetIsDeterministicPerSeed() throws {
        let task = try Tasks.named("multistep")
        let a = try Dataset.generate(task: task, split: .test, count: 40, seed: 1)
        let b = try Dataset.generate(task: task, split: .test, count: 40, seed: 1)
        let c = try Dataset.generate(task: task, split: .test, count: 40, seed: 2)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count == 40)
    }

    @Test func registryKnowsItsNamesAndRejectsOthers() throws {
        #expect(Tasks.all().map(\.name) == Tasks.names)
        #expect(throws: SkillsError.self) { try Tasks.named("division") }
        #expect(throws: SkillsError.self) { try Tasks.named("add", config: TaskConfig(templates: [])) }
    }
}
