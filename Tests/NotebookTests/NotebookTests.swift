import Foundation
import Testing

/// Runs the `sh` blocks of every Notebooks-md walkthrough, in order, in a scratch directory, with the
/// freshly built `lens` on PATH: a walkthrough whose commands stop working fails the suite.
@Suite struct NotebookTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var notebooks: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: repo + "/Notebooks-md")) ?? []).filter { $0.hasSuffix(".md") }.sorted()
    }

    /// The ```sh fenced blocks of a markdown file.
    static func shellBlocks(_ text: String) -> [String] {
        var blocks: [String] = [], current: [String]? = nil
        for line in text.components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```sh" { current = [] }
            else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" { blocks.append(current!.joined(separator: "\n")); current = nil }
            else if current != nil { current!.append(line) }
        }
        return blocks
    }

    @Test func everyNotebookHasRunnableBlocks() {
        #expect(!Self.notebooks.isEmpty)
        for nb in Self.notebooks {
            let text = (try? String(contentsOfFile: Self.repo + "/Notebooks-md/" + nb, encoding: .utf8)) ?? ""
            #expect(!Self.shellBlocks(text).isEmpty, "\(nb) has no sh block")
        }
    }

    @Test(arguments: notebooks)
    func notebookCommandsRun(_ name: String) throws {
        let text = try String(contentsOfFile: Self.repo + "/Notebooks-md/" + name, encoding: .utf8)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("nb-\(UUID())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var env = ProcessInfo.processInfo.environment
        let bin = env["LENS_BIN_DIR"] ?? Self.repo + "/.build/debug"
        #expect(FileManager.default.fileExists(atPath: bin + "/lens"), "no lens binary in \(bin); run swift build first")
        env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["REPO"] = Self.repo
        env["INTEROP_PY"] = env["INTEROP_PY"] ?? "/usr/bin/python3"
        env["PYTHONPATH"] = Self.repo + "/.pydeps" + (env["PYTHONPATH"].map { ":" + $0 } ?? "")
        for (i, block) in Self.shellBlocks(text).enumerated() {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-euo", "pipefail", "-c", block]
            p.currentDirectoryURL = URL(fileURLWithPath: work)
            p.environment = env
            let out = Pipe(), err = Pipe()
            p.standardOutput = out; p.standardError = err
            try p.run()
            let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, """
                \(name) block \(i + 1) exited \(p.terminationStatus):
                \(block)
                --- stdout ---
                \(String(decoding: o.suffix(2000), as: UTF8.self))
                --- stderr ---
                \(String(decoding: e.suffix(2000), as: UTF8.self))
                """)
            if p.terminationStatus != 0 { return }
        }
    }
}
