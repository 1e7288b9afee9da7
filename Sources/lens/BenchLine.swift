import Foundation

/// A benchmark's result line (CONTRACTS section 5): `lens <what> key=value ...`, ending with a newline
/// and flushed at once, so whatever is written next (an error on stderr, the peer script's line in the
/// same log) starts on a line of its own.
enum BenchLine {
    static func print(_ what: String, _ fields: KeyValuePairs<String, String>) {
        print(what, fields.map { ($0.key, $0.value) })
    }

    /// The same for fields built at run time (KeyValuePairs has only a literal initialiser).
    static func print(_ what: String, _ fields: [(String, String)]) {
        Swift.print((["lens", what] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " "), terminator: "\n")
        fflush(nil)   // every open output stream, stdout among them
    }
}

/// The median of a benchmark's repeats (the upper one of an even count).
func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
