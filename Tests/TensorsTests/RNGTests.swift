import Foundation
import Testing
@testable import Tensors

@Suite struct RNGTests {
    /// Ground truth from outside this code: SplitMix64's published first outputs for seed 0 are the four
    /// state words, and xoshiro256**'s reference algorithm (Blackman and Vigna's C, transcribed to Python
    /// to produce these numbers) continues from them.
    @Test func seedingAndStreamMatchTheReferenceAlgorithms() {
        var rng = RNG(seed: 0)
        #expect(rng.state == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        #expect((0..<4).map { _ in rng.next() } == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A,
                                                     0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C])
        var r42 = RNG(seed: 42)
        #expect((0..<2).map { _ in r42.next() } == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E])
    }

    @Test func sameSeedSameStreamDifferentSeedsDiffer() {
        var a = RNG(seed: 1234), b = RNG(seed: 1234)
        let sa = (0..<1000).map { _ in a.next() }, sb = (0..<1000).map { _ in b.next() }
        #expect(sa == sb)
        for other in [UInt64(0), 1, 1233, 1235, .max] {
            var c = RNG(seed: other)
            let sc = (0..<1000).map { _ in c.next() }
            // Independent 64-bit streams share a value by chance with probability ~1000^2 / 2^64.
            #expect(Set(sa).isDisjoint(with: sc), "seed \(other) repeats values of seed 1234")
        }
        // Every drawing method is a function of the state alone.
        var x = RNG(seed: 9), y = RNG(seed: 9)
        #expect((0..<100).map { _ in x.normal() } == (0..<100).map { _ in y.normal() })
        #expect((0..<100).map { _ in x.int(7) } == (0..<100).map { _ in y.int(7) })
    }

    @Test func savedStateResumesTheStreamBitForBit() throws {
        var rng = RNG(seed: 77)
        for _ in 0..<13 { _ = rng.next() }
        let saved = try JSONEncoder().encode(rng)
        let expected = (0..<50).map { _ in rng.next() }
        var resumed = try JSONDecoder().decode(RNG.self, from: saved)
        #expect((0..<50).map { _ in resumed.next() } == expected)
    }

    @Test func derivedStreamsAreReproducibleAndDistinct() {
        let parent = RNG(seed: 5)
        var a = parent.derived(1), a2 = parent.derived(1), b = parent.derived(2)
        let sa = (0..<100).map { _ in a.next() }
        #expect(sa == (0..<100).map { _ in a2.next() })
        #expect(Set(sa).isDisjoint(with: (0..<100).map { _ in b.next() }))
        var p = parent
        #expect(Set(sa).isDisjoint(with: (0..<100).map { _ in p.next() }))
    }

    // Statistical checks: n = 200_000 draws, tolerances of 6 standard errors, so a correct generator fails
    // with probability ~1e-9 per check while a biased one (e.g. off by 1%) fails every time.
    static let n = 200_000

    @Test func uniformIsInTheHalfOpenUnitIntervalWithMeanAndVarianceOfU01() {
        var rng = RNG(seed: 11)
        let xs = (0..<Self.n).map { _ in rng.uniform() }
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = xs.reduce(0, +) / Double(Self.n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(Self.n - 1)
        // U(0,1): mean 1/2 (standard error sqrt(1/12/n) = 6.5e-4), variance 1/12 (standard error sqrt(1/180/n) = 1.7e-4).
        #expect(abs(mean - 0.5) < 6 * (1.0 / 12 / Double(Self.n)).squareRoot(), "mean \(mean)")
        #expect(abs(variance - 1.0 / 12) < 6 * (1.0 / 180 / Double(Self.n)).squareRoot(), "variance \(variance)")
    }

    @Test(arguments: [1, 2, 3, 7, 10, 1000])
    func intStaysInRangeAndHitsEveryValueEvenly(bound: Int) {
        var rng = RNG(seed: UInt64(bound))
        var counts = [Int](repeating: 0, count: bound), outside = 0
        for _ in 0..<Self.n {
            let v = rng.int(bound)
            if v >= 0 && v < bound { counts[v] += 1 } else { outside += 1 }
        }
        #expect(outside == 0)
        // Each count is Binomial(n, 1/bound): within 6 standard deviations of n / bound.
        let p = 1 / Double(bound), expected = Double(Self.n) * p, sd = (Double(Self.n) * p * (1 - p)).squareRoot()
        let worst = counts.map { abs(Double($0) - expected) }.max()!
        #expect(worst <= 6 * sd + 0.5, "counts \(counts.prefix(10)) vs \(expected)")
    }

    @Test func closedRangeIncludesBothEnds() {
        var rng = RNG(seed: 3)
        let xs = (0..<10_000).map { _ in rng.int(in: -2...2) }
        #expect(Set(xs) == [-2, -1, 0, 1, 2])
    }

    @Test func normalHasMeanZeroAndVarianceOne() {
        var rng = RNG(seed: 21)
        let xs = (0..<Self.n).map { _ in rng.normal() }
        #expect(xs.allSatisfy { $0.isFinite })
        let mean = xs.reduce(0, +) / Double(Self.n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(Self.n - 1)
        // N(0,1): the mean's standard error is 1/sqrt(n) = 2.2e-3, the variance's sqrt(2/n) = 3.2e-3.
        #expect(abs(mean) < 6 / Double(Self.n).squareRoot(), "mean \(mean)")
        #expect(abs(variance - 1) < 6 * (2 / Double(Self.n)).squareRoot(), "variance \(variance)")
        // The tails too: P(|z| > 2) = 0.0455 (standard error 4.7e-4).
        let tail = Double(xs.filter { abs($0) > 2 }.count) / Double(Self.n)
        #expect(abs(tail - 0.0455) < 6 * (0.0455 * 0.9545 / Double(Self.n)).squareRoot(), "P(|z| > 2) = \(tail)")
    }

    @Test func shuffleIsAPermutationAndDeterministic() {
        var a = RNG(seed: 8), b = RNG(seed: 8)
        var x = Array(0..<100), y = Array(0..<100)
        a.shuffle(&x); b.shuffle(&y)
        #expect(x == y && x != Array(0..<100) && x.sorted() == Array(0..<100))
    }
}
