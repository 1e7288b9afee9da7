import Foundation
import Testing
import TestSupport

/// The fuzz suite's knobs, read from the environment so `make fuzz` can ask for more than `make test`.
///   LENS_FUZZ_CASES    cases per family (default 24: the whole target stays well under a minute in debug)
///   LENS_FUZZ_SEED     the generator's seed (default below); the same seed gives the same cases
///   LENS_FUZZ_ONLY     run only this case index of each family (to replay one failure)
///   LENS_FUZZ_BIN      the `lens` under test (default: Repo.lens; `make fuzz` passes .build/release/lens,
///                      where the -Ounchecked modules turn a missed check into garbage rather than a trap)
///   LENS_FUZZ_TIMEOUT  seconds before a case counts as a hang (default 30)
///   LENS_FUZZ_KEEP     keep the fixture directory and every mutated file (its path is printed)
enum FuzzSettings {
    static let environment = ProcessInfo.processInfo.environment
    static let cases = environment["LENS_FUZZ_CASES"].flatMap(Int.init) ?? 24
    static let seed = environment["LENS_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_130
    static let only = environment["LENS_FUZZ_ONLY"].flatMap(Int.init)
    static let lens = environment["LENS_FUZZ_BIN"] ?? Repo.lens
    static let timeout = environment["LENS_FUZZ_TIMEOUT"].flatMap(Int.init) ?? 30
    /// Address space per case. A read that never ends (/dev/zero) or an allocation sized by a hostile
    /// header then fails inside its own process instead of taking the machine's memory from other jobs.
    static let memoryKiB = 8 << 20

    /// The indices to run: every case, or the one being replayed.
    static var indices: [Int] { only.map { [$0] } ?? Array(0..<cases) }
}

/// SplitMix64: small, fast and the same on every platform, so a seed names the same cases everywhere.
struct FuzzRNG: RandomNumberGenerator {
    private var state: UInt64

    /// Case `index` of `family` draws from its own stream, so replaying one case needs no others.
    init(seed: UInt64, family: String, index: Int) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325                     // FNV-1a of the family name
        for b in family.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = seed ^ h ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
}

/// What the generator knows about a case's input.
enum Expectation: Sendable {
    /// Valid input: `lens` must accept it.
    case valid
    /// Invalid input: `lens` must refuse it with a clean error.
    case invalid
    /// Either may be right (a truncated YAML file may still be a valid spec): only crashes, hangs and
    /// noisy errors are failures.
    case either
    /// Refusing cleanly is fine; an accepted result must pass the oracle, which returns its objection.
    case oracle(@Sendable (ProcessOutput) -> String?)
}

/// One generated input and the command that reads it.
struct FuzzCase: Sendable {
    /// What was done to the input, e.g. `truncate at 1234`; with the index it names the case in reports.
    var name: String
    var args: [String]
    var expect: Expectation
    /// A clean error line must contain one of these: the input file, the flag or the key ("" when the
    /// input is an empty path: any one error line names it).
    var mentions: [String]
    /// The working directory: always a scratch directory, so a relative or empty path writes nowhere else.
    var directory: String
}

/// How one run ended, in the classes the issue counts.
enum Verdict: String, CaseIterable, Sendable {
    case accepted = "accepted"
    case cleanError = "clean error"
    case crash = "crash"
    case hang = "hang"
    case noisyError = "noisy error"
    case silentAcceptance = "silent acceptance"
    case validRefused = "valid input refused"

