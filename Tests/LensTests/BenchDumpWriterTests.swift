import Foundation
import HDF5
import Testing
import TestSupport
@testable import lens

@Suite struct BenchDumpWriterTests {
    @Test func benchmarkWritesPeerLayout() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("bench.h5")
        let r = try benchmarkWrite(path: path, n: 300, t: 4, d: 8, chunkRows: 128, compress: true, datasets: 2)
        #expect(r.seconds > 0 && r.mbPerSecond > 0)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        let f = try H5File.openReadOnly(path)
        let ds = try f.openDataset("activations/blocks.1.hook_resid_post")
        #expect(try ds.shape() == [300, 4, 8] && ds.maxShape() == [300, 4, 8])
        #expect(try ds.chunkShape() == [128, 4, 8] && ds.isCompressed())
        let a: [Float] = try ds.read(rows: 0..<1), b: [Float] = try ds.read(rows: 256..<257)
        #expect(a == b)   // every batch is the same precomputed batch, as in the peer
    }

    /// Found by the fuzz suite (issue 10): a chunk far larger than the data allocated a batch of that many rows.
    @Test func aChunkLargerThanTheDataNeedsNoLargerBatch() throws {
        let dir = try TempDir()
        defer { withExtendedLifetime(dir) {} }   // the directory is removed when `dir` goes
        let path = dir.path("bench.h5")
        _ = try benchmarkWrite(path: path, n: 16, t: 4, d: 8, chunkRows: 1_000_000_000, datasets: 1)
        let ds = try H5File.openReadOnly(path).openDataset("activations/blocks.0.hook_resid_post")
        #expect(try ds.shape() == [16, 4, 8] && ds.chunkShape() == [16, 4, 8])
    }
}
