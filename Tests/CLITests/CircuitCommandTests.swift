import Foundation
#if canImport(FoundationXML)
import FoundationXML  // XMLParser lives here on Linux
#endif
import Testing
import TestSupport

/// `lens circuit` from the command line on three checkpoints (316, 1000, 7000) of a trained 2-layer,
/// 8-head model (Tests/CircuitsTests/Fixtures/base-s1): the JSON holds every field the markdown reports,
/// each reported circuit reaches the target faithfulness inside its interval, every graph file it names is
/// an EAP-IG JSON file (cfg, nodes, edges, meta) whose in-graph edges are the record's circuit, EAP-IG's
/// own reading rules hold (checked with Debian's python3 and its json module), the drawings are XML, a
/// second run gives the same bytes, and each bad input is one line naming the file or flag. (The scores
/// themselves are checked against ground truth in CircuitsTests.)
@Suite(.serialized) struct CircuitCommandTests {
    static let spec = Repo.root + "/Probes/patching/sub-operand.yaml"
    static let experiment = "base-s1/sub-operand/answer"

    /// The arguments of the successful run, minus --out.
    static func arguments(run: String) -> [String] {
        ["circuit", "--spec", spec, "--run", run, "--steps", "1000,last", "--exact-steps", "last", "--threads", "1", "--json"]
    }

    /// One scratch directory holding a copy of the fixture run and two output directories written by the
    /// same command (run side by side, one thread each: a run takes a while in debug, and the determinism
    /// test needs the second one anyway). Built once; removed at process exit.
    struct Runs: Sendable {
        let temp: TempDir
        var root: String { temp.root }
        var run: String { root + "/base-s1" }
        var first: String { root + "/out-1" }
        var second: String { root + "/out-2" }
        let result: ProcessOutput
        let again: ProcessOutput
    }

