import CircuitRecords
import Foundation
@testable import Findings
import Testing
import TestSupport

/// The report's circuit section, from a hand-made circuits/circuits.json planted in a trained study: the
/// section comes before the verdicts, its table cells are the record's numbers, its text states the steps
/// measured, where exact patching ran and each model's graph, and the circuit verdict follows plan section 12.
@Suite struct ReportCircuitsTests {
    @Test func theCircuitSectionReadsCircuitsJSON() throws {
        let (temp, dir) = try ReportTests.copy()
        _ = temp
        try ReportTests.plant(dir, onset: ReportTests.lagged)
        var composite = CircuitHypothesisTests.record("comp", task: "multistep_pad", run: "d16-s3", formed: 7000)
        let sub = CircuitHypothesisTests.record("sub", task: "sub", run: "d16-s3", formed: 1000)
        // exact patching at the last step only; the text must say so, not assume it
        let exact = MethodRecord(method: "exact", file: "d16-s3/comp/answer/step_7000/exact.json", curve: nil,
                                 circuit: CircuitSummary(edges: 5, nodes: 4, edgeNames: ["a", "b", "c", "d", "e"], nodeNames: ["input", "a0.h0", "m0", "logits"],
                                                         faithfulness: CircuitHypothesisTests.faith(0.85), completeness: nil, minimality: nil, figure: nil))
        composite.decisions[0].steps[2].methods.append(exact)
        composite.decisions[0].steps[2].agreement = [ScoreAgreement(method: "eap-ig", spearman: 0.7, auc: 0.93, positives: 5),
                                                     ScoreAgreement(method: "eap", spearman: nil, auc: 0.5, positives: 5)]
        let study = CircuitStudyRecord(records: [composite, sub], overlaps: [CircuitHypothesisTests.overlap("sub", share: 0.6, null95: 0.3, run: "d16-s3")])
        try FileManager.default.createDirectory(atPath: dir + "/circuits", withIntermediateDirectories: true)
        try JSONEncoder().encode(study).write(to: URL(fileURLWithPath: dir + "/circuits/circuits.json"))

        let out = try ReportBuilder.build(try StudyData.load(dir), options: ReportOptions(settings: ReportTests.settings))
        let md = out.markdown
        let circuits = try #require(md.range(of: "## 9. Circuits (plan section 12)"))
        let verdicts = try #require(md.range(of: "## 10. Verdicts"))
        #expect(circuits.lowerBound < verdicts.lowerBound)
        #expect(md.contains("Exact edge patching and ACDC (tau 0.02) ran at step(s) 7000"))
        #expect(md.contains("Circuits were measured at steps 0, 1000, 7000"))
        #expect(md.contains("Graphs: m: 20 nodes, 310 edges."))
        let table = try #require(out.report.tables.first { $0.id == "circuits" })
        #expect(table.rows.count == 2)
        let row = try #require(table.rows.first { $0[1] == "comp/answer" })
        // faith(0.9) is 0.9 [0.85, 0.95]; the exact circuit's 0.85 [0.8, 0.9]
        #expect(row[4] == "3 e, F 0.9 [0.85, 0.95]", "\(row)")
        #expect(row[5] == "5 e, F 0.85 [0.8, 0.9]", "\(row)")
        #expect(row[7] == "eap-ig ρ 0.7, AUC 0.93; eap ρ undefined, AUC 0.5", "\(row)")
        #expect(row[8] == "7000")
        let subRow = try #require(table.rows.first { $0[1] == "sub/answer" })
        #expect(subRow[5] == "-" && subRow[8] == "1000", "\(subRow)")
        // reuse beyond the null and formed after the sub-skill: supported (CircuitHypothesisTests checks the rule itself)
        let line = try #require(out.report.verdicts.first { $0.hypothesis.contains("circuit") })
        #expect(line.verdict == "supported", "\(line)")
    }

    /// A circuits.json written before the selection was recorded reads as top-n, its only selection then.
    @Test func settingsWithoutASelectionAreTopN() throws {
        let old = #"{"circuitMethod":"eap-ig","completenessSubsets":20,"igSteps":5,"minimalityFraction":0.01,"resamples":1000,"seed":0,"target":0.8,"tau":0.02}"#
        let s = try JSONDecoder().decode(CircuitSettings.self, from: Data(old.utf8))
        #expect(s == CircuitSettings())
        let greedy = CircuitSettings(selection: "greedy")
        #expect(try JSONDecoder().decode(CircuitSettings.self, from: try JSONEncoder().encode(greedy)) == greedy)
    }
}
