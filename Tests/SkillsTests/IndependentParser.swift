// An independent reading of the task text formats, written from the format documentation rather
// than from the generators, so label tests compare two separate implementations.

import Foundation

/// What a prompt says, recomputed from its text alone.
struct ParsedItem {
    var operandA = -1, operandB = -1, start = -1
    /// Temporal sequence of (op code, number or -1).
    var temporal: [(op: Int, value: Int)] = []
    var toldOutOfOrder = -1
    var answerText = ""
    var answer = -1, intermediate = -1
    var carry = -1, borrow = -1, orderDependent = -1
}

enum IndependentParser {
    static let opCodes = ["add": 0, "sub": 1, "twice": 2]
    static let symbols = ["+": 0, "-": 1, "*": 2]

    static func parse(task: String, prompt: String) -> ParsedItem? {
        switch task {
        case "add", "sub", "double": return parseArithmetic(prompt)
        case "order": return parseStory(prompt, query: " order?", hasStart: false, pad: false)
        case "multistep": return parseStory(prompt, query: " now?", hasStart: true, pad: false)
        case "multistep_pad": return parseStory(prompt, query: " now?", hasStart: true, pad: true)
        default: return nil
        }
    }

    static func parseArithmetic(_ prompt: String) -> ParsedItem? {
        guard prompt.hasSuffix("=") else { return nil }
        let body = String(prompt.dropLast())
        for (symbol, code) in symbols {
            let parts = body.components(separatedBy: symbol)
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) else { continue }
            var item = ParsedItem()
            item.operandA = a
            item.operandB = b
            let result = code == 0 ? a + b : code == 1 ? a - b : a * b
            item.answer = result
            item.answerText = String(result)
            if code == 1 { item.borrow = a % 10 < b % 10 ? 1 : 0 }
            else { item.carry = (code == 0 ? a % 10 + b % 10 : (a % 10) * b) >= 10 ? 1 : 0 }
            return item
        }
        return nil
    }

    /// Stories: "had S. " then clauses "word op [k]." then the query.
    static func parseStory(_ prompt: String, query: String, hasStart: Bool, pad: Bool) -> ParsedItem? {
        guard prompt.hasSuffix(query) else { return nil }
        var body = String(prompt.dropLast(query.count))
        var item = ParsedItem()
        if hasStart {
            guard body.hasPrefix("had ") else { return nil }
            let firstDot = body.firstIndex(of: ".")!
            guard let s = Int(body[body.index(body.startIndex, offsetBy: 4)..<firstDot]) else { return nil }
            item.start = s
            body = String(body[body.index(firstDot, offsetBy: 2)...])
        }
        guard body.hasSuffix(".") else { return nil }
        let clauses = body.dropLast().components(separatedBy: ". ")
        // (told index, marker, op, value)
        var told: [(marker: String?, op: Int, value: Int)] = []
        for clause in clauses {
            var words = clause.split(separator: " ").map(String.init)
            var marker: String? = nil
            if ["first", "later", "final", "after", "prior"].contains(words[0]) { marker = words.removeFirst() }
            guard let op = opCodes[words[0]] else { return nil }
            let value = words.count > 1 ? Int(words[1]) ?? -99 : -1
            told.append((marker, op, value))
        }
        // Temporal rank of each told clause.
        var rank: [Int]
        if told.allSatisfy({ $0.marker != nil && ["first", "later", "final"].contains($0.marker!) }) {
            rank = told.map { ["first": 0, "later": 1, "final": 2][$0.marker!]! }
            if told.count == 2 && rank.sorted() != [0, 1] { return nil }
            if told.count == 3 && rank.sorted() != [0, 1, 2] { return nil }
        } else {
            guard told.count == 2, told[0].marker == nil else { return nil }
            rank = told[1].marker == "after" ? [0, 1] : [1, 0]
        }
        item.toldOutOfOrder = rank == Array(0..<told.count) ? 0 : 1
        item.temporal = rank.indices.sorted { rank[$0] < rank[$1] }.map { (told[$0].op, told[$0].value) }

        if !hasStart {
            item.answerText = item.temporal.map { ["+", "-", "*"][$0.op] }.joined()
            item.orderDependent = Set(item.temporal.map(\.op)).count > 1 ? 1 : 0
            return item
        }
        func apply(_ x: Int, _ step: (op: Int, value: Int)) -> Int {
            step.op == 0 ? x + step.value : step.op == 1 ? x - step.value : 2 * x
        }
        var x = item.start
        var carries: [Bool] = [], borrows: [Bool] = []
        var values: [Int] = []
        for step in item.temporal {
            if step.op == 1 { borrows.append(x % 10 < step.value % 10) }
            else if step.op == 0 { carries.append(x % 10 + step.value % 10 >= 10) }
            else { carries.append(x % 10 >= 5) }
            x = apply(x, step)
            values.append(x)
        }
        item.intermediate = values[0]
        item.answer = x
        item.carry = carries.isEmpty ? -1 : (carries.contains(true) ? 1 : 0)
        item.borrow = borrows.isEmpty ? -1 : (borrows.contains(true) ? 1 : 0)
        let reversed = item.temporal.reversed().reduce(item.start) { apply($0, $1) }
        item.orderDependent = reversed != x ? 1 : 0
        // Scratchpad: each step as its arithmetic task's equation, in temporal order.
        let inputs = [item.start, values[0]]
        let equations = item.temporal.indices.map { t in
            let step = item.temporal[t]
            return "\(inputs[t])\(["+", "-", "*"][step.op])\(step.op == 2 ? 2 : step.value)=\(values[t])"
        }
        item.answerText = pad ? equations.joined(separator: ";") : String(x)
        return item
    }
}
