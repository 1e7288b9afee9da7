import Foundation

/// A benchmark's result line (CONTRACTS section 5): `lens <what> key=value ...`, ending with a newline
/// and flushed at once, so whatever is written next (an error on stderr, the peer script's line in the
/// same log) starts on a line of its own.
enum BenchLine {
    static func print(_ what: String, _ fields: KeyValuePairs<String, String>) {
        Swift.print((["lens", what] + fields.map { "\($0.key)=\($0.value)" }).joined(separator: " "), terminator: "\n")
        fflush(nil)   // every open output stream, stdout among them
    }
}
