import Testing
import Findings

/// Section 5 on planted sub-skills with two categories each (different midpoints) and a composite whose
/// items each need one category of each: built as the exact product, as a noisy product, as a product
/// delayed by a known lag; and the no-lag prediction on a composite that rises with its skills.
@Suite struct MultiplicativeTests {
    static let categories: [String: [(String, Double)]] = ["add": [("carry", 2.2), ("none", 1.8)],
                                                           "order": [("dependent", 2.5), ("independent", 2.0)]]
    static let items = 240

    /// The true factor of (task, category) at u.
    static func factor(_ task: String, _ category: String, shift: Double, _ u: Double) -> Double {
        let mid = categories[task]!.first { $0.0 == category }!.1 + shift
        return Synthetic.logistic(mid: mid, scale: 0.15, high: 0.98)(u)
    }

    static func subSkills(group: String, shift: Double) -> [CategorisedTask] {
        ["add", "order"].map { task in
            let labels = (0..<items).map { categories[task]![$0 % 2].0 }
            // Two categories with their own curves: item i follows its category's curve.
            let runs = (0..<3).map { s in
                RunOutcomes(seed: s + 1, values: (0..<items).map { i in
                    Synthetic.bernoulli(items: 1, steps: Synthetic.steps(), seed: UInt64(i * 7 + s) &+ task.hashValueStable &+ group.hashValueStable) {
                        factor(task, labels[i], shift: shift, $0)
                    }[0]
                })
            }
            return CategorisedTask(outcomes: TaskOutcomes(group: group, task: task, metric: .exactMatch, steps: Synthetic.steps(),
                                                          chance: 0, runs: runs), categories: labels)
        }
    }

    /// Composite item i needs add/<i % 2> and order/<(i / 2) % 2>.
    static let factors: [[FactorKey]] = (0..<items).map { i in
        [FactorKey(task: "add", category: categories["add"]![i % 2].0),
         FactorKey(task: "order", category: categories["order"]![(i / 2) % 2].0)]
    }

    /// Bernoulli composite items with P(correct) = the product of the true factors at u − delay.
    static func group(_ name: String, shift: Double, delay: Double) -> MultiplicativeGroup {
        let subs = subSkills(group: name, shift: shift)
        let composite = Synthetic.task("multistep_pad", group: name, items: items) { _ in { _ in 0 } }
        var c = composite
        c.runs = (0..<3).map { s in
            RunOutcomes(seed: s + 1, values: (0..<items).map { i in
                Synthetic.bernoulli(items: 1, steps: Synthetic.steps(), seed: 5000 + UInt64(i * 7 + s) &+ name.hashValueStable) { u in
                    factors[i].reduce(1.0) { $0 * factor($1.task, $1.category, shift: shift, u - delay) }
                }[0]
            })
        }
        return MultiplicativeGroup(composite: c, subSkills: subs, factors: factors)
    }

