import Testing
import Findings

/// Wilson intervals against published values (e.g. Newcombe 1998, Table I; Wikipedia's worked cases),
/// and section 0's rate resolution.
@Suite struct WilsonTests {
    @Test func matchesReferenceValues() {
        let none = WilsonInterval(successes: 0, of: 10)
        #expect(none.low == 0 && abs(none.high - 0.2775) < 5e-5)
        let all = WilsonInterval(successes: 10, of: 10)
        #expect(all.high == 1 && abs(all.low - 0.7225) < 5e-5)
        let half = WilsonInterval(successes: 5, of: 10)
        #expect(abs(half.low - 0.2366) < 5e-5 && abs(half.high - 0.7634) < 5e-5)
        let some = WilsonInterval(successes: 81, of: 263)
        #expect(abs(some.low - 0.2553) < 5e-5 && abs(some.high - 0.3662) < 5e-5)
    }

    /// The width of 0/n is z² / (n + z²): 35 items resolve 0.1, 34 do not; 5 items only 0.43.
    @Test func resolutionOfARate() {
        let z2 = WilsonInterval.z95 * WilsonInterval.z95
        for n in [1, 5, 34, 35, 300] {
            let r = RateResolution(items: n)
            #expect(abs(r.width - z2 / (Double(n) + z2)) < 1e-12)
            #expect(abs((r.all.high - r.all.low) - r.width) < 1e-12, "0/n and n/n are equally wide")
        }
        #expect(RateResolution(items: 35).resolves(0.1))
        #expect(!RateResolution(items: 34).resolves(0.1))
        #expect(abs(RateResolution(items: 5).width - 0.4345) < 1e-4)
    }
}
