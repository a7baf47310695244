#if canImport(Glibc)
    internal import Glibc
#endif

/// A failure of the built-in transport below HTTP (connect, send, receive) or in the
/// response it read; ``NativeTransport`` turns it into an ``HTTPClientError``.
struct TransportFailure: Error {
    /// The class of failure.
    var kind: HTTPClientError.Kind
    /// The `CURLcode` libcurl reports for the same failure (see ``HTTPClientError/curlCode``).
    var code: Int32
    /// What happened, in words.
    var message: String
    /// The peer closed or reset the connection (EOF, `ECONNRESET`, `EPIPE`): on a kept-alive
    /// connection that has not answered yet, the request may be sent again on a new one.
    var connectionDropped = false

    /// The connect or total deadline passed while waiting for `what`.
    static func timeout(_ what: String) -> TransportFailure {
        TransportFailure(kind: .timeout, code: 28, message: what)
    }

    /// A malformed response.
    static func malformed(_ message: String) -> TransportFailure {
        TransportFailure(kind: .transfer, code: 8, message: message)
    }
}

/// The text of an `errno` value, e.g. `Connection refused`.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// One non-blocking stream socket (Unix or TCP) with a receive buffer; every wait is a
/// `poll()` bounded by a deadline. Closed when released.
///
/// Not thread-safe: used by one ``HTTPClient`` at a time, like the client itself.
final class SocketConnection {
    /// The receive buffer's size; also the longest status or header line accepted.
    static let bufferSize = 64 * 1024

    private let fd: Int32
    private let storage: UnsafeMutableRawBufferPointer
    /// Unconsumed received bytes are `storage[head..<tail]`.
    private var head = 0
    private var tail = 0
    /// Bytes received since the last ``resetReceivedCount()``.
    private(set) var receivedCount = 0

    private init(fd: Int32) {
        self.fd = fd
        storage = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        close(fd)
        storage.deallocate()
    }

    // MARK: - Connecting

