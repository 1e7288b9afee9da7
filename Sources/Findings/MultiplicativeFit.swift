import Foundation

// Section 5's fit of the measured composite EM (C) against the product prediction (P), pooled over
// every checkpoint and size: R² with the identity as the model, the mean log-ratio, and the residual lag.

/// The three fit numbers on one set of curves (one resample or the data as observed).
public struct FitNumbers: Sendable, Equatable {
    /// 1 − Σ(C − P)² / Σ(C − mean C)²; nil when C is constant (no variance to explain).
    public var r2: Double?
    /// mean ln((C + e) / (P + e)), e = 1/(2n) for n composite items of the size.
    public var logRatio: Double
    /// The shift d in [−1, 1] decades (step 0.01) minimising Σ(C(u) − P(u − d))².
    public var residualLag: Double

    /// `measured[g]`, `predicted[g]` on the grid `u[g]` for each group g, `items[g]` composite items.
    public init(measured: [[Double]], predicted: [[Double]], u: [[Double]], items: [Int]) {
        r2 = Self.identityR2(measured: Array(measured.joined()), predicted: Array(predicted.joined()))
        var logSum = 0.0, count = 0
        for g in measured.indices {
            let e = 1 / (2 * Double(items[g]))
            for k in measured[g].indices { logSum += log((measured[g][k] + e) / (predicted[g][k] + e)); count += 1 }
        }
        logRatio = logSum / Double(count)
        residualLag = Self.residualLag(measured: measured, predicted: predicted, u: u)
    }

    /// R² of `measured` against `predicted` with the identity as the model (no fitted slope or intercept).
    public static func identityR2(measured: [Double], predicted: [Double]) -> Double? {
        let mean = measured.reduce(0, +) / Double(measured.count)
        var residual = 0.0, total = 0.0
        for (c, p) in zip(measured, predicted) {
            residual += (c - p) * (c - p)
            total += (c - mean) * (c - mean)
        }
        return total > 0 ? 1 - residual / total : nil
    }

    /// The grid is walked from d = 0 outwards (0, −0.01, +0.01, ...) keeping only strict improvements, so
    /// ties go to the smallest shift. P(u − d) beyond the checkpoints is held at its end value (`StepAxis`).
    public static func residualLag(measured: [[Double]], predicted: [[Double]], u: [[Double]]) -> Double {
        func loss(_ d: Double) -> Double {
            var s = 0.0
            for g in measured.indices {
                for k in measured[g].indices {
                    let r = measured[g][k] - StepAxis.interpolate(predicted[g], on: u[g], at: u[g][k] - d)
                    s += r * r
                }
            }
            return s
        }
        var best = 0, bestLoss = loss(0)
        for step in 1...100 {
            for signed in [-step, step] {
                let l = loss(Double(signed) / 100)
                if l < bestLoss { best = signed; bestLoss = l }
            }
        }
        return Double(best) / 100
    }
}

public struct MultiplicativeReport: Sendable, Codable, Equatable {
    public var groups: [String]
    /// Per group, [checkpoints]: the measured and predicted composite EM on the data as observed.
    public var measured: [[Double]]
    public var predicted: [[Double]]
    public var r2: Estimate
    public var logRatio: Estimate
    public var residualLag: Estimate
    /// Multiplicative supported when R² ≥ 0.8 and the residual lag's interval contains 0; not supported
    /// when R² < 0.5 or that interval excludes 0 by more than 0.1 decades; inconclusive otherwise.
    public var decision: Decision

    public init(_ groups: [MultiplicativeGroup], settings: BootstrapSettings = .init()) throws {
        guard !groups.isEmpty else { throw FindingsError.invalid("the multiplicative fit needs at least one size") }
        let prepared = try groups.map { try PreparedMultiplicative($0) }
        let u = groups.map(\.composite.u), items = groups.map(\.composite.itemCount)
        func fit(_ draws: Draws) -> (FitNumbers, [[Double]], [[Double]])? {
            var c: [[Double]] = [], p: [[Double]] = []
            for g in prepared {
                guard let curves = g.curves(draws) else { return nil }
                c.append(curves.measured)
                p.append(curves.predicted)
            }
            return (FitNumbers(measured: c, predicted: p, u: u, items: items), c, p)
        }
        let r = Resampled(quantities: 3, settings: settings) { draws in
            guard let f = fit(draws)?.0 else { return [nil, nil, nil] }
            return [f.r2, f.logRatio, f.residualLag]
        }
        let point = fit(.point)
        self.groups = groups.map(\.composite.group)
        measured = point?.1 ?? []
        predicted = point?.2 ?? []
        r2 = r.estimate(0)
        logRatio = r.estimate(1)
        residualLag = r.estimate(2)
        decision = Self.decide(groups: groups, r2: r2, lag: residualLag, logRatio: logRatio)
    }

    static func decide(groups: [MultiplicativeGroup], r2: Estimate, lag: Estimate, logRatio: Estimate) -> Decision {
        let numbers = [DecidingNumber("R² (identity model)", r2), DecidingNumber("residual lag (decades)", lag),
                       DecidingNumber("mean log-ratio", logRatio)]
        let seeds = groups.map { Gates.seeds($0.composite) }
        let caveats = seeds.flatMap(\.caveats)
        if seeds.contains(where: \.blocks) {
            return Decision(.inconclusive, because: "a size has one seed", numbers: numbers, caveats: caveats)
        }
        guard let fit = r2.point else {
            return Decision(.inconclusive, because: "R² undefined (constant composite EM)", numbers: numbers, caveats: caveats)
        }
        let d = lag.interval
        if fit >= 0.8 && d.isDefined && d.contains(0) {
            return Decision(.supported, because: "R² \(fmt(fit)) ≥ 0.8 and residual lag \(fmt(d)) contains 0", numbers: numbers, caveats: caveats)
        }
        if fit < 0.5 {
            return Decision(.notSupported, because: "R² \(fmt(fit)) < 0.5", numbers: numbers, caveats: caveats)
        }
        if d.liesAbove(0.1) || d.liesBelow(-0.1) {
            return Decision(.notSupported, because: "residual lag \(fmt(d)) excludes 0 by more than 0.1 decades", numbers: numbers, caveats: caveats)
        }
        return Decision(.inconclusive, because: "R² \(fmt(fit)), residual lag \(fmt(d)): neither rule holds", numbers: numbers, caveats: caveats)
    }
}
