import Foundation

/// A minimal XML well-formedness check (tags nest and match, attributes quoted, only the five
/// predefined or numeric entities, no raw "<" or "&" in text). Enough for generated SVG.
public enum XMLCheck {
    public static func isWellFormed(_ s: String) -> Bool {
        let c = Array(s.unicodeScalars)
        var i = 0, stack: [String] = [], sawRoot = false
        func entityOK(_ at: Int) -> Int? {
            guard let semi = c[at...].firstIndex(of: ";"), semi - at <= 10 else { return nil }
            let name = String(String.UnicodeScalarView(c[(at + 1)..<semi]))
            if ["amp", "lt", "gt", "quot", "apos"].contains(name) || name.hasPrefix("#") { return semi + 1 }
            return nil
        }
        while i < c.count {
            if c[i] == "<" {
                if s.unicodeScalars.count > i + 1, c[i + 1] == "?" || c[i + 1] == "!" {
                    guard let end = c[i...].firstIndex(of: ">") else { return false }
                    i = end + 1; continue
                }
                var j = i + 1
                let closing = c[j] == "/"
                if closing { j += 1 }
                var name = ""
                while j < c.count, !" />\n\t".unicodeScalars.contains(c[j]) { name.unicodeScalars.append(c[j]); j += 1 }
                if name.isEmpty { return false }
                // Attributes: name="value" pairs until > or />.
                var selfClosing = false
                while j < c.count, c[j] != ">" {
                    if c[j] == "/" { selfClosing = true; j += 1; continue }
                    if c[j] == "\"" || c[j] == "'" {
                        let q = c[j]; j += 1
                        while j < c.count, c[j] != q {
                            if c[j] == "<" { return false }
                            if c[j] == "&" { guard let k = entityOK(j) else { return false }; j = k; continue }
                            j += 1
                        }
                    }
                    j += 1
                }
                if j >= c.count { return false }
                if closing {
                    guard stack.popLast() == name else { return false }
                } else if !selfClosing {
                    if stack.isEmpty && sawRoot { return false }
                    sawRoot = true
                    stack.append(name)
                }
                i = j + 1
            } else if c[i] == "&" {
                guard let k = entityOK(i) else { return false }
                i = k
            } else {
                i += 1
            }
        }
        return stack.isEmpty && sawRoot
    }

    /// Python's xml.dom.minidom as a second opinion; nil when python3 cannot be run here.
    public static func pythonParses(_ s: String) -> Bool? {
        let script = "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())"
        guard let r = try? runPython(["-c", script], input: Data(s.utf8)), r.status != 127 else { return nil }
        return r.status == 0
    }
}
