import Testing
@testable import Specs

/// Hostile YAML (issue 10): each case ends in a one-line problem, never a crash, a hang or a result.
@Suite struct YAMLLimitTests {
    func problem(_ text: String) -> String? {
        if case .failure(let p) = yamlTopLevelMapping(text) { return p.message }
        return nil
    }

    @Test func anOrdinarySpecLoads() throws {
        let m = try yamlTopLevelMapping("name: x\nhooks: [\"blocks.*.hook_resid_post\"]\nsplit: {test: 0.25}\n").get()
        #expect(m["name"] as? String == "x")
        #expect((m["hooks"] as? [String]) == ["blocks.*.hook_resid_post"])
    }

    @Test func aByteOrderMarkIsSkipped() throws {
        #expect(try yamlTopLevelMapping("\u{FEFF}name: x\n").get()["name"] as? String == "x")
    }

    @Test func deepFlowNestingIsRefusedBeforeParsing() {
        let p = problem("a: " + String(repeating: "[", count: 100_000))
        #expect(p?.contains("nested 100000 levels deep") == true, "\(p ?? "accepted")")
    }

    @Test func deepBlockNestingIsRefused() {
        var text = ""
        for i in 0..<200 { text += String(repeating: "  ", count: i) + "k\(i):\n" }
        #expect(problem(text)?.contains("levels deep") == true)
    }

    @Test func anAliasBombIsRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let p = problem(text)
        #expect(p?.contains("more than 100000 values") == true, "\(p ?? "accepted")")
    }

    @Test func aFewAliasesAreFine() throws {
        let m = try yamlTopLevelMapping("base: &b {lr: 0.1}\nother: *b\n").get()
        #expect((m["other"] as? [String: Any])?["lr"] as? Double == 0.1)
    }

    @Test func duplicateKeysAreRefused() {
        #expect(problem("name: a\nsteps: 10\nname: b\n") == "duplicate key \"name\" at line 3")
        #expect(problem("m: {x: 1, x: 2}\n")?.hasPrefix("duplicate key \"x\"") == true)
    }

    @Test func binaryIsRefusedWithoutEchoingIt() {
        let p = problem("name: \u{01}\u{02}secret\u{03}\n")
        #expect(p == "not a text file (binary data or invalid UTF-8)")
    }

    @Test func oversizedFilesAreRefused() {
        let p = problem("a: " + String(repeating: "x", count: 2 << 20))
        #expect(p?.contains("at most 1048576") == true)
    }

    @Test func malformedYAMLIsOneLineWithAPosition() {
        let p = problem("name: [unclosed\nother: 1\n")
        #expect(p?.hasPrefix("malformed YAML at line") == true, "\(p ?? "accepted")")
        #expect(p?.contains("\n") == false)
    }
}
