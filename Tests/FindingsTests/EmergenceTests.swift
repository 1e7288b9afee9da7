import Testing
import Findings

/// Section 3 over scale on three planted sizes, and over training on planted widths; section 2's size
/// onset on planted final values.
@Suite struct EmergenceTests {
    /// Three sizes whose composite ends at `finals` (a logistic rise at u = 2.5).
    static func sizes(_ finals: [Double], seeds: Int = 2, items: Int = 300) -> [SizedOutcomes] {
        zip(["tiny", "small", "base"], zip([30_000, 120_000, 480_000], finals)).map { name, pf in
            SizedOutcomes(parameters: pf.0, outcomes: Synthetic.task("multistep", group: name, seeds: seeds, items: items,
                                                                      curve: Synthetic.logistic(mid: 2.5, scale: 0.2, high: pf.1)))
        }
    }

    @Test func nearChanceSmallAndHighLargeIsEmergence() throws {
        let d = try Emergence.overScale(Self.sizes([0, 0.4, 0.95]), settings: Synthetic.quick)
        #expect(d.verdict == .supported, "\(d.because)")
        #expect(d.numbers.count == 3)
        #expect(d.caveats.contains(.fewSeeds(group: "base", seeds: 2)), "2 seeds: the report must say intervals are over items in effect")
    }

    @Test func everySizeHasItOrNoneHasIt() throws {
        let all = try Emergence.overScale(Self.sizes([0.9, 0.93, 0.95], seeds: 3), settings: Synthetic.quick)
        #expect(all.verdict == .notSupported && all.because.contains("no size lacks"), "\(all.because)")
        let none = try Emergence.overScale(Self.sizes([0, 0.01, 0.03], seeds: 3), settings: Synthetic.quick)
        #expect(none.verdict == .notSupported && none.because.contains("no size has"), "\(none.because)")
    }

    /// The same planted emergence, but 5 items per task (0/5 has Wilson width 0.43 > 0.1) or one seed
    /// per size: the rule cannot be decided.
    @Test func fewItemsOrOneSeedAreInconclusive() throws {
        let fewItems = try Emergence.overScale(Self.sizes([0, 0.4, 0.95], items: 5), settings: Synthetic.quick)
        #expect(fewItems.verdict == .inconclusive)
        #expect(fewItems.caveats.contains { if case .itemResolution(_, _, 5, _, 0.1) = $0 { true } else { false } })
        let oneSeed = try Emergence.overScale(Self.sizes([0, 0.4, 0.95], seeds: 1), settings: Synthetic.quick)
        #expect(oneSeed.verdict == .inconclusive)
        #expect(oneSeed.caveats.contains(.singleSeed(group: "tiny")))
        let oneSize = try Emergence.overScale(Array(Self.sizes([0, 0.4, 0.95]).prefix(1)), settings: Synthetic.quick)
        #expect(oneSize.verdict == .inconclusive)
    }

    /// Planted widths of 4.39 x scale: 0.22 decades is sharp, 2.2 gradual, 0.66 neither; no rise, no shape.
    @Test(arguments: [(0.05, Verdict.sharp), (0.5, .gradual), (0.15, .undetermined)])
    func transitionShapeOverTraining(scale: Double, expected: Verdict) throws {
        let run = Synthetic.task("multistep", seeds: 1, items: 400, steps: Synthetic.steps(decades: 5, perDecade: 8),
                                 curve: Synthetic.logistic(mid: 2.5, scale: scale, high: 0.95))
        let d = try Emergence.overTraining(try OnsetReport(run))
        #expect(d.verdict == expected, "\(d.because)")
    }

    @Test func noOnsetHasNoShapeAndFewItemsDoNotDecideIt() throws {
        let flat = Synthetic.task("multistep", seeds: 1, curve: { _ in 0 })
        #expect(try Emergence.overTraining(try OnsetReport(flat)).verdict == .undetermined)
        let sharpButFew = Synthetic.task("multistep", seeds: 1, items: 20, curve: Synthetic.logistic(mid: 2.5, scale: 0.05))
        let d = try Emergence.overTraining(try OnsetReport(sharpButFew))
        #expect(d.verdict == .undetermined && d.because.contains("items"), "\(d.because)")
    }

    /// Four sizes at 10^5..10^8 parameters with finals 0.02, 0.1, 0.8, 0.95: the midpoint 0.475 is crossed
    /// at log10 N = 6 + (0.475 − 0.1) / 0.7 = 6.536; fits are allowed with 4 sizes, not with 3.
    @Test func sizeOnsetIsRecoveredOnLogParameters() throws {
        let finals = [0.02, 0.1, 0.8, 0.95], params = [100_000, 1_000_000, 10_000_000, 100_000_000]
        let sizes = (0..<4).map { i in
            SizedOutcomes(parameters: params[i], outcomes: Synthetic.task("add", group: "s\(i)", items: 400, curve: { _ in finals[i] }))
        }
        let scan = try SizeScan(sizes, settings: Synthetic.quick)
        let onset = try #require(scan.sizeOnset)
        let planted = 6 + (0.475 - 0.1) / 0.7
        #expect(consistent(onset.interval, planted), "\(onset.interval) vs \(planted)")
        #expect(scan.fitsAllowed)
        for i in 0..<4 { #expect(consistent(scan.finals[i].interval, finals[i])) }
        #expect(try !SizeScan(Array(sizes.prefix(3)), settings: Synthetic.quick).fitsAllowed)
        let flat = sizes.map { SizedOutcomes(parameters: $0.parameters, outcomes: Synthetic.task("add", group: $0.outcomes.group, curve: { _ in 0 })) }
        #expect(try SizeScan(flat, settings: Synthetic.quick).sizeOnset == nil)
    }
}
