// swift-tools-version: 6.0
// Line protocol encoder benchmark. Run it with ../encoder.sh (release build).
// Sources/LineProtocol is a symlink to the repository's module, so the
// benchmark always measures the code in Sources/LineProtocol.
import PackageDescription

let package = Package(
    name: "encoder-bench",
    targets: [
        .target(name: "LineProtocol", path: "Sources/LineProtocol"),
        // Counts heap allocations by interposing malloc & co (benchmark only).
        .target(name: "CBenchMallocCounter", path: "Sources/CBenchMallocCounter"),
        .executableTarget(name: "EncoderBench", dependencies: ["LineProtocol", "CBenchMallocCounter"]),
    ]
)
