import Foundation
import Testing
import Tensors
import TestSupport
import Transformer
@testable import ActivationStore

@Suite struct RoundTripTests {
    @Test(arguments: [0, 1, 7], [false, true])
    func activationFileRoundTrip(n: Int, compress: Bool) throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("acts.h5")
        let fx = Fixture(n: n)
        try fx.write(path, compress: compress)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: ActivationFileWriter.partialPath(for: path)))

        let r = try ActivationFileReader(path: path)
        #expect(r.n == n && r.seqLen == Fixture.t)
        #expect(r.attributes == Fixture.attributes)
        #expect(r.hooks.map(\.name) == Fixture.hooks.map(\.name).sorted())
        for h in Fixture.hooks { #expect(try r.hook(h.name).shape == [n] + h.shapeAfterBatch) }
        #expect(r.labels.map(\.name) == ["carry", "operand"])
        #expect(r.labels.map(\.kind) == [.float32, .int32])
        #expect(r.positionNames == ["answer_start", "equals"])
        let all = 0..<n
        #expect(try r.tokens() == all.flatMap(fx.tokens))
        #expect(try r.lengths() == all.map(fx.length))
        #expect(try r.prompts() == all.map(fx.prompt))
        #expect(try r.tasks() == all.map(fx.task))
        #expect(try r.position("answer_start") == all.map(fx.answerStart))
        #expect(try r.position("equals") == all.map(fx.equals))
        #expect(try r.label("operand") == .int32(all.map(fx.operand)))
        #expect(try r.label("carry") == .float32(all.map(fx.carry)))

        for (h, hook) in Fixture.hooks.enumerated() {
            // Whole and partial row ranges equal the corresponding slices.
            for rows in [all, n > 2 ? 2..<min(n, 6) : all, n > 0 ? (n - 1)..<n : all] {
                let got = try r.readHook(hook.name, rows: rows)
                #expect(got.shape == [rows.count] + hook.shapeAfterBatch)
                #expect(got.data == fx.hookRows(h, rows))
            }
            // One position, along the hook's position axis (1, or 2 for the attention pattern).
            let axis = try #require(HookPoints.axes(hook.name)?.position)
            #expect(axis == (hook.name.hasSuffix("hook_pattern") ? 2 : 1))
            let full = Tensor(shape: [n] + hook.shapeAfterBatch, data: fx.hookRows(h, all))
            for p in [0, Fixture.t - 1] {
                let got = try r.readHook(hook.name, rows: all, position: p)
                let want = slice(full, axis: axis, at: Array(repeating: p, count: n))
                #expect(got == want)
            }
            // Per-example positions (gather).
            let ans = try r.position("answer_start")
            if n > 1 {
                let sub = Tensor(shape: [n - 1] + hook.shapeAfterBatch, data: fx.hookRows(h, 1..<n))
                let want = slice(sub, axis: axis, at: ans[1...].map { Int($0) })
                #expect(try r.readHook(hook.name, rows: 1..<n, positions: Array(ans[1...])) == want)
                // Tiny blocks: several blocks, straddling the 2-row chunks.
                #expect(try r.readHook(hook.name, rows: 1..<n, positions: Array(ans[1...]), blockBytes: 1) == want)
                #expect(try r.readHook(hook.name, rows: 1..<n, positions: Array(ans[1...]), blockBytes: 3 * 4 * 50) == want)
            }
        }
        let summary = try validateActivationFile(path)
        #expect(summary.n == n && summary.hooks.count == 3)
        #expect(summary.hooks.allSatisfy { $0.compressed == compress && $0.chunks?.first == 2 })
    }

    /// Reference slice: out[i, ...] = t[i, ..., at[i] (on `axis`), ...].
    func slice(_ t: Tensor, axis: Int, at: [Int]) -> Tensor {
        var shape = t.shape
        let len = shape.remove(at: axis)
        shape[0] = at.count
        let outer = t.shape[1..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *)
        var out: [Float] = []
        for i in 0..<at.count {
            for a in 0..<outer {
                let base = i * t.shape.dropFirst().reduce(1, *) + (a * len + at[i]) * inner
                out += t.data[base..<(base + inner)]
            }
        }
        return Tensor(shape: shape, data: out)
    }
}
