import Foundation
import Runner
import Testing

/// SHA-256 (FIPS 180-4 test vectors) and file digests against sha256sum(1).
@Suite struct FileDigestTests {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    private func digest(_ text: String) -> String {
        var hasher = SHA256()
        hasher.update(Array(text.utf8))
        return hex(hasher.finalize())
    }

    @Test func knownVectors() {
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        #expect(hex(million.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func anySplitOfTheInputGivesTheSameDigest() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 5) }
        var whole = SHA256()
        whole.update(data)
        let expected = whole.finalize()
        for step in [1, 3, 63, 64, 65, 127, 4096, 9_999] {
            var pieces = SHA256()
            var offset = 0
            while offset < data.count {
                let end = min(data.count, offset + step)
                pieces.update(data[offset..<end])  // an ArraySlice: contiguous storage
                offset = end
            }
            #expect(pieces.finalize() == expected, "step \(step)")
        }
        // A collection without contiguous storage takes the copying path.
        var lazy = SHA256()
        lazy.update(data.lazy.map { $0 })
        #expect(lazy.finalize() == expected)
    }

    @Test func fileDigestMatchesSha256sum() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") else {
            print("skipping: sha256sum is not installed")
            return
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rdt4nn-digest-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Over one read chunk (64 KiB) and not a multiple of the block size.
        try Data((0..<200_003).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path))
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        #expect(FileDigest.sha256(path: path) == String(expected))
        #expect(FileDigest.sha256(path: path + ".missing") == nil)
    }
}
