import Foundation
@testable import HTTPClient
import Testing

#if canImport(Glibc)
    import Glibc
#endif

private let opensslPath = "/usr/bin/openssl"

/// A throw-away certificate for 127.0.0.1 and `openssl s_server -www` serving with it.
private final class OpenSSLServer {
    let directory: String
    let port: UInt16
    let process: Process

    var certificatePath: String { directory + "/cert.pem" }
    var baseURL: String { "https://127.0.0.1:\(port)" }

    init() throws {
        directory = NSTemporaryDirectory() + "rdt4nn-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            try Self.run([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
            ])
            port = closedLoopbackPort()
            process = Process()
            process.executableURL = URL(fileURLWithPath: opensslPath)
            process.arguments = [
                "s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/cert.pem", "-key", directory + "/key.pem",
                "-www", "-quiet",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        // Wait until it accepts connections.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if result == 0 { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        stop()
        throw SetupFailure("openssl s_server did not start listening on 127.0.0.1:\(port)")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // s_server may take its time over SIGTERM
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opensslPath)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SetupFailure("openssl \(arguments.prefix(2).joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}

/// The files mapped into this process (/proc/self/maps read to the end: its size is 0).
private func mappedFiles() throws -> [String] {
    let fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SetupFailure("cannot open /proc/self/maps") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
        line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).first.map(String.init)
    }
}

@Suite("https:// through libcurl loaded at run time")
struct HTTPSTests {
    @Test func httpsLoadsLibcurlAndNamesTheEndpointOnConnectFailure() throws {
        let port = closedLoopbackPort()
        let client = try HTTPClient(transport: .tcp(baseURL: "https://127.0.0.1:\(port)"))
        #expect(try mappedFiles().contains { $0.contains("/libcurl.so.4") })
        let error = #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(path: "/ping")) }
        #expect(error?.kind == .connect)
        #expect(error?.curlCode == 7)
        #expect(error?.isFromLibcurl == true)
        #expect(error?.description.hasPrefix("cannot connect to https://127.0.0.1:\(port): ") == true)
        #expect(error?.description.hasSuffix("(curl error 7)") == true)
    }

    @Test func aMissingLibcurlIsReportedWithWhatToInstall() {
        let result = CurlLibrary.load(soname: "libcurl-rdt4nn-missing.so.4")
        guard case .failure(let failure) = result else {
            Issue.record("loading a library that does not exist succeeded")
            return
        }
        #expect(failure.message.hasPrefix("https:// needs libcurl, which could not be loaded (libcurl-rdt4nn-missing.so.4: cannot open shared object file"))
        #expect(failure.message.hasSuffix("apt-get install libcurl4) or use an http:// URL"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: opensslPath), "no \(opensslPath) to run a TLS server with"))
    func roundTripAgainstOpenSSLServer() throws {
        let server = try OpenSSLServer()
        defer { server.stop() }

        // The system CAs do not know the throw-away certificate: libcurl refuses it.
        let untrusting = try HTTPClient(transport: .tcp(baseURL: server.baseURL), timeouts: HTTPTimeouts(total: .seconds(10)))
        let refused = #expect(throws: HTTPClientError.self) { try untrusting.send(HTTPRequest(path: "/")) }
        #expect(refused?.kind == .transfer)
        #expect(refused?.curlCode == 60)  // CURLE_PEER_FAILED_VERIFICATION
        #expect(refused?.description.hasPrefix("HTTP request GET / to \(server.baseURL) failed: ") == true)

        // Trusting it, the request goes through TLS and back.
        let client = try HTTPClient(transport: .tcp(baseURL: server.baseURL), timeouts: HTTPTimeouts(total: .seconds(10)))
        client.curlCAFile = server.certificatePath
        let response = try client.send(HTTPRequest(path: "/"))
        #expect(response.status == 200)
        #expect(response.bodyText.contains("s_server"))
        #expect(response.bodyText.contains("TLSv1"))
    }
}
