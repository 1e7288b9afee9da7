// The three operations of the arithmetic mini-language. Doubling is the non-commuting one:
// (x + k) * 2 != x * 2 + k, which is what makes told order matter in multistep stories.

public enum StepOperation: Int, Sendable, Codable, CaseIterable {
    case add = 0
    case sub = 1
    case double = 2

    /// Symbol in the bare arithmetic tasks (`3+6=`, `9-4=`, `7*2=`) and in order-task answers.
    public var symbol: String {
        switch self {
        case .add: return "+"
        case .sub: return "-"
        case .double: return "*"
        }
    }

    /// Word in stories. "twice" has the length of "add k" with one-digit k, so an operation swap
    /// double <-> add k keeps the encoded length (needed for minimal pairs).
    public var word: String {
        switch self {
        case .add: return "add"
        case .sub: return "sub"
        case .double: return "twice"
        }
    }

    /// Whether the step carries a number (add k, sub k); doubling does not.
    public var takesValue: Bool { self != .double }

    public func apply(_ x: Int, _ k: Int?) -> Int {
        switch self {
        case .add: return x + (k ?? 0)
        case .sub: return x - (k ?? 0)
        case .double: return x * 2
        }
    }

    /// Carry out of the ones digit (add, double) or borrow into it (sub) when applied to x.
    func carries(_ x: Int, _ k: Int?) -> Bool {
        switch self {
        case .add: return x % 10 + (k ?? 0) % 10 >= 10
        case .double: return x % 10 * 2 >= 10
        case .sub: return false
        }
    }

    func borrows(_ x: Int, _ k: Int?) -> Bool {
        self == .sub && x % 10 < (k ?? 0) % 10
    }
}
