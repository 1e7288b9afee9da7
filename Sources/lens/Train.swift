import ArgumentParser
import Foundation
import Runs

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one run (one model size and seed of a study), resuming if its directory has checkpoints.",
        discussion: """
        The run is the study's entry for --model and --seed (defaults: the first of each); its files are
        <out>/run.json, <out>/checkpoints/step_NNNNNN.safetensors, <out>/metrics.jsonl and each held-out
        item's outcome per checkpoint in <out>/items/step_NNNNNN.h5 (docs/ITEMS.md).
          lens train --model base --seed 2 --out runs/base-s2
          lens train --study my.yaml --model d32 --out runs/d32
        """)

    @Option(help: "Study file (YAML); default: the embedded default study.") var study: String?
    @Option(help: "Model size name from the study.") var model: String?
    @Option(help: "Seed from the study's list (or any other).") var seed: UInt64?
    @Option(help: "Run directory (default: runs/<study>/<run>).") var out: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkPaths([(study, "--study"), (out, "--out")])
    }

    func run() throws {
        common.apply()
        var spec = try study.map { try StudySpec.load(path: $0) } ?? DefaultStudy.spec()
        if let model {
            guard let size = spec.models.first(where: { $0.name == model }) else {
                throw ValidationError("no model \"\(model)\" in the study (have: \(spec.models.map(\.name).joined(separator: ", ")))")
            }
            spec.models = [size]
        } else { spec.models = [spec.models[0]] }
        spec.seeds = [seed ?? spec.seeds[0]]
        let runSpec = try spec.runs()[0]
        let dir = out ?? "runs/\(spec.name)/\(runSpec.name)"
        let run = TrainingRun(spec: runSpec, dir: dir)
        let board = ProgressBoard(runs: [runSpec.name])
        try run.run(progress: board.update)
        let last = run.readMetrics().last
        if common.json {
            try JSONOut.print(last)
        } else {
            print("\(runSpec.name): \(dir), step \(last?.step ?? 0)")
            for (task, m) in (last?.tasks ?? [:]).sorted(by: { $0.key < $1.key }) {
                print(String(format: "  %-14@ exact %.3f  token acc %.3f  log-prob %.2f  chance %.3f", task as NSString,
                             m.exactMatch, m.tokenAccuracy, m.meanAnswerLogProb, m.chanceExactMatch))
            }
        }
    }
}
