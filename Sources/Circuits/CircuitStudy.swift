import CircuitRecords
import Foundation
import Figures
import Tensors

/// The circuit hypothesis across one run's experiments: each composite decision's circuit (a `multistep*`
/// task) against each sub-skill decision's, at the steps both were found. Jaccard indices leave out `input`
/// and `logits` (in every circuit); the mass share is the share of the composite's |score| (by the circuit
/// method) on the sub-skill circuit's edges, beside the same share for random edge sets of that size.
public enum CircuitOverlap {
    /// `graph(record, file)` reads a scored graph that `lens circuit` wrote.
    public static func overlaps(_ records: [CircuitRecord], draws: Int = 1000, seed: UInt64 = 0,
                                graph: (String) throws -> CircuitGraph) rethrows -> [OverlapRecord] {
        var out: [OverlapRecord] = []
        for run in Array(Set(records.map(\.run))).sorted() {
            let mine = records.filter { $0.run == run }
            for comp in mine where comp.isComposite {
                for cd in comp.decisions {
                    for sub in mine where !sub.isComposite {
                        for sd in sub.decisions {
                            out.append(try overlap(run: run, comp, cd, sub, sd, draws: draws, seed: seed, graph: graph))
                        }
                    }
                }
            }
        }
        return out
    }

    static func overlap(run: String, _ comp: CircuitRecord, _ cd: CircuitDecisionRecord, _ sub: CircuitRecord, _ sd: CircuitDecisionRecord,
                        draws: Int, seed: UInt64, graph: (String) throws -> CircuitGraph) rethrows -> OverlapRecord {
        let method = comp.settings.circuitMethod
        let steps = cd.steps.map(\.step).filter { s in sd.steps.contains { $0.step == s } }
        var r = OverlapRecord(run: run, composite: "\(comp.experiment)/\(cd.decision)", subskill: "\(sub.experiment)/\(sd.decision)",
                              steps: steps, edgeJaccard: [], nodeJaccard: [], massShare: [], massShareNullMean: [], massShareNull95: [])
        for step in steps {
            let a = cd.steps.first { $0.step == step }!.methods.first { $0.method == method }
            let b = sd.steps.first { $0.step == step }!.methods.first { $0.method == method }
            guard let a, let b, let ca = a.circuit, let cb = b.circuit else {
                r.edgeJaccard.append(nil); r.nodeJaccard.append(nil); r.massShare.append(nil)
                r.massShareNullMean.append(nil); r.massShareNull95.append(nil)
                continue
            }
            let ea = Set(ca.edgeNames), eb = Set(cb.edgeNames)
            let inner: (String) -> Bool = { $0 != "input" && $0 != "logits" }
            let na = Set(ca.nodeNames.filter(inner)), nb = Set(cb.nodeNames.filter(inner))
            r.edgeJaccard.append(jaccard(ea, eb)); r.nodeJaccard.append(jaccard(na, nb))
            let scored = try graph(a.file)
            let mass = scored.edges.map { abs(Double($0.score)) }, total = mass.reduce(0, +)
            guard total > 0 else { r.massShare.append(nil); r.massShareNullMean.append(nil); r.massShareNull95.append(nil); continue }
            let on = scored.edges.indices.filter { eb.contains(scored.edges[$0].name) }
            r.massShare.append(on.reduce(0.0) { $0 + mass[$1] } / total)
            var rng = RNG(seed: seed &+ UInt64(step))
            var null: [Double] = []
            var order = Array(mass.indices)
            for _ in 0..<draws {
                rng.shuffle(&order)
                null.append(order.prefix(eb.count).reduce(0.0) { $0 + mass[$1] } / total)
            }
            null.sort()
            r.massShareNullMean.append(null.reduce(0, +) / Double(draws))
            r.massShareNull95.append(Bootstrap.quantile(null, 0.95))
        }
        return r
    }

    static func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        let u = a.union(b).count
        return u == 0 ? 0 : Double(a.intersection(b).count) / Double(u)
    }
}

/// The figures of one decision over training, and of one run's overlaps.
public enum CircuitFigures {
    /// Faithfulness against edges kept, one line per method, at the last step with curves.
    public static func curves(_ r: CircuitRecord, _ d: CircuitDecisionRecord) -> String? {
        guard let step = d.steps.last(where: { $0.methods.contains { $0.curve != nil } }) else { return nil }
        let series = step.methods.compactMap { m in
            m.curve.map { LineSeries(name: m.method, x: $0.kept.map(Double.init), y: $0.faithfulness) }
        }
        return SVG.lineChart(LineChartSpec(title: "\(r.experiment) \(d.decision), \(r.run) step \(step.step): faithfulness of \(r.settings.selectionPhrase) circuits",
                                           xLabel: "edges kept (after pruning)", yLabel: "faithfulness", series: series, logX: true))
    }

    /// The last step's circuit evaluated at every step.
    public static func formation(_ r: CircuitRecord, _ d: CircuitDecisionRecord) -> String? {
        guard let f = d.formation else { return nil }
        let points = zip(f.steps, f.faithfulness).compactMap { s, v in v.map { (Double(max(s, 1)), $0) } }
        guard !points.isEmpty else { return nil }
        let target = LineSeries(name: "target \(r.settings.target)", x: [points.first!.0, points.last!.0],
                                y: [r.settings.target, r.settings.target], dashed: true)
        return SVG.lineChart(LineChartSpec(
            title: "\(r.experiment) \(d.decision), \(r.run): the step-\(f.circuitStep) circuit over training",
            xLabel: "training step (step 0 drawn at 1)", yLabel: "faithfulness",
            series: [LineSeries(name: "\(r.settings.circuitMethod) circuit", x: points.map(\.0), y: points.map(\.1)), target], logX: true))
    }

    /// Edge Jaccard and mass share over training for each composite / sub-skill pair of one run.
    public static func overlap(_ run: String, _ overlaps: [OverlapRecord]) -> String? {
        var series: [LineSeries] = []
        for o in overlaps where o.run == run {
            for (label, values, dashed) in [("edge Jaccard", o.edgeJaccard, false), ("mass share", o.massShare, true)] {
                let points = zip(o.steps, values).compactMap { s, v in v.map { (Double(max(s, 1)), $0) } }
                if points.isEmpty { continue }
                series.append(LineSeries(name: "\(o.composite) vs \(o.subskill): \(label)", x: points.map(\.0), y: points.map(\.1), dashed: dashed))
            }
        }
        guard !series.isEmpty else { return nil }
        return SVG.lineChart(LineChartSpec(title: "\(run): composite circuits against sub-skill circuits", xLabel: "training step (step 0 drawn at 1)",
                                           yLabel: "overlap", series: series, logX: true, yRange: 0...1))
    }
}
