import ArgumentParser
import Foundation
import Probing
import Runs
import Tensors

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Fit the linear probes of a spec on activation files: one per checkpoint, hook and position.",
        discussion: """
        Reports test accuracy (R² for ridge) with a bootstrap interval, the majority baseline, the same
        probe on the run's step-0 checkpoint, the control task and selectivity (Hewitt & Liang 2019).
        --activations takes files or directories (a run's activations/, or a whole study).
        Writes <out>/<name>.json (every number, the train/test indices, hyper-parameters), <name>.md and SVG figures.
          lens probe --spec Probes/intermediate.yaml --activations runs/default
          lens probe --spec Probes/borrow.yaml --activations runs/default/base-s1/activations/step_004000.h5 --json
        Spec format: see Probes/README.md.
        """)

    @Option(help: "Probe spec (YAML).") var spec: String
    @Option(parsing: .upToNextOption, help: "Activation files or directories.") var activations: [String]
    @Option(help: "Output directory for JSON, markdown and SVG.") var out = "probes-out"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkPaths([(spec, "--spec"), (out, "--out")] + activations.map { ($0, "--activations") })
    }

    func run() throws {
        common.apply()
        let spec = try ProbeSpec.load(path: self.spec)
        try AtomicFile.createDirectory(out)   // before the fits, so an unusable --out fails at once
        let files = try ProbeJob.files(activations)
        let progress = ProgressReporter()
        var report = try ProbeJob.run(spec, files: files) { progress.update("probe \(spec.name)", done: $0, total: $1) }
        let md = report.markdown()
        let figures = try ProbeOutput(directory: out, probe: spec.name).write { () throws -> Int in
            try ProbeDirectionsFile.write(&report.cells, kind: spec.kind, to: ProbeDirectionsFile.path(outDir: out, probe: spec.name))
            let json = try JSONOut.encoder.encode(report)
            let figures = try report.writeFigures(into: out)
            try AtomicFile.write(Data(md.utf8), to: out + "/\(spec.name).md")
            try AtomicFile.write(json, to: out + "/\(spec.name).json")
            return figures
        }
        if common.json { print(String(decoding: try JSONOut.encoder.encode(report), as: UTF8.self)) } else {
            print(md)
            print("wrote \(out)/\(spec.name).json, \(out)/\(spec.name).md, \(figures) figures (heat maps under \(out)/\(spec.name)/heatmaps/) "
                  + "and the probes in activation space (\(ProbeDirectionsFile.path(outDir: out, probe: spec.name)))")
        }
    }
}
