import Foundation
import Probing
import Tensors
import Transformer

// The causal test SCIENCE.md pairs with every probe: does the model use what the probe reads? At one hook
// and one position, the component of the activation inside the probe's subspace (the span of its weight
// rows in activation space, `lens probe`'s directions.h5) is
//   ablated in the clean run:   x <- x - P (x - mean over pairs)   (does the decision need it?)
//   patched into the corrupted: x <- x + P (x_clean - x)           (is it enough to restore the decision?)
// and the same is done along random subspaces of the same dimension, so that an effect is read against
// what any subspace of that size would do.

/// One probe's subspace tested at one checkpoint and layout.
public struct ProbeDirectionRecord: Sendable, Codable, Equatable {
    public var probe: String
    public var hook: String
    public var position: String
    public var dimensions: Int
    /// Share of the clean-corrupted difference removed by ablating the probe's subspace in the clean run,
    /// and the same for random subspaces (mean and 2.5 / 97.5 percentiles over `randomDraws` draws).
    public var ablateEffect: Double?
    public var ablateRandom: [Double?]
    /// Share restored by patching the clean run's component into the corrupted run; random likewise.
    public var patchEffect: Double?
    public var patchRandom: [Double?]
    public var randomDraws: Int

    enum CodingKeys: String, CodingKey {
        case probe, hook, position, dimensions, ablateEffect = "ablate_effect", ablateRandom = "ablate_random",
             patchEffect = "patch_effect", patchRandom = "patch_random", randomDraws = "random_draws"
    }
}

/// Where to find a probe's directions: `lens probe --out DIR` wrote DIR/<probe>.json and DIR/<probe>/directions.h5.
public struct ProbeDirectionSource: Sendable {
    public let directory: String
    public let probe: String
    let report: ProbeReport

    public init(directory: String, probe: String) throws {
        let path = directory + "/\(probe).json"
        let data: Data
        do { data = try InputFile.read(path, atMost: 1 << 30) } catch { throw PatchSpecError(file: path, problem: error.problem) }
        do { report = try JSONDecoder().decode(ProbeReport.self, from: data) }
        catch { throw PatchSpecError(file: path, problem: "not a lens probe result (\(error.localizedDescription))") }
        self.directory = directory
        self.probe = probe
    }

    /// The probe's cells of one run and step: (hook, position, directions).
    func cells(run: String, step: Int) throws -> [(hook: String, position: String, directions: ProbeDirections)] {
        try report.cells.filter { $0.run == run && $0.step == step }.compactMap { c in
            guard let dataset = c.directionsDataset else { return nil }
            return (c.hook, c.position, try ProbeDirectionsFile.read(path: ProbeDirectionsFile.path(outDir: directory, probe: probe), dataset: dataset))
        }
    }
}

extension PatchRuns {
    /// The probe-subspace test at `hook` and position `p` (every pair's row p).
    // directions: outputs x d; randomDraws subspaces of the same dimension from `seed`.
    func probeDirectionTest(_ directions: ProbeDirections, hook: String, position p: Int, randomDraws: Int,
                            seed: UInt64) throws -> (ablate: Double?, ablateRandom: [Double], patch: Double?, patchRandom: [Double], dims: Int) {
        let d = directions.d
        let basis = orthonormalRows(directions.weights, rows: directions.outputs, d: d)
        guard !basis.isEmpty, HookPoints.shape(hook, model.config, batch: 1, length: pairs.length)?.last == d else {
            throw PatchSpecError(file: hook, problem: "the probe's width \(d) is not the width of \(hook) in this model")
        }
        let clean = mean(self.clean), corrupted = mean(self.corrupted), difference = clean - corrupted
        let cleanAct = state(.clean).activation(hook)!, corruptedAct = state(.corrupted).activation(hook)!
        let N = pairs.count, T = pairs.length
        // The mean over pairs at position p: what an ablated component is set to.
        var sum = [Float](repeating: 0, count: d)
        for i in 0..<N { for j in 0..<d { sum[j] += cleanAct.data[(i * T + p) * d + j] / Float(N) } }
        let centre = sum

        func run(_ base: PatchRun, _ basis: [[Float]]) throws -> Double {
            var plan = HookPlan()
            let source = base == .clean ? cleanAct : corruptedAct
            plan.intervene(hook, Intervention { _, a throws(ModelError) in
                for i in 0..<N {
                    let row = (i * T + p) * d
                    // The vector whose subspace component is added: -(x - centre) to ablate, x_clean - x to patch.
                    var delta = [Float](repeating: 0, count: d)
                    for j in 0..<d {
                        delta[j] = base == .clean ? centre[j] - source.data[row + j] : cleanAct.data[row + j] - source.data[row + j]
                    }
                    for b in basis {
                        var dot: Float = 0
                        for j in 0..<d { dot += b[j] * delta[j] }
                        for j in 0..<d { a.data[row + j] += dot * b[j] }
                    }
                }
            })
            let out = try model.forward(tokens: pairs.tokens(base), batch: N, length: T, plan: plan)
            return mean(metrics(logits: out.logits.data, firstRow: 0))
        }
        var rng = RNG(seed: seed)
        var ablateRandom: [Double] = [], patchRandom: [Double] = []
        for _ in 0..<randomDraws {
            let random = orthonormalRows((0..<(basis.count * d)).map { _ in Double(rng.normal()) }, rows: basis.count, d: d)
            ablateRandom.append((clean - (try run(.clean, random))) / difference)
            patchRandom.append(((try run(.corrupted, random)) - corrupted) / difference)
        }
        return ((clean - (try run(.clean, basis))) / difference, ablateRandom, ((try run(.corrupted, basis)) - corrupted) / difference,
                patchRandom, basis.count)
    }
}

/// Gram-Schmidt on the rows of a rows x d matrix; rows dependent on earlier ones are left out.
func orthonormalRows(_ m: [Double], rows: Int, d: Int) -> [[Float]] {
    var basis: [[Double]] = []
    for r in 0..<rows {
        var v = Array(m[(r * d)..<((r + 1) * d)])
        for b in basis {
            let dot = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }
            for j in 0..<d { v[j] -= dot * b[j] }
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let scale = Array(m[(r * d)..<((r + 1) * d)]).reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 1e-8 * max(scale, 1e-30) else { continue }
        basis.append(v.map { $0 / norm })
    }
    return basis.map { $0.map(Float.init) }
}
