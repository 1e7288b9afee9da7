import ArgumentParser
import Circuits
import Dispatch
import Foundation
import Patching
import Runs
import Tensors
import Transformer

struct BenchCircuit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuit",
        abstract: "Circuit scoring speed: EAP, EAP-IG, exact edge patching and ACDC over every edge of EAP-IG's graph.",
        discussion: """
        Model: the default study's base config (2 layers, d_model 64, 8 heads of 8, d_mlp 256, gelu_new, LN, the
        skills tokenizer's vocabulary and n_ctx), random with --seed, or --checkpoint. Pairs as `lens bench patch`'s:
        random clean rows, the corrupted row changes token length // 2 by +1 (mod vocab), metric logit[correct] -
        logit[wrong] at the last position, resample ablation. Each repeat times every measurement once, in turn
        (so a busy machine slows all of them alike); each line gives the wall-clock median over --repeats:
          lens circuit-forward      one plain forward pass of the clean rows (the unit: forward_equiv = time / its median)
          lens circuit-component    one component pass (Transformer.componentForward), nothing cut
          lens circuit-setup        PatchRuns (clean and corrupted forward) and CircuitRuns (3 component passes)
          lens circuit-eap          attribute(.eap): metric gradient, one backward, reader gradients, score gemm
          lens circuit-eap-ig       attribute(.eapIG(steps: --ig-steps)); its last step (alpha = 1) is EAP's products,
                                    taken from the EAP line's run when --methods has eap (as lens circuit runs them),
                                    computed here when not (--methods eap-ig times it alone)
          lens circuit-exact        attribute(.exact): each edge cut alone; eap_speedup = its median / EAP's
          lens circuit-acdc         attribute(.acdc(tau: --tau)): kept = edges in its circuit; median_s is the time
                                    per checkpoint (one model), per_edge_ms per edge tried
        --methods times a subset (e.g. eap, to profile it with perf).
          lens bench circuit
          lens bench circuit --checkpoint Tests/CircuitsTests/Fixtures/base-s1/checkpoints/step_007000.safetensors
        """)

    @Option(help: "Pairs (rows of clean and corrupted tokens).") var pairs = 200
    @Option(help: "Tokens per row (at most the model's n_ctx).") var length = 32
    @Option(help: "Seed of the random model and of the tokens.") var seed: UInt64 = 0
    @Option(help: "A lens checkpoint (.safetensors) instead of the random base model.") var checkpoint: String?
    @Option(name: .customLong("ig-steps"), help: "EAP-IG interpolation steps.") var igSteps = 5
    @Option(help: "ACDC threshold (the metric change as a share of |clean - all cut|, in [0, 1]).") var tau = 0.02
    @Option(help: "Times each measurement is taken; the median is reported.") var repeats = 5
    @Option(help: "Scoring methods timed, comma-separated: eap, eap-ig, exact, acdc (the passes are always timed).")
    var methods = "eap,eap-ig,exact,acdc"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkRange(pairs, 1...100_000, flag: "--pairs")
        try checkRange(length, 1...100_000, flag: "--length")
        // the passes hold [writers, tokens, d_model] arrays (the clean outputs, the replacements, their difference)
        try checkRange(pairs * length, 1...100_000, flag: "--pairs x --length", why: " (the passes hold every writer's output at once)")
        try checkRange(igSteps, 1...1000, flag: "--ig-steps")
        try checkRange(repeats, 1...1000, flag: "--repeats")
        guard tau.isFinite, tau >= 0, tau <= 1 else { throw ValidationError("--tau must be in [0, 1], got \(tau)") }
        try checkPaths([(checkpoint, "--checkpoint")])
        let chosen = methodList
        guard !chosen.isEmpty, chosen.allSatisfy(Self.allMethods.contains) else {
            throw ValidationError("--methods must list some of \(Self.allMethods.joined(separator: ", ")), got \(methods)")
        }
    }

    static let allMethods = ["eap", "eap-ig", "exact", "acdc"]
    var methodList: [String] { methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() throws {
        common.apply()
        let model = try checkpoint.map { try Checkpoint.load($0).model } ?? Transformer(config: try Self.baseConfig(seed: seed))
        let c = model.config
        guard length <= c.n_ctx else { throw ValidationError("--length \(length) is beyond the model's n_ctx \(c.n_ctx)") }
        let pairs = try randomPairs(vocab: c.d_vocab)
        let N = self.pairs, T = length, tokens = Array(pairs.clean.joined())
        let edges = try CircuitGraph(c).edgeCount

        var times: [String: [Double]] = [:]
        func time<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try body()
            times[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            return r
        }
        let chosen = Self.allMethods.filter(methodList.contains)
        let scoring: [String: ScoringMethod] = ["eap": .eap, "eap-ig": .eapIG(steps: igSteps), "exact": .exact, "acdc": .acdc(tau: tau)]
        // untimed: the first pass pays for OpenBLAS's threads and the heap's growth
        _ = try model.forward(tokens: tokens, batch: N, length: T)
        _ = try model.componentForward(tokens: tokens, batch: N, length: T)
        var kept = 0, circuitLogits: [Float] = [], plainLogits: [Float] = []
        for _ in 0..<repeats {
            plainLogits = try time("forward") { try model.forward(tokens: tokens, batch: N, length: T).logits.data }
            circuitLogits = try time("component") { try model.componentForward(tokens: tokens, batch: N, length: T).logits }
            let patchRuns = try time("patch_runs") { try PatchRuns(model: model, pairs: pairs, metric: .logitDiff) }
            let runs = try time("circuit_runs") { try CircuitRuns(patchRuns) }
            for name in chosen {
                var graph = try CircuitGraph(c)
                try time(name) { try runs.attribute(&graph, method: scoring[name]!) }
                if name == "acdc" { kept = graph.includedEdgeCount }
            }
        }
        // the component pass is the plain pass up to the order of the additions
        let drift = zip(plainLogits, circuitLogits).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }

        let med = times.mapValues(median)
        let unit = med["forward"]!
        let setup = med["patch_runs"]! + med["circuit_runs"]!
        let modelName = checkpoint.map { ($0 as NSString).lastPathComponent } ?? "random-seed\(seed)"
        let head: [(String, String)] = [("model", modelName), ("pairs", "\(N)"), ("length", "\(T)"), ("edges", "\(edges)")]
        var lines: [(String, [(String, String)])] = []
        var json: [String: Any] = ["model": modelName, "pairs": N, "length": T, "edges": edges, "repeats": repeats,
                                   "threads": common.threads, "ig_steps": igSteps, "tau": tau]
        /// A line of `key`'s median and its forward equivalents, then `extra` (key, value, printf format).
        func add(_ what: String, _ key: String, _ extra: [(String, Double, String)] = []) {
            let m = med[key]!
            var fields = head + [("median_s", f(m)), ("forward_equiv", String(format: "%.2f", m / unit))]
            var entry: [String: Any] = ["median_s": m, "forward_equiv": m / unit, "times_s": times[key]!]
            for (k, v, format) in extra { fields.append((k, String(format: format, v))); entry[k] = format == "%.0f" ? Int(v) as Any : v }
            lines.append((what, fields)); json[what] = entry
        }
        add("forward", "forward")
        add("component", "component", [("max_logit_drift", Double(drift), "%.2e")])
        lines.append(("setup", head + [("patch_runs_s", f(med["patch_runs"]!)), ("circuit_runs_s", f(med["circuit_runs"]!)),
                                       ("forward_equiv", String(format: "%.2f", setup / unit))]))
        json["setup"] = ["patch_runs_s": med["patch_runs"]!, "circuit_runs_s": med["circuit_runs"]!, "forward_equiv": setup / unit,
                         "patch_runs_times_s": times["patch_runs"]!, "circuit_runs_times_s": times["circuit_runs"]!]
        if let eap = med["eap"] { add("eap", "eap", [("with_setup_forward_equiv", (eap + setup) / unit, "%.2f")]) }
        if let ig = med["eap-ig"] {
            add("eap-ig", "eap-ig", [("steps", Double(igSteps), "%.0f"), ("per_step_forward_equiv", ig / unit / Double(igSteps), "%.2f")])
        }
        if let exact = med["exact"] {
            add("exact", "exact", [("per_edge_ms", exact / Double(edges) * 1000, "%.3f")] + (med["eap"].map { [("eap_speedup", exact / $0, "%.1f")] } ?? []))
        }
        if let acdc = med["acdc"] {
            add("acdc", "acdc", [("tau", tau, "%g"), ("kept", Double(kept), "%.0f"), ("per_checkpoint_s", acdc, "%.4f"),
                                 ("per_edge_ms", acdc / Double(edges) * 1000, "%.3f")])
        }
        if common.json { try JSONOut.print(json); return }
        for (what, fields) in lines { BenchLine.print("circuit-" + what, fields) }
    }

    /// The default study's base model (its run base-s1's config), initialised with `seed`.
    static func baseConfig(seed: UInt64) throws -> ModelConfig {
        guard var c = try DefaultStudy.spec().runs().first(where: { $0.name == RunSpec.runName(model: "base", seed: 1) })?.model else {
            throw ValidationError("the default study has no base model")
        }
        c.seed = seed
        return c
    }

    /// `lens bench patch`'s rows: random clean tokens, one token changed at length // 2, answers at the last position.
    private func randomPairs(vocab: Int) throws -> PatchPairs {
        var rng = RNG(seed: seed)
        let clean = (0..<pairs).map { _ in (0..<length).map { _ in Int32(rng.int(vocab)) } }
        let corrupted = clean.map { row in
            var r = row
            r[length / 2] = (r[length / 2] + 1) % Int32(vocab)
            return r
        }
        let correct = (0..<pairs).map { _ in Int32(rng.int(vocab)) }
        return try PatchPairs(clean: clean, corrupted: corrupted, position: [Int](repeating: length - 1, count: pairs),
                              correct: correct, wrong: correct.map { ($0 + 1) % Int32(vocab) })
    }
}

private func f(_ x: Double) -> String { String(format: "%.4f", x) }
