// swift-tools-version:6.0
// EmergenceLens. Dependencies flow one way, down this list; each target lists exactly what its files
// import, and the targets below are declared in the same order.
//
//   system libraries, packages   CBLAS, CHDF5, Yams, ArgumentParser
//   Tensors          <- CBLAS                                       tensors, RNG, BLAS, bootstrap, atomic files
//   HDF5             <- CHDF5                                       the libhdf5 binding
//   Specs            <- Yams                                        YAML spec files
//   Figures          <- (Foundation)                                SVG heat maps and line charts
//   CircuitRecords   <- (Foundation)                                what circuits.json holds: circuit records, faithfulness, agreement
//   Transformer      <- Tensors                                     model, hooks, training step, checkpoints
//   Skills           <- Tensors                                     tasks, items, labels, evaluation
//   ActivationStore  <- HDF5, Tensors, Transformer                  the activation-file format
//   Runs             <- Specs, Tensors, HDF5, Transformer, Skills   studies, training runs, sweeps, item files
//   Dumps            <- ActivationStore, Runs, Skills, Tensors, Transformer        `lens dump`
//   Probing          <- Specs, Tensors, HDF5, Transformer, ActivationStore, Figures   probes on activation files
//   Patching         <- Specs, Tensors, HDF5, Transformer, Skills, Runs, Probing, Figures   patching experiments, also along probe directions
//   Circuits         <- Tensors, Transformer, Skills, Runs, Patching, Figures, CircuitRecords   EAP-IG's graph, edge scores (exact, EAP, EAP-IG, ACDC), circuit evaluation, drawings
//   Findings         <- Tensors, Runs, Skills, CircuitRecords, Figures   the findings report: analysis (docs/ANALYSIS-PLAN.md), study loading, `lens report`
//   lens             <- all of the above but Specs, ArgumentParser   the command line
//                       (plugin BuildInfo: the git commit it is built from, for the reports' provenance)
//
// Tests/TestSupport (process runner, repository paths, temporary directories, tiny studies) is a plain
// library that only the test targets use; <Module>Tests tests <Module>.
import PackageDescription

