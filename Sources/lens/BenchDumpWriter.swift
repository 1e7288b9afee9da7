import Foundation
import HDF5
import Tensors

/// Times writing float32 activations [n, t, d] in batches, laid out exactly like
/// ../shared/peers/h5py_write_bench.py so that `lens bench dump` can sit beside it:
/// `datasets` datasets `activations/blocks.{k}.hook_resid_post` of fixed shape [n, t, d], chunked
/// [min(chunkRows, n), t, d], gzip level 4 + shuffle when `compress` (h5py's `compression="gzip"`), each
/// written in batches of `chunkRows` rows from one precomputed standard-normal batch. The timed span is the
/// peer's: create `<path>.tmp`, write, close, rename to `path`. Rate in MB/s with 1 MB = 1e6 bytes.
func benchmarkWrite(path: String, n: Int, t: Int, d: Int, chunkRows: Int = 256, compress: Bool = false,
                           datasets: Int = 8) throws -> (mbPerSecond: Double, seconds: Double) {
    guard n > 0 && t > 0 && d > 0 && chunkRows > 0 && datasets > 0 else {
        throw HDF5Error(file: path, problem: "benchmark sizes must be positive (n \(n), t \(t), d \(d), chunk \(chunkRows), datasets \(datasets))")
    }
    var rng = RNG(seed: 0)
    // A batch never holds more rows than the datasets (issue 10's fuzz suite: --chunk 1e9 with --n 16
    // aborted allocating a billion-row batch).
    let batchRows = min(chunkRows, n)
    let batch = (0..<(batchRows * t * d)).map { _ in Float(rng.normal()) }
    let tmp = path + ".tmp"
    let clock = ContinuousClock()
    let start = clock.now
    let file = try H5File.create(tmp)
    for k in 0..<datasets {
        let ds = try file.root.createDataset("activations/blocks.\(k).hook_resid_post", dtype: .float32,
                                             shape: [n, t, d], chunkRows: min(chunkRows, n), compress: compress)
        var s = 0
        while s < n {
            let e = min(n, s + chunkRows)
            try ds.write(rows: s..<e, e - s == batchRows ? batch : Array(batch.prefix((e - s) * t * d)))
            s = e
        }
        ds.close()
    }
    try file.close()
    if rename(tmp, path) != 0 {
        throw HDF5Error(file: tmp, problem: "cannot rename to \(path): \(String(cString: strerror(errno)))")
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let bytes = Double(datasets * n * t * d * 4)
    return (bytes / seconds / 1e6, seconds)
}
