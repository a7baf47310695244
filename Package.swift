// swift-tools-version: 6.0
import PackageDescription

/// Settings every Swift target gets: Swift 6 language mode plus the stricter
/// upcoming features the server-side Swift packages use.
let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// Built-in plugins export nothing but `rdt4nn_plugin_entry` (the same rule a
/// third-party plugin follows).  `unsafeFlags` is fine for a root package.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=plugin-sdk/rdt4nn.version"])
]

let package = Package(
    name: "rdt4nn",
    products: [
        .executable(name: "rdt4nn", targets: ["rdt4nn"]),
        // Built-in plugins: one dynamic library each, lib<product>.so.
        .library(name: "rdt4nn-procstat", type: .dynamic, targets: ["ProcStatPlugin"]),
        .library(name: "rdt4nn-pressure", type: .dynamic, targets: ["PressurePlugin"]),
        .library(name: "rdt4nn-scheduler-default", type: .dynamic, targets: ["DefaultSchedulerPlugin"]),
        .library(name: "rdt4nn-sink-file", type: .dynamic, targets: ["FileSinkPlugin"]),
        .library(name: "rdt4nn-dockerstats", type: .dynamic, targets: ["DockerStatsPlugin"]),
        .library(name: "rdt4nn-perf", type: .dynamic, targets: ["PerfPlugin"]),
        .library(name: "rdt4nn-sink-influx", type: .dynamic, targets: ["InfluxSinkPlugin"]),
        .library(name: "rdt4nn-resctrl", type: .dynamic, targets: ["ResctrlMonitorPlugin"]),
        // Benchmark harnesses (bench/*.sh build and run them).
        .executable(name: "dockerstats-bench", targets: ["DockerStatsBench"]),
        .executable(name: "influx-write-bench", targets: ["InfluxWriteBench"]),
        .executable(name: "resctrl-bench", targets: ["ResctrlBench"]),
    ],
    targets: [
        // Threads, child processes, printf-exact number text and path strings without Foundation.
        .target(name: "CSystemSupport", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "SystemSupport", dependencies: ["CSystemSupport"], swiftSettings: strictSwift),
        // The C plugin ABI: header only.
        .target(
            name: "RDT4NNPluginSDK",
            path: "plugin-sdk",
            exclude: ["examples", "rdt4nn.version", "README.md"],
            publicHeadersPath: "include"
        ),
        // A hand-written command-line parser shaped like swift-argument-parser.
        .target(name: "ArgumentParsing", swiftSettings: strictSwift),
        // Swift values for what crosses the ABI (statuses, samples) and their C layout;
        // shared by the host and by plugins written in Swift.
        .target(name: "PluginABI", dependencies: ["RDT4NNPluginSDK", "SystemSupport"], swiftSettings: strictSwift),
        // Loads plugins, offers the host API table, wraps instances, checks contracts.
        .target(name: "PluginHost", dependencies: ["PluginABI", "RDT4NNPluginSDK", "SystemSupport"], swiftSettings: strictSwift),
        // Helps write built-in plugins in Swift against the same C ABI.
        .target(name: "PluginKit", dependencies: ["PluginABI", "RDT4NNPluginSDK"], swiftSettings: strictSwift),
        // Ticks collector instances on absolute monotonic deadlines.
        .target(name: "Sampling", dependencies: ["PluginABI", "PluginHost", "SystemSupport"], swiftSettings: strictSwift),
        // Carries samples from collectors to sinks: buffers, batches, retries, spool.
        .target(name: "Pipeline", dependencies: ["PluginABI", "PluginHost", "SystemSupport"], swiftSettings: strictSwift),
        // Benchmark YAML: both original formats and rdt4nn's own keys, strictly validated.
        .target(name: "Configuration", dependencies: ["YAML", "PluginABI", "SystemSupport"], swiftSettings: strictSwift),
        // SIGINT/SIGTERM through a self-pipe (async-signal-safe).
        .target(name: "CSignalPipe"),
        // Runs a benchmark: results directory, host facts, timeline, cleanup.
        .target(name: "Runner", dependencies: ["CSignalPipe", "SystemSupport", "Configuration", "PluginABI", "PluginHost", "Sampling", "Pipeline", "DockerEngine"], swiftSettings: strictSwift),
        // perf_event_open(2) for Swift: the variadic syscall, the ioctls, perf_event_attr bitfields.
        .target(name: "CPerfEvent", cSettings: [.define("_GNU_SOURCE")]),
        // resctrl: features, groups, task assignment, kernel-exact schemata validation, monitoring reads.
        .target(name: "Resctrl", swiftSettings: strictSwift),
        // A fake resctrl tree that plays the kernel's part (tests, benchmarks, the simulator).
        .target(name: "ResctrlTestSupport", dependencies: ["Resctrl"], swiftSettings: strictSwift),
        // cgroup v1/v2 and procfs readers shared by collectors.
        .target(name: "Cgroups", swiftSettings: strictSwift),
        // A YAML reader for the configuration subset (PyYAML-compatible, no packages).
        .target(name: "YAML", swiftSettings: strictSwift),
        // libcurl, dlopen()ed on first https use (never linked), behind non-variadic C wrappers.
        .target(name: "CCurlShim", linkerSettings: [.linkedLibrary("dl")]),
        // A small blocking HTTP/1.1 client on POSIX sockets (Unix socket, http://); https:// through CCurlShim.
        .target(name: "HTTPClient", dependencies: ["CCurlShim"], swiftSettings: strictSwift),
        // InfluxDB line protocol, encoded without allocation per point.
        .target(name: "LineProtocol", swiftSettings: strictSwift),
        // Line protocol straight from the C batches sinks receive.
        .target(name: "SampleLineProtocol", dependencies: ["LineProtocol", "RDT4NNPluginSDK"], swiftSettings: strictSwift),
        // gzip through the system zlib (sinks compress batches and files).
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Gzip", dependencies: ["CZlib"], swiftSettings: strictSwift),
        // InfluxDB 1.x/2.x writes: statuses, partial writes, bisection (the influx sink and upload).
        .target(name: "InfluxWrite", dependencies: ["HTTPClient", "Gzip", "PluginABI", "SystemSupport"], swiftSettings: strictSwift),
        // Replays a results directory into InfluxDB (rdt4nn upload).
        .target(
            name: "ResultsUpload",
            dependencies: ["InfluxWrite", "LineProtocol", "Pipeline", "PluginABI", "CZlib"],
            swiftSettings: strictSwift
        ),
        // The Docker Engine API over its unix socket.
        .target(name: "DockerEngine", dependencies: ["HTTPClient", "SystemSupport"], swiftSettings: strictSwift),
        // The thin executable: argument parsing and wiring.
        .executableTarget(
            name: "rdt4nn",
            dependencies: [
                "ArgumentParsing", "Configuration", "PluginABI", "PluginHost", "DockerEngine", "Runner", "InfluxWrite", "ResultsUpload", "Resctrl", "SystemSupport",
            ],
            swiftSettings: strictSwift
        ),

        // Built-in plugins.
        .target(
            name: "ProcStatPlugin",
            dependencies: ["PluginKit"],
            path: "Plugins/ProcStat",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PressurePlugin",
            dependencies: ["PluginKit"],
            path: "Plugins/Pressure",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),

        .target(
            name: "DefaultSchedulerPlugin",
            dependencies: ["PluginKit"],
            path: "Plugins/DefaultScheduler",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "FileSinkPlugin",
            dependencies: ["PluginKit", "LineProtocol", "SampleLineProtocol", "Gzip"],
            path: "Plugins/FileSink",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "DockerStatsPlugin",
            dependencies: ["PluginKit", "Cgroups"],
            path: "Plugins/DockerStats",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "PerfPlugin",
            dependencies: ["PluginKit", "CPerfEvent"],
            path: "Plugins/Perf",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "InfluxSinkPlugin",
            dependencies: ["PluginKit", "InfluxWrite", "LineProtocol", "SampleLineProtocol"],
            path: "Plugins/InfluxSink",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),
        .target(
            name: "ResctrlMonitorPlugin",
            dependencies: ["PluginKit", "Resctrl", "Cgroups"],
            path: "Plugins/ResctrlMonitor",
            swiftSettings: strictSwift,
            linkerSettings: pluginLinkerSettings
        ),

        // Benchmark harnesses.
        .executableTarget(
            name: "DockerStatsBench",
            dependencies: ["Cgroups", "PluginHost", "PluginABI", "HTTPClient"],
            path: "bench/dockerstats",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "InfluxWriteBench",
            dependencies: ["PluginABI", "PluginHost", "LineProtocol", "Gzip", "HTTPClient"],
            path: "bench/influx_write",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "ResctrlBench",
            dependencies: ["Resctrl", "ResctrlTestSupport", "PluginHost", "PluginABI"],
            path: "bench/resctrl",
            swiftSettings: strictSwift
        ),

        // Tests.
        // What tests that run built plugins and programs share (products folder, processes, sample recorders).
        .target(
            name: "TestKit",
            dependencies: ["PluginABI", "PluginHost", "HTTPClient", "InfluxWrite"],
            path: "Tests/TestKit",
            swiftSettings: strictSwift
        ),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling", "PluginABI", "PluginHost"], swiftSettings: strictSwift),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "PluginABI", "PluginHost"], swiftSettings: strictSwift),
        .testTarget(name: "RunnerTests", dependencies: ["TestKit", "Runner", "Configuration", "Pipeline", "PluginABI", "PluginHost", "DockerEngine"], swiftSettings: strictSwift),
        .testTarget(name: "LineProtocolTests", dependencies: ["LineProtocol", "TestKit"], swiftSettings: strictSwift),
        .testTarget(name: "SinkTests", dependencies: ["PluginABI", "PluginHost", "Gzip"], swiftSettings: strictSwift),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "YAML", "PluginABI"], swiftSettings: strictSwift),
        .testTarget(
            name: "DockerStatsTests",
            dependencies: ["TestKit", "Cgroups", "PluginHost", "PluginABI", "DockerEngine", "HTTPClient"],
            exclude: ["Fixtures"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "PerfPluginTests",
            dependencies: ["TestKit", "PerfPlugin", "PluginABI", "PluginHost", "CPerfEvent"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "InfluxSinkTests",
            dependencies: ["TestKit", "InfluxWrite", "ResultsUpload", "Pipeline", "PluginABI", "PluginHost", "Gzip", "HTTPClient", "LineProtocol"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ResctrlTests",
            dependencies: ["TestKit", "Resctrl", "ResctrlTestSupport", "PluginHost", "PluginABI"],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"], exclude: ["Corpus"], swiftSettings: strictSwift),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "HTTPClient"], swiftSettings: strictSwift),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport"], swiftSettings: strictSwift),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"], swiftSettings: strictSwift),
        .testTarget(name: "ArgumentParsingTests", dependencies: ["ArgumentParsing"], swiftSettings: strictSwift),
        .testTarget(
            name: "PluginHostTests",
            dependencies: ["TestKit", "PluginABI", "PluginHost", "RDT4NNPluginSDK"],
            exclude: ["Fixtures"],
            swiftSettings: strictSwift
        ),
    ]
)
