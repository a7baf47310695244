import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a test could not set up its server.
struct SetupFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A Sendable box around a Mutex-protected value (Mutex itself is noncopyable).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func mutate<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// One request as the test server read it.
struct ReceivedRequest: Sendable {
    /// `GET /x HTTP/1.1`
    var line: String
    /// Header fields in order.
    var headers: [(name: String, value: String)]
    /// The body, read by `Content-Length`.
    var body: [UInt8]

    /// The first header named `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A real HTTP server for the tests, on a loopback TCP port or a Unix socket: it accepts
/// connections on a thread of its own and runs `handler` for each connection on a new thread,
/// so a test scripts exactly what the server does (answers, stalls, closes).
final class LoopbackServer: Sendable {
    enum Family: Sendable { case ipv4, ipv6, unix }

    /// The TCP port (0 for a Unix socket).
    let port: UInt16
    /// The Unix socket path (empty for TCP).
    let socketPath: String
    private let family: Family
    private let listenFD: Int32
    private let accepted = Locked(0)
    private let open = Locked<Set<Int32>>([])
    private let stopped = Locked(false)
    private let log = Locked<[String]>([])

    /// How many connections were accepted so far.
    var connectionCount: Int { accepted.value }
    /// Request lines seen so far, in order.
    var requestLines: [String] { log.value }

    /// The client's base URL (`http://127.0.0.1:port`, `http://[::1]:port`) or the socket path.
    var baseURL: String { family == .ipv6 ? "http://[::1]:\(port)" : "http://127.0.0.1:\(port)" }

    /// Starts listening. `backlog` is passed to `listen`; `accepting: false` never accepts
    /// (connections stay queued, for backlog tests).
    init(
        _ family: Family = .ipv4, backlog: Int32 = 16, accepting: Bool = true,
        handler: @escaping @Sendable (ServerConnection) -> Void = { _ in }
    ) throws {
        self.family = family
        var boundPort: UInt16 = 0
        var path = ""
        let fd: Int32
        switch family {
        case .unix:
            path = NSTemporaryDirectory() + "rdt4nn-http-\(UUID().uuidString.prefix(8)).sock"
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard fd >= 0, result == 0 else { throw SetupFailure("bind \(path): \(String(cString: strerror(errno)))") }
        case .ipv4:
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, result == 0 else { throw SetupFailure("bind 127.0.0.1: \(String(cString: strerror(errno)))") }
            boundPort = Self.localPort(fd)
        case .ipv6:
            fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
            guard fd >= 0, result == 0 else { throw SetupFailure("bind ::1: \(String(cString: strerror(errno)))") }
            boundPort = Self.localPort(fd)
        }
        guard listen(fd, backlog) == 0 else { throw SetupFailure("listen: \(String(cString: strerror(errno)))") }
        listenFD = fd
        port = boundPort
        socketPath = path
        guard accepting else { return }
        let accepted = self.accepted
        let open = self.open
        let log = self.log
        Thread.detachNewThread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    close(fd)  // closed here, not in stop(), so the number is not reused while accept runs
                    return
                }
                accepted.mutate { $0 += 1 }
                open.mutate { _ = $0.insert(connection) }
                Thread.detachNewThread {
                    let peer = ServerConnection(fd: connection, log: log)
                    handler(peer)
                    open.mutate { _ = $0.remove(connection) }
                    peer.close()
                }
            }
        }
    }

    /// Stops accepting, shuts every open connection down and removes the socket file.
    func stop() {
        guard stopped.mutate({ value -> Bool in
            defer { value = true }
            return !value
        }) else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))  // wakes accept(); the accept thread closes the fd
        open.mutate { for fd in $0 { shutdown(fd, Int32(SHUT_RDWR)) } }
        if !socketPath.isEmpty { unlink(socketPath) }
    }

    /// Closes the listening socket of a server made with `accepting: false`.
    func closeListener() {
        guard stopped.mutate({ value -> Bool in
            defer { value = true }
            return !value
        }) else { return }
        close(listenFD)
        if !socketPath.isEmpty { unlink(socketPath) }
    }

    deinit { stop() }

    private static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return withUnsafeBytes(of: &storage) { raw in
            // sin_port and sin6_port both sit at offset 2, in network byte order.
            UInt16(raw[2]) << 8 | UInt16(raw[3])
        }
    }
}

/// The server's side of one connection; used only by the thread running the handler.
final class ServerConnection {
    let fd: Int32
    private var buffer: [UInt8] = []
    private let log: Locked<[String]>
    private var closed = false

    fileprivate init(fd: Int32, log: Locked<[String]>) {
        self.fd = fd
        self.log = log
    }

    /// Reads more bytes; false at end of stream or error.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let count = read(fd, &chunk, chunk.count)
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// The next request (head, then body by Content-Length), or nil when the client closed.
    func readRequest() -> ReceivedRequest? {
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[0..<end], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let line = lines.removeFirst()
                let headers = lines.map { text -> (name: String, value: String) in
                    let colon = text.firstIndex(of: ":") ?? text.endIndex
                    return (String(text[..<colon]), String(text[colon...].dropFirst()).trimmingCharacters(in: .whitespaces))
                }
                let length = Int(headers.first { $0.name.lowercased() == "content-length" }?.value ?? "0") ?? 0
                while buffer.count < end + 4 + length {
                    guard fill() else { return nil }
                }
                let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                buffer.removeFirst(end + 4 + length)
                log.mutate { $0.append(line) }
                return ReceivedRequest(line: line, headers: headers, body: body)
            }
            guard fill() else { return nil }
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// Writes every byte; false when the client is gone.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }

    /// Writes UTF-8 text.
    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Writes `text` as one chunk of a chunked body.
    @discardableResult
    func writeChunk(_ bytes: [UInt8]) -> Bool {
        write(String(bytes.count, radix: 16) + "\r\n") && write(bytes) && write("\r\n")
    }

    /// A complete response with Content-Length.
    @discardableResult
    func respond(status: String = "200 OK", headers: [String] = [], body: [UInt8] = []) -> Bool {
        let head = "HTTP/1.1 \(status)\r\n" + headers.map { $0 + "\r\n" }.joined() + "Content-Length: \(body.count)\r\n\r\n"
        return write(Array(head.utf8) + body)
    }

    /// Waits until the client closes the connection (read returns 0 or fails) or `seconds` pass.
    func waitForClientClose(seconds: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if poll(&entry, 1, 50) > 0 {
                var byte: UInt8 = 0
                if read(fd, &byte, 1) <= 0 { return true }
            }
        }
        return false
    }

    /// Closes the connection (also done when the handler returns).
    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}

/// A TCP port on 127.0.0.1 with nothing listening (bound, then closed).
func closedLoopbackPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: bound.sin_port)
}
