import Foundation
import Testing
import TestSupport

/// Activation files (CONTRACTS.md section 4) mutated with h5py (structure: datasets dropped or renamed,
/// wrong ranks, widths, dtypes and lengths, positions and labels out of range, attributes missing or of
/// the wrong type) and raw (truncations, byte flips in plain and gzip files), each read by `lens inspect`
/// and by `lens probe`. A structural mutation has a known verdict per command; for raw and value
/// mutations h5py is the oracle (python/fuzz_hdf5.py): a file it cannot read, or that breaks the
/// contract, must be refused; otherwise what lens reports must match what h5py reads, and a probe must
/// give the same result on h5py's fresh rewrite of the same values.
@Suite struct HDF5FuzzTests {
    /// One mutated file and what each command must do with it (nil: the oracle decides).
    struct Plan {
        var name: String
        var ops: [[String: Any]] = []
        var inspect: Expectation?
        var probe: Expectation?
    }

    @Test func mutatedActivationFiles() throws {
        let fixture = try FuzzFixture.shared.get()
        let dir = try fixture.scratch("hdf5")
        let base = try Self.oracle([fixture.activations])[fixture.activations]
        let datasets = try #require((base?["summary"] as? [String: Any])?["datasets"] as? [String: Any], "oracle on the valid file")
        let facts = FileFacts(names: Array(datasets.keys), n: 40, t: try #require((base?["summary"] as? [String: Any])?["t"] as? Int))

        var jobs: [[String: Any]] = []
        let plans = try Fuzz.generate("hdf5") { i, rng -> (String, Plan) in
            let path = dir + "/case\(i)/step_000020.h5"
            try FileManager.default.createDirectory(atPath: dir + "/case\(i)", withIntermediateDirectories: true)
            let plan = try Self.plan(kind: i % 10, fixture, facts, path, &rng)
            if !plan.ops.isEmpty { jobs.append(["src": fixture.activations, "dst": path, "ops": plan.ops]) }
            return (path, plan)
        }
        let mutated = try runPython([Repo.root + "/python/fuzz_hdf5.py", "mutate"], input: try JSONSerialization.data(withJSONObject: jobs))
        try #require(mutated.status == 0, "h5py could not mutate: \(mutated.err)")
        let verdicts = try Self.oracle(plans.map(\.1.0))

        var cases: [(Int, FuzzCase)] = []
        for (i, (path, plan)) in plans {
            let v = verdicts[path] ?? [:]
            let readable = v["readable"] as? Bool == true, contract = v["contract"] as? Bool == true
            let note = readable ? (contract ? "" : " [h5py: breaks the contract]") : " [h5py: unreadable: \(v["error"] ?? "")]"
            let summary = (try? JSONSerialization.data(withJSONObject: v["summary"] ?? [:])).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let inspect = plan.inspect ?? (contract ? .oracle { Self.sameSummary($0.out, summary) } : .invalid)
            let probe = plan.probe ?? (contract && v["finite_hook"] as? Bool == true
                ? .oracle { Self.sameProbe($0.out, path: path, fixture: fixture) } : .invalid)
            cases.append((i, FuzzCase(name: "inspect, " + plan.name + note, args: ["inspect", path, "--json"],
                                      expect: inspect, mentions: [path], directory: dir)))
            cases.append((i, FuzzCase(name: "probe, " + plan.name + note, args: Self.probe(path, fixture), expect: probe,
                                      mentions: [path, fixture.probeSpec], directory: dir)))
        }
        try Fuzz.run(family: "hdf5", test: "HDF5FuzzTests", cases)
    }

    static func probe(_ path: String, _ fixture: FuzzFixture) -> [String] {
        ["probe", "--spec", fixture.probeSpec, "--activations", path, "--out", path + ".probe-out", "--json", "--threads", "1"]
    }

    /// What h5py reads in each file (python/fuzz_hdf5.py oracle), by path. libhdf5 itself can crash on a
    /// damaged file: that file counts as unreadable, and the oracle runs again on the files after it.
    static func oracle(_ paths: [String]) throws -> [String: [String: Any]] {
        var verdicts: [String: [String: Any]] = [:]
        var rest = paths[...]
        while !rest.isEmpty {
            let r = try runPython([Repo.root + "/python/fuzz_hdf5.py", "oracle", FuzzFixture.hook],
                                  input: try JSONSerialization.data(withJSONObject: Array(rest)))
            for line in r.out.split(separator: "\n") {
                let one = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String: Any]])
                verdicts.merge(one) { a, _ in a }
            }
            rest = rest.drop { verdicts[$0] != nil }
            if r.status == 0 { break }
            try #require(r.status >= 128, "the h5py oracle failed: \(r.err)")
            if let crashed = rest.first { verdicts[crashed] = ["readable": false, "error": "h5py crashed (signal \(r.status - 128))"] }
            rest = rest.dropFirst()
        }
        return verdicts
    }

    /// The names in the valid file, to aim mutations at the datasets the probe reads and at others.
    struct FileFacts {
        let names: [String]
        let n: Int, t: Int
        var otherLabels: [String] { names.filter { $0.hasPrefix("/labels/") && !$0.hasSuffix("/answer_tens")
            && !$0.hasSuffix("/operand_a") && !$0.hasSuffix("/num_steps") } }
        var otherPositions: [String] { names.filter { $0.hasPrefix("/positions/") && !$0.hasSuffix("/equals") } }
    }

    static func plan(kind: Int, _ fixture: FuzzFixture, _ facts: FileFacts, _ path: String, _ rng: inout FuzzRNG) throws -> Plan {
        switch kind {
        case 0:
            let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture.activations))
            let cut = rng.int(0..<bytes.count)
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
            return Plan(name: "truncate at \(cut) of \(bytes.count)")
        case 1, 2:
            let source = kind == 1 ? fixture.activations : fixture.compressedActivations
            var bytes = try Data(contentsOf: URL(fileURLWithPath: source))
            let flips = (0..<rng.int(1..<4)).map { _ in (rng.int(0..<bytes.count), UInt8(rng.int(1..<256))) }
            for (at, mask) in flips { bytes[at] ^= mask }
            try bytes.write(to: URL(fileURLWithPath: path))
            return Plan(name: "\(kind == 1 ? "plain" : "gzip") file, bytes xor \(flips.map { "\($0.0)^\($0.1)" }.joined(separator: ","))")
        case 9:
            let value: Any = rng.pick([Double(rng.int(-1000..<1000)) / 7, 3.0e38, 1e-40, "nan", "inf", "-inf"] as [Any])
            let index = rng.int(0..<(facts.n * facts.t * 16))
            return Plan(name: "hook value \(index) set to \(value)",
                        ops: [["op": "set", "path": "/activations/" + FuzzFixture.hook, "index": index, "value": value]])
        default:
            return Structural.pick(facts, &rng)
        }
    }

    /// nil when `lens inspect --json` lists what h5py read: N, T, every hook, label and position, and
    /// each dataset's dtype and shape.
    static func sameSummary(_ output: String, _ oracle: String) -> String? {
        guard let lens = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let h5py = try? JSONSerialization.jsonObject(with: Data(oracle.utf8)) as? [String: Any],
              let theirs = h5py["datasets"] as? [String: [Any]] else {
            return "inspect printed no summary"
        }
        guard lens["n"] as? Int == h5py["n"] as? Int, lens["seqLen"] as? Int == h5py["t"] as? Int else {
            return "N, T = \(lens["n"] ?? "?"), \(lens["seqLen"] ?? "?"); h5py reads \(h5py["n"] ?? "?"), \(h5py["t"] ?? "?")"
        }
        let listed = ["core", "hooks", "labels", "positions"].flatMap { (lens[$0] as? [[String: Any]]) ?? [] }
        var mine: [String: String] = [:]
        for d in listed { mine[d["path"] as? String ?? "?"] = "\(d["dtype"] ?? "?") \(d["shape"] ?? "?")" }
        for (path, description) in mine {
            guard let t = theirs[path], "\(t[0]) \(t[1])" == description else {
                return "\(path): lens says \(description), h5py reads \(theirs[path].map { "\($0)" } ?? "nothing")"
            }
        }
        let grouped = theirs.keys.filter { ["/activations/", "/labels/", "/positions/"].contains(where: $0.hasPrefix) }
        if let missed = grouped.first(where: { mine[$0] == nil }) { return "\(missed) is in the file but not in lens's summary" }
        return nil
    }

    /// nil when the probe's JSON equals its JSON on h5py's rewrite of the file (<dir>-oracle/), the paths aside.
    static func sameProbe(_ output: String, path: String, fixture: FuzzFixture) -> String? {
        let copy = URL(fileURLWithPath: path).deletingLastPathComponent().path + "-oracle/step_000020.h5"
        guard let r = try? Fuzz.watchdog(FuzzSettings.lens, probe(copy, fixture)), r.status == 0 else {
            return "accepted, but lens refused h5py's rewrite of the same values"
        }
        func normalised(_ s: String, _ p: String) -> String {
            s.replacingOccurrences(of: p.replacingOccurrences(of: "/", with: "\\/"), with: "FILE").replacingOccurrences(of: p, with: "FILE")
        }
        return normalised(output, path) == normalised(r.out, copy) ? nil
            : "probe result differs from that on h5py's rewrite of the same values"
    }
}

