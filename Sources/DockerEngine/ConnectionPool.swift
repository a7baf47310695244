internal import HTTPClient
import Synchronization

/// Idle ``HTTPClient``s (each with its kept-alive connection) to one daemon.
///
/// A caller checks a client out, uses it alone, and checks it back in; concurrent callers get
/// different clients, so a blocking `wait` or event stream never holds up other calls.
///
/// `Sendable` because the only mutable state, `idle`, lives in a `Mutex`, and a checked-out
/// client is reachable from exactly one caller until it is checked back in (HTTPClient itself
/// is deliberately not Sendable; see ``Handover``).
final class ConnectionPool: Sendable {
    let transport: HTTPTransport
    let timeouts: HTTPTimeouts
    private let maxIdle: Int
    private let idle = Mutex<[Handover]>([])

    init(transport: HTTPTransport, timeouts: HTTPTimeouts, maxIdle: Int = 4) {
        self.transport = transport
        self.timeouts = timeouts
        self.maxIdle = maxIdle
    }

    func checkOut() throws(HTTPClientError) -> HTTPClient {
        if let handover = idle.withLock({ $0.popLast() }) { return handover.client }
        return try HTTPClient(transport: transport, timeouts: timeouts)
    }

    func checkIn(_ client: HTTPClient) {
        let handover = Handover(client: client)
        idle.withLock { idle in
            if idle.count < maxIdle { idle.append(handover) }
        }
    }
}

/// One idle client on its way into or out of the pool.
///
/// `@unchecked Sendable` is justified: region checking cannot see that a client is handed over
/// whole -- the caller that checks it in stops using it, and the one caller that checks it out
/// gets it alone -- and a client in the pool is used by nobody.
private struct Handover: @unchecked Sendable {
    let client: HTTPClient
}
