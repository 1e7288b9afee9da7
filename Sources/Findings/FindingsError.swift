// Every way the findings inputs can be refused, each a one-line message naming the input and the
// problem, so `lens report` can print it verbatim and a user knows which file to fix.

public enum FindingsError: Error, CustomStringConvertible, Equatable, Sendable {
    case noCheckpoints(task: String)
    case stepsNotIncreasing(task: String, index: Int)
    case negativeStep(task: String, step: Int)
    case noRuns(task: String, group: String)
    case noItems(task: String, seed: Int)
    case raggedItem(task: String, seed: Int, item: Int, count: Int, checkpoints: Int)
    case itemCountsDiffer(task: String, seed: Int, count: Int, expected: Int)
    case nonFinite(task: String, seed: Int, item: Int, checkpoint: Int)
    case nonFiniteChance(task: String)
    case seedsDiffer(group: String, task: String, seeds: [Int], expected: [Int])
    case stepsDiffer(group: String, task: String, other: String)
    case labelCount(task: String, what: String, count: Int, items: Int)
    case unknownFactor(task: String, category: String)
    case wrongMetric(task: String, found: Metric, expected: Metric)
    case invalid(String)

    public var description: String {
        switch self {
        case .noCheckpoints(let task):
            return "\(task): no checkpoints"
        case .stepsNotIncreasing(let task, let index):
            return "\(task): checkpoint steps must increase strictly; step \(index) does not"
        case .negativeStep(let task, let step):
            return "\(task): negative checkpoint step \(step)"
        case .noRuns(let task, let group):
            return "\(task) in \(group): no runs (seeds)"
        case .noItems(let task, let seed):
            return "\(task), seed \(seed): no test items"
        case .raggedItem(let task, let seed, let item, let count, let checkpoints):
            return "\(task), seed \(seed): item \(item) has \(count) outcomes, expected one per checkpoint (\(checkpoints))"
        case .itemCountsDiffer(let task, let seed, let count, let expected):
            return "\(task), seed \(seed): \(count) items, but the first run has \(expected) (every run must score the same test items)"
        case .nonFinite(let task, let seed, let item, let checkpoint):
            return "\(task), seed \(seed): item \(item) at checkpoint \(checkpoint) is NaN or infinite"
        case .nonFiniteChance(let task):
            return "\(task): chance level is NaN or infinite"
        case .seedsDiffer(let group, let task, let seeds, let expected):
            return "\(group): \(task) has seeds \(seeds), expected \(expected) (tasks compared in one group must come from the same runs)"
        case .stepsDiffer(let group, let task, let other):
            return "\(group): \(task) and \(other) were scored at different checkpoints"
        case .labelCount(let task, let what, let count, let items):
            return "\(task): \(count) \(what) for \(items) items"
        case .unknownFactor(let task, let category):
            return "no sub-skill items for factor \(task)/\(category)"
        case .wrongMetric(let task, let found, let expected):
            return "\(task): metric \(found.rawValue), expected \(expected.rawValue)"
        case .invalid(let what):
            return "invalid input: \(what)"
        }
    }
}
