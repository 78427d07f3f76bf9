// swift-tools-version: 6.2
// Micro-benchmarks for the SIP message layer (issue 3, "Must show" 4).
//
// A separate package so that `swift test` in the repository root never resolves or builds
// ordo-one/benchmark. Run with `scripts/bench-parser` from the repository root, or:
//   cd Benchmarks && swift package --disable-sandbox benchmark --target SIPParserBenchmarks
import PackageDescription

import struct Foundation.URL

// A path dependency's identity is the name of its directory, which depends on where the
// repository was cloned; derive it instead of hard-coding it.
let rootPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "trunkgate-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // MallocInterposer gives the malloc counters (mallocCountTotal) on Linux.
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The messages every benchmark and the profiling driver parse.
        .target(
            name: "BenchmarkMessages",
            path: "Sources/BenchmarkMessages"
        ),
        .executableTarget(
            name: "SIPParserBenchmarks",
            dependencies: [
                "BenchmarkMessages",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SIPMessage", package: rootPackage),
            ],
            path: "Benchmarks/SIPParser",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        .executableTarget(
            name: "DigestBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SIPDigest", package: rootPackage),
                .product(name: "SIPMessage", package: rootPackage),
            ],
            path: "Benchmarks/Digest",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        // A plain loop for valgrind/perf (no benchmark harness, no malloc interposer).
        .executableTarget(
            name: "SIPParserProfile",
            dependencies: [
                "BenchmarkMessages",
                .product(name: "SIPMessage", package: rootPackage),
            ],
            path: "Sources/SIPParserProfile"
        ),
        // The same for the digest verification path.
        .executableTarget(
            name: "DigestProfile",
            dependencies: [
                .product(name: "SIPDigest", package: rootPackage),
                .product(name: "SIPMessage", package: rootPackage),
            ],
            path: "Sources/DigestProfile"
        ),
    ]
)