    /// Connects to the Unix socket at `path` before `deadline`.
    static func connect(unixPath path: String, deadline: ContinuousClock.Instant) throws(TransportFailure) -> SocketConnection {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity, !pathBytes.contains(0) else {
            throw TransportFailure(
                kind: .connect, code: 7, message: "socket path is longer than \(capacity - 1) bytes or contains NUL")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: pathBytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            throw TransportFailure(kind: .connect, code: 7, message: "socket: \(errnoText(errno))")
        }
        let connection = SocketConnection(fd: fd)
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        var pause: UInt32 = 1000
        while true {
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
            }
            if result == 0 { return connection }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN:
                // The listener's backlog is full: a Unix socket does not queue the connect,
                // so try again until the deadline.
                let left = deadline - .now
                guard left > .zero else { throw .timeout("connect: the server's listen backlog stayed full") }
                usleep(min(pause, UInt32(left.clampedMilliseconds) * 1000))
                pause = min(pause * 2, 20_000)
            case EINPROGRESS:
                try connection.waitUntil(Int16(POLLOUT), deadline: deadline, what: "connect")
                if let failure = connection.pendingError() {
                    throw TransportFailure(kind: .connect, code: 7, message: "connect: \(errnoText(failure))")
                }
                return connection
            default:
                throw TransportFailure(kind: .connect, code: 7, message: "connect: \(errnoText(code))")
            }
        }
    }

    /// Resolves `host` and connects to the first of its addresses that accepts before `deadline`.
    static func connect(host: String, port: UInt16, deadline: ContinuousClock.Instant) throws(TransportFailure) -> SocketConnection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == EAI_SYSTEM ? errnoText(errno) : String(cString: gai_strerror(status))
            throw TransportFailure(kind: .connect, code: 6, message: "cannot resolve host '\(host)': \(reason)")
        }
        defer { freeaddrinfo(list) }
        var failures: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry?.pointee {
            entry = info.ai_next
            let name = "\(numericAddress(info.ai_addr, info.ai_addrlen) ?? host) port \(port)"
            let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), info.ai_protocol)
            guard fd >= 0 else {
                failures.append("\(name): socket: \(errnoText(errno))")
                continue
            }
            let connection = SocketConnection(fd: fd)
            var result = Glibc.connect(fd, info.ai_addr, info.ai_addrlen)
            while result != 0 && errno == EINTR { result = Glibc.connect(fd, info.ai_addr, info.ai_addrlen) }
            if result != 0 {
                let code = errno
                guard code == EINPROGRESS else {
                    failures.append("\(name): \(errnoText(code))")
                    continue
                }
                try connection.waitUntil(Int16(POLLOUT), deadline: deadline, what: "connect to \(name)")
                if let failure = connection.pendingError() {
                    failures.append("\(name): \(errnoText(failure))")
                    continue
                }
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return connection
        }
        throw TransportFailure(kind: .connect, code: 7, message: "connect to " + failures.joined(separator: "; "))
    }

    /// `SO_ERROR` after a non-blocking connect: the errno, or `nil` when connected.
    private func pendingError() -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value == 0 ? nil : value
    }

    private static func numericAddress(_ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String? {
        guard let address else { return nil }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Waiting

    /// Polls for `events` until they are ready or `deadline` passes (then throws a timeout
    /// naming `what`).
    private func waitUntil(_ events: Int16, deadline: ContinuousClock.Instant, what: String) throws(TransportFailure) {
        while true {
            let left = deadline - .now
            guard left > .zero else { throw .timeout(what) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&entry, 1, Int32(clamping: left.clampedMilliseconds))
            if result > 0 { return }
            if result < 0 && errno != EINTR {
                throw TransportFailure(kind: .transfer, code: 56, message: "poll: \(errnoText(errno))")
            }
        }
    }

    /// Whether a kept-alive connection still looks usable: nothing unread is buffered and the
    /// server has neither closed it nor sent anything unasked.
    var isIdleAndOpen: Bool {
        guard head == tail else { return false }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    // MARK: - Sending

    /// Sends every byte before `deadline`.
    func writeAll(_ bytes: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(TransportFailure) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                offset += sent
                continue
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                try waitUntil(Int16(POLLOUT), deadline: deadline, what: "sending the request (\(offset) of \(bytes.count) bytes sent)")
            case EPIPE, ECONNRESET:
                throw TransportFailure(
                    kind: .transfer, code: 55, message: "the server closed the connection while the request was sent",
                    connectionDropped: true)
            default:
                throw TransportFailure(kind: .transfer, code: 55, message: "send: \(errnoText(code))")
            }
        }
    }

    // MARK: - Receiving

    /// Starts counting received bytes anew (before each request).
    func resetReceivedCount() { receivedCount = 0 }

    /// Receives more bytes into the buffer; `false` at end of stream.
    private func fill(deadline: ContinuousClock.Instant) throws(TransportFailure) -> Bool {
        if head == tail {
            head = 0
            tail = 0
        } else if tail == storage.count, head > 0 {
            let base = storage.baseAddress!
            memmove(base, base + head, tail - head)
            tail -= head
            head = 0
        }
        precondition(tail < storage.count, "receive buffer full")
        while true {
            let count = recv(fd, storage.baseAddress! + tail, storage.count - tail, 0)
            if count > 0 {
                tail += count
                receivedCount += count
                return true
            }
            if count == 0 { return false }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                try waitUntil(Int16(POLLIN), deadline: deadline, what: "waiting for the response")
            case ECONNRESET:
                throw TransportFailure(
                    kind: .transfer, code: 56, message: "the server reset the connection", connectionDropped: true)
            default:
                throw TransportFailure(kind: .transfer, code: 56, message: "recv: \(errnoText(code))")
            }
        }
    }

    /// The next line without its `\n` (and `\r`), or `nil` at end of stream before any byte of it.
    func readLine(deadline: ContinuousClock.Instant) throws(TransportFailure) -> [UInt8]? {
        var searched = head
        while true {
            let base = storage.baseAddress!.assumingMemoryBound(to: UInt8.self)
            while searched < tail {
                if base[searched] == 0x0A {
                    var end = searched
                    if end > head, base[end - 1] == 0x0D { end -= 1 }
                    let line = Array(UnsafeBufferPointer(start: base + head, count: end - head))
                    head = searched + 1
                    return line
                }
                searched += 1
            }
            guard tail - head < storage.count else {
                throw .malformed("a response line is longer than \(storage.count) bytes")
            }
            let before = head
            guard try fill(deadline: deadline) else {
                if head == tail { return nil }
                throw TransportFailure(
                    kind: .transfer, code: 18, message: "the connection closed in the middle of a line")
            }
            searched -= before - head  // fill may have moved the unread bytes to the front
        }
    }

    /// Hands up to `limit` received bytes (buffered ones first, else one `recv`) to `body`.
    /// - Returns: How many bytes were handed over; 0 at end of stream.
    func readSome(
        limit: Int, deadline: ContinuousClock.Instant, _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(TransportFailure) -> Int {
        if head == tail {
            guard try fill(deadline: deadline) else { return 0 }
        }
        let count = min(limit, tail - head)
        body(UnsafeRawBufferPointer(rebasing: storage[head..<(head + count)]))
        head += count
        return count
    }
}
