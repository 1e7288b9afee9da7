import Foundation
import Testing
import TestSupport

/// `lens patch` from the command line on a tiny trained run: the JSON holds CONTRACTS section 6's fields,
/// every mean equals the per-pair values h5py reads from the HDF5 file the JSON names, the pairs files are
/// the JSON's pairs, exact patching runs only at --exact-steps, a rerun is byte-identical, and each bad
/// input is one line naming the file. (The numbers themselves are checked against ground truth in
/// PatchingTests: planted circuits, TransformerLens's algorithm.)
@Suite(.serialized) struct PatchCommandTests {
    static let spec = """
        name: steps
        question: Which components decide the scratchpad's results?
        task: multistep_pad
        corruption: operand
        decisions: [step1, step2]
        pairs: 30
        min_pairs: 3
        kinds: [resid_pre, head_out_all_pos]
        directions: [denoising, noising]
        """

    static func write(_ text: String, _ dir: String, _ name: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func anExperimentWritesTheContractAndItsNumbersTrace() throws {
        let dir = try CLIConventionTests.fixture.get().root
        let spec = try Self.write(Self.spec, dir, "steps.yaml")
        let out = dir + "/patching"
        let args = ["patch", "--spec", spec, "--run", dir + "/runs/d16-s1", "--out", out, "--exact-steps", "last", "--threads", "1",
                    "--resamples", "200"]
        let r = try CLIConventionTests.lens(args + ["--json"])
        #expect(r.status == 0, "\(r.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == 1 && runs[0]["run"] as? String == "d16-s1")
        let decisions = try #require(runs[0]["decisions"] as? [[String: Any]])
        #expect(decisions.map { $0["decision"] as? String } == ["step1", "step2"])
        var expected: [(dataset: String, shape: [Int], raw: [Double])] = []
        var pooledDecisions = 0
        for d in decisions {
            let candidates = try #require(d["candidates"] as? Int), pairs = try #require(d["pairs"] as? Int)
            let dropped = try #require(d["dropped_by_reason"] as? [String: Int])
            #expect(pairs + dropped.values.reduce(0, +) == candidates, "every held-out item is a pair or a counted drop")
            for l in try #require(d["layouts"] as? [[String: Any]]) {
                let p = try #require(l["pairs"] as? [String: Any])
                for key in ["clean", "corrupted", "position", "correct", "wrong", "dropped"] { #expect(p[key] != nil, "pairs.\(key)") }
                let clean = try #require(p["clean"] as? [[Int]]), length = try #require(l["length"] as? Int)
                #expect(clean.allSatisfy { $0.count == length })
                #expect((p["position"] as? [Int])?.allSatisfy { $0 == length - 1 } == true)
                // The pairs file is the JSON's pairs, for tl_patch_bench.py --pairs.
                let file = out + "/steps/pairs/d16-s1-\(d["decision"]!)-layout\(l["layout"]!).json"
                let fromFile = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
                #expect(fromFile["clean"] as? [[Int]] == clean)
                let checkpoints = try #require(l["checkpoints"] as? [[String: Any]])
                #expect(checkpoints.map { $0["step"] as? Int } == [0, 20])
                for c in checkpoints {
                    let results = try #require(c["results"] as? [[String: Any]])
                    let exact = results.filter { $0["method"] as? String == "exact" }
                    #expect(exact.count == (c["step"] as? Int == 20 ? 4 : 0), "exact patching only at --exact-steps last")
                    #expect(results.filter { $0["method"] as? String == "attribution" }.count == 4)
                    for res in results {
                        let ref = try #require(res["per_pair"] as? [String: String])
                        #expect(ref["file"] == "d16-s1.h5")
                        expected.append((ref["dataset"]!, [clean.count] + (res["shape"] as? [Int] ?? []), flatten(res["raw"])))
                    }
                    // The clean run's attention patterns of the strongest heads, at the last step only: each
                    // destination row a causal softmax over the sources.
                    let patterns = c["attention_patterns"] as? [[String: Any]] ?? []
                    #expect(patterns.isEmpty == (c["step"] as? Int != 20), "patterns at the last step only")
                    for pat in patterns {
                        let rows = (pat["pattern"] as? [[[Double]]] ?? []).flatMap { $0 }
                        #expect(!rows.isEmpty && rows.allSatisfy { $0.count == length })
                        for (i, row) in rows.enumerated() {
                            #expect(abs(row.reduce(0, +) - 1) < 1e-5 && row[(i % length + 1)...].allSatisfy { $0 == 0 })
                        }
                    }
                }
            }
            // The pool: every layout's pairs, kept and small, for the kinds without a position axis.
            let small = d["small_layouts"] as? [[String: Any]] ?? []
            let smallPairs = small.reduce(0) { $0 + ((($1["pairs"] as? [String: Any])?["clean"] as? [[Int]])?.count ?? 0) }
            #expect(smallPairs == dropped["layout_below_min_pairs"])
            if let pooled = d["pooled"] as? [String: Any] {
                pooledDecisions += 1
                let n = try #require(pooled["pairs"] as? Int)
                #expect(n == pairs + smallPairs && (pooled["layout_pairs"] as? [Int])?.reduce(0, +) == n)
                for c in try #require(pooled["checkpoints"] as? [[String: Any]]) {
                    for res in try #require(c["results"] as? [[String: Any]]) {
                        #expect(res["kind"] as? String == "head_out_all_pos", "only kinds without a position axis pool")
                        let ref = try #require(res["per_pair"] as? [String: String])
                        expected.append((ref["dataset"]!, [n] + (res["shape"] as? [Int] ?? []), flatten(res["raw"])))
                    }
                }
            } else {
                #expect(((d["layouts"] as? [Any])?.count ?? 0) + small.count <= 1, "several layouts pool")
            }
        }
        #expect(pooledDecisions > 0, "the fixture's decisions have several layouts")
        // h5py's mean over pairs of each per-pair array is the JSON's raw, cell for cell (one Python process for all).
        let script = "import h5py, json, sys; f = h5py.File(sys.argv[1], 'r'); "
            + "print(json.dumps({d: [list(f[d].shape), f[d][()].mean(axis=0).ravel().tolist()] for d in json.load(sys.stdin)}))"
        let py = try runPython(["-c", script, out + "/steps/d16-s1.h5"], input: try JSONSerialization.data(withJSONObject: expected.map(\.dataset)))
        let read = try #require(try JSONSerialization.jsonObject(with: Data(py.out.utf8)) as? [String: [Any]], "\(py.err)")
        for (dataset, shape, raw) in expected {
            let got = try #require(read[dataset])
            #expect(got[0] as? [Int] == shape, "\(dataset)")
            let means = got[1] as? [Double] ?? []
            #expect(raw.count == means.count && zip(raw, means).allSatisfy { abs($0 - $1) < 1e-9 }, "\(dataset)")
        }
        let checked = expected.count
        #expect(checked > 0)
        // Text output and files, and the same bytes again on a rerun.
        let first = try Data(contentsOf: URL(fileURLWithPath: out + "/steps/steps.json"))
        let again = try CLIConventionTests.lens(args)
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("# Patching: steps") && again.out.contains("| 20 |"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/steps/steps.json")) == first, "a rerun writes the same JSON")
        let files = filesBelow(out + "/steps").keys
        #expect(files.contains("steps.md") && files.contains("d16-s1.h5"))
        #expect(files.contains { $0.hasPrefix("d16-s1/") && $0.hasSuffix(".svg") })
        #expect(!files.contains { $0.contains(".partial-") || $0.hasSuffix(".INCOMPLETE") }, "\(files)")
    }

