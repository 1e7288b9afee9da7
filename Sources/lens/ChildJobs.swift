import ArgumentParser
import Foundation
import Synchronization

/// `lens study`'s dump, probe and patching stages as child `lens` processes, at most `jobs` at a time:
/// those commands are single-threaded in most of their work (measured: a patching experiment gains
/// nothing from a second BLAS thread), so two children on two cores take half the time of one command
/// with two threads. Each child's stdout is discarded (the study prints its own summary); its stderr
/// (progress, and its one-line error) passes through.
enum ChildJobs {
    /// This binary: the children run the same `lens`.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Runs every command (arguments after `lens`); `succeeded(i)` runs in this process after command i
    /// exits 0. After a failure no new command starts; the running ones finish, then this says which
    /// command failed (its own error line is already on stderr) and throws its exit status. No child is
    /// left running when this returns or throws.
    static func run(_ commands: [[String]], jobs: Int, succeeded: (Int) throws -> Void) throws {
        let finished = Mutex<[Int]>([])
        let signal = DispatchSemaphore(value: 0)
        var running: [Int: Process] = [:]
        var next = 0
        var failure: Int32?
        var failed: [String] = []
        defer { for p in running.values { p.waitUntilExit() } }
        while true {
            while failure == nil && next < commands.count && running.count < max(1, jobs) {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: executable)
                p.arguments = commands[next]
                p.standardOutput = FileHandle.nullDevice
                let index = next
                p.terminationHandler = { _ in
                    finished.withLock { $0.append(index) }
                    signal.signal()
                }
                try p.run()
                running[index] = p
                next += 1
            }
            if running.isEmpty { break }
            signal.wait()
            for i in finished.withLock({ list in defer { list.removeAll() }; return list }) {
                guard let p = running.removeValue(forKey: i) else { continue }
                p.waitUntilExit()
                if p.terminationReason == .exit && p.terminationStatus == 0 {
                    try succeeded(i)
                } else {
                    if failure == nil { failure = p.terminationReason == .exit ? p.terminationStatus : 1 }
                    failed.append((["lens"] + commands[i]).joined(separator: " "))
                }
            }
        }
        if let failure {
            for f in failed { FileHandle.standardError.write(Data("lens study: failed: \(f)\n".utf8)) }
            throw ExitCode(failure)
        }
    }
}
