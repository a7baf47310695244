import DockerEngine
import Foundation
import HTTPClient
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the real dockerd answers; tests that need it are disabled with the reason otherwise.
enum LiveDocker {
    /// `nil` when dockerd answers, else why not (printed once).
    static let unavailableReason: String? = {
        do {
            let client = try DockerClient()
            _ = try client.ping()
            return nil
        } catch {
            let reason = "skipping: dockerd is unreachable (\(error)); run scripts/start-dockerd.sh"
            FileHandle.standardError.write(Data((reason + "\n").utf8))
            return reason
        }
    }()

    static var isAvailable: Bool { unavailableReason == nil }

    static var skipComment: Comment { Comment(rawValue: unavailableReason ?? "dockerd reachable") }

    /// A rootfs tarball with static busybox as /bin/busybox plus a symlink per applet.
    static let busyboxTarball: Result<[UInt8], TestFailure> = {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("rdt4nn-rootfs-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: dir) }
        do {
            let bin = dir.appendingPathComponent("rootfs/bin")
            try fm.createDirectory(at: bin, withIntermediateDirectories: true)
            try fm.copyItem(atPath: "/bin/busybox", toPath: bin.appendingPathComponent("busybox").path)
            for dirName in ["tmp", "proc", "sys", "dev", "etc", "data"] {
                try fm.createDirectory(
                    at: dir.appendingPathComponent("rootfs/\(dirName)"), withIntermediateDirectories: true)
            }
            let list = try run("/bin/busybox", ["--list"])
            for applet in list.split(separator: "\n") where applet != "busybox" {
                try fm.createSymbolicLink(atPath: bin.appendingPathComponent(String(applet)).path,
                    withDestinationPath: "busybox")
            }
            let tar = dir.appendingPathComponent("rootfs.tar").path
            _ = try run("/bin/tar", ["-C", dir.appendingPathComponent("rootfs").path, "-cf", tar, "."])
            return .success(Array(try Data(contentsOf: URL(fileURLWithPath: tar))))
        } catch {
            return .failure(TestFailure("cannot build the busybox rootfs tarball: \(error)"))
        }
    }()

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Imports a fresh busybox image, runs `body`, then removes every container labelled with
/// the returned benchmark id and the image — also when `body` throws.
func withTestImage(
    _ body: (_ client: DockerClient, _ image: String, _ benchmarkID: String) throws -> Void
) throws {
    let client = try DockerClient()
    let id = "t" + String(UUID().uuidString.prefix(8)).lowercased()
    let repository = "rdt4nn-test/busybox"
    let image = "\(repository):\(id)"
    _ = try client.importImage(tarball: try LiveDocker.busyboxTarball.get(), repository: repository, tag: id)
    defer {
        if let leftovers = try? client.listContainers(labels: ["\(benchmarkLabel)=\(id)"]) {
            for container in leftovers { try? client.removeContainer(container.id, force: true) }
        }
        try? client.removeImage(image, force: true)
    }
    try body(client, image, id)
}

/// A one-connection-at-a-time HTTP/1.1 server on a Unix socket, answering every request with
/// the pieces `respond` returns (written one by one), then closing the connection.
final class ScriptedUnixServer: Sendable {
    let socketPath: String
    private let listenFD: Int32
    private let requests = Locked<[String]>([])
    private let done = Mutex<Bool>(false)

    /// Request lines seen so far (`POST /v1.41/images/create?...`).
    var requestLines: [String] { requests.value }

    init(respond: @escaping @Sendable (_ requestLine: String, _ headers: [String]) -> [[UInt8]]) throws {
        socketPath = NSTemporaryDirectory() + "rdt4nn-test-\(UUID().uuidString.prefix(8)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes.prefix(raw.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw TestFailure("bind/listen \(socketPath): errno \(errno)")
        }
        listenFD = fd
        let requests = self.requests
        let thread = Thread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 {
                    // Closed here, not in stop(): closing there could let a new server reuse
                    // the fd number while this thread still accepts on it.
                    close(fd)
                    return
                }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                // Read the head, then the body by Content-Length.
                var headEnd: Int?
                var contentLength = 0
                while true {
                    let n = read(connection, &buffer, buffer.count)
                    if n <= 0 { break }
                    received.append(contentsOf: buffer[0..<n])
                    if headEnd == nil, let range = findHeadEnd(received) {
                        headEnd = range
                        let head = String(decoding: received[0..<range], as: UTF8.self)
                        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                            contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                        }
                    }
                    if let headEnd, received.count >= headEnd + 4 + contentLength { break }
                }
                let head = String(decoding: received[0..<(headEnd ?? received.count)], as: UTF8.self)
                let lines = head.split(separator: "\r\n").map(String.init)
                let requestLine = lines.first ?? ""
                requests.mutate { $0.append(requestLine) }
                for piece in respond(requestLine, Array(lines.dropFirst())) {
                    _ = piece.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                }
                close(connection)
            }
        }
        thread.start()
    }

    /// Stops accepting and removes the socket file.
    func stop() {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))  // wakes accept(); the server thread closes the fd
        unlink(socketPath)
    }

    deinit { stop() }
}

private func findHeadEnd(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
        return i
    }
    return nil
}

/// A chunked-encoding piece.
func chunk(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    return Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + Array("\r\n".utf8)
}

/// A Sendable box around a Mutex-protected value (Mutex itself is noncopyable).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func mutate(_ body: (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}
