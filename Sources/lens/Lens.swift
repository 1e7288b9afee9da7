import ArgumentParser
import Foundation
import Transformer

@main
struct Lens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens",
        abstract: "EmergenceLens: train small transformers on arithmetic skills and look inside them.",
        discussion: """
        Typical session:
          lens tasks                      # what the skill suite holds, with labelled examples
          lens bench train --d-model 64   # engine throughput, beside ../shared/peers/torch_gpt_bench.py
        Every command that computes results accepts --json (one JSON document on stdout);
        progress and logs go to stderr.
        """,
        subcommands: [TasksCommand.self, StudyCommand.self, TrainCommand.self, SweepCommand.self, EvalCommand.self, DumpCommand.self, InspectCommand.self, ProbeCommand.self, PatchCommand.self, CircuitCommand.self, ReportCommand.self, Bench.self])

    /// Errors are one line on stderr (`Error: ...`), never the whole usage text; `--help` prints help.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let first = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("Error: \(first)\n".utf8))
            exit(withError: ExitCode(code.rawValue))
        }
    }
}

/// A whole-number option inside `range`, or a validation error naming the flag and the bound.
func checkRange(_ value: Int, _ range: ClosedRange<Int>, flag: String, why: String = "") throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound)\(why), got \(value)")
    }
}

/// Paths given on the command line must not be empty (issue 10's fuzz suite: `train --out ""` trained
/// into the working directory, and an empty input path gave ": no such file or directory", naming nothing).
func checkPaths(_ paths: [(value: String?, flag: String)]) throws {
    for (value, flag) in paths where value?.isEmpty == true { throw ValidationError("\(flag) must not be an empty path") }
}

/// Options every compute command shares.
struct CommonOptions: ParsableArguments {
    @Option(help: """
        Threads for BLAS and the engine's own loops (default: all cores). \
        `tasks`, `inspect` and `bench dump` compute on one thread and ignore it.
        """)
    var threads: Int = ProcessInfoCores.count

    @Flag(help: "Print one JSON document on stdout instead of text.")
    var json = false

    /// More threads than this only add scheduling (and each holds a shard's activations).
    static let maxThreads = 1024

    func validate() throws {
        try checkRange(threads, 1...Self.maxThreads, flag: "--threads")
    }

    func apply() {
        Engine.setThreads(threads)
        keepLargeAllocationsOnTheHeap()
    }
}

/// Items per task a command may ask for: every task here has fewer distinct items than this.
let maxItemsPerTask = 100_000

enum ProcessInfoCores { static var count: Int { ProcessInfo.processInfo.activeProcessorCount } }

/// A problem with a file or directory named on the command line: one line, no usage text.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ path: String, _ problem: String) { description = "\(path): \(problem)" }
}

/// The one JSON document a command prints with --json (keys sorted, so output is stable).
enum JSONOut {
    static let encoder: JSONEncoder = { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }()

    static func print(_ object: Any) throws {
        Swift.print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }
    static func print<T: Encodable>(_ value: T) throws {
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
    /// An Encodable value as a JSON object tree, to embed in a larger document.
    static func object<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: encoder.encode(value))
    }
}

#if os(Linux)
/// Forward passes allocate activation buffers of a few MB each. glibc serves those with mmap and
/// returns them on free, so every evaluation batch paid page faults on fresh zeroed pages (as much
/// system as user time in `lens eval`). Keeping them on the heap lets freed buffers be reused.
/// (glibc's mallopt; M_TRIM_THRESHOLD = -1 and M_MMAP_THRESHOLD = -3 in <malloc.h>.)
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
func keepLargeAllocationsOnTheHeap() {
    _ = glibcMallopt(-3, 32 << 20)
    _ = glibcMallopt(-1, 256 << 20)
}
#else
func keepLargeAllocationsOnTheHeap() {}
#endif
