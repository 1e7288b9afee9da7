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
          lens circuit-eap-ig       attribute(.eapIG(steps: --ig-steps))
          lens circuit-exact        attribute(.exact): each edge cut alone; eap_speedup = its median / EAP's
          lens circuit-acdc         attribute(.acdc(tau: --tau)): kept = edges in its circuit; median_s is the time
                                    per checkpoint (one model), per_edge_ms per edge tried
        --methods times a subset (e.g. eap, to profile it). --profile adds `lens circuit-eap-profile`: EAP's phases timed
        apart (the library's steps, re-run here), and `lens circuit-eap-fused` (and -eap-ig-fused): a prototype that sums the
        same products over chunks of token rows (FusedEAP below), with its speedup over the library and the largest score
        difference as a share of the largest |score|.
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
    @Flag(help: "Also time EAP's phases apart, and the chunked prototype (FusedEAP) against the library's EAP and EAP-IG.")
    var profile = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try checkRange(pairs, 1...100_000, flag: "--pairs")
        try checkRange(length, 1...100_000, flag: "--length")
        // EAP holds a [readers, tokens, d_model] gradient at once: 1.25 GB for the base model at this bound
        try checkRange(pairs * length, 1...100_000, flag: "--pairs x --length", why: " (EAP's reader gradients are held at once)")
        try checkRange(igSteps, 1...1000, flag: "--ig-steps")
        try checkRange(repeats, 1...1000, flag: "--repeats")
        guard tau.isFinite, tau >= 0, tau <= 1 else { throw ValidationError("--tau must be in [0, 1], got \(tau)") }
        try checkPaths([(checkpoint, "--checkpoint")])
        let chosen = methodList
        guard !chosen.isEmpty, chosen.allSatisfy(Self.allMethods.contains) else {
            throw ValidationError("--methods must list some of \(Self.allMethods.joined(separator: ", ")), got \(methods)")
        }
        if profile && !chosen.contains("eap") { throw ValidationError("--profile times EAP's phases: --methods must include eap") }
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
        var scores: [String: [Float]] = [:]   // each method's edge scores (the last repeat's)
        for _ in 0..<repeats {
            plainLogits = try time("forward") { try model.forward(tokens: tokens, batch: N, length: T).logits.data }
            circuitLogits = try time("component") { try model.componentForward(tokens: tokens, batch: N, length: T).logits }
            let patchRuns = try time("patch_runs") { try PatchRuns(model: model, pairs: pairs, metric: .logitDiff) }
            let runs = try time("circuit_runs") { try CircuitRuns(patchRuns) }
            for name in chosen {
                var graph = try CircuitGraph(c)
                try time(name) { try runs.attribute(&graph, method: scoring[name]!) }
                if name == "acdc" { kept = graph.includedEdgeCount }
                scores[name] = graph.edges.map(\.score)
            }
            if profile {
                try profileEAP(runs, into: &times)
                let graph = try CircuitGraph(c)
                scores["eap-fused"] = try time("eap-fused") { try FusedEAP.scores(runs, graph, steps: nil) }
                if chosen.contains("eap-ig") {
                    scores["eap-ig-fused"] = try time("eap-ig-fused") { try FusedEAP.scores(runs, graph, steps: igSteps) }
                }
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
        if profile {
            let phases = ["metric_gradient", "backward", "reader_gradients", "reader_alloc", "difference", "score_gemm"]
            var fields = head, entry: [String: Any] = [:]
            for p in phases {
                fields.append((p + "_s", f(med[p]!))); entry[p + "_s"] = med[p]!
            }
            // readerGradients runs the backward itself: the reader part alone is the difference of the medians
            let readers = med["reader_gradients"]! - med["backward"]!
            fields.append(("readers_only_s", f(readers))); entry["readers_only_s"] = readers
            lines.append(("eap-profile", fields)); json["eap-profile"] = entry
            // the prototype against the library: largest score difference, as a share of the largest |score|
            for (name, reference) in [("eap-fused", "eap"), ("eap-ig-fused", "eap-ig")] where med[name] != nil {
                let a = scores[name]!, r = scores[reference]!
                let diff = zip(a, r).map { Double(abs($0 - $1)) }.max()!, top = r.map { Double(abs($0)) }.max()!
                add(name, name, [("library_s", med[reference]!, "%.4f"), ("speedup", med[reference]! / med[name]!, "%.1f"),
                                 ("max_rel_diff", top > 0 ? diff / top : diff, "%.1e")])
            }
        }
        if common.json { try JSONOut.print(json); return }
        for (what, fields) in lines { printLine("circuit-" + what, fields) }
    }

    /// EAP's steps as CircuitRuns.gradientScores takes them (one batch), each timed.
    private func profileEAP(_ runs: CircuitRuns, into times: inout [String: [Double]]) throws {
        func time<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = try body()
            times[name, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            return r
        }
        let b = runs.batches[0], model = b.runs.model, c = runs.config
        let W = runs.writers, R = runs.readers, n = b.pairs.count * b.pairs.length * c.d_model
        let state = b.runs.forwardState(.clean)
        let dlogits = time("metric_gradient") { b.runs.metricGradient(logits: state.logitsTensor.data) }
        var names = Set<String>()
        for l in 0..<c.n_layers { for h in [Hook.q, .k, .v, .mlpPre] { names.insert(h.name(layer: l)) } }
        _ = try time("backward") { try model.activationGradients(state, dlogits: dlogits, hooks: names) }
        // gradientScores zero-fills [R, n] before readerGradients returns its own
        let zeros = time("reader_alloc") { [Float](repeating: 0, count: R * n) }
        let gradient = try time("reader_gradients") { try model.readerGradients(state, dlogits: dlogits) }
        let difference = time("difference") { () -> [Float] in
            var d = [Float](repeating: 0, count: W * n)
            for j in 0..<(W * n) { d[j] = b.replacement[j] - b.cleanPass.outputs[j] }
            return d
        }
        var products = [Float](repeating: 0, count: W * R)
        time("score_gemm") {
            difference.withUnsafeBufferPointer { a in gradient.withUnsafeBufferPointer { g in products.withUnsafeMutableBufferPointer { p in
                BLAS.gemm(transB: true, m: W, n: R, k: n, alpha: 1 / Float(runs.pairCount), a: a.baseAddress!, lda: n,
                          b: g.baseAddress!, ldb: n, beta: 1, c: p.baseAddress!, ldc: R)
            } } }
        }
        withExtendedLifetime(zeros) {}
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

private func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
private func f(_ x: Double) -> String { String(format: "%.4f", x) }

/// BenchLine.print for fields built at run time (KeyValuePairs has only a literal initialiser): the same
/// `lens <what> key=value ...` line, flushed.
private func printLine(_ what: String, _ fields: [(String, String)]) {
    Swift.print((["lens", what] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " "), terminator: "\n")
    fflush(nil)
}

/// A prototype of the proposed EAP / EAP-IG scoring (not the library's): the same sums, taken over chunks
/// of `chunk` token rows so that nothing of [readers, B, T, D] or [writers, B, T, D] is ever allocated.
/// Per chunk: each reader's input gradient (its dq / dk / dv head slice, d mlp_pre or dlogits through the
/// weight and its LayerNorm's backward) into a [readers, rows * D] scratch, the writers' (replacement -
/// clean) rows into a [writers, rows * D] scratch, and one gemm into the [writers, readers] products. The
/// chunks are split over the engine's threads (single-threaded BLAS in each), products summed at the end.
/// LayerNorm models only (the bench's base model); the library's scores are the reference it is checked against.
enum FusedEAP {
    /// EAP (steps nil) or EAP-IG scores in `graph`'s edge order.
    static func scores(_ runs: CircuitRuns, _ graph: CircuitGraph, steps: Int?, chunk: Int = 64) throws -> [Float] {
        let W = runs.writers, R = runs.readers
        var products = [Float](repeating: 0, count: W * R)
        for b in runs.batches {
            let model = b.runs.model, c = runs.config, N = b.pairs.count, T = b.pairs.length, D = c.d_model
            let clean = b.runs.forwardState(.clean)
            guard let steps else {
                try accumulate(runs, b, clean, dlogits: b.runs.metricGradient(logits: clean.logitsTensor.data), alpha: 1, chunk: chunk,
                               into: &products)
                continue
            }
            // one copy of the clean pass, restarted in place at blocks.0.hook_resid_pre for every step
            let scratch = clean.repeated(1), hook = Hook.residPre.name(layer: 0), n = N * T * D
            var x = [Float](repeating: 0, count: n)
            for k in 1...steps {
                let a = Float(k) / Float(steps)
                b.replacement.withUnsafeBufferPointer { rp in b.cleanPass.outputs.withUnsafeBufferPointer { cp in
                    for j in 0..<n { x[j] = rp[j] + a * (cp[j] - rp[j]) }
                } }
                let out = try model.forward(startingAt: hook, with: Tensor(shape: [N, T, D], data: x), inPlace: scratch)
                try accumulate(runs, b, out.state, dlogits: b.runs.metricGradient(logits: out.logits.data), alpha: 1 / Float(steps),
                               chunk: chunk, into: &products)
            }
        }
        return graph.edges.map { products[$0.source * R + $0.input] }
    }

    /// products [W, R] += alpha / pairs * sum over rows of (replacement - clean) . reader gradient, in `state`'s pass.
    private static func accumulate(_ runs: CircuitRuns, _ b: CircuitRuns.Batch, _ state: ForwardState, dlogits: [Float],
                                   alpha: Float, chunk: Int, into products: inout [Float]) throws {
        let model = b.runs.model, c = runs.config, L = c.n_layers, H = c.n_heads, dh = c.d_head, D = c.d_model
        let M = c.d_mlp, V = c.d_vocab, W = runs.writers, R = runs.readers, BT = b.pairs.count * b.pairs.length, n = BT * D
        guard c.hasLayerNorm else { throw ValidationError("the fused EAP prototype needs a LayerNorm model") }
        var names = Set<String>()
        for l in 0..<L { for h in [Hook.q, .k, .v, .mlpPre] { names.insert(h.name(layer: l)) } }
        let grads = try model.activationGradients(state, dlogits: dlogits, hooks: names)
        // per LayerNorm (ln1, ln2 of each layer, then ln_final): hook_normalized [BT, D] and hook_scale [BT]
        let lns = (0..<L).flatMap { ["blocks.\($0).ln1", "blocks.\($0).ln2"] } + ["ln_final"]
        let norms = lns.map { state.activation($0 + ".hook_normalized")!.data }, scales = lns.map { state.activation($0 + ".hook_scale")!.data }
        // per reader: its gradient source [BT, width] at a column offset, the weight [D, width-slice]^T, its LayerNorm
        struct Source { let g: [Float]; let ld: Int; let col: Int; let k: Int; let weight: Int; let ldw: Int; let ln: Int }
        let layout = model.params.layout
        var sources: [Source] = []
        for l in 0..<L {
            for (hook, name) in [(Hook.q, "W_Q"), (Hook.k, "W_K"), (Hook.v, "W_V")] {
                let g = grads[hook.name(layer: l)]!.data
                for h in 0..<H {
                    sources.append(Source(g: g, ld: H * dh, col: h * dh, k: dh, weight: layout["blocks.\(l).attn.\(name)"]!.offset + h * D * dh,
                                          ldw: dh, ln: 2 * l))
                }
            }
            sources.append(Source(g: grads[Hook.mlpPre.name(layer: l)]!.data, ld: M, col: 0, k: M, weight: layout["blocks.\(l).mlp.W_in"]!.offset,
                                  ldw: M, ln: 2 * l + 1))
        }
        sources.append(Source(g: dlogits, ld: V, col: 0, k: V, weight: layout["unembed.W_U"]!.offset, ldw: V, ln: 2 * L))
        precondition(sources.count == R)
        let gains = lns.map { layout[$0 + ".w"]!.offset }
        let chunks = (BT + chunk - 1) / chunk, workers = min(Engine.threads, chunks)
        var partial = [Float](repeating: 0, count: workers * W * R)   // each shard's own [W, R]
        let scale = alpha / Float(runs.pairCount)
        model.params.data.withUnsafeBufferPointer { pb in
            b.replacement.withUnsafeBufferPointer { rp in b.cleanPass.outputs.withUnsafeBufferPointer { cp in
                partial.withUnsafeMutableBufferPointer { parts in
                    Engine.shards(workers) { s in
                        var G = [Float](repeating: 0, count: R * chunk * D), dif = [Float](repeating: 0, count: W * chunk * D)
                        var dln = [Float](repeating: 0, count: chunk * D)
                        for ci in stride(from: s, to: chunks, by: workers) {
                            let i0 = ci * chunk, rows = min(chunk, BT - i0), k = rows * D
                            for (r, src) in sources.enumerated() {
                                // d x_ln [rows, D] = g[rows, col ..< col + k] x weight^T, then back through the LayerNorm
                                src.g.withUnsafeBufferPointer { gb in dln.withUnsafeMutableBufferPointer { d in
                                    BLAS.gemm(transB: true, m: rows, n: D, k: src.k, a: gb.baseAddress! + i0 * src.ld + src.col, lda: src.ld,
                                              b: pb.baseAddress! + src.weight, ldb: src.ldw, beta: 0, c: d.baseAddress!, ldc: D)
                                } }
                                norms[src.ln].withUnsafeBufferPointer { nb in scales[src.ln].withUnsafeBufferPointer { sb in
                                    G.withUnsafeMutableBufferPointer { gp in dln.withUnsafeMutableBufferPointer { d in
                                        layerNormBackward(d.baseAddress!, gain: pb.baseAddress! + gains[src.ln], norm: nb.baseAddress! + i0 * D,
                                                          scale: sb.baseAddress! + i0, into: gp.baseAddress! + r * k, rows: rows, D: D)
                                    } }
                                } }
                            }
                            dif.withUnsafeMutableBufferPointer { db in
                                for w in 0..<W {
                                    let src = w * n + i0 * D, dst = db.baseAddress! + w * k
                                    for j in 0..<k { dst[j] = rp[src + j] - cp[src + j] }
                                }
                            }
                            dif.withUnsafeBufferPointer { a in G.withUnsafeBufferPointer { g in
                                BLAS.gemm(transB: true, m: W, n: R, k: k, alpha: scale, a: a.baseAddress!, lda: k, b: g.baseAddress!, ldb: k,
                                          beta: 1, c: parts.baseAddress! + s * W * R, ldc: R)
                            } }
                        }
                    }
                }
            } }
        }
        for s in 0..<workers { for j in 0..<(W * R) { products[j] += partial[s * W * R + j] } }
    }

    /// dx [rows, D] = (g * gain - mean(g * gain) - xhat * mean(g * gain * xhat)) / scale, per row (TransformerLens's
    /// LayerNorm backward through its gain); `g` is overwritten. 16 lanes at a time when D allows (a scalar loop
    /// leaves the two sums unvectorised: the compiler may not reorder float additions).
    private static func layerNormBackward(_ g: UnsafeMutablePointer<Float>, gain: UnsafePointer<Float>, norm: UnsafePointer<Float>,
                                          scale: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, rows: Int, D: Int) {
        typealias V = SIMD16<Float>
        guard D % V.scalarCount == 0 else {
            for i in 0..<rows {
                let gi = g + i * D, x = norm + i * D, o = dst + i * D
                var m: Float = 0, mx: Float = 0
                for d in 0..<D { gi[d] *= gain[d]; m += gi[d]; mx += gi[d] * x[d] }
                m /= Float(D); mx /= Float(D)
                let r = 1 / scale[i]
                for d in 0..<D { o[d] = r * (gi[d] - m - x[d] * mx) }
            }
            return
        }
        let lanes = D / V.scalarCount
        func load(_ p: UnsafePointer<Float>, _ j: Int) -> V { UnsafeRawPointer(p + j * V.scalarCount).loadUnaligned(as: V.self) }
        func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) { UnsafeMutableRawPointer(p + j * V.scalarCount).storeBytes(of: v, as: V.self) }
        for i in 0..<rows {
            let gi = g + i * D, x = norm + i * D, o = dst + i * D
            var m = V(), mx = V()
            for j in 0..<lanes {
                let v = load(gi, j) * load(gain, j)
                store(v, gi, j)
                m += v; mx += v * load(x, j)
            }
            let mean = m.sum() / Float(D), meanX = mx.sum() / Float(D), r = 1 / scale[i]
            for j in 0..<lanes { store(r * (load(gi, j) - mean - load(x, j) * meanX), o, j) }
        }
    }
}