    /// Composite values set to the exact product of the measured category means of the same run: the
    /// prediction equals the measurement, R² = 1, no residual lag, multiplicative supported.
    @Test func exactProductFitsPerfectly() throws {
        var groups = [Self.group("small", shift: 0.4, delay: 0), Self.group("base", shift: 0, delay: 0)]
        for g in groups.indices {
            let subs = groups[g].subSkills
            let K = Synthetic.steps().count
            for s in 0..<3 {
                // The run's measured EM of each (sub-skill, category), per checkpoint.
                var mean: [FactorKey: [Double]] = [:]
                for t in subs {
                    for (c, _) in Self.categories[t.outcomes.task]! {
                        let rows = t.outcomes.runs[s].values.indices.filter { t.categories[$0] == c }.map { t.outcomes.runs[s].values[$0] }
                        mean[FactorKey(task: t.outcomes.task, category: c)] = (0..<K).map { k in rows.reduce(0.0) { $0 + $1[k] } / Double(rows.count) }
                    }
                }
                groups[g].composite.runs[s].values = Self.factors.map { keys in
                    (0..<K).map { k in keys.reduce(1.0) { $0 * mean[$1]![k] } }
                }
            }
        }
        let r = try MultiplicativeReport(groups, settings: Synthetic.quick)
        #expect(abs(r.r2.point! - 1) < 1e-12)
        #expect(r.residualLag.point == 0 && r.residualLag.interval.contains(0))
        for g in 0..<2 { for k in r.measured[g].indices { #expect(abs(r.measured[g][k] - r.predicted[g][k]) < 1e-12) } }
        #expect(r.decision.verdict == .supported, "\(r.decision.because)")
    }

    /// Plan 11.3: a factor of the pooled category is the sub-skill's mean over all its test items. Composite
    /// values set to the product of `add`'s category mean and `order`'s mean over every item give R² = 1;
    /// with `order`'s mean over one category instead they do not.
    @Test func aPooledFactorIsTheMeanOverAllTestItems() throws {
        var g = Self.group("base", shift: 0, delay: 0)
        let K = Synthetic.steps().count
        g.factors = Self.factors.map { [$0[0], FactorKey(task: "order", category: FactorKey.pooled)] }
        for s in 0..<3 {
            func mean(_ t: CategorisedTask, _ keep: (Int) -> Bool) -> [Double] {
                let rows = t.outcomes.runs[s].values.indices.filter(keep).map { t.outcomes.runs[s].values[$0] }
                return (0..<K).map { k in rows.reduce(0.0) { $0 + $1[k] } / Double(rows.count) }
            }
            let add = g.subSkills[0], order = g.subSkills[1]
            let orderAll = mean(order) { _ in true }
            g.composite.runs[s].values = Self.factors.map { keys in
                let addMean = mean(add) { add.categories[$0] == keys[0].category }
                return (0..<K).map { k in addMean[k] * orderAll[k] }
            }
        }
        let r = try MultiplicativeReport([g], settings: Synthetic.quick)
        #expect(abs(r.r2.point! - 1) < 1e-12)
        for k in r.measured[0].indices { #expect(abs(r.measured[0][k] - r.predicted[0][k]) < 1e-12) }
        var oneCategory = g
        oneCategory.factors = Self.factors.map { [$0[0], FactorKey(task: "order", category: "dependent")] }
        let other = try MultiplicativeReport([oneCategory], settings: Synthetic.quick)
        #expect(other.measured[0].indices.contains { abs(other.measured[0][$0] - other.predicted[0][$0]) > 1e-3 })
    }

    /// Composite items drawn from the true product: R² ≥ 0.8, the residual lag's interval holds 0.
    @Test func bernoulliProductSupportsTheMultiplicativePrediction() throws {
        let r = try MultiplicativeReport([Self.group("small", shift: 0.4, delay: 0), Self.group("base", shift: 0, delay: 0)],
                                         settings: Synthetic.quick)
        #expect(r.r2.point! >= 0.95, "R² \(r.r2)")
        #expect(consistent(r.residualLag.interval, 0), "\(r.residualLag.interval)")
        #expect(r.decision.verdict == .supported, "\(r.decision.because)")
    }

    /// The product delayed by 0.4 decades: the residual lag recovers 0.4 and the prediction is rejected.
    @Test func delayedCompositeRecoversThePlantedResidualLag() throws {
        let r = try MultiplicativeReport([Self.group("base", shift: 0, delay: 0.4)], settings: Synthetic.quick)
        #expect(consistent(r.residualLag.interval, 0.4), "\(r.residualLag.interval)")
        #expect(r.decision.verdict == .notSupported, "\(r.decision.because)")
    }

    /// Sub-skills and composite with the same midpoint: the no-lag prediction holds. A composite one
    /// decade later: it does not. One seed: it is not decided.
    @Test func noLagPrediction() throws {
        let together = CompositeGroup(composite: Synthetic.task("multistep_pad", curve: Synthetic.logistic(mid: 2.5, scale: 0.15, high: 0.95)),
                                      subSkills: ["add", "order"].map { Synthetic.task($0, curve: Synthetic.logistic(mid: 2.5, scale: 0.15, high: 0.98)) })
        let same = try NoLagReport([together], settings: Synthetic.quick)
        #expect(same.decision.verdict == .supported, "\(same.decision.because)")
        #expect(consistent(same.perGroup[0].lag!.interval, 0))
        var late = together
        late.composite = Synthetic.task("multistep_pad", curve: Synthetic.logistic(mid: 3.5, scale: 0.15, high: 0.95))
        let lagged = try NoLagReport([late], settings: Synthetic.quick)
        #expect(lagged.decision.verdict == .notSupported)
        #expect(consistent(lagged.perGroup[0].lag!.interval, 1.0), "\(lagged.perGroup[0].lag!.interval)")
        let one = CompositeGroup(composite: together.composite.run(0), subSkills: together.subSkills.map { $0.run(0) })
        #expect(try NoLagReport([one], settings: Synthetic.quick).decision.verdict == .inconclusive)
    }

    @Test func jointStatement() {
        let yes = Decision(.supported, because: ""), no = Decision(.notSupported, because: "")
        #expect(NoLagReport.jointStatement(multiplicative: yes, noLag: yes)?.contains("cannot tell them apart") == true)
        #expect(NoLagReport.jointStatement(multiplicative: no, noLag: no)?.contains("neither") == true)
        #expect(NoLagReport.jointStatement(multiplicative: yes, noLag: no) == nil)
    }

    @Test func unknownFactorIsRefused() {
        var g = Self.group("base", shift: 0, delay: 0)
        g.factors[3] = [FactorKey(task: "double", category: "none")]
        #expect(throws: FindingsError.unknownFactor(task: "double", category: "none")) { try MultiplicativeReport([g]) }
    }
}
