import Dumps
import Foundation
import Runs
import Testing
import TestSupport
import Probing

private let fixtures = Repo.root + "/Tests/ProbingTests/Fixtures"

/// A probe spec's `items:` and the dump's per-task counts: validated like the other keys, and a raised
/// count keeps the items a smaller dump had (a superset, in the same order), all distinct.
@Suite struct ItemCountTests {
    static let base = """
        name: x
        question: q
        target: intermediate
        kind: ridge
        hooks: [blocks.1.hook_resid_post]
        positions: [step1_equals]
        tasks: [multistep_pad, multistep]

        """

    @Test func specItemsAreParsedAndValidated() throws {
        #expect(try ProbeSpec.parse(Self.base + "items: {multistep_pad: 800}\n", file: "x.yaml").items == ["multistep_pad": 800])
        #expect(try ProbeSpec.parse(Self.base, file: "x.yaml").items.isEmpty)
        let bad: [(String, String)] = [
            ("items: {multistep_pad: 0}", "items.multistep_pad: must be a positive integer"),
            ("items: {multistep_pad: many}", "items: must map task names to item counts"),
            ("items: 800", "items: must map task names to item counts"),
            ("items: {add: 800}", "items.add: not one of the probe's tasks (multistep_pad, multistep)"),
        ]
        for (line, message) in bad {
            do {
                _ = try ProbeSpec.parse(Self.base + line + "\n", file: "x.yaml")
                Issue.record("accepted \(line)")
            } catch {
                #expect(error.description.hasPrefix("x.yaml: \(message)"), "\(line): \(error.description)")
            }
        }
    }

    @Test func shippedSpecsAskOnlyForTasksTheyProbe() throws {
        let probes = Repo.root + "/Probes"
        let specs = try FileManager.default.contentsOfDirectory(atPath: probes).filter { $0.hasSuffix(".yaml") }
        #expect(specs.count >= 5)
        for f in specs { _ = try ProbeSpec.load(path: probes + "/" + f) }
        #expect(try ProbeSpec.load(path: probes + "/intermediate.yaml").items["multistep_pad"] ?? 0 > 200)
    }

    @Test func raisingATasksCountKeepsTheSmallerDumpsItemsAndAddsDistinctOnes() throws {
        let temp = try TempDir("items")
        defer { withExtendedLifetime(temp) {} }   // the directory is removed when `temp` goes
        let dir = temp.root
        try FileManager.default.copyItem(atPath: fixtures + "/base-s1-run.json", toPath: dir + "/run.json")
        let small = ActivationDump(runDir: dir, outDir: dir, hookPatterns: [], tasks: ["multistep_pad", "sub"], perTask: 100)
        var large = small
        large.perTaskOverride = ["multistep_pad": 500]
        let spec = try small.spec()
        let a = try small.items(spec), b = try large.items(spec)
        let padA = a.filter { $0.task == "multistep_pad" }.map(\.prompt), padB = b.filter { $0.task == "multistep_pad" }.map(\.prompt)
        #expect(padA.count == 100 && padB.count == 500)
        #expect(Array(padB.prefix(100)) == padA, "the first 100 are the same items")
        #expect(Set(padB).count == 500, "distinct")
        #expect(a.filter { $0.task == "sub" }.map(\.prompt) == b.filter { $0.task == "sub" }.map(\.prompt), "other tasks unchanged")
    }
}
