import Foundation
import Synchronization
import SystemSupport
import Testing

/// SystemSupport against what it replaces: Foundation's own answers are the oracle.
@Suite struct TextFormatTests {
    @Test func fixedMatchesStringFormat() {
        let values: [Double] = [0, -0.0, 0.5, 1.5, 2.5, 12.25, -3.14159, 1e14, 123456.789, 99.995, 1e-9, 7]
        for value in values {
            for decimals in 0...3 {
                for width in [0, 6, 7] {
                    #expect(TextFormat.fixed(value, decimals: decimals, width: width) == String(format: "%*.*f", width, decimals, value))
                }
            }
        }
    }

    @Test func integersMatchStringFormat() {
        for value in [0, 7, 12, 59, 123] { #expect(TextFormat.zeroPadded(value, width: 2) == String(format: "%02d", value)) }
        for value: UInt32 in [0, 1, 0x1f, 0x3f9a_2c1d, .max] { #expect(TextFormat.hex(value, width: 8) == String(format: "%08x", value)) }
        for value: UInt32 in [0, 0x1f, 0xffff] { #expect(TextFormat.hex(value, width: 4) == String(format: "%04x", value)) }
    }

    @Test func trimmingMatchesCharacterSets() {
        let all = "\t\n\u{0B}\u{0C}\r \u{85}\u{A0}\u{1680}\u{2000}\u{200A}\u{200B}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}"
        for text in ["", "  ", " a b ", all + "x y" + all, "\u{301}a ", "é\t"] {
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces))
            #expect(text.trimmingWhitespaceAndNewlines() == text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    @Test func paddingMatchesNSString() {
        for text in ["", "abc", "configure", "a_long_function_name"] {
            #expect(text.padded(toLength: 12) == text.padding(toLength: 12, withPad: " ", startingAt: 0))
        }
    }
}

@Suite struct PathStringTests {
    @Test func deletingLastComponentMatchesNSString() {
        // (NSString traps on one-character relative paths such as "a".)
        for path in ["", "/", "/a", "ab", "ab/", "a/b", "/a//b/", "//ab", "x/ab//", "../x", "./cfg.yaml", "/etc/rdt4nn/x.yaml"] {
            #expect(PathString.deletingLastComponent(path) == (path as NSString).deletingLastPathComponent, "\(path)")
        }
    }

    @Test func standardizingMatchesNSStringWithoutLinks() {
        for path in ["a/b/../c/./d", "/tmp/x/../y/./z//", "./a", "~/x", "../a/../b", "/../a", "a/./", "/", "", "/usr/lib/../share"] {
            #expect(PathString.standardizing(path) == (path as NSString).standardizingPath, "\(path)")
        }
    }

    @Test func standardizingFollowsLinksBeforeDotDot() throws {
        let base = "/tmp/rdt4nn-pathstring-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/real/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: base + "/link", withDestinationPath: "real/sub")
        let path = base + "/link/../x"
        // The kernel resolves `link/..` to `real`: so must the text.  (NSString's answer here
        // depends on the working directory: it reads a relative link target against it.)
        #expect(PathString.standardizing(path) == base + "/real/x")
    }
}

@Suite struct POSIXThreadTests {
    @Test func joinWaitsForTheBodyAndTheThreadHasItsName() {
        let seen = Mutex<String?>(nil)
        let thread = POSIXThread(name: "rdt4nn-test-thread-long") {
            let comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
            seen.withLock { $0 = comm }
        }
        thread.join()
        #expect(seen.withLock { $0 } == "rdt4nn-test-thr\n")
    }

    @Test func sleepWaitsAtLeastTheTime() {
        let start = DispatchTime.now().uptimeNanoseconds
        POSIXThread.sleep(nanoseconds: 50_000_000)
        #expect(DispatchTime.now().uptimeNanoseconds - start >= 50_000_000)
    }
}

@Suite struct ChildProcessTests {
    @Test func collectsOutputAndExitStatus() throws {
        let child = try ChildProcess.launch(executable: "/bin/sh", arguments: ["-c", "echo hello; echo oops >&2; exit 3"])
        let output = FileDescriptor.readToEnd(child.outputDescriptor)
        close(child.outputDescriptor)
        #expect(output.map { String(decoding: $0, as: UTF8.self) } == "hello\n")
        #expect(child.wait() == .exited(3))
    }

    @Test func reportsTheSignalAChildDiedOf() throws {
        let child = try ChildProcess.launch(executable: "/bin/sleep", arguments: ["30"])
        #expect(child.poll() == nil)
        child.kill(SIGKILL)
        #expect(child.wait() == .signalled(SIGKILL))
        close(child.outputDescriptor)
    }

    @Test func aMissingExecutableIsAnError() {
        #expect(throws: ChildProcess.LaunchError.self) {
            try ChildProcess.launch(executable: "/nonexistent/rdt4nn", arguments: [])
        }
    }
}
