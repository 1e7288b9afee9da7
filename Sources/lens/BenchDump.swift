import ActivationStore
import ArgumentParser
import Foundation
import Tensors

struct BenchDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "HDF5 write rate of float32 activations [N, T, D] (same work as h5py_write_bench.py).",
        discussion: """
        Writes --datasets datasets [N, T, D], chunked [chunk, T, D], in batches of --chunk examples,
        to OUT.tmp then renames it. Prints `lens dump mb_per_s=R seconds=S bytes=B`.
          lens bench dump --out /dev/shm/lens.h5
          /usr/bin/python3 ../shared/peers/h5py_write_bench.py --out /dev/shm/peer.h5
        """)

    @Option var n = 4096
    @Option var t = 32
    @Option var d = 128
    @Option var chunk = 256
    @Option var datasets = 8
    @Flag var compress = false
    @Option var out = "/tmp/lens_dump_bench.h5"
    @OptionGroup var common: CommonOptions

    /// Issue 10's fuzz suite: 0 or -1 in any size trapped, 1e9 rows or datasets wrote for ever or aborted
    /// on allocation. Sizes are positive, one batch fits in memory, the file on its file system's free space;
    /// and --out, which is deleted afterwards, must be a new or regular file (as root, --out /dev/null would
    /// have replaced and then deleted the device).
    func validate() throws {
        try checkPaths([(out, "--out")])
        for (value, flag) in [(n, "--n"), (t, "--t"), (d, "--d"), (chunk, "--chunk"), (datasets, "--datasets")] {
            try checkRange(value, 1...Int(Int32.max), flag: flag)
        }
        guard let batch = checkedProduct(min(chunk, n), t, d, 4), batch <= Machine.workingSetBytes / 2 else {
            throw ValidationError("--chunk x --t x --d floats per batch are more than a quarter of this machine's \(Machine.gib(Machine.memoryBytes))")
        }
        var info = stat()
        if stat(out, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw ValidationError("--out \(out) exists and is not a regular file (the benchmark deletes its file afterwards)")
        }
        let dir = (out as NSString).deletingLastPathComponent
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: dir.isEmpty ? "." : dir))?[.systemFreeSize] as? Int
        guard let bytes = checkedProduct(n, t, d, 4, datasets), bytes <= free ?? Int.max else {
            throw ValidationError("--n x --t x --d x --datasets floats need more than the \(free.map(Machine.gib) ?? "?") free where --out is")
        }
    }

    func run() throws {
        let r = try benchmarkWrite(path: out, n: n, t: t, d: d, chunkRows: chunk, compress: compress, datasets: datasets)
        let bytes = n * t * d * 4 * datasets
        if common.json { try JSONOut.print(["mb_per_s": r.mbPerSecond, "seconds": r.seconds, "bytes": bytes] as [String: Any]) }
        else { BenchLine.print("dump", ["mb_per_s": String(format: "%.1f", r.mbPerSecond), "seconds": String(format: "%.3f", r.seconds), "bytes": "\(bytes)"]) }
        try? FileManager.default.removeItem(atPath: out)
    }
}
