import Foundation
import Testing
import Tensors
import TestSupport
@testable import Transformer

@Suite struct CheckpointTests {
    let temp: TempDir
    var dir: String { temp.root }

    init() throws { temp = try TempDir("ckpt") }

    @Test func roundTripKeepsEveryParameterAndTheMetadata() throws {
        let m = tinyModel()
        let path = dir + "/m.safetensors"
        try Checkpoint.save(m, step: 123, run: "seed7", to: path)
        let back = try Checkpoint.load(path)
        #expect(back.model.params.data == m.params.data)
        #expect(back.model.config == m.config)
        #expect(back.step == 123 && back.run == "seed7")
        let data = FileManager.default.contents(atPath: path)!
        let h = try Safetensors.readHeader(data, path: path)
        #expect(h.metadata["format"] == "emergence-lens.checkpoint/1")
        #expect(h.tensors["blocks.1.attn.W_O"]!.shape == [2, 3, 8])
        #expect(h.tensors.count == m.params.layout.entries.count)
        #expect(h.dataStart % 8 == 0)
        #expect(!FileManager.default.fileExists(atPath: AtomicFile.temporaryPath(for: path)))
    }

    @Test func truncatedFileIsAClearError() throws {
        let path = dir + "/t.safetensors"
        try Checkpoint.save(tinyModel(), step: 0, run: "r", to: path)
        let data = FileManager.default.contents(atPath: path)!
        for cut in [4, 20, data.count / 2, data.count - 1] {
            try data.prefix(cut).write(to: URL(fileURLWithPath: path))
            do { _ = try Checkpoint.load(path); Issue.record("accepted a file truncated at \(cut)") }
            catch { #expect(error.description.hasPrefix(path), "\(error)") }
        }
    }

    /// Issue 10's fuzz suite: a NaN or infinity in the weights crashed `lens eval` or ended in a raw
    /// EncodingError about its metrics; a -inf in the embedding gave exit 0 with a result.
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func aNonFiniteWeightIsAClearErrorNamingTheTensor(value: Float) throws {
        let m = tinyModel()
        let path = dir + "/nonfinite.safetensors"
        try Checkpoint.save(m, step: 5, run: "r", to: path)
        var data = try #require(FileManager.default.contents(atPath: path))
        let h = try Safetensors.readHeader(data, path: path)
        let t = try #require(h.tensors["blocks.1.mlp.W_out"])
        let at = h.dataStart + t.begin + 4 * 3
        data.replaceSubrange(at..<at + 4, with: withUnsafeBytes(of: value.bitPattern.littleEndian) { Data($0) })
        try data.write(to: URL(fileURLWithPath: path))
        do { _ = try Checkpoint.load(path); Issue.record("accepted a checkpoint holding \(value)") }
        catch { #expect(error.description == "\(path): tensor blocks.1.mlp.W_out holds \(value) at element 3; weights must be finite") }
    }

    @Test func wrongShapeAndUnknownNameAreClearErrors() throws {
        let m = tinyModel()
        var entries = m.params.layout.entries.map {
            Safetensors.Entry(name: $0.name, shape: $0.shape, values: Array(m.params.data[$0.offset..<$0.offset + $0.count]))
        }
        let meta = ["config": m.config.jsonString(), "step": "0", "run": "r", "format": Checkpoint.format]
        let i = entries.firstIndex { $0.name == "blocks.0.mlp.W_in" }!
        let wrong = entries[i]
        entries[i] = Safetensors.Entry(name: wrong.name, shape: [wrong.shape[1], wrong.shape[0]], values: wrong.values)
        let p1 = dir + "/shape.safetensors"
        try Safetensors.encode(entries, metadata: meta).write(to: URL(fileURLWithPath: p1))
        do { _ = try Checkpoint.load(p1); Issue.record("accepted a wrong shape") }
        catch { #expect(error.description.contains("blocks.0.mlp.W_in has shape [12, 8], expected [8, 12]"), "\(error)") }

        entries[i] = wrong
        entries.append(Safetensors.Entry(name: "blocks.9.mlp.W_in", shape: [1], values: [0]))
        let p2 = dir + "/unknown.safetensors"
        try Safetensors.encode(entries, metadata: meta).write(to: URL(fileURLWithPath: p2))
        do { _ = try Checkpoint.load(p2); Issue.record("accepted an unknown tensor") }
        catch { #expect(error.description.contains("unknown tensor blocks.9.mlp.W_in"), "\(error)") }

        let p3 = dir + "/garbage.safetensors"
        try Data((0..<100).map { UInt8($0) }).write(to: URL(fileURLWithPath: p3))
        #expect(throws: ModelError.self) { _ = try Checkpoint.load(p3) }
    }
}
