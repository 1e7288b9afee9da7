import Yams

/// A YAML document's problem, in one line (Yams's messages span several and quote the offending text).
public struct YAMLProblem: Error {
    public let message: String
}

/// What a spec file may be: far beyond any real study or probe spec, far below what would exhaust the
/// machine. Checked before the YAML parser sees the text (libyaml recurses per nesting level, and an
/// alias can expand a few lines into billions of nodes).
public enum YAMLLimits {
    public static let maxBytes = 1 << 20
    public static let maxDepth = 64
    public static let maxNodes = 100_000
}

/// The top-level mapping of a YAML file (study files, probe specs), or the one-line reason it is not one.
/// A UTF-8 byte-order mark is skipped; binary data, oversized or over-deep documents, alias bombs and
/// duplicate keys are refused without echoing the file's contents.
public func yamlTopLevelMapping(_ text: String) -> Result<[String: Any], YAMLProblem> {
    func fail(_ m: String) -> Result<[String: Any], YAMLProblem> { .failure(YAMLProblem(message: m)) }
    let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    if text.utf8.count > YAMLLimits.maxBytes {
        return fail("\(text.utf8.count) bytes; a spec file may hold at most \(YAMLLimits.maxBytes)")
    }
    if text.unicodeScalars.contains(where: { $0 == "\0" || $0 == "\u{FFFD}" || ($0.value < 0x20 && !"\t\n\r".unicodeScalars.contains($0)) }) {
        return fail("not a text file (binary data or invalid UTF-8)")
    }
    if let depth = nestingBeyondLimit(text) { return fail("nested \(depth) levels deep; at most \(YAMLLimits.maxDepth) are allowed") }
    let node: Node?
    do { node = try Yams.compose(yaml: text) } catch { return fail(oneLine(error)) }
    guard let node else { return fail("top level must be a mapping of keys (the file is empty)") }
    var budget = YAMLLimits.maxNodes
    if let problem = check(node, depth: 0, budget: &budget) { return fail(problem) }
    let root: Any?
    do { root = try Yams.load(yaml: text) } catch { return fail(oneLine(error)) }
    guard let mapping = root as? [String: Any] else { return fail("top level must be a mapping of keys") }
    return .success(mapping)
}

/// The deepest flow nesting (`[`, `{`) or block indentation, if it passes the limit.
private func nestingBeyondLimit(_ text: String) -> Int? {
    var depth = 0, deepest = 0, quote: Character?
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let indent = line.prefix { $0 == " " }.count
        deepest = max(deepest, indent / 2)
        var escaped = false
        for c in line {
            if let q = quote {
                if q == "\"" && c == "\\" && !escaped { escaped = true; continue }
                if c == q && !escaped { quote = nil }
                escaped = false
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "#": break
            case "[", "{": depth += 1; deepest = max(deepest, depth)
            case "]", "}": depth = max(0, depth - 1)
            default: continue
            }
            if c == "#" { break }
        }
        if quote == "'" { quote = nil }   // single-quoted scalars do not span lines in spec files
    }
    return deepest > YAMLLimits.maxDepth ? deepest : nil
}

/// Walks the composed document (aliases expanded, as the loader would) within a node budget; checks
/// mappings for duplicate keys, which YAML forbids and the loader would silently resolve (last wins).
private func check(_ node: Node, depth: Int, budget: inout Int) -> String? {
    budget -= 1
    if budget < 0 { return "the document expands to more than \(YAMLLimits.maxNodes) values (aliases?)" }
    if depth > YAMLLimits.maxDepth { return "nested more than \(YAMLLimits.maxDepth) levels deep" }
    switch node {
    case .scalar: return nil
    case .sequence(let s):
        for child in s { if let p = check(child, depth: depth + 1, budget: &budget) { return p } }
    case .mapping(let m):
        var seen = Set<Node>()
        for (key, value) in m {
            if !seen.insert(key).inserted { return "duplicate key \"\(key.string ?? "\(key)")\"" + line(of: key) }
            if let p = check(key, depth: depth + 1, budget: &budget) ?? check(value, depth: depth + 1, budget: &budget) { return p }
        }
    }
    return nil
}

private func line(of node: Node) -> String {
    node.mark.map { " at line \($0.line)" } ?? ""
}

/// Yams's error as `malformed YAML at line L, column C: problem`, without the quoted source text.
private func oneLine(_ error: Error) -> String {
    switch error as? YamlError {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
        return "malformed YAML at line \(mark.line), column \(mark.column): \(problem)"
    case .reader(let problem, let offset, _, _):
        return "malformed YAML\(offset.map { " at byte \($0)" } ?? ""): \(problem)"
    default:
        return "malformed YAML: " + String(describing: error).split(separator: "\n").first.map(String.init)!
    }
}

/// Why `name` cannot name a file or directory that a spec's outputs are written under (a study's
/// directory, a run's, a probe's), or nil if it can: one path component, no parent references, no hidden
/// or option-like names, so `name: ../../x` cannot write outside the output directory.
public func problemAsFileName(_ name: String) -> String? {
    if name.isEmpty { return "must not be empty" }
    if name.utf8.count > 100 { return "must be at most 100 bytes, got \(name.utf8.count)" }
    if name.contains("/") || name.contains("\\") { return "must not contain a path separator, got \"\(name)\"" }
    if name.hasPrefix(".") || name.hasPrefix("-") { return "must not start with '.' or '-', got \"\(name)\"" }
    if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "must not contain control characters" }
    return nil
}
