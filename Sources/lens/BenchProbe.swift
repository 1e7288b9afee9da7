import ActivationStore
import ArgumentParser
import Dispatch
import Foundation
import Probing

struct BenchProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "One logistic probe fit on an HDF5 hook (same work as sklearn_probe_bench.py).",
        discussion: """
        Reads --hook at --position (a /positions name or an integer) and /labels/<label> for every example,
        standardises on the training rows, fits multinomial logistic regression (L-BFGS) with
        λ = 1 / (C · n_train) (scikit-learn's C) and its stopping rule (--tol, max_iter 1000), and times the
        fit alone, as the peer does. (`lens probe` itself stops at the tighter 1e-5.)
        Prints `lens probe accuracy=A seconds=S n_train=N n_test=M classes=K`.
          lens bench probe --h5 F.h5 --hook blocks.1.hook_resid_post --position equals --label answer_tens --split split.json
        """)

    @Option var h5: String
    @Option var hook: String
    @Option var position: String
    @Option var label: String
    @Option(help: "JSON {\"train\": [...], \"test\": [...]} of file row indices.") var split: String
    @Option(name: .customLong("C")) var c = 1.0
    @Option var repeats = 5
    @Flag(help: "Print one JSON document.") var json = false
    @Option(help: "L-BFGS stopping rule: max |gradient| of the mean objective (scikit-learn's tol, default 1e-4).") var tol = 1e-4

    func run() throws {
        let r = try ActivationFileReader(path: h5)
        let n = r.n
        let pos: [Int32] = try Int(position).map { [Int32](repeating: Int32($0), count: n) } ?? r.position(position)
        let t = try r.readHook(hook, rows: 0..<n, positions: pos)
        let d = t.count / n
        let y = try r.label(label).floats.map { Int32($0) }
        let s = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: split))) as! [String: [Int]]
        let train = s["train"]!, test = s["test"]!
        let classes = Array(Set(train.map { y[$0] })).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let std = Standardizer(features: t.data, d: d, rows: train.sorted())
        let x = std.transform(features: t.data, d: d, rows: train)
        let xt = std.transform(features: t.data, d: d, rows: test)
        let lambda = 1 / (c * Double(train.count))
        var options = LBFGSOptions()
        options.gradientTolerance = tol
        options.maxIterations = 1000      // sklearn's max_iter in the peer
        var times: [Double] = []
        var model: LogisticModel?
        var iterations = 0, evaluations = 0
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let fit = LogisticRegression.fit(x: x, n: train.count, d: d, y: train.map { index[y[$0]]! }, classes: classes,
                                             sigmoid: false, lambda: lambda, options: options)
            model = fit.model
            iterations = fit.report.iterations; evaluations = fit.report.evaluations
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let predicted = model!.predict(x: xt, m: test.count)
        let correct = zip(predicted, test).filter { classes[$0.0] == y[$0.1] }.count
        if json {
            let doc: [String: Any] = ["accuracy": Double(correct) / Double(test.count), "seconds": times.sorted()[times.count / 2],
                                      "n_train": train.count, "n_test": test.count, "classes": classes.count,
                                      "iterations": iterations, "evaluations": evaluations]
            try JSONOut.print(doc)
            return
        }
        print(String(format: "lens probe accuracy=%.4f seconds=%.4f n_train=%d n_test=%d classes=%d iterations=%d evaluations=%d",
                     Double(correct) / Double(test.count), times.sorted()[times.count / 2], train.count, test.count, classes.count,
                     iterations, evaluations))
    }
}
