import ArgumentParser
import Dispatch
import Tensors
import Transformer

struct BenchGemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "OpenBLAS sgemm rate on n x n matrices: the ceiling the training loop is measured against.",
        discussion: "Prints `lens gemm n=N gflops=G`.")

    @Option var n = 1024
    @Option var repeats = 20
    @OptionGroup var common: CommonOptions

    /// Issue 10's fuzz suite: --n 0 and --repeats 0 printed a rate of 0, --repeats -1 trapped, --n 1e9
    /// aborted on allocation and --repeats 1e9 ran for ever.
    func validate() throws {
        // a, b and c, n x n floats each, within half of this machine's memory.
        let largest = Int((Double(Machine.workingSetBytes) / 12).squareRoot())
        try checkRange(n, 1...largest, flag: "--n", why: " (three n x n matrices in half of this machine's \(Machine.gib(Machine.memoryBytes)))")
        try checkRange(repeats, 1...10_000, flag: "--repeats")
    }

    func run() throws {
        common.apply()
        let a = [Float](repeating: 0.5, count: n * n), b = a
        var c = [Float](repeating: 0, count: n * n)
        BLAS.gemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { BLAS.gemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n) }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let gflops = 2 * Double(n * n * n) * Double(repeats) / dt / 1e9
        if common.json { try JSONOut.print(["n": n, "gflops": gflops] as [String: Any]) }
        else { BenchLine.print("gemm", ["n": "\(n)", "gflops": String(format: "%.1f", gflops)]) }
    }
}
