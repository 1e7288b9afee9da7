// swift-tools-version:6.0
// EmergenceLens: data flows one way, left to right:
// CBLAS, CHDF5 -> Tensors -> Transformer -> Skills -> Runs -> ActivationStore -> Probing -> lens
import PackageDescription

// Release builds drop bounds checks in the numeric modules: they are exercised by the debug-built tests.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
    // AVX2 + FMA (Haswell and later): the GELU, softmax and attention loops vectorise 8-wide instead of 4.
    .unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux], configuration: .release)),
]

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
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .target(name: "Tensors", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "Transformer", dependencies: ["Tensors"], swiftSettings: fast),
        .target(name: "Skills", dependencies: ["Tensors", "Transformer"], swiftSettings: fast),
        .target(name: "Runs", dependencies: ["Tensors", "Transformer", "Skills", .product(name: "Yams", package: "Yams")],
                swiftSettings: fast),
        .target(name: "ActivationStore", dependencies: ["CHDF5", "Tensors", "Transformer", "Skills", "Runs"], swiftSettings: fast),
        .target(name: "Probing", dependencies: ["Tensors", "Transformer", "Runs", "ActivationStore"],
                swiftSettings: fast),
        .executableTarget(name: "lens", dependencies: [
            "Tensors", "Transformer", "Skills", "Runs", "ActivationStore", "Probing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: fast),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "Tensors"]),
        .testTarget(name: "SkillsTests", dependencies: ["Skills", "Transformer"]),
        .testTarget(name: "RunsTests", dependencies: ["Runs", "Skills", "Transformer"]),
        .testTarget(name: "ActivationStoreTests", dependencies: ["ActivationStore", "Transformer", "Skills", "Runs"]),
        .testTarget(name: "NotebookTests"),
        .testTarget(name: "CLITests"),
        .testTarget(name: "ProbingTests", dependencies: ["Probing", "ActivationStore", "Runs", "Transformer"], exclude: ["Fixtures"]),
    ]
)
