import Foundation
import Testing
import TestSupport

/// `lens probe` output is never a silent mix (issue 10, point 5): files are published atomically (no
/// hidden `.dat.nosync` temporaries), an unfinished run is marked by `<probe>.INCOMPLETE`, which a finished
/// run removes, and the JSON (the record of results) is written last.
@Suite(.serialized) struct ProbeOutputTests {
    @Test func aFinishedProbeLeavesNoMarkerAndNoTemporaries() throws {
        let dir = try CLIConventionTests.fixture.get().root
        let h5 = try CLIConventionTests.activationFile(dir)
        let out = dir + "/probe-output"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // What an interrupted earlier run left: its marker and a stale figure.
        try Data("interrupted".utf8).write(to: URL(fileURLWithPath: out + "/tens.INCOMPLETE"))
        let r = try CLIConventionTests.lens(["probe", "--spec", "/dev/stdin", "--activations", h5, "--out", out, "--threads", "1"],
                                            stdin: CLIConventionTests.probeSpec)
        #expect(r.status == 0, "\(r.err)")
        let files = filesBelow(out).keys.map { String($0) }
        #expect(files.contains { $0.hasSuffix("tens.json") }, "\(files)")
        #expect(!files.contains { $0.hasSuffix(".INCOMPLETE") }, "marker left: \(files)")
        #expect(!files.contains { $0.contains(".partial-") || $0.contains(".nosync") }, "temporaries left: \(files)")
    }
}
