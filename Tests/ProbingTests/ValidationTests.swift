import Testing
import Tensors
import Probing

@Suite struct ValidationTests {
    static let n = 40, d = 3
    static let x = Synthetic.randomMatrix(n * d, seed: 61).map { Float($0) }
    static let y: [Int32] = (0..<n).map { Int32($0 % 2) }
    static let train = Array(0..<30), test = Array(30..<40)

    @Test func rejectsNonFiniteFeatures() {
        var x = Self.x
        x[33 * Self.d + 2] = .nan
        #expect(throws: ProbeError.nonFiniteFeature(row: 33, column: 2)) {
            _ = try fitProbe(features: x, n: Self.n, d: Self.d, labels: Self.y, kind: .binary,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(0.01))
        }
        x[33 * Self.d + 2] = .infinity
        #expect(throws: ProbeError.nonFiniteFeature(row: 33, column: 2)) {
            _ = try fitProbe(features: x, n: Self.n, d: Self.d, labels: Self.y, kind: .binary,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(0.01))
        }
    }

    @Test func rejectsASingleClass() {
        let y = [Int32](repeating: 4, count: Self.n)
        #expect(throws: ProbeError.tooFewClasses(found: 1)) {
            _ = try fitProbe(features: Self.x, n: Self.n, d: Self.d, labels: y, kind: .multiclass,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(0.01))
        }
        #expect(ProbeError.tooFewClasses(found: 0).description.contains("empty class list"))
    }

    @Test func rejectsBadSplits() {
        func fit(_ train: [Int], _ test: [Int], kind: ProbeKind = .binary, labels: [Int32] = Self.y) throws(ProbeError) {
            _ = try fitProbe(features: Self.x, n: Self.n, d: Self.d, labels: labels, kind: kind,
                             trainIdx: train, testIdx: test, lambda: .fixed(0.01))
        }
        #expect(throws: ProbeError.tooFewExamples(split: "train", count: 5, minimum: 8)) { try fit(Array(0..<5), Self.test) }
        #expect(throws: ProbeError.overlappingSplits(index: 29)) { try fit(Self.train, [29, 30]) }
        #expect(throws: ProbeError.indexOutOfRange(split: "test", index: 40, n: 40)) { try fit(Self.train, [39, 40]) }
        #expect(throws: ProbeError.binaryNeedsTwoClasses(found: 3)) {
            try fit(Self.train, Self.test, labels: (0..<Self.n).map { Int32($0 % 3) })
        }
        #expect(throws: ProbeError.invalidLambda(-1)) {
            _ = try fitProbe(features: Self.x, n: Self.n, d: Self.d, labels: Self.y, kind: .binary,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(-1))
        }
    }

    @Test func errorMessagesAreOneLine() {
        let errors: [ProbeError] = [.shapeMismatch("x"), .nonFiniteFeature(row: 1, column: 2), .tooFewClasses(found: 1),
                                    .notPositiveDefinite(pivot: 3), .emptyLambdaGrid, .overlappingSplits(index: 2)]
        for e in errors { #expect(!e.description.contains("\n") && !e.description.isEmpty) }
    }

    @Test func unseenTestClassCountsAsWrong() throws {
        var y = Self.y
        for i in 30..<35 { y[i] = 99 }
        let r = try fitProbe(features: Self.x, n: Self.n, d: Self.d, labels: y, kind: .multiclass,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(0.01))
        #expect(r.unseenTestExamples == 5)
        #expect(r.score <= 0.5)
        #expect(r.warnings.contains { $0.contains("absent from training") })
    }

    @Test func iterationCapSurfacesAsWarning() throws {
        var opts = ProbeOptions(); opts.lbfgs.maxIterations = 1
        let r = try fitProbe(features: Self.x, n: Self.n, d: Self.d, labels: Self.y, kind: .binary,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(1e-4), options: opts)
        #expect(!r.converged)
        #expect(r.iterations == 1)
        #expect(r.warnings.contains { $0.contains("did not converge") })
    }

    @Test func standardizerUsesTrainingRowsOnly() {
        // Rows 0-3 train, row 4 an extreme test row; column 1 constant.
        let x: [Float] = [1, 5, 2, 5, 3, 5, 4, 5, 1000, 5]
        let s = Standardizer(features: x, d: 2, rows: [0, 1, 2, 3])
        #expect(s.mean == [2.5, 5])
        #expect(abs(s.inverseStd[0] - 1 / 1.25.squareRoot()) < 1e-12)
        #expect(s.inverseStd[1] == 0)
        let z = s.transform(features: x, d: 2, rows: [0, 4])
        #expect(z[1] == 0 && z[3] == 0)
        #expect(abs(z[2] - 997.5 / 1.25.squareRoot()) < 1e-9)
    }

    @Test func bootstrapIntervalHasTheBinomialWidth() {
        let correct = (0..<400).map { $0 % 5 != 0 }  // accuracy 0.8
        let ci = Bootstrap.percentile(count: 400, seed: 1) { Metrics.accuracy(correct, positions: $0) }
        #expect(ci.low < 0.8 && 0.8 < ci.high)
        let expected = 2 * 1.96 * (0.8 * 0.2 / 400).squareRoot()  // 0.078
        #expect(abs((ci.high - ci.low) - expected) < 0.015, "width \(ci.high - ci.low)")
        let again = Bootstrap.percentile(count: 400, seed: 1) { Metrics.accuracy(correct, positions: $0) }
        let other = Bootstrap.percentile(count: 400, seed: 2) { Metrics.accuracy(correct, positions: $0) }
        #expect(again == ci)
        #expect(other != ci)
    }

    @Test func resultRoundTripsThroughJSON() throws {
        let r = try fitProbe(features: Self.x, n: Self.n, d: Self.d, labels: Self.y, kind: .binary,
                             trainIdx: Self.train, testIdx: Self.test, lambda: .fixed(0.01))
        let data = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(ProbeResult.self, from: data) == r)
        #expect(abs(r.sklearnC! - 1 / (0.01 * 30)) < 1e-12)
    }
}

import Foundation