// AVX2 + FMA (Haswell and later): the GELU, softmax and attention loops vectorise 8-wide instead of 4.
let haswell: SwiftSetting = .unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux], configuration: .release))
// The numeric kernels (Tensors, Transformer, Probing) drop bounds and overflow checks in release builds:
// measured, that is 1.2x the training throughput (README, "Bad input"). They are exercised by the
// debug-built tests, and what they are fed is validated first (checkpoint headers, activation files,
// spec sizes). Every other module (file readers and writers, runs, the CLI) keeps its checks, so a
// missed check there is a clean trap, not silent garbage.
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)), haswell]
let checked: [SwiftSetting] = [.unsafeFlags(["-wmo"], .when(configuration: .release)), haswell]
// The command line is glue (parsing, files, child processes): every loop that counts is in the modules it
// calls. Unoptimised it compiles in 5 s instead of 17, and it is the last module of the release build's
// critical path (Tensors -> Transformer -> Skills -> Runs -> Patching -> Circuits -> lens), which is
// most of a fresh machine's build time; `lens report` takes the same 4 s either way (measured).
let glue: [SwiftSetting] = [.unsafeFlags(["-Onone"], .when(configuration: .release))]
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "EmergenceLens",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lens", targets: ["lens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries (Debian packages).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),

        // The bottom row: each needs only a system library or a package.
        .target(name: "Tensors", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "HDF5", dependencies: ["CHDF5"], swiftSettings: checked),
        .target(name: "Specs", dependencies: [yams]),
        .target(name: "Figures", swiftSettings: checked),
        // The records of circuits.json, apart from the circuit machinery: the report reads them without it,
        // so Findings builds beside Patching and Circuits instead of after them.
        .target(name: "CircuitRecords", swiftSettings: checked),

        // The engine, and what is trained and stored with it.
        .target(name: "Transformer", dependencies: ["Tensors"], swiftSettings: fast),
        .target(name: "Skills", dependencies: ["Tensors"], swiftSettings: checked),
        .target(name: "ActivationStore", dependencies: ["HDF5", "Tensors", "Transformer"], swiftSettings: checked),
        .target(name: "Runs", dependencies: ["Specs", "Tensors", "HDF5", "Transformer", "Skills"], swiftSettings: checked),

        // Built on the stored activations (and, for the dump, on runs).
        .target(name: "Dumps", dependencies: ["ActivationStore", "Runs", "Skills", "Tensors", "Transformer"],
                swiftSettings: checked),
        .target(name: "Probing", dependencies: ["Specs", "Tensors", "HDF5", "Transformer", "ActivationStore", "Figures"],
                swiftSettings: fast),
        // Patching experiments on the engine; the pairs come from the skill tasks, the checkpoints from runs.
        .target(name: "Patching", dependencies: ["Specs", "Tensors", "HDF5", "Transformer", "Skills", "Runs", "Probing", "Figures"],
                swiftSettings: checked),
        // Circuits in EAP-IG's graph (hannamw/EAP-IG), scored and evaluated on the pairs of a patching experiment.
        .target(name: "Circuits", dependencies: ["Tensors", "Transformer", "Skills", "Runs", "Patching", "Figures", "CircuitRecords"], swiftSettings: checked),
        // The analysis plan's onsets, lags, fits and verdicts on plain numbers, and the study loading and
        // report building of `lens report` (StudyData.swift, Report*.swift) that feed them.
        .target(name: "Findings", dependencies: ["Tensors", "Runs", "Skills", "CircuitRecords", "Figures"], swiftSettings: checked),

        // The command line.
        .executableTarget(name: "lens", dependencies: [
            "Tensors", "HDF5", "Transformer", "Skills", "ActivationStore", "Runs", "Dumps", "Probing", "Patching", "CircuitRecords", "Circuits", "Findings", argumentParser,
        ], swiftSettings: glue, plugins: ["BuildInfo"]),
        .plugin(name: "BuildInfo", capability: .buildTool()),

        // Tests, in the same order. TestSupport is an ordinary library that only test targets use.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "TestSupport"]),
        .testTarget(name: "SpecsTests", dependencies: ["Specs"]),
        .testTarget(name: "FiguresTests", dependencies: ["Figures", "TestSupport"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "Tensors", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SkillsTests", dependencies: ["Skills", "Tensors"]),
        .testTarget(name: "ActivationStoreTests", dependencies: ["ActivationStore", "HDF5", "Tensors", "Transformer", "TestSupport"]),
        .testTarget(name: "RunsTests", dependencies: ["Runs", "HDF5", "Skills", "Transformer", "TestSupport"]),
        .testTarget(name: "DumpsTests", dependencies: ["Dumps", "ActivationStore", "Runs", "Skills", "Tensors", "Transformer", "TestSupport"]),
        .testTarget(name: "ProbingTests", dependencies: ["Probing", "Figures", "ActivationStore", "Dumps", "Runs", "Tensors", "Transformer", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "PatchingTests", dependencies: ["Patching", "Probing", "Skills", "Tensors", "Transformer"]),
        .testTarget(name: "CircuitsTests", dependencies: ["Circuits", "CircuitRecords", "Patching", "Tensors", "Transformer", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FindingsTests", dependencies: ["Findings", "CircuitRecords", "Tensors", "Runs", "Skills", "TestSupport"]),
        .testTarget(name: "LensTests", dependencies: ["lens", "HDF5", "TestSupport"]),
        .testTarget(name: "NotebookTests", dependencies: ["TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
        // Runs the built `lens` on generated hostile inputs (issue 10); `make fuzz` runs many more cases.
        .testTarget(name: "FuzzTests", dependencies: ["TestSupport"]),
    ]
)
