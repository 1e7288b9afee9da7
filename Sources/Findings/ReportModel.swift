import Foundation

// What `lens report` writes, as data: REPORT.json is this structure (keys sorted), and REPORT.md renders
// it. Every table of the markdown is a `ReportTable` here with the same cell strings, so a number in the
// report is found in the JSON by its table and cell, and its `source` names the file and field it came from.

/// One table of the report, exactly as printed (cells are the markdown's strings).
public struct ReportTable: Sendable, Codable, Equatable {
    /// Stable identifier, e.g. "onsets" (the markdown's table anchor).
    public var id: String
    public var title: String
    /// The footnote: files and fields every cell comes from.
    public var source: String
    public var columns: [String]
    public var rows: [[String]]
}

/// One line of plan section 9.
public struct VerdictLine: Sendable, Codable, Equatable {
    public var hypothesis: String
    /// The plan section that decides it.
    public var section: String
    /// supported / not supported / inconclusive / not measured.
    public var verdict: String
    public var because: String
    public var numbers: [DecidingNumber]
    public var caveats: [String]
}

/// What the report records about how it was made (omitted with --no-provenance, so tests compare bytes).
public struct Provenance: Sendable, Codable, Equatable {
    public var command: String
    public var lensCommit: String
    public var planCommit: String
    public var machine: String
    public var cores: Int

    public init(command: String, lensCommit: String, planCommit: String, machine: String, cores: Int) {
        self.command = command; self.lensCommit = lensCommit; self.planCommit = planCommit
        self.machine = machine; self.cores = cores
    }
}

public struct ReportOptions: Sendable {
    public var settings: BootstrapSettings
    public var provenance: Provenance?
    /// Where figures go, relative to the markdown (written by the caller).
    public var figuresDirectory: String
    /// A study of the composite's other form (plan section 8: direct answer against scratchpad).
    public var compare: StudyData?

    public init(settings: BootstrapSettings = .init(), provenance: Provenance? = nil, figuresDirectory: String = "figures",
                compare: StudyData? = nil) {
        self.settings = settings
        self.provenance = provenance
        self.figuresDirectory = figuresDirectory
        self.compare = compare
    }
}

/// The structured analyses behind the tables (the plan's own types, encoded as they are).
public struct ReportAnalyses: Sendable, Codable, Equatable {
    public var onsets: [OnsetReport] = []
    public var emergenceOverScale: [String: Decision] = [:]
    public var emergenceOverTraining: [String: Decision] = [:]
    public var ordering: OrderingReport?
    public var mirage: MirageReport?
    public var multiplicative: MultiplicativeReport?
    public var noLag: NoLagReport?
    /// Per run (plan section 7), and combined over runs as sections 5 and 6 combine sizes.
    public var hiddenProgress: [String: HiddenProgressReport] = [:]
    public var hiddenProgressVerdict: Decision?
    /// Plan section 8, when a study of the other form was given.
    public var forms: FormComparison?
    /// Plan section 12, when the study has circuits/circuits.json.
    public var circuits: CircuitHypothesisReport?
}

public struct Report: Sendable, Codable, Equatable {
    public var format = "emergence-lens.report/1"
    public var study: String
    public var composite: String?
    public var subSkills: [String]
    public var plan = "docs/ANALYSIS-PLAN.md"
    public var resamples: Int
    public var provenance: Provenance?
    /// study.json verbatim (nil when absent).
    public var studyJSON: String?
    /// One line per input problem (runs left out, runs without items...).
    public var notes: [String]
    /// Sections that are not written, with the reason (missing input or not implemented).
    public var missing: [String]
    public var tables: [ReportTable]
    /// Figure files, relative to the report.
    public var figures: [String]
    public var analyses: ReportAnalyses
    public var verdicts: [VerdictLine]

    public func table(_ id: String) -> ReportTable? { tables.first { $0.id == id } }
}

/// Everything `lens report` writes.
public struct ReportOutput: Sendable {
    public var report: Report
    public var markdown: String
    /// Relative path (under the report's directory) -> SVG.
    public var figures: [(path: String, svg: String)]

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(report)
    }
}

// MARK: - Cells

/// A number in a table cell: 4 significant digits, the same rule as every verdict sentence (`fmt`).
func cell(_ x: Double?) -> String { fmt(x) }

/// A point with its interval, "0.95 [0.91, 0.98]".
func cell(_ e: Estimate) -> String {
    e.point == nil && !e.interval.isDefined ? "undefined" : "\(fmt(e.point)) \(fmt(e.interval))"
}

/// A size onset (its u is log10(parameters)) in parameters, `unit` after the point, then its interval.
func parametersCell(_ o: CrossingEstimate, unit: String = "") -> String {
    func n(_ u: Double) -> String { stepCell(pow(10, u).rounded()) }
    let interval = o.interval.low.flatMap { l in o.interval.high.map { h in " [\(n(l)), \(n(h))]" } } ?? " \(fmt(o.interval))"
    return n(o.u) + unit + interval
}

/// A step: whole steps are printed as integers, interpolated ones with 4 significant digits.
func stepCell(_ s: Double) -> String {
    s.rounded() == s && abs(s) < 1e15 ? String(Int(s)) : fmt(s)
}

func verdictWord(_ v: Verdict) -> String {
    switch v {
    case .supported: "supported"
    case .notSupported: "not supported"
    case .inconclusive: "inconclusive"
    case .precedes: "precedes"
    case .doesNotPrecede: "does not precede"
    case .cannotTell: "cannot tell"
    case .sharp: "sharp"
    case .gradual: "gradual"
    case .undetermined: "undetermined"
    }
}
