import ActivationStore
import ArgumentParser
import Dispatch
import Foundation
import Probing
import Tensors

struct BenchProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe fit times: one logistic fit on an HDF5 hook (as sklearn_probe_bench.py), or a synthetic case.",
        discussion: """
        On a file: reads --hook at --position (a /positions name or an integer) and /labels/<label> for every
        example, standardises on the training rows, fits multinomial logistic regression (L-BFGS) with
        λ = 1 / (C · n_train) (C is scikit-learn's C, given as --inverse-l2) and its stopping rule (--tol,
        max_iter 1000), and times the fit alone, as the peer does. (`lens probe` itself stops at the tighter 1e-5.)
        Prints `lens probe accuracy=A seconds=S n_train=N n_test=M classes=K iterations=I evaluations=E`.
          lens bench probe --h5 F.h5 --hook blocks.1.hook_resid_post --position equals --label answer_tens --split split.json
        --split may be a pipe: --split <(python3 make_split.py).

        --synthetic: the whole `lens probe` fit (validation, main fit, baseline, 1000 bootstrap resamples) of
        10 Gaussian classes, n = 2000 (1600 train), d = 128, once at λ = 1e-3 and once choosing λ from the
        default grid. Prints one line per case:
          lens probe case=fixed seconds=S ... and lens probe case=grid seconds=S ...
        Every time is the median of --repeats fits.
        """)

    @Option(help: "Activation file (.h5).") var h5: String?
    @Option(help: "Hook name, e.g. blocks.1.hook_resid_post.") var hook: String?
    @Option(help: "A /positions name or an integer position.") var position: String?
    @Option(help: "Label name under /labels.") var label: String?
    @Option(help: "JSON {\"train\": [...], \"test\": [...]} of file row indices (a file, a pipe or /dev/stdin).") var split: String?
    @Option(name: .customLong("inverse-l2"),
            help: "scikit-learn's C, the inverse of the L2 strength: λ = 1 / (C · n_train); the peer script's C, unchanged.")
    var inverseL2 = 1.0
    @Option(help: "L-BFGS stopping rule: max |gradient| of the mean objective (scikit-learn's tol, default 1e-4).") var tol = 1e-4
    @Option(help: "Fits timed; the median is reported.") var repeats = 5
    @Flag(help: "Time the synthetic 10-class case instead of a file.") var synthetic = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        // Issue 10's fuzz suite: --repeats 1e9 ran for ever; an infinite --inverse-l2 and a NaN, negative
        // or infinite --tol gave a result.
        try checkRange(repeats, 1...1000, flag: "--repeats")
        guard inverseL2 > 0, inverseL2.isFinite else { throw ValidationError("--inverse-l2 must be a positive number, got \(inverseL2)") }
        guard tol >= 0, tol.isFinite else { throw ValidationError("--tol must be a finite number >= 0, got \(tol)") }
        try checkPaths([(h5, "--h5"), (split, "--split")])
        if !synthetic, h5 == nil || hook == nil || position == nil || label == nil || split == nil {
            throw ValidationError("give --h5, --hook, --position, --label and --split, or --synthetic")
        }
    }

    func run() throws {
        common.apply()
        if synthetic { try runSynthetic() } else { try runFile(h5: h5!, hook: hook!, position: position!, label: label!, split: split!) }
    }

    private struct FileResult: Encodable {
        let accuracy: Double, seconds: Double, nTrain: Int, nTest: Int, classes: Int, iterations: Int, evaluations: Int
        enum CodingKeys: String, CodingKey {
            case accuracy, seconds, nTrain = "n_train", nTest = "n_test", classes, iterations, evaluations
        }
    }

    private struct RowSplit: Decodable { let train: [Int], test: [Int] }

    private func runFile(h5: String, hook: String, position: String, label: String, split: String) throws {
        let rows: RowSplit
        do { rows = try JSONDecoder().decode(RowSplit.self, from: try InputFile.read(split, atMost: 1 << 26)) }   // 64 MiB of row indices
        catch let e as InputFile.ReadError { throw e }
        catch { throw CLIError(split, "not a JSON {\"train\": [...], \"test\": [...]} of row indices") }
        try InputFile.checkReadable(h5)
        let r = try ActivationFileReader(path: h5)
        let n = r.n
        let train = rows.train, test = rows.test
        guard !train.isEmpty, !test.isEmpty else { throw CLIError(split, "train and test must both be non-empty") }
        if let bad = (train + test).first(where: { !(0..<n).contains($0) }) {
            throw CLIError(split, "row \(bad) is outside the file's \(n) examples")
        }
        let pos: [Int32] = try Int(position).map { [Int32](repeating: Int32($0), count: n) } ?? r.position(position)
        let t = try r.readHook(hook, rows: 0..<n, positions: pos)
        let d = t.count / n
        let y = try r.label(label).floats.map { Int32($0) }
        let classes = Array(Set(train.map { y[$0] })).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let std = Standardizer(features: t.data, d: d, rows: train.sorted())
        let x = std.transform(features: t.data, d: d, rows: train)
        let xt = std.transform(features: t.data, d: d, rows: test)
        let lambda = 1 / (inverseL2 * Double(train.count))
        var options = LBFGSOptions()
        options.gradientTolerance = tol
        options.maxIterations = 1000      // sklearn's max_iter in the peer
        var times: [Double] = []
        var model: LogisticModel?
        var iterations = 0, evaluations = 0
        let labels = train.map { index[y[$0]]! }      // outside the timer, as the peer's labels are
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let fit = LogisticRegression.fit(x: x, n: train.count, d: d, y: labels, classes: classes,
                                             sigmoid: false, lambda: lambda, options: options)
            model = fit.model
            iterations = fit.report.iterations; evaluations = fit.report.evaluations
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let predicted = model!.predict(x: xt, m: test.count)
        let correct = zip(predicted, test).filter { classes[$0.0] == y[$0.1] }.count
        let result = FileResult(accuracy: Double(correct) / Double(test.count), seconds: median(times), nTrain: train.count,
                                nTest: test.count, classes: classes.count, iterations: iterations, evaluations: evaluations)
        if common.json { try JSONOut.print(result); return }
        BenchLine.print("probe", [
            "accuracy": String(format: "%.4f", result.accuracy), "seconds": String(format: "%.4f", result.seconds),
            "n_train": "\(result.nTrain)", "n_test": "\(result.nTest)", "classes": "\(result.classes)",
            "iterations": "\(iterations)", "evaluations": "\(evaluations)",
        ])
    }

    private struct SyntheticCase: Encodable {
        let name: String, seconds: Double, lambda: Double, iterations: Int, converged: Bool
        let accuracy: Double, baseline: Double, nTrain: Int, nTest: Int, d: Int, classes: Int
        enum CodingKeys: String, CodingKey {
            case name = "case", seconds, lambda, iterations, converged, accuracy, baseline
            case nTrain = "n_train", nTest = "n_test", d, classes
        }
    }

    /// The size compared with scikit-learn in the README: 10 classes whose means differ in 8 of 128
    /// dimensions, unit-variance noise.
    private func runSynthetic() throws {
        let n = 2000, d = 128, k = 10
        let (x, y) = gaussianClasses(n: n, d: d, classes: k, informative: 8, separation: 1.5, seed: 900)
        let train = Array(0..<1600), test = Array(1600..<n)
        var cases: [SyntheticCase] = []
        for (name, choice) in [("fixed", LambdaChoice.fixed(1e-3)), ("grid", LambdaChoice.defaultGrid)] {
            var times: [Double] = [], result: ProbeResult?
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                result = try fitProbe(features: x, n: n, d: d, labels: y, kind: .multiclass, trainIdx: train, testIdx: test,
                                      lambda: choice, seed: 1)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            let r = result!
            cases.append(SyntheticCase(name: name, seconds: median(times), lambda: r.lambda, iterations: r.iterations,
                                       converged: r.converged, accuracy: r.score, baseline: r.baseline, nTrain: r.nTrain,
                                       nTest: r.nTest, d: d, classes: k))
        }
        if common.json { try JSONOut.print(["cases": cases]); return }
        for c in cases {
            BenchLine.print("probe", [
                "case": c.name, "seconds": String(format: "%.4f", c.seconds), "lambda": String(format: "%g", c.lambda),
                "iterations": "\(c.iterations)", "converged": "\(c.converged)", "accuracy": String(format: "%.4f", c.accuracy),
                "baseline": String(format: "%.4f", c.baseline), "n_train": "\(c.nTrain)", "n_test": "\(c.nTest)",
                "d": "\(c.d)", "classes": "\(c.classes)",
            ])
        }
    }
}


/// Examples x = mean[y] + N(0, I), y uniform over `classes`; each class mean is N(0, separation²) in
/// the first `informative` dimensions and 0 elsewhere.
private func gaussianClasses(n: Int, d: Int, classes: Int, informative: Int, separation: Double,
                             seed: UInt64) -> (x: [Float], y: [Int32]) {
    var meanRNG = RNG(seed: seed), sampleRNG = RNG(seed: seed + 1)
    let means = (0..<classes).map { _ in (0..<d).map { j in j < informative ? separation * meanRNG.normal() : 0 } }
    var x: [Float] = [], y: [Int32] = []
    x.reserveCapacity(n * d); y.reserveCapacity(n)
    for _ in 0..<n {
        let c = sampleRNG.int(classes)
        y.append(Int32(c))
        x += means[c].map { Float($0 + sampleRNG.normal()) }
    }
    return (x, y)
}
