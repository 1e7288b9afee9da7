import Foundation
import Runs
import Skills

// Builds the report of a loaded study by docs/ANALYSIS-PLAN.md: setup, curves, onsets, the tests of
// sections 3-6 and the verdict lines of section 9. Pure: no clock, no environment, so the same study and
// options give the same bytes (provenance is passed in).

public enum ReportBuilder {
    static let metrics: [Metric] = [.exactMatch, .tokenAccuracy, .logProb, .editDistance]

    public static func build(_ data: StudyData, options: ReportOptions = .init()) throws -> ReportOutput {
        var b = Builder(data: data, options: options)
        try b.run()
        let report = Report(study: data.runs[0].spec.study, composite: data.composite, subSkills: data.subSkills,
                            resamples: options.settings.resamples, provenance: options.provenance, studyJSON: data.studyJSON,
                            notes: data.notes, missing: b.missing, tables: b.tables, figures: b.figures.map(\.path),
                            analyses: b.analyses, verdicts: b.verdicts)
        return ReportOutput(report: report, markdown: ReportMarkdown.render(report, sections: b.sections), figures: b.figures)
    }
}

/// One markdown section: its heading, prose and the ids of its tables and figures, in order.
struct ReportSection {
    var heading: String
    var blocks: [Block]
    enum Block { case text(String), table(String), figure(String, String) }
}

struct Builder {
    let data: StudyData
    let options: ReportOptions
    var tables: [ReportTable] = []
    var figures: [(path: String, svg: String)] = []
    var sections: [ReportSection] = []
    var missing: [String] = []
    var analyses = ReportAnalyses()
    var verdicts: [VerdictLine] = []
    var settings: BootstrapSettings { options.settings }

    init(data: StudyData, options: ReportOptions) {
        self.data = data
        self.options = options
    }

    /// Sizes with item outcomes for the composite (the groups of sections 3-6).
    var itemSizes: [String] { data.sizes.filter { s in data.runs(ofSize: s).contains(where: \.hasItems) } }

    mutating func run() throws {
        setup()
        curves()
        onsets()
        categoryLags()
        emergence()
        ordering()
        multiplicative()
        mirage()
        hiddenProgress()
        forms()
        circuits()
        verdictLines()
    }

    // MARK: Groups

    /// EM composite groups of sizes whose composite and sub-skills have items.
    func compositeGroups() -> [CompositeGroup] {
        guard let c = data.composite else { return [] }
        return itemSizes.compactMap { size in
            guard let comp = data.outcomes(size: size, task: c, metric: .exactMatch) else { return nil }
            let subs = data.subSkills.compactMap { data.outcomes(size: size, task: $0, metric: .exactMatch) }
                .filter { $0.seeds == comp.seeds && $0.steps == comp.steps }
            return subs.isEmpty ? nil : CompositeGroup(composite: comp, subSkills: subs)
        }
    }
}
