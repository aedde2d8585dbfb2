// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-chat",
    products: [
        .executable(name: "chatd", targets: ["chatd"]),
        .executable(name: "chat", targets: ["chat"]),
        .executable(name: "chat-bench", targets: ["chat-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // toml++ underneath; duplicate keys and error positions depend on it, so minor updates only.
        .package(url: "https://github.com/LebJe/TOMLKit.git", .upToNextMinor(from: "0.6.0")),
    ],
    // Each target depends on exactly the modules its files import, no more and no fewer.
    targets: [
        // C shims: a module map over a system library, nothing else.
        // No pkg-config for libzmq: zmq.h is in /usr/include and the module map links it, while
        // its pkg-config file adds `-isystem /usr/include/mit-krb5`, which SwiftPM refuses with a warning.
        .systemLibrary(name: "CZeroMQ"),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CLibSSL", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Safe Swift wrappers, one per C library.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "ChatCrypto", dependencies: ["CLibCrypto"]),
        // The client's TLS (the gateway's is swift-nio-ssl): blocking sockets, so OpenSSL itself.
        .target(name: "TLSSocket", dependencies: ["CLibSSL"]),
        .target(name: "LineEditing", dependencies: ["CLibEdit"]),
        // PostgreSQL through libpq (blocking, with pipeline mode), for the workers' threads as SQLite.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),

        // The client wire protocol and the internal bus: the only places bytes are parsed.
        .target(name: "ChatProtocol"),
        .target(name: "ChatBus", dependencies: [
            "ZeroMQ", "ChatProtocol",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // What every process reports to the supervisor (its metrics, over ZeroMQ), and how
        // the supervisor gathers them: the one place the telemetry format is defined.
        .target(name: "ChatTelemetry", dependencies: [
            "ZeroMQ",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "ChatRuntime", dependencies: [
            "CLinux",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),

        // One library per process role. Workers never import each other.
        // The gateway and its tests stay in the Swift 5 language mode until they are converted.
        .target(name: "ChatGateway", dependencies: [
            "ChatProtocol", "ChatBus", "ChatRuntime",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "ChatAuth", dependencies: [
            "ChatBus", "ChatRuntime", "ChatCrypto", "SQLite", "Postgres",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "ChatRouter", dependencies: [
            "ChatProtocol", "ChatBus", "ChatRuntime",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "ChatStorage", dependencies: [
            "ChatProtocol", "ChatBus", "ChatRuntime", "ChatCrypto", "SQLite", "Postgres", "CLinux",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        .target(name: "ChatSupervisor", dependencies: ["ChatRuntime", .product(name: "Logging", package: "swift-log")]),
        // What the supervisor shows: `chatd status` over the admin socket, and the metrics
        // and health endpoint, from its children's states and every process's telemetry.
        .target(name: "ChatMonitoring", dependencies: [
            "ChatSupervisor", "ChatTelemetry", "ChatRuntime",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "ChatClient", dependencies: ["ChatProtocol", "ChatCrypto", "TLSSocket", "CLinux"]),
        // A PostgreSQL cluster of Debian's packages in a temporary folder, for tests and benchmarks.
        .target(name: "ThrowawayPostgres", dependencies: ["CLinux"]),
        .target(name: "ChatBenchmark", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "ChatProtocol", "ChatRuntime", "ChatBus", "TLSSocket", "ThrowawayPostgres",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),

        // Thin executables.
        .executableTarget(name: "chatd", dependencies: [
            "ChatRuntime", "ChatBus", "ChatTelemetry", "ChatMonitoring", "ChatGateway", "ChatAuth", "ChatRouter", "ChatStorage", "ChatSupervisor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "chat", dependencies: [
            "CLinux", "ChatClient", "TLSSocket", "LineEditing", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "chat-bench", dependencies: ["CLinux", "ChatBenchmark"]),

        // What several test targets share: waiting on a condition with a deadline.
        .target(name: "ChatTestSupport", dependencies: ["ThrowawayPostgres"], path: "Tests/ChatTestSupport"),
        .testTarget(name: "ChatProtocolTests", dependencies: ["ChatProtocol", "ChatCrypto", "ChatTestSupport"]),
        .testTarget(name: "ChatAuthTests", dependencies: ["ChatAuth", "ChatRuntime", "ChatCrypto", "ChatTestSupport", "Postgres", "SQLite"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "ChatTestSupport"]),
        .testTarget(name: "ChatBusTests", dependencies: ["ChatBus", "ZeroMQ", "ChatTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ChatRuntimeTests", dependencies: [
            "ChatRuntime", "ChatSupervisor", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ChatTelemetryTests", dependencies: [
            "ChatTelemetry", "ChatTestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ChatMonitoringTests", dependencies: [
            "ChatMonitoring", "ChatSupervisor", "ChatTelemetry", "ChatTestSupport", .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "ChatGatewayTests", dependencies: [
            "ChatGateway", "ChatBus", "ChatProtocol", "ChatTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "ChatRouterTests", dependencies: ["ChatRouter", "ChatBus"]),
        .testTarget(name: "ChatStorageTests", dependencies: [
            "ChatStorage", "ChatBus", "SQLite", "Postgres", "ChatTestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ChatClientTests", dependencies: ["ChatClient", "ChatProtocol", "ChatTestSupport"]),
        .testTarget(name: "ChatBenchmarkTests", dependencies: [
            "ChatBenchmark", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // Depends on the executables so `swift test` builds them; the tests run them as users do.
        .testTarget(name: "IntegrationTests", dependencies: [
            "ChatRuntime", "ChatBus", "ZeroMQ", "ChatCrypto", "SQLite", "ChatTestSupport", "CLinux", "ChatBenchmark", "Postgres",
            .product(name: "Logging", package: "swift-log"),
            "chatd", "chat", "chat-bench",
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// Release builds: specialise generics across our modules (the bus codec's are called from every
// worker), and skip the runtime exclusivity checks, which cost a few per cent per message.
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    ]
}
