import ArgumentParser
import Foundation
import Skills
import Tensors

struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List the skill tasks and print examples with their labels and named positions.",
        discussion: """
        Each task is a seeded generator with a documented text format. Labels become /labels/<name>
        in activation files (-1 = not applicable); positions index the encoded sequence
        <bos> prompt answer <eos> (position 0 is <bos>).
          lens tasks                       # every task, 2 examples each
          lens tasks --task multistep --n 5 --max-operand 19
          lens tasks --labels              # the label and position catalogue
        """)

    @Option(help: "Only this task.") var task: String?
    @Option(help: "Examples per task.") var n = 2
    @Option(help: "Generator seed.") var seed: UInt64 = 0
    @Option(name: .customLong("max-operand")) var maxOperand = TaskConfig().maxOperand
    @Option(name: .customLong("max-step")) var maxStep = TaskConfig().maxStep
    @Flag(help: "Print the label and position catalogue instead.") var labels = false
    @OptionGroup var common: CommonOptions
    private var json: Bool { common.json }

    func validate() throws {
        try checkRange(n, 1...10_000, flag: "--n", why: " (examples printed per task)")
        // TaskConfig's own bounds, said in flags (its error named maxOperand and maxStep).
        let maxResult = TaskConfig().maxResult
        try checkRange(maxOperand, 0...maxResult, flag: "--max-operand", why: " (every number stays within 0...\(maxResult))")
        try checkRange(maxStep, 1...maxResult, flag: "--max-step", why: " (every number stays within 0...\(maxResult))")
    }

    func run() throws {
        if labels {
            if json {
                let doc: [String: Any] = ["labels": Dictionary(uniqueKeysWithValues: LabelCatalog.labels.map { ($0.0, $0.1) }),
                                          "positions": Dictionary(uniqueKeysWithValues: LabelCatalog.positions.map { ($0.0, $0.1) })]
                try JSONOut.print(doc)
            } else {
                print("labels:"); for (name, meaning) in LabelCatalog.labels { print("  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(meaning)") }
                print("positions:"); for (name, meaning) in LabelCatalog.positions { print("  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(meaning)") }
            }
            return
        }
        let config = TaskConfig(maxOperand: maxOperand, maxStep: maxStep)
        try config.validate()
        let tasks = try task.map { [try Tasks.named($0, config: config)] } ?? Tasks.all(config: config)
        var doc: [[String: Any]] = []
        for t in tasks {
            var rng = RNG(seed: seed)
            let examples = (0..<n).map { _ in t.example(rng: &rng) }
            if json {
                // Labels as plain numbers (the Codable form of LabelValue is an enum wrapper).
                let items = try examples.map { e -> Any in
                    var obj = try JSONOut.object(e) as! [String: Any]
                    obj["labels"] = e.labels.mapValues { v -> Any in
                        if case .float32(let f) = v { return Double(f) }
                        return v.intValue
                    }
                    return obj
                }
                doc.append(["task": t.name, "format": t.formatDescription, "max_encoded_length": t.maxEncodedLength, "examples": items])
            } else {
                print("\(t.name)  (max encoded length \(t.maxEncodedLength))")
                print("  " + t.formatDescription.replacingOccurrences(of: "\n", with: "\n  "))
                for e in examples {
                    print("  \(e.prompt) -> \(e.answer)")
                    let ls = e.labels.filter { $0.value.intValue != -1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.intValue)" }
                    let ps = e.positions.filter { $0.value >= 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    print("    labels: " + ls.joined(separator: " "))
                    print("    positions: " + ps.joined(separator: " "))
                }
            }
        }
        if json { try JSONOut.print(doc) }
    }
}
