import Testing
import Probing

/// A probe's name names its output files; `positions: []` would write an empty report (issue 10, point 4).
@Suite struct SpecNameTests {
    static func spec(name: String = "p", positions: String = "[equals]") -> String {
        "name: \"\(name)\"\nquestion: q\ntarget: operand_a\nkind: ridge\nhooks: [blocks.0.hook_resid_post]\npositions: \(positions)\n"
    }

    @Test(arguments: ["../x", "a/b", "..", ".x", ""])
    func aNameOutsideTheOutputDirectoryIsAnError(name: String) {
        do { _ = try ProbeSpec.parse(Self.spec(name: name), file: "p.yaml"); Issue.record("accepted \(name)") } catch {
            #expect(error.description.hasPrefix("p.yaml: name: "), "\(error)")
        }
    }

    @Test func emptyPositionsAreAnError() {
        do { _ = try ProbeSpec.parse(Self.spec(positions: "[]"), file: "p.yaml"); Issue.record("accepted positions: []") } catch {
            #expect(error.description == "p.yaml: positions: must list at least one position (or be all)")
        }
    }

    /// Found by the fuzz suite (issue 10): `l2: []` silently meant the default grid, and `l2: .inf` failed
    /// in the fit with a line that named neither the file nor the key.
    @Test(arguments: [("[]", "l2: must be a number or a non-empty list"), (".inf", "l2: \"inf\" is not a finite non-negative number"),
                      ("[0.1, .nan]", "l2: \"nan\" is not a finite"), ("-1", "l2: \"-1\" is not")])
    func anEmptyOrNonFiniteL2IsAnError(l2: String, expected: String) {
        do { _ = try ProbeSpec.parse(Self.spec() + "l2: \(l2)\n", file: "p.yaml"); Issue.record("accepted l2: \(l2)") } catch {
            #expect(error.description.hasPrefix("p.yaml: " + expected), "\(error)")
        }
    }

    @Test func anOrdinarySpecStillParses() throws {
        #expect(try ProbeSpec.parse(Self.spec(), file: "p.yaml").positions == [.named("equals")])
    }
}
