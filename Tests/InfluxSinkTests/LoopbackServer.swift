import Foundation
import PluginABI
import Gzip
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One request as the loopback server received it.
struct RecordedRequest: Sendable {
    var method: String
    /// Path without the query.
    var path: String
    /// Query parameters, percent-decoded, in order.
    var query: [(name: String, value: String)]
    var rawTarget: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    func parameter(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// The body, gunzipped when `Content-Encoding: gzip`.
    var content: [UInt8] {
        guard header("Content-Encoding") == "gzip", !body.isEmpty else { return body }
        return (try? Gzip.decompress(body)) ?? []
    }

    /// The lines of the (decompressed) body, without `\n`.
    var lines: [String] {
        String(decoding: content, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// What the server answers.
struct CannedResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)] = []
    var body: String = ""
}

/// A small HTTP/1.1 server on 127.0.0.1 (an ephemeral port) written for the
/// tests: keep-alive, `Content-Length` bodies, one thread per connection.
/// `answer` decides each response; every request is recorded.
final class LoopbackServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let answer: @Sendable (RecordedRequest) -> CannedResponse
    private let recorded = Mutex<[RecordedRequest]>([])
    private let connections = Mutex<[Int32]>([])
    private let done = DispatchSemaphore(value: 0)

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Every request so far.
    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// The write requests (`/write` or `/api/v2/write`) with a body.
    var writes: [RecordedRequest] { requests.filter { $0.path.hasSuffix("/write") && !$0.body.isEmpty } }

    struct Failure: Error, CustomStringConvertible { var description: String }

    init(answer: @escaping @Sendable (RecordedRequest) -> CannedResponse) throws {
        self.answer = answer
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0 && listen(descriptor, 16) == 0
            }
        }
        guard ok else {
            close(descriptor)
            throw Failure(description: "bind/listen: errno \(errno)")
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in
            self.acceptLoop()
            self.done.signal()
        }
        thread.start()
    }

    /// Ends the accept thread, then closes the listener and shuts every open
    /// connection down.  Descriptors are closed only where nothing can use their
    /// number afterwards: the listener once the accept thread returned, a
    /// connection under the lock that `stop` takes (another test's socket may
    /// get the number next).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        done.wait()
        close(listener)
        connections.withLock { open in
            for connection in open { shutdown(connection, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                return
            }
            connections.withLock { $0.append(connection) }
            Thread { [self] in self.serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer {
            connections.withLock { open in
                open.removeAll { $0 == connection }
                close(connection)
            }
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return false }
            buffer += chunk[0..<n]
            return true
        }
        while true {
            // Head.
            var headEnd: Int?
            while headEnd == nil {
                if let range = buffer.firstRange(of: [13, 10, 13, 10]) { headEnd = range.upperBound; break }
                guard fill() else { return }
            }
            let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
            buffer.removeSubrange(0..<headEnd!)
            var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            guard !lines.isEmpty else { return }
            let requestLine = lines.removeFirst().split(separator: " ")
            guard requestLine.count >= 2 else { return }
            var headers: [(name: String, value: String)] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let length = Int(headers.first { $0.name.lowercased() == "content-length" }?.value ?? "0") ?? 0
            while buffer.count < length { guard fill() else { return } }
            let body = Array(buffer[0..<length])
            buffer.removeSubrange(0..<length)

            let target = String(requestLine[1])
            let pathPart = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
            var query: [(name: String, value: String)] = []
            if let queryPart = target.split(separator: "?", maxSplits: 1).dropFirst().first {
                for pair in queryPart.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    query.append(((parts[0].removingPercentEncoding ?? parts[0]), (parts.count > 1 ? parts[1].removingPercentEncoding ?? parts[1] : "")))
                }
            }
            let request = RecordedRequest(
                method: String(requestLine[0]), path: pathPart, query: query, rawTarget: target,
                headers: headers, body: body)
            recorded.withLock { $0.append(request) }
            let response = answer(request)
            var text = "HTTP/1.1 \(response.status) Status\r\nContent-Length: \(response.body.utf8.count)\r\n"
            if !response.body.isEmpty { text += "Content-Type: application/json\r\n" }
            for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
            text += "\r\n" + response.body
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { return }
                sent += n
            }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard count >= needle.count else { return nil }
        for index in 0...(count - needle.count) where self[index..<(index + needle.count)].elementsEqual(needle) {
            return index..<(index + needle.count)
        }
        return nil
    }
}
