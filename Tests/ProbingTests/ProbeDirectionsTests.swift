import ActivationStore
import Foundation
import Testing
import TestSupport
import Transformer
@testable import Probing

/// The probe in activation space (what a causal test along a probe ablates or patches) scores exactly what
/// the probe scored: a ridge probe's R² and a multiclass probe's accuracy, recomputed from the raw
/// activations of the test rows and the stored directions alone. Written to HDF5, the directions read back
/// equal, and h5py reads the same weights.
@Suite(.serialized) struct ProbeDirectionsTests {
    @Test func directionsInActivationSpaceReproduceTheProbesScore() throws {
        let (run, acts) = try dumpedRun()
        defer { withExtendedLifetime(run) {} }   // the directory is removed when `run` goes
        let file = acts + "/step_004000.h5"
        let reader = try ActivationFileReader(path: file)
        defer { try? reader.close() }
        let position = try reader.position("step1_equals")
        let x = try reader.readHook("blocks.1.hook_resid_post", rows: 0..<reader.n, positions: position.map { max($0, 0) })
        let d = x.count / reader.n
        for (kind, target) in [("ridge", "intermediate"), ("multiclass", "answer_tens")] {
            let text = "name: \(target)\nquestion: q\ntarget: \(target)\nkind: \(kind)\nhooks: [blocks.1.hook_resid_post]\n"
                + "positions: [step1_equals]\ntasks: [multistep_pad]\nl2: [1]\ncontrol: false\n"
            let spec = try ProbeSpec.parse(text, file: "p.yaml")
            var report = try ProbeJob.run(spec, files: [file])
            let index = try #require(report.cells.firstIndex { $0.step == 4000 })
            let cell = report.cells[index]
            let dir = try #require(cell.directions)
            let truth = try reader.label(target).floats
            let decisions = cell.testRows.map { r in dir.decision(Array(x.data[r * d ..< (r + 1) * d])) }
            if kind == "ridge" {
                let r2 = Metrics.r2(truth: cell.testRows.map { Double(truth[$0]) }, predicted: decisions.map { $0[0] },
                                    positions: Array(cell.testRows.indices))
                #expect(abs(r2 - cell.result.score) < 1e-9, "R² from directions \(r2) vs probe \(cell.result.score)")
                #expect(cell.result.score > 0.3, "a probe worth checking (R² \(cell.result.score))")
            } else {
                let predicted = decisions.map { z in cell.result.classes[z.indices.max { z[$0] < z[$1] }!] }
                let hits = zip(predicted, cell.testRows).filter { $0 == Int32(truth[$1]) }.count
                let accuracy = Double(hits) / Double(cell.testRows.count)
                #expect(abs(accuracy - cell.result.score) < 1e-12, "accuracy from directions \(accuracy) vs probe \(cell.result.score)")
                #expect(dir.outputs == cell.result.classes.count && dir.d == d)
            }
            let out = run.path("directions-\(kind).h5")
            try ProbeDirectionsFile.write(&report.cells, kind: spec.kind, to: out)
            let dataset = try #require(report.cells[index].directionsDataset)
            #expect(try ProbeDirectionsFile.read(path: out, dataset: dataset) == dir)
            let script = "import h5py, sys; f = h5py.File(sys.argv[1], 'r'); w = f[sys.argv[2] + '/weights']; "
                + "print(w.shape[0], w.shape[1], repr(float(w[0, 0])), f[sys.argv[2]].attrs['hook'])"
            let py = try runPython(["-c", script, out, dataset])
            #expect(py.out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(dir.outputs) \(d) \(dir.weights[0]) blocks.1.hook_resid_post",
                    "\(py.out) \(py.err)")
            // The JSON names the dataset and does not carry the weights.
            let json = String(decoding: try JSONEncoder().encode(report.cells[index]), as: UTF8.self)
            #expect(json.contains("\"directionsDataset\":\"\\/cells\\/\(index)\"") && !json.contains("\"weights\""), "\(json.prefix(300))")
        }
    }
}
