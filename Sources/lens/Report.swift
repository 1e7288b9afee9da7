import ArgumentParser
import Findings
import Foundation
import Tensors

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The findings report of a study: setup, emergence curves, onsets and the verdicts of docs/ANALYSIS-PLAN.md.",
        discussion: """
        Reads a study directory (CONTRACTS section 8: <study>/<run>/run.json, metrics.jsonl and items/step_NNNNNN.h5,
        the held-out items' outcomes at every checkpoint) and writes REPORT.md, REPORT.json (the same tables cell for
        cell, and the analyses behind them) and figures/*.svg beside it. Every definition, threshold and verdict rule
        is the committed plan's (docs/ANALYSIS-PLAN.md): onsets (t50 with a bootstrap interval over seeds and items,
        width t10 -> t90), emergence over scale and training, the ordering of sub-skill and composite onsets, the
        multiplicative fit against the no-lag prediction, the mirage check, and one verdict line per hypothesis with
        its threats to validity. Curves come from metrics.jsonl; everything with an interval needs item outcomes, so a
        run without items/ (trained before they existed) is drawn but left out of the tests, and the report says so.
        Every table cites the files and fields it came from. The same study gives the same bytes; provenance (command,
        git commit, machine) is the only part that varies, and --no-provenance leaves it out.
          lens report --study runs/default
          lens report --study runs/default --out /tmp/r/REPORT.md --resamples 200
          lens report --study runs/default --json | jq '.verdicts[] | [.hypothesis, .verdict]'
          lens report --study runs/cot --compare runs/default     # adds the direct answer against the scratchpad (plan section 8)
        """)

    @Option(help: "The study directory (with one subdirectory per run).") var study: String
    @Option(help: "Where to write the markdown (default: <study>/REPORT.md); REPORT.json and figures/ go beside it.") var out: String?
    @Option(help: "A study of the composite's other form (the default study's scratchpad for the cot study's direct answer, or the other way round): adds plan section 8's comparison.")
    var compare: String?
    @Option(help: "Bootstrap resamples per interval (the plan fixes 1000; fewer only for quick looks).") var resamples = 1000
    @Flag(help: "Leave out the command, git commit and machine, so two reports of the same study are byte-identical.")
    var noProvenance = false
    @Flag(help: "Print REPORT.json on stdout instead of the summary.") var json = false

    func validate() throws {
        try checkPaths([(study, "--study"), (out, "--out"), (compare, "--compare")])
        try checkRange(resamples, 20...100_000, flag: "--resamples")
    }

    func run() throws {
        let data = try StudyData.load(study)
        let mdPath = out ?? (study + "/REPORT.md")
        let dir = (mdPath as NSString).deletingLastPathComponent.isEmpty ? "." : (mdPath as NSString).deletingLastPathComponent
        let jsonPath = ((mdPath as NSString).deletingPathExtension) + ".json"
        let options = ReportOptions(settings: BootstrapSettings(resamples: resamples), provenance: noProvenance ? nil : Self.provenance(),
                                    compare: try compare.map(StudyData.load))
        let output = try ReportBuilder.build(data, options: options)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in output.figures {
            let path = dir + "/" + f.path
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try AtomicFile.write(Data(f.svg.utf8), to: path)
        }
        let json = try output.json()
        try AtomicFile.write(json, to: jsonPath)
        try AtomicFile.write(Data(output.markdown.utf8), to: mdPath)
        if self.json {
            print(String(decoding: json, as: UTF8.self))
        } else {
            for note in data.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            for v in output.report.verdicts { print("\(v.hypothesis): \(v.verdict)") }
            print("wrote \(mdPath), \(jsonPath) and \(output.figures.count) figures in \(dir)/figures")
        }
    }

    /// The command line, the commit `lens` was built from and the plan's last commit at that build
    /// (both embedded by Plugins/BuildInfo; `-dirty` when tracked files differed), `uname -a` and the
    /// core count.
    static func provenance() -> Provenance {
        let command = CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        return Provenance(command: command, lensCommit: BuildInfo.commit, planCommit: BuildInfo.planCommit,
                          machine: shell(["uname", "-a"]) ?? "unknown", cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    static func shell(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
