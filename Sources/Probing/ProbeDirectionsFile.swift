import Foundation
import HDF5
import Tensors

/// `<out>/<probe>/directions.h5`: every cell's probe in activation space, for causal tests along it
/// (`lens patch` ablates or patches the component of an activation along a probe's directions).
///
///     /cells/<i>/weights      float64 [outputs, d]   decision = weights · x + intercepts on raw activations
///     /cells/<i>/intercepts   float64 [outputs]
///     attributes of /cells/<i>: run, step, hook, position, kind
///
/// `<i>` is the cell's index in the probe's JSON, whose `directions_dataset` names the group. Written to a
/// temporary name and renamed, like every other output.
public enum ProbeDirectionsFile {
    public static func path(outDir: String, probe: String) -> String { "\(outDir)/\(probe)/directions.h5" }

    /// Writes the directions of `cells` and sets each cell's `directionsDataset`.
    public static func write(_ cells: inout [ProbeCell], kind: ProbeKind, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let partial = AtomicFile.temporaryPath(for: path)
        do {
            let file = try H5File.create(partial)
            let root = try file.createGroup("cells")
            for i in cells.indices {
                guard let dir = cells[i].directions else { continue }
                let g = try root.createGroup(String(i))
                let w = try g.createDataset("weights", dtype: .float64, shape: [dir.outputs, dir.d])
                try w.write(rows: 0..<dir.outputs, dir.weights)
                let b = try g.createDataset("intercepts", dtype: .float64, shape: [dir.outputs])
                try b.write(rows: 0..<dir.outputs, dir.intercepts)
                for (name, value) in [("run", cells[i].run), ("hook", cells[i].hook), ("position", cells[i].position),
                                      ("kind", kind.rawValue)] {
                    try g.setAttribute(name, .string(value))
                }
                try g.setAttribute("step", .int64(Int64(cells[i].step)))
                w.close(); b.close(); g.close()
                cells[i].directionsDataset = "/cells/\(i)"
            }
            root.close()
            try file.close()
        } catch {
            unlink(partial)
            throw error
        }
        if rename(partial, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw ProbeSpecError(file: path, problem: "cannot rename the written file into place: \(reason)")
        }
    }

    /// Reads one cell's directions back, checking their shapes agree.
    public static func read(path: String, dataset: String) throws -> ProbeDirections {
        let file = try H5File.openReadOnly(path)
        defer { try? file.close() }
        let w = try file.openDataset(dataset + "/weights"), b = try file.openDataset(dataset + "/intercepts")
        let ws = try w.shape(), bs = try b.shape()
        guard ws.count == 2, bs.count == 1, ws[0] == bs[0], ws[0] > 0, ws[1] > 0 else {
            throw ProbeSpecError(file: path, problem: "\(dataset): weights \(ws) and intercepts \(bs) do not form a probe")
        }
        let weights: [Double] = try w.readAll(), intercepts: [Double] = try b.readAll()
        guard weights.allSatisfy(\.isFinite), intercepts.allSatisfy(\.isFinite) else {
            throw ProbeSpecError(file: path, problem: "\(dataset): non-finite probe weights")
        }
        return ProbeDirections(weights: weights, intercepts: intercepts, d: ws[1])
    }
}
