internal import Foundation
internal import HTTPClient

/// Idle ``HTTPClient``s (each one libcurl handle with its kept-alive connection) to one daemon.
///
/// A caller checks a client out, uses it alone, and checks it back in; concurrent callers get
/// different clients, so a blocking `wait` or event stream never holds up other calls.
///
/// `@unchecked Sendable` is justified: the only mutable state, `idle`, is read and written with
/// `lock` held, and a checked-out client is reachable from exactly one caller until it is
/// checked back in (HTTPClient itself is deliberately not Sendable). NSLock rather than
/// `Mutex` because `Mutex.withLock` cannot take a non-Sendable value in (region checking
/// rejects it) and because TSan understands pthread-based locks.
final class ConnectionPool: @unchecked Sendable {
    let transport: HTTPTransport
    let timeouts: HTTPTimeouts
    private let maxIdle: Int
    private let lock = NSLock()
    private var idle: [HTTPClient] = []

    init(transport: HTTPTransport, timeouts: HTTPTimeouts, maxIdle: Int = 4) {
        self.transport = transport
        self.timeouts = timeouts
        self.maxIdle = maxIdle
    }

    func checkOut() throws(HTTPClientError) -> HTTPClient {
        lock.lock()
        let client = idle.popLast()
        lock.unlock()
        if let client { return client }
        return try HTTPClient(transport: transport, timeouts: timeouts)
    }

    func checkIn(_ client: HTTPClient) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < maxIdle { idle.append(client) }
    }
}
