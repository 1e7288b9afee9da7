// Every way a probe fit can be refused, each with a one-line message that names the problem,
// so the CLI can print it verbatim and a user knows which input to fix.

public enum ProbeError: Error, CustomStringConvertible, Equatable, Sendable {
    case shapeMismatch(String)
    case indexOutOfRange(split: String, index: Int, n: Int)
    case overlappingSplits(index: Int)
    case tooFewExamples(split: String, count: Int, minimum: Int)
    case tooFewClasses(found: Int)
    case binaryNeedsTwoClasses(found: Int)
    case nonFiniteFeature(row: Int, column: Int)
    case nonFiniteTarget(row: Int)
    case invalidLambda(Double)
    case emptyLambdaGrid
    case notPositiveDefinite(pivot: Int)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let what):
            return "shape mismatch: \(what)"
        case .indexOutOfRange(let split, let index, let n):
            return "\(split) index \(index) is outside 0..<\(n)"
        case .overlappingSplits(let index):
            return "example \(index) is in both the train and the test split (leakage)"
        case .tooFewExamples(let split, let count, let minimum):
            return "too few \(split) examples: \(count), need at least \(minimum)"
        case .tooFewClasses(let found):
            return found == 0
                ? "empty class list: the training split has no labels"
                : "only \(found) distinct class in the training split; a classifier needs at least 2"
        case .binaryNeedsTwoClasses(let found):
            return "binary probe needs exactly 2 classes in the training split, found \(found); use multiclass"
        case .nonFiniteFeature(let row, let column):
            return "feature [\(row), \(column)] is NaN or infinite"
        case .nonFiniteTarget(let row):
            return "regression target of example \(row) is NaN or infinite"
        case .invalidLambda(let l):
            return "L2 strength lambda must be finite and >= 0, got \(l)"
        case .emptyLambdaGrid:
            return "lambda grid is empty"
        case .notPositiveDefinite(let pivot):
            return "matrix is not positive definite (Cholesky pivot \(pivot) <= 0); increase lambda"
        case .invalidOption(let what):
            return "invalid option: \(what)"
        }
    }
}