    @Test func badInputIsOneLineNamingTheFile() throws {
        let dir = try CLIConventionTests.fixture.get().root
        let run = dir + "/runs/d16-s1"
        let empty = dir + "/no-checkpoints"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: run + "/run.json", toPath: empty + "/run.json")
        let good = Self.spec
        let cases: [(spec: String, run: String, expected: String)] = [
            (good.replacingOccurrences(of: "head_out_all_pos", with: "head_out_everywhere"), run, "kinds: \"head_out_everywhere\" is not one of"),
            (good + "\ncolour: red\n", run, "unknown key \"colour\""),
            (good.replacingOccurrences(of: "corruption: operand", with: "corruption: shuffle"), run, "corruption: must be operand, order, operation"),
            (good.replacingOccurrences(of: "task: multistep_pad", with: "task: sub").replacingOccurrences(of: "[step1, step2]", with: "[answer]"),
             run, "neither trains nor evaluates task sub"),
            (good, empty, "no checkpoints"),
            // Found by running: with two items and at least two pairs per layout, no layout keeps any, and
            // nothing asked for pools (below, the same items pool for head_out_all_pos).
            (Self.twoItems.replacingOccurrences(of: "[resid_pre, head_out_all_pos]", with: "[resid_pre]") + "\nlogit_attribution: false\n",
             run, "were dropped at decision step1"),
        ]
        for (i, c) in cases.enumerated() {
            let spec = try Self.write(c.spec, dir, "bad-\(i).yaml")
            let r = try CLIConventionTests.lens(["patch", "--spec", spec, "--run", c.run, "--out", dir + "/bad-out", "--threads", "1"])
            #expect(r.status != 0 && r.status < 128, "case \(i): status \(r.status)")
            #expect(r.errLines.count == 1, "case \(i): \(r.err)")
            #expect(r.err.contains(c.expected), "case \(i): \(r.err)")
            #expect(r.err.contains(spec) || r.err.contains(c.run), "case \(i) names the file or run: \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad-out/steps/steps.json"), "nothing written for bad input")
        // Two single-pair layouts cannot be reported position by position, but pool for a kind without positions.
        let pools = try CLIConventionTests.lens(["patch", "--spec", try Self.write(Self.twoItems, dir, "two-items.yaml"), "--run", run,
                                                 "--out", dir + "/pool-out", "--threads", "1", "--steps", "last", "--json"])
        #expect(pools.status == 0, "\(pools.err)")
        #expect(pools.out.contains("\"pooled\"") && pools.out.contains("head_out_all_pos"))
    }

    static let twoItems = spec.replacingOccurrences(of: "pairs: 30\nmin_pairs: 3", with: "pairs: 2\nmin_pairs: 2")
        .replacingOccurrences(of: "[step1, step2]", with: "[step1]")
}

/// The numbers of a nested JSON array, row-major (null as NaN).
private func flatten(_ value: Any?) -> [Double] {
    if let a = value as? [Any] { return a.flatMap { flatten($0) } }
    if let d = value as? Double { return [d] }
    if let i = value as? Int { return [Double(i)] }
    return [.nan]
}
