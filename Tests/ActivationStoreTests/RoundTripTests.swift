import Foundation
import Testing
import Tensors
@testable import ActivationStore

@Suite struct RoundTripTests {
    @Test(arguments: [0, 1, 7], [false, true])
    func activationFileRoundTrip(n: Int, compress: Bool) throws {
        let dir = try TempDir()
        let path = dir.path("acts.h5")
        let fx = Fixture(n: n)
        try fx.write(path, compress: compress)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))

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
            let axis = HookLayout.positionAxis(hook.name)
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

    @Test func hyperslabsAcrossCompressedChunks() throws {
        let dir = try TempDir()
        let f = try H5File.create(dir.path("g.h5"))
        let ds = try f.root.createDataset("/activations/blocks.0.hook_resid_post", dtype: .float32,
                                          shape: [10, 4, 2], extendible: true, chunkRows: 3, compress: true)
        let vals = (0..<80).map { Float($0) }
        try ds.write(rows: 0..<10, vals)
        let want: [Float] = (4..<9).flatMap { (r: Int) -> [Float] in [Float(r * 8 + 4), Float(r * 8 + 5)] }
        let got: [Float] = try ds.read(rows: 4..<9, axis: 1, index: 2)
        #expect(got == want)
        #expect(try ds.read(start: [9, 3, 1], count: [1, 1, 1]) == [Float(79)])
    }

    @Test func wrapperTypesAttributesAndGroups() throws {
        let dir = try TempDir()
        let path = dir.path("w.h5")
        do {
            let f = try H5File.create(path)
            let g = try f.createGroup("/labels/x/y")
            #expect(g.path == "/labels/x/y")
            try g.setAttribute("s", .string("héllo → 世界"))
            try g.setAttribute("i64", .int64(-9_000_000_000))
            try g.setAttribute("i32", .int32(-7))
            try g.setAttribute("f64", .float64(0.1))
            try g.setAttribute("s", .string("replaced ✓"))
            let i = try f.root.createDataset("/data/ints", dtype: .int32, shape: [2, 3, 4])
            try i.write(rows: 0..<2, (0..<24).map { Int32($0 - 12) })
            let s = try f.root.createDataset("/data/strings", dtype: .string, shape: [0], extendible: true)
            try s.write(rows: 0..<2, strings: ["", "ünï"])
            try s.write(rows: 2..<3, strings: ["三"])
            #expect(throws: ActivationStoreError.self) { try i.write(rows: 0..<1, [Float](repeating: 0, count: 12)) }
            #expect(throws: ActivationStoreError.self) { try i.write(rows: 1..<3, [Int32](repeating: 0, count: 24)) }
            try f.close()
        }
        let f = try H5File.openReadOnly(path)
        #expect(try f.root.memberNames() == ["data", "labels"])
        #expect(try f.openGroup("/labels").members().map { "\($0.name):\($0.kind)" } == ["x:group"])
        #expect(try f.openGroup("/data").members().map { "\($0.name):\($0.kind)" } == ["ints:dataset", "strings:dataset"])
        let g = try f.openGroup("labels/x/y")
        #expect(try g.attributeNames() == ["f64", "i32", "i64", "s"])
        #expect(try g.attribute("s") == .string("replaced ✓"))
        #expect(try g.attribute("i64") == .int64(-9_000_000_000))
        #expect(try g.attribute("i32") == .int32(-7))
        #expect(try g.attribute("f64") == .float64(0.1))
        let i = try f.openDataset("/data/ints")
        #expect(try i.shape() == [2, 3, 4] && i.dtype() == .int32 && i.chunkShape() == nil)
        #expect(try i.maxShape() == [2, 3, 4])
        let ints: [Int32] = (0..<24).map { Int32($0 - 12) }
        #expect(try i.readAll(as: Int32.self) == ints)
        #expect(try i.read(start: [1, 1, 2], count: [1, 2, 2], as: Int32.self) == [6, 7, 10, 11])
        let want: [Int32] = [3, 7, 11, 15, 19, 23].map { Int32($0 - 12) }
        #expect(try i.read(rows: 0..<2, axis: 2, index: 3, as: Int32.self) == want)
        let s = try f.openDataset("/data/strings")
        #expect(try s.maxShape() == [nil])
        #expect(try s.readStrings() == ["", "ünï", "三"])
        #expect(try s.readStrings(rows: 1..<3) == ["ünï", "三"])
        // Errors carry file, object and reason.
        let e1 = #expect(throws: ActivationStoreError.self) { try i.readAll(as: Float.self) }
        #expect(e1?.description == "\(path): /data/ints: dtype is int32, expected float32")
        let e2 = #expect(throws: ActivationStoreError.self) { try i.read(rows: 1..<3, as: Int32.self) }
        #expect(e2?.description.contains("out of bounds") == true)
        let e3 = #expect(throws: ActivationStoreError.self) { try f.openDataset("/nope/x") }
        #expect(e3?.description == "\(path): /nope/x: dataset is missing")
        let e4 = #expect(throws: ActivationStoreError.self) { try g.attribute("nope") }
        #expect(e4?.description.contains("attribute 'nope' is missing") == true)
        // A failure inside HDF5 carries HDF5's reason: creating in a read-only file.
        let e5 = #expect(throws: ActivationStoreError.self) { try f.createGroup("/new") }
        #expect(e5?.reason?.isEmpty == false)
        #expect(e5.map { !$0.description.contains("\n") } == true)
    }
}
