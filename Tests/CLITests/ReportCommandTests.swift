import Foundation
import Testing
import TestSupport

/// `lens report` from the command line: on the CLI fixture's trained study it writes REPORT.md,
/// REPORT.json and figures; with --no-provenance a rerun is byte-identical; --json prints the JSON it
/// wrote; a directory without runs is one error line naming it. (The report's numbers and verdicts are
/// checked in FindingsTests/ReportTests on planted outcomes.)
@Suite(.serialized) struct ReportCommandTests {
    @Test func aStudyGivesTheSameReportTwice() throws {
        let dir = try CLIConventionTests.fixture.get().root
        let out = dir + "/report"
        let args = ["report", "--study", dir + "/runs", "--resamples", "50", "--no-provenance"]
        let a = try CLIConventionTests.lens(args + ["--out", out + "/a/REPORT.md"])
        #expect(a.status == 0, "\(a.err)")
        #expect(a.out.contains("compositionality (ordering of onsets):") && a.out.contains("wrote "))
        let b = try CLIConventionTests.lens(args + ["--out", out + "/b/REPORT.md", "--json"])
        #expect(b.status == 0, "\(b.err)")
        let first = filesBelow(out + "/a"), second = filesBelow(out + "/b")
        #expect(!first.isEmpty && first == second)
        #expect(first.keys.contains("REPORT.md") && first.keys.contains("REPORT.json") && first.keys.contains { $0.hasPrefix("figures/") })
        #expect(Data((b.out.trimmingCharacters(in: .newlines)).utf8) == first["REPORT.json"].map { Data(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .newlines).utf8) })
        let md = String(decoding: first["REPORT.md"]!, as: UTF8.self)
        #expect(md.contains("provenance omitted (`--no-provenance`)") && md.contains("## 3. Onsets"))
        // With provenance: the command and the machine are recorded.
        let c = try CLIConventionTests.lens(["report", "--study", dir + "/runs", "--resamples", "50", "--out", out + "/c/REPORT.md"])
        #expect(c.status == 0, "\(c.err)")
        let withProvenance = try String(contentsOfFile: out + "/c/REPORT.md", encoding: .utf8)
        #expect(withProvenance.contains("- command: `") && withProvenance.contains("cores"))
    }

    @Test func aDirectoryWithoutRunsIsOneErrorLine() throws {
        let temp = try TempDir("report-empty")
        let r = try CLIConventionTests.lens(["report", "--study", temp.root])
        #expect(r.status != 0)
        #expect(r.err == "Error: \(temp.root): no runs (no subdirectory with a run.json); train the study first (lens study or lens sweep)\n")
        let missing = try CLIConventionTests.lens(["report", "--study", temp.path("nowhere")])
        #expect(missing.status != 0 && missing.err.hasSuffix("no such study directory\n"))
    }

    @Test func helpTeachesWithExamples() throws {
        let r = try CLIConventionTests.lens(["report", "--help"])
        #expect(r.status == 0 && r.out.contains("lens report --study runs/default") && r.out.contains("--no-provenance"))
    }
}
