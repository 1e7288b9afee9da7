import Foundation
import HDF5
import Testing
import TestSupport
@testable import ActivationStore

@Suite struct BadFileTests {
    /// `validate` must throw one line naming the file and containing `problem`.
    func expectInvalid(_ path: String, _ problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let s = try validateActivationFile(path)
            Issue.record("validate accepted \(path): \(s.n) rows", sourceLocation: sourceLocation)
        } catch let e as ActivationStoreError {
            let text = e.description
            #expect(text.hasPrefix(path + ":"), "\(text)", sourceLocation: sourceLocation)
            #expect(text.contains(problem), "\(text)", sourceLocation: sourceLocation)
            #expect(!text.contains("\n"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func randomBytesAndMissingFile() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("random.h5")
        var rng = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: URL(fileURLWithPath: path))
        expectInvalid(path, "not an HDF5 file")
        let empty = dir.path("empty.h5")
        try Data().write(to: URL(fileURLWithPath: empty))
        expectInvalid(empty, "HDF5")
        expectInvalid(dir.path("absent.h5"), "no such file")
        #expect(throws: ActivationStoreError.self) { try ActivationFileReader(path: path) }
    }

    @Test func truncatedFiles() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let good = dir.path("good.h5")
        try Fixture(n: 6).write(good, compress: true)
        _ = try validateActivationFile(good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        for cut in [0, 7, 100, 1000, bytes.count / 2, bytes.count - 1] {
            let p = dir.path("cut-\(cut).h5")
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: p))
            expectInvalid(p, cut < 8 ? "HDF5" : cut < 100 ? "" : "cannot open HDF5 file")
            #expect(throws: ActivationStoreError.self) { try ActivationFileReader(path: p) }
        }
    }

    /// Issue 10's fuzz suite: a gzip chunk of activations that no longer inflates (h5py cannot read it)
    /// passed `lens inspect`, which read only the file's structure.
    @Test func aCompressedChunkThatFailsToInflateIsRefused() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("gzip.h5")
        try Fixture(n: 6).write(path, compress: true)
        _ = try validateActivationFile(path)
        let hook = "/activations/blocks.0.mlp.hook_post"
        try damageChunk(1, of: hook, in: path)
        expectInvalid(path, hook + ": ")
    }

    /// The same for an integer label, which validation used to describe without reading (found by the
    /// fuzz suite: lens probe fitted on a file whose unused label h5py could not read).
    @Test func anUnreadableLabelIsRefused() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("gzip.h5")
        try Fixture(n: 6).write(path, compress: true)
        try damageChunk(0, of: "/labels/operand", in: path)
        expectInvalid(path, "/labels/operand: ")
        #expect(throws: ActivationStoreError.self) { try ActivationFileReader(path: path) }
    }

    /// XORs bytes in the middle of chunk `index` of `dataset` (a deflate stream then fails to inflate).
    func damageChunk(_ index: Int, of dataset: String, in path: String) throws {
        let chunk = try runPython(["-c", "import h5py, sys\ni = h5py.File(sys.argv[1], 'r')[sys.argv[2]].id.get_chunk_info(int(sys.argv[3]))\n"
                                   + "print(i.byte_offset, i.size)", path, dataset, String(index)])
        try #require(chunk.status == 0, "h5py: \(chunk.err)")
        let parts = chunk.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(parts.count == 2)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for k in 0..<min(8, parts[1] / 2) { bytes[parts[0] + parts[1] / 2 + k] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: path))
        let h5py = try runPython(["-c", "import h5py, sys\nh5py.File(sys.argv[1], 'r')[sys.argv[2]][()]", path, dataset])
        try #require(h5py.status != 0, "h5py still reads \(dataset) after the damage")
    }

    /// A file laid out by hand: everything right except what `mutate` changes.
    func handMade(_ path: String, tokens: H5DType? = .int32, labelType: H5DType = .int32, hookShape: [Int] = [2, 5, 3]) throws {
        let f = try H5File.create(path)
        for (k, v) in try Fixture.attributes.encodedWithoutFormat() { try f.root.setAttribute(k, .string(v)) }
        try f.root.setAttribute("format", .string(FileAttributes.currentFormat))
        if let tokens { try f.root.createDataset("tokens", dtype: tokens, shape: [2, 5]).close() }
        try f.root.createDataset("lengths", dtype: .int32, shape: [2]).close()
        try f.root.createDataset("prompts", dtype: .string, shape: [2]).close()
        try f.root.createDataset("tasks", dtype: .string, shape: [2]).close()
        try f.root.createDataset("positions/answer_start", dtype: .int32, shape: [2]).close()
        try f.root.createDataset("labels/x", dtype: labelType, shape: [2]).close()
        try f.root.createDataset("activations/blocks.0.hook_resid_post", dtype: .float32, shape: hookShape).close()
        try f.close()
    }

    @Test func structuralProblems() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let ok = dir.path("ok.h5")
        try handMade(ok)
        let s = try validateActivationFile(ok)
        #expect(s.n == 2 && s.seqLen == 5 && s.hooks.map(\.shape) == [[2, 5, 3]])

        let noTokens = dir.path("no-tokens.h5")
        try handMade(noTokens, tokens: nil)
        expectInvalid(noTokens, "/tokens: required dataset is missing")

        let floatTokens = dir.path("float-tokens.h5")
        try handMade(floatTokens, tokens: .float32)
        expectInvalid(floatTokens, "/tokens: dtype is float32, expected int32")

        let int64Label = dir.path("int64-label.h5")
        try handMade(int64Label, labelType: .int64)
        expectInvalid(int64Label, "/labels/x: dtype is int64, expected int32 or float32")

        let badN = dir.path("bad-n.h5")
        try handMade(badN, hookShape: [3, 5, 3])
        expectInvalid(badN, "/activations/blocks.0.hook_resid_post: shape is [3, 5, 3], expected [2, ...]")

        let plain = dir.path("plain.h5")
        try H5File.create(plain).close()
        expectInvalid(plain, "attribute 'format' is missing")
    }

    @Test func unfinishedWriterLeavesOnlyPartial() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("run.h5")
        try Fixture(n: 5).write(path, compress: false, finish: false)   // writer released without finish()
        #expect(FileManager.default.fileExists(atPath: ActivationFileWriter.partialPath(for: path)))
        #expect(!FileManager.default.fileExists(atPath: path))
        expectInvalid(ActivationFileWriter.partialPath(for: path), "attribute 'format' is missing")
        #expect(throws: ActivationStoreError.self) { try ActivationFileReader(path: ActivationFileWriter.partialPath(for: path)) }

        // finish() with rows missing refuses, and still leaves only the .partial.
        let w = try ActivationFileWriter(path: path, attributes: Fixture.attributes, n: 3, seqLen: Fixture.t,
                                         hooks: [], compress: false)
        let e = #expect(throws: ActivationStoreError.self) { try w.finish() }
        #expect(e?.description.contains("only 0 of 3 rows were written") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
        // A batch that does not match the declared hooks is refused before anything is written.
        #expect(throws: ActivationStoreError.self) {
            try w.appendBatch(tokens: [Int32](repeating: 0, count: 5), lengths: [1], prompts: ["p"], tasks: ["t"],
                              activations: ["unknown": [1]])
        }
        #expect(w.rowsWritten == 0)
    }

    @Test func summaryRendersTextAndJSON() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("s.h5")
        try Fixture(n: 3).write(path, compress: true)
        let s = try validateActivationFile(path)
        let text = s.description
        #expect(text.hasPrefix("\(path): emergence-lens.activations/1  N=3 T=5"))
        #expect(text.contains("blocks.0.attn.hook_pattern  float32 [3, 2, 5, 5]  chunks [2, 2, 5, 5] gzip"))
        #expect(text.contains("labels (2):") && text.contains("positions (2):"))
        let back = try JSONDecoder().decode(FileSummary.self, from: Data(try s.json().utf8))
        #expect(back == s)
    }
}
