import Foundation
import Testing
import TestSupport

/// Runs the `sh` blocks of every Notebooks-md walkthrough, in order, in a scratch directory, with the
/// freshly built `lens` on PATH: a walkthrough whose commands stop working fails the suite.
@Suite struct NotebookTests {
    static var notebooks: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Repo.root + "/Notebooks-md")) ?? []).filter { $0.hasSuffix(".md") }.sorted()
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
            let text = (try? String(contentsOfFile: Repo.root + "/Notebooks-md/" + nb, encoding: .utf8)) ?? ""
            #expect(!Self.shellBlocks(text).isEmpty, "\(nb) has no sh block")
        }
    }

    @Test(arguments: notebooks)
    func notebookCommandsRun(_ name: String) throws {
        let text = try String(contentsOfFile: Repo.root + "/Notebooks-md/" + name, encoding: .utf8)
        let work = try TempDir("nb")
        let bin = Repo.lensDirectory
        #expect(FileManager.default.fileExists(atPath: Repo.lens), "no lens binary in \(bin); run swift build first")
        let (python, pythonEnv, _) = interopPython()
        var env = pythonEnv
        env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["REPO"] = Repo.root
        env["INTEROP_PY"] = python
        for (i, block) in Self.shellBlocks(text).enumerated() {
            let (status, out, err) = try run("/bin/bash", ["-euo", "pipefail", "-c", block], environment: env, directory: work.root)
            #expect(status == 0, """
                \(name) block \(i + 1) exited \(status):
                \(block)
                --- stdout ---
                \(String(out.suffix(2000)))
                --- stderr ---
                \(String(err.suffix(2000)))
                """)
            if status != 0 { return }
        }
    }
}
