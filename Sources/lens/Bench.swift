import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print `lens <what> key=value ...` lines beside ../shared/peers scripts.",
        discussion: """
        Benchmarks are measurements, not tests: run each beside its peer in one session, alternating,
        and quote medians. `lens bench train` takes the same flags as torch_gpt_bench.py.
        """,
        subcommands: [BenchTrain.self, BenchGemm.self, BenchDump.self, BenchProbe.self, BenchPatch.self, BenchCircuit.self])
}