    var isFailure: Bool { ![.accepted, .cleanError].contains(self) }
}

enum Fuzz {
    /// Runs `executable args` under the watchdog: no core files, bounded memory, killed after `timeout`
    /// seconds (`timeout` then exits 124; a process a signal ended reports 128 + the signal).
    /// `env --default-signal` first: a process spawned from a test thread inherits that thread's signal
    /// mask, which blocks almost every signal, so `kill -ABRT` or timeout's SIGTERM would go unseen.
    static func watchdog(_ executable: String, _ args: [String], timeout: Int = FuzzSettings.timeout,
                         directory: String? = nil) throws -> ProcessOutput {
        let script = "ulimit -c 0; ulimit -v \(FuzzSettings.memoryKiB); "
            + "exec env --default-signal timeout -k 5 \(timeout) \"$0\" \"$@\""
        let start = Date()
        let r = try TestSupport.run("/bin/sh", ["-c", script, executable] + args, directory: directory)
        // A process that ignores timeout's SIGTERM is killed 5 s later and reports SIGKILL: still a hang.
        if r.status == 128 + 9, Date().timeIntervalSince(start) >= Double(timeout) { return (124, r.out, r.err) }
        return r
    }

    /// The class of one run, and for failures what was wrong.
    static func classify(_ r: ProcessOutput, _ c: FuzzCase) -> (Verdict, String) {
        if r.status == 124 { return (.hang, "killed after \(FuzzSettings.timeout) s") }
        if r.status >= 128 { return (.crash, "signal \(r.status - 128); stderr: \(r.err.suffix(400))") }
        if r.status == 0 {
            switch c.expect {
            case .invalid: return (.silentAcceptance, "exit 0 on invalid input; stdout: \(r.out.prefix(300))")
            case .oracle(let check):
                if let objection = check(r) { return (.silentAcceptance, objection) }
                return (.accepted, "")
            case .valid, .either: return (.accepted, "")
            }
        }
        let lines = r.err.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == 1, let line = lines.first, line.hasPrefix("Error: "),
              c.mentions.contains(where: { $0.isEmpty || line.contains($0) }) else {
            return (.noisyError, "exit \(r.status), \(lines.count) stderr lines, should be one naming one of \(c.mentions): \(r.err.prefix(600))")
        }
        // A Foundation error printed raw names a path by accident, in words no user should need to read.
        if ["Error Domain=", "EncodingError", "DecodingError"].contains(where: line.contains) {
            return (.noisyError, "a raw Foundation error: \(line.prefix(600))")
        }
        if case .valid = c.expect { return (.validRefused, String(line)) }
        return (.cleanError, "")
    }

    /// Runs every case of a family against `lens`, prints the tally, and records one issue per failure
    /// with what it takes to replay it.
    static func run(family: String, test: String, _ cases: [(Int, FuzzCase)]) throws {
        let start = Date()
        var counts: [Verdict: Int] = [:]
        for (index, c) in cases {
            let r = try watchdog(FuzzSettings.lens, c.args, directory: c.directory)
            let (verdict, detail) = classify(r, c)
            counts[verdict, default: 0] += 1
            if verdict.isFailure {
                Issue.record("""
                    \(family)#\(index) \(c.name): \(verdict.rawValue): \(detail)
                    command: lens \(c.args.joined(separator: " "))
                    replay: \(replayBinary)LENS_FUZZ_SEED=\(FuzzSettings.seed) LENS_FUZZ_ONLY=\(index) swift test --skip-build --filter FuzzTests.\(test)
                    """)
            }
        }
        let tally = Verdict.allCases.map { "\($0.rawValue.replacingOccurrences(of: " ", with: "-"))=\(counts[$0] ?? 0)" }
        print("fuzz \(family): seed=\(FuzzSettings.seed) cases=\(cases.count) " + tally.joined(separator: " ")
              + String(format: " time=%.1fs", Date().timeIntervalSince(start)))
    }

    static var replayBinary: String { FuzzSettings.environment["LENS_FUZZ_BIN"].map { "LENS_FUZZ_BIN=\($0) " } ?? "" }

    /// Each family's cases (or plans for them), generated from their own seeded streams: `make(index, &rng)`.
    static func generate<T>(_ family: String, _ make: (Int, inout FuzzRNG) throws -> T) rethrows -> [(Int, T)] {
        try FuzzSettings.indices.map { i in
            var rng = FuzzRNG(seed: FuzzSettings.seed, family: family, index: i)
            return (i, try make(i, &rng))
        }
    }
}
