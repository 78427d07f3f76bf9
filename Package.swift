// swift-tools-version: 6.2
import PackageDescription

// Every target of ours: Swift 6 mode (tools version), strict concurrency, warnings are errors.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "trunkgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trunkgate", targets: ["trunkgate"]),
        .library(name: "SIPMessage", targets: ["SIPMessage"]),
        .library(name: "SIPDigest", targets: ["SIPDigest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "SIPMessage",
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(name: "CSHA256"),
        .target(
            name: "SIPDigest",
            dependencies: [
                "SIPMessage",
                "CSHA256",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SIPTransaction",
            dependencies: ["SIPMessage"],
            swiftSettings: strict
        ),
        .target(
            name: "TrunkgateModel",
            dependencies: [
                "SIPMessage",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TrunkgateStore",
            dependencies: [
                "TrunkgateModel",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TrunkgateAPI",
            dependencies: [
                "TrunkgateModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SIPTransport",
            dependencies: [
                "SIPMessage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TrunkgateEdge",
            dependencies: [
                "SIPMessage", "SIPDigest", "SIPTransaction", "SIPTransport", "TrunkgateModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "TrunkgateWebhooks",
            dependencies: [
                "TrunkgateModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "trunkgate",
            dependencies: [
                "SIPMessage",
                "SIPDigest",
                "SIPTransport",
                "SIPTransaction",
                "TrunkgateModel",
                "TrunkgateStore",
                "TrunkgateEdge",
                "TrunkgateAPI",
                "TrunkgateWebhooks",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SIPTransactionTests",
            dependencies: ["SIPTransaction", "SIPMessage"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrunkgateEdgeTests",
            dependencies: [
                "TrunkgateEdge", "TrunkgateModel", "SIPDigest", "SIPMessage", "SIPTransaction", "SIPTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrunkgateIntegrationTests",
            dependencies: [
                "TrunkgateEdge", "TrunkgateStore", "TrunkgateAPI", "TrunkgateModel", "SIPTransport", "SIPTransaction", "TrunkgateWebhooks",
                "SIPDigest", "SIPMessage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrunkgateStoreTests",
            dependencies: ["TrunkgateStore", "TrunkgateModel", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrunkgateAPITests",
            dependencies: [
                "TrunkgateAPI", "TrunkgateStore", "TrunkgateModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrunkgateWebhooksTests",
            dependencies: ["TrunkgateWebhooks", "TrunkgateModel"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TrunkgateModelTests",
            dependencies: ["TrunkgateModel"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SIPMessageTests",
            dependencies: ["SIPMessage"],
            exclude: ["FuzzRegressions"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SIPDigestTests",
            dependencies: ["SIPDigest", "SIPMessage"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SIPTransportTests",
            dependencies: [
                "SIPTransport", "SIPMessage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
