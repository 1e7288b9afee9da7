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
