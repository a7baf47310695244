import Foundation
import Gzip
import Testing

/// gzip through zlib: one member, and large inputs in parts compressed at once.
@Suite struct GzipTests {
    /// Deterministic, compressible but not trivial bytes (line protocol-like).
    private func input(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        while bytes.count < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes += Array("perf,container=c\(state % 8) task_clock_ns=\(state >> 40)i \(state >> 8)\n".utf8)
        }
        return Array(bytes.prefix(count))
    }

    /// Offsets where a gzip member header (1f 8b 08) starts a member in `data`
    /// as zlib reads it: every member decompressed on its own.
    private func memberCount(_ data: [UInt8]) -> Int {
        var count = 0
        var index = 0
        while index + 2 < data.count {
            if data[index] == 0x1F && data[index + 1] == 0x8B && data[index + 2] == 0x08 { count += 1 }
            index += 1
        }
        return count
    }

    @Test(arguments: [0, 1, 100_000, Gzip.minimumPartBytes * 2 - 1, 600_000, 3_000_007])
    func partsDecompressToTheInputExactly(size: Int) throws {
        let data = input(size)
        for parts in [1, 2, 3, 8] {
            let compressed = try Gzip.compress(data, level: 1, parts: parts)
            #expect(try Gzip.decompress(compressed) == data, "size \(size), parts \(parts)")
            let expectedParts = max(1, min(parts, size / Gzip.minimumPartBytes))
            // Each part is one member (the header bytes may also occur inside compressed data, rarely).
            #expect(memberCount(compressed) >= expectedParts, "size \(size), parts \(parts)")
        }
    }

    @Test func theSystemGunzipReadsTheConcatenatedMembers() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/gzip") || FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else {
            print("skipping: gzip(1) is not installed")
            return
        }
        let data = input(2_000_000)
        let compressed = try Gzip.compress(data, level: 1, parts: 4)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rdt4nn-gzip-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("body.gz")
        try Data(compressed).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -dc '\(file.path)' > '\(file.path).out'"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file.path + ".out"))) == data)
    }
}
