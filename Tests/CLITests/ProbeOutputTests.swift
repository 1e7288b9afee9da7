import Dispatch
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
        #expect(files.contains("tens/directions.h5"), "the probes in activation space: \(files)")
        let json = try String(contentsOfFile: out + "/tens.json", encoding: .utf8)
        #expect(json.contains("\"directionsDataset\":\"\\/cells\\/0\""), "the JSON names each cell's dataset: \(json.prefix(200))")
        #expect(!files.contains { $0.hasSuffix(".INCOMPLETE") }, "marker left: \(files)")
        #expect(!files.contains { $0.contains(".partial-") || $0.contains(".nosync") }, "temporaries left: \(files)")
    }

    /// Two `lens probe` of the same spec into one `--out` at once (issue 10's concurrency tests): both end
    /// cleanly and what is left is byte for byte what one probe alone writes, with no marker or temporary.
    /// The outcome is asserted for any interleaving, so the test cannot pass or fail by timing.
    @Test func twoProbesIntoOneDirectoryLeaveWhatOneProbeWrites() throws {
        let dir = try CLIConventionTests.fixture.get().root
        let h5 = try CLIConventionTests.activationFile(dir)
        let shared = dir + "/probe-twice", alone = dir + "/probe-alone"
        let args = ["probe", "--spec", "/dev/stdin", "--activations", h5, "--threads", "1"]
        let results = Shared<[CLIConventionTests.Outcome]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let r = try? CLIConventionTests.lens(args + ["--out", shared], stdin: CLIConventionTests.probeSpec)
            results.update { $0.append(r ?? CLIConventionTests.Outcome(status: -1, out: "", err: "could not start lens")) }
        }
        for r in results.value { #expect(r.status == 0, "\(r.err)") }
        let lone = try CLIConventionTests.lens(args + ["--out", alone], stdin: CLIConventionTests.probeSpec)
        #expect(lone.status == 0, "\(lone.err)")
        let twice = filesBelow(shared).filter { !$0.key.hasPrefix(".lens-") }, once = filesBelow(alone).filter { !$0.key.hasPrefix(".lens-") }
        #expect(Set(twice.keys) == Set(once.keys), "\(twice.keys.sorted()) vs \(once.keys.sorted())")
        for (name, bytes) in once { #expect(twice[name] == bytes, "\(name) differs") }
    }
}