    static let runs: Result<Runs, FixtureError> = {
        do {
            let temp = try TempDir("circuit-cli")
            let run = temp.root + "/base-s1"
            try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: run)
            let outputs = Shared<[Int: Result<ProcessOutput, FixtureError>]>([:])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let out = temp.root + "/out-\(i + 1)"
                let r = Result { try runLens(arguments(run: run) + ["--out", out]) }.mapError { FixtureError(message: "\($0)") }
                outputs.update { $0[i] = r }
            }
            let first = try outputs.value[0]!.get(), second = try outputs.value[1]!.get()
            atexit {
                if case .success(let r) = CircuitCommandTests.runs { try? FileManager.default.removeItem(at: r.temp.url) }
            }
            return .success(Runs(temp: temp, result: first, again: second))
        } catch let e as FixtureError { return .failure(e) } catch { return .failure(FixtureError(message: "\(error)")) }
    }()
    struct FixtureError: Error, Sendable { let message: String }

    static func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], "\(path)")
    }

    static func parsesAsXML(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        return XMLParser(data: data).parse()
    }

    /// Every graph file (`file` of each method) the record names, relative to the output directory.
    static func graphFiles(_ record: [String: Any]) -> [String] {
        let decisions = ((record["records"] as? [[String: Any]]) ?? []).flatMap { ($0["decisions"] as? [[String: Any]]) ?? [] }
        return decisions.flatMap { ($0["steps"] as? [[String: Any]]) ?? [] }
            .flatMap { ($0["methods"] as? [[String: Any]]) ?? [] }.compactMap { $0["file"] as? String }
    }

    // MARK: one run on the fixture

    @Test func theRecordHoldsEveryFieldAndItsNumbersAreSane() throws {
        let runs = try Self.runs.get()
        let r = runs.result
        #expect(r.status == 0, "\(r.err)")
        // stdout is the JSON document, and the same bytes as circuits.json.
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "stdout: \(r.out.prefix(500))")
        let written = try String(contentsOfFile: runs.first + "/circuits.json", encoding: .utf8)
        #expect(r.out.trimmingCharacters(in: .newlines) == written, "--json prints circuits.json")
        #expect((top["overlaps"] as? [Any])?.isEmpty == true, "one spec: no composite to compare")
        let records = try #require(top["records"] as? [[String: Any]])
        #expect(records.count == 1)
        let rec = try #require(records.first)
        #expect(rec["experiment"] as? String == "sub-operand")
        #expect(rec["task"] as? String == "sub")
        #expect(rec["run"] as? String == "base-s1")
        #expect(rec["runDir"] as? String == runs.run)
        #expect(rec["model"] as? String == "2 layers, d_model 64, 8 heads")
        #expect(rec["seed"] as? Int == 1)
        #expect(rec["metric"] as? String == "logit_diff")
        #expect(rec["ablation"] as? String == "resample")
        let settings = try #require(rec["settings"] as? [String: Any])
        let target = try #require(settings["target"] as? Double)
        #expect(target == 0.8)
        #expect(settings["circuitMethod"] as? String == "eap-ig")
        #expect(settings["igSteps"] as? Int == 5 && settings["resamples"] as? Int == 1000)
        #expect(settings["tau"] as? Double == 0.02)
        let graph = try #require(rec["graph"] as? [String: Int])
        #expect(graph == ["nodes": 20, "edges": 310], "EAP-IG's graph of 2 layers x 8 heads")

        let decisions = try #require(rec["decisions"] as? [[String: Any]])
        #expect(decisions.map { $0["decision"] as? String } == ["answer"])
        let d = try #require(decisions.first)
        let pairs = try #require(d["pairs"] as? Int)
        #expect(pairs >= 20 && pairs <= 200, "pairs \(pairs): at most the spec's 200, at least its min_pairs")
        #expect((d["layouts"] as? Int ?? 0) >= 1)
        let steps = try #require(d["steps"] as? [[String: Any]])
        #expect(steps.map { $0["step"] as? Int } == [1000, 7000], "--steps 1000,last, ascending")
        var circuitFaithfulnessAtLast: Double?
        for st in steps {
            let step = try #require(st["step"] as? Int)
            let clean = try #require(st["cleanMetric"] as? Double), ablated = try #require(st["ablatedMetric"] as? Double)
            let low = try #require(st["gapLow"] as? Double), high = try #require(st["gapHigh"] as? Double)
            #expect(clean.isFinite && ablated.isFinite && low <= clean - ablated && clean - ablated <= high, "step \(step): gap")
            #expect(st["gapResolved"] as? Bool == true, "step \(step): the trained model tells clean from corrupted")
            let methods = try #require(st["methods"] as? [[String: Any]])
            let names = methods.compactMap { $0["method"] as? String }
            #expect(names == (step == 7000 ? ["eap", "eap-ig", "exact", "acdc"] : ["eap", "eap-ig"]), "exact and ACDC only at --exact-steps last")
            for m in methods {
                let method = try #require(m["method"] as? String)
                let at = "step \(step) \(method)"
                #expect(m["file"] as? String == "\(Self.experiment)/step_\(step)/\(method).json", "\(at)")
                // Away from the exact steps only the circuit method (eap-ig) gets a curve and a circuit; EAP's
                // scores are written, nothing more.
                if step != 7000 && method == "eap" {
                    #expect(m["curve"] == nil && m["circuit"] == nil, "\(at): scores only")
                    continue
                }
                if method != "acdc" {
                    let curve = try #require(m["curve"] as? [String: Any], "\(at): curve")
                    let sizes = curve["edges"] as? [Int] ?? [], kept = curve["kept"] as? [Int] ?? []
                    let f = curve["faithfulness"] as? [Double] ?? []
                    #expect(!sizes.isEmpty && sizes.count == kept.count && sizes.count == f.count, "\(at): curve lengths")
                    #expect(sizes == sizes.sorted() && sizes.last == 310 && zip(kept, sizes).allSatisfy { $0 <= $1 }, "\(at): curve sizes")
                    #expect(abs((f.last ?? 0) - 1) < 1e-6, "\(at): the whole graph is the clean model (up to Float rounding)")
                }
                let c = try #require(m["circuit"] as? [String: Any], "\(at): the fixture has a circuit for every method")
                let edgeNames = try #require(c["edgeNames"] as? [String]), nodeNames = try #require(c["nodeNames"] as? [String])
                #expect(c["edges"] as? Int == edgeNames.count && c["nodes"] as? Int == nodeNames.count, "\(at)")
                #expect(!edgeNames.isEmpty && Set(edgeNames).count == edgeNames.count && nodeNames.contains("logits"), "\(at)")
                let faith = try #require(c["faithfulness"] as? [String: Any])
                let value = try #require(faith["value"] as? Double)
                let fLow = try #require(faith["low"] as? Double), fHigh = try #require(faith["high"] as? Double)
                #expect(fLow <= value && value <= fHigh, "\(at): interval [\(fLow), \(fHigh)] holds \(value)")
                // ACDC's circuit is the one it keeps at tau; the others are the smallest top-n reaching the target.
                if method != "acdc" { #expect(value >= target, "\(at): faithfulness \(value) below the target") }
                let q = faith["perPairQuantiles"] as? [Double] ?? []
                #expect(q.count == 5 && q == q.sorted(), "\(at): per-pair quantiles")
                let used = (faith["pairsUsed"] as? Int) ?? 0
                #expect(used > 0 && used <= pairs, "\(at): pairs used \(used)")
                #expect(c["figure"] as? String == "\(Self.experiment)/step_\(step)/\(method).svg", "\(at)")
                // Completeness and minimality: every method's circuit at the exact steps, none elsewhere.
                let full = step == 7000
                #expect((c["completeness"] != nil) == full && (c["minimality"] != nil) == full, "\(at)")
                if full {
                    let k = try #require(c["completeness"] as? [String: Any]), mi = try #require(c["minimality"] as? [String: Any])
                    #expect(k["subsets"] as? Int == 20 && (k["meanGap"] as? Double ?? -1) >= 0 && (k["meanGap"] as? Double ?? 0) <= (k["maxGap"] as? Double ?? -1))
                    #expect(mi["edges"] as? Int == edgeNames.count && (mi["minimal"] as? Int ?? -1) >= 0 && (mi["minimal"] as? Int ?? .max) <= edgeNames.count)
                    if method == "eap-ig" { circuitFaithfulnessAtLast = value }
                }
            }
            // Agreement with exact edge patching, where exact ran.
            let agreement = try #require(st["agreement"] as? [[String: Any]])
            #expect(agreement.map { $0["method"] as? String } == (step == 7000 ? ["eap", "eap-ig"] : []), "step \(step): agreement")
            for a in agreement {
                let auc = try #require(a["auc"] as? Double), rho = try #require(a["spearman"] as? Double)
                #expect(auc >= 0 && auc <= 1, "AUC \(auc)")
                #expect(rho >= -1 && rho <= 1, "Spearman \(rho)")
                #expect((a["positives"] as? Int ?? 0) > 0 && (a["positives"] as? Int ?? .max) < 310)
            }
        }
        // The last step's eap-ig circuit followed back through training.
        let formation = try #require(d["formation"] as? [String: Any])
        #expect(formation["circuitStep"] as? Int == 7000 && formation["steps"] as? [Int] == [1000, 7000])
        let values = try #require(formation["faithfulness"] as? [Double])
        try #require(values.count == 2)
        if let last = values.last, let expected = circuitFaithfulnessAtLast {
            #expect(abs(last - expected) < 1e-9, "formation at the circuit's own step is its faithfulness")
        }
        let formedAt = formation["formedAt"] as? Int
        // Formed: from that step on at or above the target.
        let expectedFormed: Int? = values[1] < target ? nil : values[0] >= target ? 1000 : 7000
        #expect(formedAt == expectedFormed, "formedAt \(String(describing: formedAt)) for \(values)")

        // The markdown reports the same steps, and the drawings next to it are XML.
        let md = try String(contentsOfFile: runs.first + "/circuits.md", encoding: .utf8)
        #expect(md.contains("### Decision `answer` (\(pairs) pairs"))
        #expect(md.contains("| 1000 |") && md.contains("| 7000 |") && md.contains("The step-7000 eap-ig circuit over training: 1000: "))
        for svg in ["curves.svg", "formation.svg"] {
            #expect(Self.parsesAsXML(runs.first + "/\(Self.experiment)/\(svg)"), "\(svg) is not XML")
        }
        let files = filesBelow(runs.first).keys
        #expect(!files.contains { $0.hasSuffix(".INCOMPLETE") || $0.contains(".partial-") }, "\(files.sorted())")
    }

    @Test func everyGraphFileIsAnEAPIGGraphOfItsCircuit() throws {
        let runs = try Self.runs.get()
        #expect(runs.result.status == 0, "\(runs.result.err)")
        let top = try Self.json(runs.first + "/circuits.json")
        let rec = try #require((top["records"] as? [[String: Any]])?.first)
        let d = try #require((rec["decisions"] as? [[String: Any]])?.first)
        let pattern = try Regex(#"^(input|a\d+\.h\d+|m\d+)->(a\d+\.h\d+<[qkv]>|m\d+|logits)$"#)
        var checked = 0
        for st in try #require(d["steps"] as? [[String: Any]]) {
            let step = try #require(st["step"] as? Int)
            for m in try #require(st["methods"] as? [[String: Any]]) {
                let method = try #require(m["method"] as? String), file = try #require(m["file"] as? String)
                let at = "\(file)"
                let g = try Self.json(runs.first + "/" + file)
                #expect(Set(g.keys) == ["cfg", "nodes", "edges", "meta"], "\(at): keys \(g.keys.sorted())")
                let cfg = try #require(g["cfg"] as? [String: Any])
                #expect(cfg["n_layers"] as? Int == 2 && cfg["n_heads"] as? Int == 8 && cfg["d_model"] as? Int == 64, "\(at): cfg")
                #expect(cfg["parallel_attn_mlp"] as? Bool == false, "\(at): cfg")
                let nodes = try #require(g["nodes"] as? [String: [String: Any]]), edges = try #require(g["edges"] as? [String: [String: Any]])
                #expect(nodes.count == 20 && edges.count == 310, "\(at): \(nodes.count) nodes, \(edges.count) edges")
                #expect(edges.keys.allSatisfy { $0.wholeMatch(of: pattern) != nil }, "\(at): \(edges.keys.filter { $0.wholeMatch(of: pattern) == nil }.sorted().prefix(3))")
                #expect(edges["a0.h1->a1.h2<q>"] != nil && edges["input->logits"] != nil && edges["m0->m1"] != nil, "\(at)")
                // The edges in the graph are the record's circuit.
                let inGraph = Set(edges.filter { $0.value["in_graph"] as? Bool == true }.keys)
                let circuit = (m["circuit"] as? [String: Any])?["edgeNames"] as? [String] ?? []
                #expect(!circuit.isEmpty || (step != 7000 && method == "eap"), "\(at): a circuit")
                #expect(inGraph == Set(circuit), "\(at): in-graph edges differ from the record's circuit")
                let nodesIn = Set(nodes.filter { $0.value["in_graph"] as? Bool == true }.keys)
                // without a circuit only `logits` is in (EAP-IG's LogitNode is always in the graph)
                #expect(nodesIn == Set((m["circuit"] as? [String: Any])?["nodeNames"] as? [String] ?? ["logits"]), "\(at): nodes")
                let meta = try #require(g["meta"] as? [String: Any])
                #expect(meta["run"] as? String == "base-s1" && meta["step"] as? Int == step, "\(at): meta")
                #expect(meta["experiment"] as? String == "sub-operand" && meta["method"] as? String == method, "\(at): meta")
                #expect(meta["metric"] as? String == "logit_diff" && meta["decision"] as? String == "answer", "\(at): meta")
                #expect(meta["pairs"] as? Int == d["pairs"] as? Int && (meta["circuit_edges"] as? Int ?? 0) == circuit.count, "\(at): meta")
                #expect((meta["ig_steps"] != nil) == (method == "eap-ig") && (meta["tau"] != nil) == (method == "acdc"), "\(at): meta")
                // The drawing of the circuit, when there is one.
                if !circuit.isEmpty {
                    #expect(Self.parsesAsXML(runs.first + "/" + file.replacingOccurrences(of: ".json", with: ".svg")), "\(at): its .svg is not XML")
                }
                checked += 1
            }
        }
        #expect(checked == 6, "eap and eap-ig at 1000; eap, eap-ig, exact and acdc at 7000")
    }

    /// What `Graph.from_json` (hannamw/EAP-IG, src/eap/graph.py) relies on, checked with Python's own json
    /// module (no torch): the edges are `from_model`'s for the cfg, in its order, each score a number and
    /// each in_graph a bool; nodes likewise; and a node is in the graph exactly when it touches an edge in
    /// the graph (EAP-IG's `prune` fixed point), `logits` always.
    static let fromJSONCheck = #"""
        import json, math, sys
        checked = 0
        for path in sys.argv[1:]:
            with open(path) as f:
                d = json.load(f)
            assert all(k in d for k in ("cfg", "nodes", "edges")), path + ": missing keys"
            cfg = d["cfg"]
            L, H = cfg["n_layers"], cfg["n_heads"]
            assert cfg["parallel_attn_mlp"] is False and isinstance(cfg["d_model"], int), path + ": cfg"
            names, edges, residual = ["input"], [], ["input"]
            for l in range(L):
                heads = ["a%d.h%d" % (l, h) for h in range(H)]
                names += heads + ["m%d" % l]
                edges += ["%s->%s<%s>" % (s, h, q) for s in residual for h in heads for q in "qkv"]
                residual += heads
                edges += ["%s->m%d" % (s, l) for s in residual]
                residual.append("m%d" % l)
            edges += ["%s->logits" % s for s in residual]
            names.append("logits")
            assert list(d["nodes"]) == names, path + ": nodes are not from_model's, in its order"
            assert list(d["edges"]) == edges, path + ": edges are not from_model's, in its order"
            for name, e in d["edges"].items():
                s = e["score"]
                assert type(s) in (int, float) and math.isfinite(s), "%s: %s score %r" % (path, name, s)
                assert type(e["in_graph"]) is bool, "%s: %s in_graph %r" % (path, name, e["in_graph"])
            touched = {"logits"}
            for name, e in d["edges"].items():
                if e["in_graph"]:
                    src, dst = name.split("->")
                    touched |= {src, dst.split("<")[0]}
            for name, n in d["nodes"].items():
                assert type(n["in_graph"]) is bool, "%s: node %s in_graph %r" % (path, name, n["in_graph"])
                assert n["in_graph"] == (name in touched), "%s: node %s in_graph %r but touches in-graph edges: %r" % (path, name, n["in_graph"], name in touched)
                assert "score" not in n or type(n["score"]) in (int, float), path + ": node score"
            assert d["nodes"]["logits"]["in_graph"] is True, path + ": logits"
            checked += 1
        print("checked", checked)
        """#

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                   "needs Debian's /usr/bin/python3 (its json module reads the graphs as EAP-IG's Graph.from_json would)"))
    func pythonReadsTheGraphsAsEAPIGsFromJSONWould() throws {
        let runs = try Self.runs.get()
        #expect(runs.result.status == 0, "\(runs.result.err)")
        let files = Self.graphFiles(try Self.json(runs.first + "/circuits.json")).map { runs.first + "/" + $0 }
        #expect(files.count == 6)
        let py = try run("/usr/bin/python3", ["-c", Self.fromJSONCheck] + files)
        #expect(py.status == 0, "\(py.err)")
        #expect(py.out.trimmingCharacters(in: .whitespacesAndNewlines) == "checked \(files.count)", "\(py.out)\(py.err)")
    }

    @Test func twoRunsWriteTheSameBytes() throws {
        let runs = try Self.runs.get()
        #expect(runs.result.status == 0 && runs.again.status == 0, "\(runs.result.err)\(runs.again.err)")
        let a = filesBelow(runs.first), b = filesBelow(runs.second)
        let results = a.keys.filter { $0.hasSuffix(".json") || $0.hasSuffix(".svg") || $0.hasSuffix(".md") }.sorted()
        #expect(results.contains("circuits.json") && results.contains("circuits.md"))
        #expect(results.filter { $0.hasSuffix(".json") && $0 != "circuits.json" }.count == 6, "\(results)")
        #expect(Set(a.keys) == Set(b.keys), "the same files")
        for f in results { #expect(a[f] == b[f], "\(f) differs between two runs") }
        #expect(runs.result.out == runs.again.out, "the same JSON on stdout")
    }

    // MARK: bad input

    /// Runs with something wrong and the error line to expect. In `args`, RUN is the fixture run's copy,
    /// DIR the scratch directory, SPEC the shipped spec; `names` must appear in the error line.
    struct BadCase: Sendable, CustomTestStringConvertible {
        let label: String, args: [String], expected: String, names: String
        var testDescription: String { label }
    }

    static let badCases: [BadCase] = [
        BadCase(label: "task the run lacks", args: ["--spec", "SPEC", "--run", "DIR/no-sub"],
                expected: "run base-s1 neither trains nor evaluates task sub", names: "DIR/no-sub/run.json"),
        BadCase(label: "malformed YAML", args: ["--spec", "DIR/malformed.yaml", "--run", "RUN"],
                expected: "malformed YAML at line", names: "DIR/malformed.yaml"),
        BadCase(label: "unknown metric", args: ["--spec", "DIR/metric.yaml", "--run", "RUN"],
                expected: "metric: must be one of logit_diff, logprob, prob, kl, got accuracy", names: "DIR/metric.yaml"),
        // ArgumentParser takes "-1" after a space for an option: the line names the flag, not the bound.
        BadCase(label: "--tau -1", args: ["--spec", "SPEC", "--run", "RUN", "--tau", "-1"], expected: "--tau must be a finite number >= 0, got -1.0", names: "--tau"),
        BadCase(label: "--tau=-1", args: ["--spec", "SPEC", "--run", "RUN", "--tau=-1"],
                expected: "--tau must be a finite number >= 0, got -1.0", names: "--tau"),
        BadCase(label: "--tau nan", args: ["--spec", "SPEC", "--run", "RUN", "--tau", "nan"],
                expected: "--tau must be a finite number >= 0, got nan", names: "--tau"),
        BadCase(label: "--tau 2 with logit_diff", args: ["--spec", "SPEC", "--run", "RUN", "--tau", "2"],
                expected: "with metric logit_diff (SPEC) tau is a share, in [0, 1]", names: "--tau 2"),
        BadCase(label: "--target 0", args: ["--spec", "SPEC", "--run", "RUN", "--target", "0"],
                expected: "--target must be in (0, 1], got 0.0", names: "--target"),
        BadCase(label: "--target 1.5", args: ["--spec", "SPEC", "--run", "RUN", "--target", "1.5"],
                expected: "--target must be in (0, 1], got 1.5", names: "--target"),
        BadCase(label: "--ig-steps 0", args: ["--spec", "SPEC", "--run", "RUN", "--ig-steps", "0"],
                expected: "--ig-steps must be between 1 and 1000, got 0", names: "--ig-steps"),
        BadCase(label: "--tau-sweep 0.01,x", args: ["--spec", "SPEC", "--run", "RUN", "--tau-sweep", "0.01,x"],
                expected: "--tau-sweep: \"x\" is not a finite number >= 0", names: "--tau-sweep"),
        BadCase(label: "--tau-sweep 3 with logit_diff", args: ["--spec", "SPEC", "--run", "RUN", "--tau-sweep", "0.01,3"],
                expected: "--tau-sweep 3.0: with metric logit_diff (SPEC) tau is a share, in [0, 1]", names: "--tau-sweep"),
        BadCase(label: "--selection threshold", args: ["--spec", "SPEC", "--run", "RUN", "--selection", "threshold"],
                expected: "--selection must be topn or greedy, got threshold", names: "--selection"),
        BadCase(label: "--circuit-method foo", args: ["--spec", "SPEC", "--run", "RUN", "--circuit-method", "foo"],
                expected: "--circuit-method must be eap, eap-ig or exact", names: "--circuit-method"),
        BadCase(label: "--steps 123", args: ["--spec", "SPEC", "--run", "RUN", "--steps", "123"],
                expected: "--steps: no checkpoint for step 123 (have: 316, 1000, 7000)", names: "RUN"),
        // The last checkpoint is scored first, so this fails before any graph is written.
        BadCase(label: "truncated checkpoint", args: ["--spec", "SPEC", "--run", "DIR/truncated", "--steps", "all", "--exact-steps", "none"],
                expected: "step_007000.safetensors: tensor", names: "DIR/truncated/checkpoints/step_007000.safetensors"),
        BadCase(label: "--run names a file", args: ["--spec", "SPEC", "--run", "RUN/run.json"],
                expected: "RUN/run.json", names: "RUN/run.json"),
    ]

    /// The scratch directory of the bad inputs: the run's copy, one without task sub, one with a truncated
    /// last checkpoint, and the bad specs.
    static let badInputs: Result<TempDir, FixtureError> = {
        do {
            let temp = try TempDir("circuit-cli-bad")
            let dir = temp.root, fm = FileManager.default
            let fixture = Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1"
            try fm.copyItem(atPath: fixture, toPath: dir + "/base-s1")
            // A run that neither trains nor evaluates sub.
            try fm.copyItem(atPath: fixture, toPath: dir + "/no-sub")
            guard var run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture + "/run.json"))) as? [String: Any] else {
                return .failure(FixtureError(message: "\(fixture)/run.json is not a JSON object"))
            }
            run["evalTasks"] = (run["evalTasks"] as? [String] ?? []).filter { $0 != "sub" }
            run["tasks"] = (run["tasks"] as? [String: Any] ?? [:]).filter { $0.key != "sub" }
            try JSONSerialization.data(withJSONObject: run, options: [.sortedKeys]).write(to: URL(fileURLWithPath: dir + "/no-sub/run.json"))
            // A checkpoint cut to half its length.
            try fm.copyItem(atPath: fixture, toPath: dir + "/truncated")
            try truncate(dir + "/truncated/checkpoints/step_007000.safetensors")
            let specText = try String(contentsOfFile: Self.spec, encoding: .utf8)
            try "name: malformed\ntask: [sub\ncorruption: operand\n".write(toFile: dir + "/malformed.yaml", atomically: true, encoding: .utf8)
            try specText.replacingOccurrences(of: "metric: logit_diff", with: "metric: accuracy")
                .write(toFile: dir + "/metric.yaml", atomically: true, encoding: .utf8)
            atexit {
                if case .success(let temp) = CircuitCommandTests.badInputs { try? FileManager.default.removeItem(at: temp.url) }
            }
            return .success(temp)
        } catch { return .failure(FixtureError(message: "\(error)")) }
    }()

    static func truncate(_ path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
    }

    /// Result files (graphs, drawings, circuits.json and .md) below `dir`.
    static func results(_ dir: String) -> [String] {
        filesBelow(dir).keys.filter { $0.hasSuffix(".json") || $0.hasSuffix(".svg") || $0.hasSuffix(".md") }.sorted()
    }

    @Test(arguments: badCases)
    func badInputIsOneLineNamingTheFileOrFlag(_ c: BadCase) throws {
        let dir = try Self.badInputs.get().root
        func fill(_ s: String) -> String {
            s.replacingOccurrences(of: "SPEC", with: Self.spec).replacingOccurrences(of: "RUN", with: dir + "/base-s1")
                .replacingOccurrences(of: "DIR", with: dir)
        }
        let out = dir + "/out-" + c.label.filter { $0.isLetter || $0.isNumber }
        let r = try runLens(["circuit"] + c.args.map(fill) + ["--out", out, "--threads", "1"])
        let lines = r.err.split(separator: "\n").map(String.init)
        #expect(r.status != 0 && r.status < 128, "\(c.label): status \(r.status)")
        #expect(lines.count == 1 && lines[0].hasPrefix("Error: "), "\(c.label): \(r.err)")
        #expect(r.err.contains(fill(c.expected)), "\(c.label): \(r.err)")
        #expect(r.err.contains(fill(c.names)), "\(c.label) names \(fill(c.names)): \(r.err)")
        #expect(!r.err.contains("NSCocoaErrorDomain") && !r.err.contains("Usage:"), "\(c.label): \(r.err)")
        #expect(r.out.isEmpty, "\(c.label): stdout \(r.out.prefix(200))")
        #expect(Self.results(out).isEmpty, "\(c.label) left \(Self.results(out))")
        if c.label == "--run names a file" {
            #expect(r.err.contains("not a directory"), "\(r.err)")
        }
    }

    /// A truncated checkpoint that is not the last (the last is scored first): every chosen checkpoint is
    /// read before the first is scored, so the command fails before it writes anything.
    @Test func aTruncatedEarlierCheckpointFailsBeforeWritingAnything() throws {
        let temp = try TempDir("circuit-cli-trunc")
        let dir = temp.root
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: dir + "/base-s1")
        let bad = dir + "/base-s1/checkpoints/step_000316.safetensors"
        try Self.truncate(bad)
        let out = dir + "/out"
        let r = try runLens(["circuit", "--spec", Self.spec, "--run", dir + "/base-s1", "--out", out, "--steps", "316,last",
                             "--exact-steps", "none", "--threads", "1"])
        let errors = r.err.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        #expect(r.status != 0 && r.status < 128, "status \(r.status)")
        #expect(errors.count == 1 && errors[0].contains(bad + ": tensor") && errors[0].contains("truncated"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out + "/circuits.json"))
        // every checkpoint is read before the first is scored
        #expect(Self.results(out).isEmpty, "left \(Self.results(out))")
        #expect(!FileManager.default.fileExists(atPath: out + "/circuits.INCOMPLETE"))
    }

    /// Two runs of one name (a copied run beside its original) would write the same files: lens circuit and
    /// lens patch refuse them in one line naming both directories, before writing anything; so is a run given twice.
    @Test func twoRunsOfOneNameAreOneLine() throws {
        let temp = try TempDir("circuit-cli-same-name")
        let run = temp.root + "/base-s1", copy = temp.root + "/copy", out = temp.root + "/out"
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: run)
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: copy)
        for (command, runs) in [("circuit", [run, copy]), ("patch", [run, copy]), ("circuit", [run, run])] {
            let r = try runLens([command, "--spec", Self.spec, "--run"] + runs + ["--out", out, "--steps", "last", "--exact-steps", "none", "--threads", "1"])
            let errors = r.err.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
            #expect(r.status != 0 && r.status < 128, "\(command): status \(r.status)")
            if runs[0] == runs[1] {
                #expect(errors.count == 1 && errors[0].contains("\(run) is given twice"), "\(r.err)")
            } else {
                #expect(errors.count == 1 && errors[0].contains(run) && errors[0].contains(copy) && errors[0].contains("both named base-s1"), "\(r.err)")
            }
            #expect(!FileManager.default.fileExists(atPath: out), "\(command) wrote before failing")
        }
    }

    /// Without --spec: every shipped experiment whose task every run evaluates, the others named on stderr.
    /// Two runs, one of which no longer evaluates the direct composite: its experiment is skipped for both.
    @Test func withoutASpecTheShippedExperimentsRun() throws {
        let temp = try TempDir("circuit-cli-shipped")
        let run = temp.root + "/base-s1", other = temp.root + "/base-s1-copy", out = temp.root + "/out"
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: run)
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: other)
        var spec = try Self.json(other + "/run.json")
        spec["evalTasks"] = (spec["evalTasks"] as? [String] ?? []).filter { $0 != "multistep" }
        spec["name"] = "base-s1-copy"       // outputs are named by the run's name: two runs need two names
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: other + "/run.json"))
        let evaluated = try #require(spec["evalTasks"] as? [String])
        var expected: [String] = [], skipped: [String] = []
        for folder in ["Probes/patching", "Probes/circuits"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: Repo.root + "/" + folder).filter({ $0.hasSuffix(".yaml") }).sorted() {
                let text = try String(contentsOfFile: Repo.root + "/\(folder)/\(name)", encoding: .utf8)
                let task = try #require(text.split(separator: "\n").first { $0.hasPrefix("task: ") }).dropFirst(6)
                if evaluated.contains(String(task)) { expected.append(String(name.dropLast(5))) } else { skipped.append("\(folder)/\(name)") }
            }
        }
        let r = try runLens(["circuit", "--run", run, other, "--out", out, "--steps", "last", "--exact-steps", "none", "--resamples", "100", "--threads", "2"])
        #expect(r.status == 0, "\(r.err)")
        let records = try #require(try Self.json(out + "/circuits.json")["records"] as? [[String: Any]])
        #expect(Set(records.compactMap { $0["experiment"] as? String }) == Set(expected), "\(records.map { $0["experiment"] ?? "" })")
        #expect(records.count == 2 * expected.count)
        #expect(expected.count >= 4 && skipped == ["Probes/patching/composite-direct.yaml"], "\(skipped)")
        for file in skipped { #expect(r.err.contains("skipping \(file) (shipped)"), "\(file): \(r.err)") }
    }

    /// Metric kl: EAP's scores are all 0 there (KL's gradient vanishes at the clean run), so its agreement
    /// with exact patching's ranks is undefined (no spearman key in the JSON, "undefined" in the markdown), a note on stderr,
    /// and ACDC (tau in nats) and EAP-IG still run.
    @Test func klMetricRecordsUndefinedAgreementInsteadOfFailing() throws {
        let temp = try TempDir("circuit-cli-kl")
        let run = temp.root + "/base-s1", out = temp.root + "/out", spec = temp.root + "/sub-kl.yaml"
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: run)
        let text = try String(contentsOfFile: Self.spec, encoding: .utf8)
        #expect(text.contains("metric: logit_diff"))
        try text.replacingOccurrences(of: "metric: logit_diff", with: "metric: kl").write(toFile: spec, atomically: true, encoding: .utf8)
        let r = try runLens(["circuit", "--spec", spec, "--run", run, "--out", out, "--steps", "last", "--exact-steps", "last",
                             "--tau", "0.05", "--resamples", "100", "--threads", "1"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("with metric kl EAP scores every edge 0"), "\(r.err)")
        let record = try #require((try Self.json(out + "/circuits.json")["records"] as? [[String: Any]])?.first)
        #expect(record["metric"] as? String == "kl")
        let step = try #require(((record["decisions"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]])?.last)
        let agreement = try #require(step["agreement"] as? [[String: Any]])
        let eap = try #require(agreement.first { $0["method"] as? String == "eap" })
        // constant scores: no rank correlation; AUC of a constant is chance, ties counting half
        #expect(eap["spearman"] == nil && eap["auc"] as? Double == 0.5, "\(eap)")
        let eapIG = try #require(agreement.first { $0["method"] as? String == "eap-ig" })
        #expect(eapIG["spearman"] is Double, "\(eapIG)")
        let methods = try #require(step["methods"] as? [[String: Any]])
        #expect(Set(methods.compactMap { $0["method"] as? String }) == ["eap", "eap-ig", "exact", "acdc"])
        // constant scores rank nothing, so EAP gets no curve and no circuit; EAP-IG does
        let eapMethod = try #require(methods.first { $0["method"] as? String == "eap" })
        #expect(eapMethod["curve"] == nil && eapMethod["circuit"] == nil, "\(eapMethod.keys)")
        #expect(methods.first { $0["method"] as? String == "eap-ig" }?["curve"] != nil)
        let markdown = try String(contentsOfFile: out + "/circuits.md", encoding: .utf8)
        #expect(markdown.contains("eap Spearman undefined, ROC AUC 0.50"), "\(markdown.prefix(3000))")
    }

    /// --tau-sweep: ACDC at each tau beside --tau's at the exact step (with --selection greedy, which the
    /// settings record). Raising tau removes more edges, so the
    /// kept count cannot grow along the sweep; --tau's point is the reported ACDC circuit itself.
    @Test func aTauSweepRecordsACDCAtEachTau() throws {
        let temp = try TempDir("circuit-cli-sweep")
        let run = temp.root + "/base-s1", out = temp.root + "/out"
        try FileManager.default.copyItem(atPath: Repo.root + "/Tests/CircuitsTests/Fixtures/base-s1", toPath: run)
        let r = try runLens(["circuit", "--spec", Self.spec, "--run", run, "--out", out, "--steps", "last", "--exact-steps", "last",
                             "--tau", "0.02", "--tau-sweep", "0.2,0.005", "--selection", "greedy", "--resamples", "100", "--threads", "1"])
        #expect(r.status == 0, "\(r.err)")
        let record = try #require((try Self.json(out + "/circuits.json")["records"] as? [[String: Any]])?.first)
        let step = try #require(((record["decisions"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]])?.last)
        #expect((record["settings"] as? [String: Any])?["selection"] as? String == "greedy")
        #expect((record["settings"] as? [String: Any])?["tauSweep"] as? [Double] == [0.2, 0.005])
        let sweep = try #require(step["acdcSweep"] as? [[String: Any]])
        #expect(sweep.compactMap { $0["tau"] as? Double } == [0.005, 0.02, 0.2])
        let kept = sweep.compactMap { $0["edges"] as? Int }
        #expect(kept.count == 3 && kept[0] >= kept[1] && kept[1] >= kept[2] && kept[0] > kept[2], "\(kept)")
        let acdc = try #require((step["methods"] as? [[String: Any]])?.first { $0["method"] as? String == "acdc" }?["circuit"] as? [String: Any])
        #expect(acdc["edges"] as? Int == kept[1])
        let f = (sweep[1]["faithfulness"] as? [String: Any])?["value"] as? Double
        #expect(f != nil && f == (acdc["faithfulness"] as? [String: Any])?["value"] as? Double)
        let markdown = try String(contentsOfFile: out + "/circuits.md", encoding: .utf8)
        #expect(markdown.contains("ACDC over tau: tau 0.005: "), "\(markdown.prefix(2000))")
    }
}
