import Dispatch
import Foundation

/// What a finished process printed and how it ended: its exit status, or 128 + the signal number when a
/// signal ended it (as a shell reports it: 137 for kill -9).
public typealias ProcessOutput = (status: Int32, out: String, err: String)

/// Runs `executable` to completion and returns how it ended, its stdout and its stderr.
/// Both pipes are drained at once, so a process that fills stderr while we wait on stdout cannot stall.
/// - environment: nil inherits the test process's environment.
/// - input: written to the process's stdin, which is then closed; nil gives it no stdin at all.
public func run(_ executable: String, _ args: [String], environment: [String: String]? = nil,
                directory: String? = nil, input: Data? = nil) throws -> ProcessOutput {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let environment { p.environment = environment }
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let stdin = input.map { _ in Pipe() }
    p.standardInput = stdin ?? FileHandle.nullDevice
    try p.run()
    let errText = PipeDrain(err.fileHandleForReading)
    if let stdin, let input {
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return (status, String(decoding: o, as: UTF8.self), String(decoding: errText.wait(), as: UTF8.self))
}

/// Reads a pipe to its end on another thread.
private final class PipeDrain: @unchecked Sendable {
    // `data` is written once by the reader thread before `done` is signalled, and read only after `wait`.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// The Python interpreter of the interop tests (Makefile: INTEROP_PY, Debian's /usr/bin/python3 by default,
/// which has h5py and numpy), with the repository's `.pydeps/` (pip-installed safetensors) on PYTHONPATH.
public func interopPython() -> (python: String, env: [String: String], repo: String) {
    var env = ProcessInfo.processInfo.environment
    env["PYTHONPATH"] = Repo.root + "/.pydeps" + (env["PYTHONPATH"].map { ":" + $0 } ?? "")
    return (env["INTEROP_PY"] ?? "/usr/bin/python3", env, Repo.root)
}

/// Runs the interop Python with `args` (e.g. `["-c", script, path]`).
public func runPython(_ args: [String], input: Data? = nil) throws -> ProcessOutput {
    let (python, env, _) = interopPython()
    return try run(python, args, environment: env, input: input)
}

/// Runs the freshly built `lens` with `args` in `directory`.
public func runLens(_ args: [String], directory: String? = nil, environment: [String: String]? = nil) throws -> ProcessOutput {
    try run(Repo.lens, args, environment: environment, directory: directory)
}
