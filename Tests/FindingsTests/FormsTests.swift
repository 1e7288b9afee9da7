import Foundation
import Testing
import TestSupport
import Runs
@testable import Findings

/// Plan section 8 on two planted studies made from the trained fixture: a scratchpad study whose composite
/// rises at checkpoints 4-5 (steps 40-60), and a copy turned into a direct-answer study (the composite
/// renamed `multistep` in run.json, study.json, metrics.jsonl and the items files) whose composite never
/// rises. The comparison must find the first form's onset, say the second did not emerge, and compare both
/// at their last common step.
@Suite(.serialized) struct FormsTests {
    static func directStudy(_ dir: String) throws {
        let fm = FileManager.default
        for path in [dir + "/study.json"] where fm.fileExists(atPath: path) { try rename(path) }
        for run in try fm.contentsOfDirectory(atPath: dir).sorted() where run.hasPrefix("d16-") {
            let runDir = dir + "/" + run
            try rename(runDir + "/run.json")
            try rename(runDir + "/metrics.jsonl")
            for file in try fm.contentsOfDirectory(atPath: runDir + "/items").sorted() {
                var c = try ItemsFile.read(runDir + "/items/" + file)
                for j in c.tables.indices where c.tables[j].task == "multistep_pad" { c.tables[j].task = "multistep" }
                try ItemsFile.write(c, to: runDir + "/items/" + file)
            }
        }
    }

    static func rename(_ path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "multistep_pad", with: "multistep").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func theScratchpadEmergesAndTheDirectFormIsSaidNotTo() throws {
        let (tempA, pad) = try ReportTests.copy()
        let (tempB, direct) = try ReportTests.copy()
        _ = (tempA, tempB)
        try ReportTests.plant(pad, onset: ReportTests.lagged)
        try ReportTests.plant(direct, onset: { task, i in task == "multistep_pad" ? 99 : ReportTests.lagged(task, i) })
        try Self.directStudy(direct)
        let directData = try StudyData.load(direct)
        #expect(directData.composite == "multistep")

        // The report of the direct study, compared with the scratchpad study.
        let out = try ReportBuilder.build(directData, options: ReportOptions(settings: ReportTests.settings, compare: try StudyData.load(pad)))
        let forms = try #require(out.report.analyses.forms)
        #expect(forms.forms.map(\.form) == ["scratchpad", "direct"])
        #expect(forms.matchedStep == 60)
        let scratch = forms.forms[0], dir = forms.forms[1]
        let t50 = try #require(scratch.onsets[0].t50)
        #expect(t50.step > 20 && t50.step <= 60, "planted between steps 20 and 60: \(t50.step)")
        #expect(scratch.onsets[0].final.point == 1)
        #expect(scratch.atMatchedStep[0] == scratch.onsets[0].final, "the matched step is the last: the same estimate")
        #expect(dir.onsets[0].times == nil)
        #expect(dir.onsets[0].final.point == 0)
        #expect(out.markdown.contains("**The direct form did not emerge** within its budget: no size's rise is resolved after 60 steps (sizes d16, 2 seeds per size at the fewest)."))
        let rows = try #require(out.report.table("forms")).rows
        #expect(rows.count == 2 && rows[1][0] == "direct" && rows[1][6] == "no onset")
        #expect(!out.report.missing.contains { $0.contains("plan section 8") })
        let figure = try #require(out.figures.first { $0.path == "figures/forms-em.svg" })
        #expect(figure.svg.contains("d16 scratchpad") && figure.svg.contains("d16 direct"))
        #expect(scratch.curves[0].last == 1 && dir.curves[0].allSatisfy { $0 == 0 }, "mean curves from the planted items")
    }

    @Test func aStudyComparedWithItsOwnFormIsNotComputedAndSaidSo() throws {
        let (temp, pad) = try ReportTests.copy()
        _ = temp
        try ReportTests.plant(pad, onset: ReportTests.lagged)
        let data = try StudyData.load(pad)
        let out = try ReportBuilder.build(data, options: ReportOptions(settings: ReportTests.settings, compare: data))
        #expect(out.report.analyses.forms == nil)
        #expect(out.report.missing.contains { $0.contains("plan section 8") && $0.contains("trains the same form") })
        let alone = try ReportBuilder.build(data, options: ReportOptions(settings: ReportTests.settings))
        #expect(alone.report.missing.contains { $0.contains("plan section 8") && $0.contains("--compare") })
    }

    @Test func aCurveCutAtAStepEndsThere() throws {
        let t = TaskOutcomes(group: "g", task: "x", metric: .exactMatch, steps: [0, 10, 100], chance: 0,
                             runs: [RunOutcomes(seed: 1, values: [[0, 1, 1], [0, 0, 1]])])
        let cut = try #require(t.through(step: 10))
        #expect(cut.steps == [0, 10] && cut.runs[0].values == [[0, 1], [0, 0]])
        #expect(t.through(step: 50) == nil)
    }
}