/// Structural mutations with the verdict each command owes them: .invalid where the file breaks the
/// contract, or the probe's spec needs what was taken; .valid where the file still keeps it.
enum Structural {
    static func pick(_ f: HDF5FuzzTests.FileFacts, _ rng: inout FuzzRNG) -> HDF5FuzzTests.Plan {
        typealias Plan = HDF5FuzzTests.Plan
        let I = Expectation.invalid, V = Expectation.valid, E = Expectation.either
        let hook = "/activations/" + FuzzFixture.hook
        func op(_ name: String, _ ops: [[String: Any]], _ inspect: Expectation, _ probe: Expectation) -> Plan {
            Plan(name: name, ops: ops, inspect: inspect, probe: probe)
        }
        let otherLabel = rng.pick(f.otherLabels), otherPosition = rng.pick(f.otherPositions)
        let core = rng.pick(["/tokens", "/lengths", "/prompts", "/tasks"])
        let row = rng.int(0..<f.n)
        switch rng.int(0..<27) {
        case 0:
            return op("drop \(core)", [["op": "drop", "path": core]], I, I)
        case 1:
            let g = rng.pick(["/positions", "/labels", "/activations"])
            return op("drop group \(g)", [["op": "drop", "path": g]], I, I)
        case 2:
            return op("drop the target label", [["op": "drop", "path": "/labels/answer_tens"]], V, I)
        case 3:
            return op("drop the control label", [["op": "drop", "path": "/labels/operand_a"]], V, I)
        case 4:
            return op("drop the where label", [["op": "drop", "path": "/labels/num_steps"]], V, I)
        case 5:
            return op("drop \(otherLabel)", [["op": "drop", "path": otherLabel]], V, V)
        case 6:
            return op("drop the probed position", [["op": "drop", "path": "/positions/equals"]], V, I)
        case 7:
            return op("drop \(otherPosition)", [["op": "drop", "path": otherPosition]], V, V)
        case 8:
            return op("drop the hook", [["op": "drop", "path": hook]], V, I)
        case 9:
            let to = rng.pick(["blocks.0.hook_bogus", "blocks.3.hook_resid_post", "blocks.0.mlp.hook_post", "blocks.0.attn.hook_pattern"])
            return op("rename the hook to \(to)", [["op": "rename", "path": hook, "to": "/activations/" + to]], I, I)
        case 10:
            return op("rename /tokens", [["op": "rename", "path": "/tokens", "to": "/tokenz"]], I, I)
        case 11:
            let how = rng.pick(["drop", "add"])
            return op("hook rank (\(how) an axis)", [["op": "reshape", "path": hook, "how": how]], I, I)
        case 12:
            let axis = rng.int(0..<3), by = rng.pick([-1, 1])
            return op("hook axis \(axis) by \(by)", [["op": "resize", "path": hook, "axis": axis, "by": by]], I, I)
        case 13:
            let (p, d) = rng.pick([("/tokens", "int64"), ("/tokens", "float32"), ("/tokens", "int16"), ("/lengths", "int64"),
                                   (hook, "float64"), (hook, "float16"), (hook, "int32"), ("/labels/answer_tens", "int64"),
                                   ("/labels/answer_tens", "float64"), ("/labels/answer_tens", "int8"), ("/positions/equals", "int64"),
                                   ("/positions/equals", "float32"), ("/prompts", "int32"), ("/tasks", "int32"), ("/tokens", "string")])
            return op("\(p) as \(d)", [["op": "dtype", "path": p, "dtype": d]], I, I)
        case 14:
            let p = rng.pick(["/tasks", "/prompts", "/lengths", "/positions/equals", "/labels/answer_tens", otherLabel, otherPosition])
            let by = -rng.int(1..<4)
            return op("\(p) shorter by \(-by)", [["op": "resize", "path": p, "axis": 0, "by": by]], I, I)
        case 15:
            let (p, v) = (rng.pick(["/positions/equals", otherPosition]), rng.pick([f.t, f.t + 7, -2, Int(Int32.min), Int(Int32.max)]))
            return op("\(p)[\(row)] = \(v)", [["op": "set", "path": p, "index": row, "value": v]], I, I)
        case 16:
            return op("/positions/equals[\(row)] = -1 (no such position)",
                      [["op": "set", "path": "/positions/equals", "index": row, "value": -1]], V, V)
        case 17:
            let value = rng.pick(["nan", "inf", "-inf"])
            return op("\(otherLabel) as float32 holding \(value)", [["op": "dtype", "path": otherLabel, "dtype": "float32"],
                                                                    ["op": "set", "path": otherLabel, "index": row, "value": value]], I, I)
        case 18:
            return op("\(otherLabel) as float32", [["op": "dtype", "path": otherLabel, "dtype": "float32"]], V, V)
        case 19:
            return op("the target label as whole float32", [["op": "dtype", "path": "/labels/answer_tens", "dtype": "float32"]],
                      V, E)
        case 20:
            let v = rng.pick([Int(Int32.max), -5, 1_000_000, Int(Int32.min)])
            return op("target label [\(row)] = \(v)", [["op": "set", "path": "/labels/answer_tens", "index": row, "value": v]], V, E)
        case 21:
            let a = rng.pick(["format", "config", "run", "step", "tasks", "seed", "vocab"])
            return op("attribute \(a) removed", [["op": "attr_del", "name": a]], I, I)
        case 22:
            let (a, v): (String, Any) = rng.pick([("format", 1), ("format", "emergence-lens.activations/2"), ("config", "not json"),
                                                  ("vocab", "[\"<pad>\"]"), ("vocab", "not json"), ("tasks", "{}"), ("step", "abc"),
                                                  ("run", 5), ("seed", "x")] as [(String, Any)])
            return op("attribute \(a) = \(v)", [["op": "attr_set", "name": a, "value": v]], I, I)
        case 23:
            return op("attribute step as an integer", [["op": "attr_set", "name": "step", "value": 20]], V, V)
        case 24:
            // d_model and n_layers decide the hook's name and shape; the others do not, so either verdict is right.
            let (k, v, e): (String, Int, Expectation) = rng.pick([("d_model", 32, I), ("n_layers", 0, I), ("n_heads", 0, E), ("d_vocab", 3, E)])
            return op("config \(k) = \(v)", [["op": "config", "key": k, "value": v]], e, e)
        case 25:
            let v = rng.pick([10_000, -1, Int(Int32.max)])
            return op("token [\(row)] = \(v)", [["op": "set", "path": "/tokens", "index": row * f.t, "value": v]], I, I)
        default:
            let v = rng.pick([f.t + 1, -1])
            return op("length [\(row)] = \(v)", [["op": "set", "path": "/lengths", "index": row, "value": v]], I, I)
        }
    }
}
