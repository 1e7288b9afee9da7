import Foundation
import Tensors
import TestSupport

// Independent oracles and data generators for the probing tests. Nothing here calls the code
// under test, so a bug there cannot cancel out.

enum Oracle {
    /// Solves A x = b by Gaussian elimination with partial pivoting (A row-major, m x m).
    static func solve(_ a: [Double], _ b: [Double], m: Int) -> [Double] {
        var a = a, b = b
        for col in 0..<m {
            var piv = col
            for r in col..<m where abs(a[r * m + col]) > abs(a[piv * m + col]) { piv = r }
            if piv != col {
                for c in 0..<m { a.swapAt(col * m + c, piv * m + c) }
                b.swapAt(col, piv)
            }
            for r in (col + 1)..<m {
                let f = a[r * m + col] / a[col * m + col]
                for c in col..<m { a[r * m + c] -= f * a[col * m + c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: m)
        for r in stride(from: m - 1, through: 0, by: -1) {
            var v = b[r]
            for c in (r + 1)..<m { v -= a[r * m + c] * x[c] }
            x[r] = v / a[r * m + r]
        }
        return x
    }

    /// Standard normal CDF.
    static func phi(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
}

enum Synthetic {
    /// Examples x = mu_y + N(0, I) with y uniform over the given class means (each of length d).
    static func gaussianClasses(n: Int, d: Int, means: [[Double]], seed: UInt64) -> (x: [Float], y: [Int32]) {
        var rng = RNG(seed: seed)
        var x = [Float](repeating: 0, count: n * d)
        var y = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let k = rng.int(means.count)
            y[i] = Int32(k)
            for j in 0..<d { x[i * d + j] = Float(means[k][j] + rng.normal()) }
        }
        return (x, y)
    }

    static func randomMatrix(_ count: Int, seed: UInt64) -> [Double] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }
}

/// A minimal XML well-formedness check (tags nest and match, attributes quoted, only the five
/// predefined or numeric entities, no raw "<" or "&" in text). Enough for generated SVG.
enum XMLCheck {
    static func isWellFormed(_ s: String) -> Bool {
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
    static func pythonParses(_ s: String) -> Bool? {
        let script = "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())"
        guard let r = try? runPython(["-c", script], input: Data(s.utf8)), r.status != 127 else { return nil }
        return r.status == 0
    }
}
