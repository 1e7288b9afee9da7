import ActivationStore
import ArgumentParser
import Foundation

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

    func validate() throws {
        try checkPaths([(out, "--out")])
    }

    func run() throws {
        let r = try benchmarkWrite(path: out, n: n, t: t, d: d, chunkRows: chunk, compress: compress, datasets: datasets)
        let bytes = n * t * d * 4 * datasets
        if common.json { try JSONOut.print(["mb_per_s": r.mbPerSecond, "seconds": r.seconds, "bytes": bytes] as [String: Any]) }
        else { BenchLine.print("dump", ["mb_per_s": String(format: "%.1f", r.mbPerSecond), "seconds": String(format: "%.3f", r.seconds), "bytes": "\(bytes)"]) }
        try? FileManager.default.removeItem(atPath: out)
    }
}
