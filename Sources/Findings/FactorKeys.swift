import Foundation
import Runs
import Skills

// MARK: - Factor keys (plan section 5)

/// The categories of section 5's factors, from the items' labels (docs/ITEMS.md).
enum FactorKeys {
    /// A sub-skill item's category: add / double by carry, sub by borrow, order by order-dependence.
    static func categories(of t: ItemTable) -> [String] {
        func label(_ name: String) -> [Int] { (t.labels[name] ?? []).map(\.intValue) }
        switch t.task {
        case "add", "double": return label("carry").map { $0 == 1 ? "carry" : $0 == 0 ? "no_carry" : "none" }
        case "sub": return label("borrow").map { $0 == 1 ? "borrow" : $0 == 0 ? "no_borrow" : "none" }
        case "order": return label("order_dependent").map { $0 == 1 ? "order_dependent" : $0 == 0 ? "order_independent" : "none" }
        default: return Array(repeating: "all", count: t.count)
        }
    }

    /// The category of the equation `x op v` (op 0 add, 1 sub, 2 double): add carries when x % 10 + v % 10 >= 10,
    /// double when x % 10 * 2 >= 10, sub borrows when x % 10 < v % 10 (Skills/StepOperation.swift).
    static func equation(x: Int, op: Int, v: Int) -> FactorKey? {
        switch op {
        case 0: return FactorKey(task: "add", category: x % 10 + v % 10 >= 10 ? "carry" : "no_carry")
        case 1: return FactorKey(task: "sub", category: x % 10 < v % 10 ? "borrow" : "no_borrow")
        case 2: return FactorKey(task: "double", category: x % 10 * 2 >= 10 ? "carry" : "no_carry")
        default: return nil
        }
    }

    /// Per composite item: its two equations' factors and its telling's `order` factor, among `available` sub-skills.
    static func factors(of t: ItemTable, available: Set<String>) -> [[FactorKey]] {
        func label(_ name: String) -> [Int] { (t.labels[name] ?? Array(repeating: .int32(-1), count: t.count)).map(\.intValue) }
        let start = label("start"), op1 = label("op1"), op2 = label("op2"), v1 = label("step1_value"), v2 = label("step2_value")
        let mid = label("intermediate"), dependent = label("order_dependent")
        return (0..<t.count).map { i in
            var keys: [FactorKey] = []
            if let k = equation(x: start[i], op: op1[i], v: v1[i]) { keys.append(k) }
            if let k = equation(x: mid[i], op: op2[i], v: v2[i]) { keys.append(k) }
            if dependent[i] >= 0 { keys.append(FactorKey(task: "order", category: dependent[i] == 1 ? "order_dependent" : "order_independent")) }
            return keys.filter { available.contains($0.task) }
        }
    }
}
