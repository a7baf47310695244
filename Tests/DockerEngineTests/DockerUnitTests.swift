import DockerEngine
import Foundation
import HTTPClient
import Synchronization
import Testing

@Suite("DockerEngine without a daemon")
struct DockerUnitTests {
    @Test func endpointResolutionOrder() throws {
        let env = ["DOCKER_HOST": "unix:///run/other.sock"]
        #expect(try DockerEndpoint.resolve(explicitPath: "/x.sock", environment: env).socketPath == "/x.sock")
        #expect(try DockerEndpoint.resolve(explicitPath: nil, environment: env).socketPath == "/run/other.sock")
        #expect(try DockerEndpoint.resolve(environment: [:]).socketPath == "/var/run/docker.sock")
        #expect(try DockerEndpoint.resolve(environment: ["DOCKER_HOST": ""]).socketPath == "/var/run/docker.sock")
        let tcp = #expect(throws: DockerError.self) {
            try DockerEndpoint.resolve(environment: ["DOCKER_HOST": "tcp://10.0.0.1:2375"])
        }
        #expect(tcp?.kind == .unsupported)
        #expect(tcp?.description.contains("tcp transport is not supported") == true)
        // DockerClient surfaces the same error before touching the network.
        #expect(throws: DockerError.self) {
            _ = try DockerClient(configuration: .init(environment: ["DOCKER_HOST": "tcp://h:2375"]))
        }
    }

    @Test func apiVersionNegotiation() throws {
        #expect(try DockerAPIVersion.negotiate(daemon: DockerAPIVersion("1.41")!) == DockerAPIVersion("1.41"))
        #expect(try DockerAPIVersion.negotiate(daemon: DockerAPIVersion("1.60")!) == .maximumSupported)
        #expect(throws: DockerError.self) { try DockerAPIVersion.negotiate(daemon: DockerAPIVersion("1.40")!) }
        #expect(DockerAPIVersion("1.x") == nil)
        #expect(DockerAPIVersion("1.9")! < DockerAPIVersion("1.41")!)
    }

    @Test func imageReferences() throws {
        let plain = try ImageReference(parsing: "busybox")
        #expect(plain.name == "busybox" && plain.tag == nil && plain.effectiveTag == "latest")
        #expect(plain.registryHost == "docker.io")
        let local = try ImageReference(parsing: "registry.example.com:5000/lab/app:1.2")
        #expect(local.name == "registry.example.com:5000/lab/app" && local.tag == "1.2")
        #expect(local.registryHost == "registry.example.com:5000")
        let digest = try ImageReference(parsing: "localhost/app@sha256:abc")
        #expect(digest.digest == "sha256:abc" && digest.effectiveTag == nil && digest.registryHost == "localhost")
        #expect(try ImageReference(parsing: "rdt4nn/spin").registryHost == "docker.io")
        #expect(throws: DockerError.self) { try ImageReference(parsing: "app:") }
        #expect(throws: DockerError.self) { try ImageReference(parsing: "") }
    }

    @Test func credentialsMatchOnlyTheirRegistry() throws {
        let hub = RegistryCredential(registry: "https://index.docker.io/v1/", username: "u", password: "p+/?")
        #expect(hub.matches(try ImageReference(parsing: "busybox")))
        #expect(!hub.matches(try ImageReference(parsing: "registry.example.com/x")))
        #expect(!hub.description.contains("p+/?"))
        let header = hub.registryAuthHeader
        #expect(!header.contains("+") && !header.contains("/"))
        let standard = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let json = try #require(Data(base64Encoded: standard))
        let decoded = try JSONDecoder().decode([String: String].self, from: json)
        #expect(decoded == ["username": "u", "password": "p+/?", "serveraddress": "docker.io"])
        let env = [
            "RDT4NN_REGISTRY": "r.example", "RDT4NN_REGISTRY_USERNAME": "a", "RDT4NN_REGISTRY_PASSWORD": "b",
        ]
        #expect(RegistryCredential.fromEnvironment(env) == RegistryCredential(registry: "r.example", username: "a", password: "b"))
        #expect(RegistryCredential.fromEnvironment([:]) == nil)
    }

    @Test func timestamps() {
        #expect(DockerTimestamp(rfc3339: "0001-01-01T00:00:00Z") == nil)
        #expect(DockerTimestamp(rfc3339: "1970-01-01T00:00:01.5Z")?.nanosecondsSinceEpoch == 1_500_000_000)
        #expect(
            DockerTimestamp(rfc3339: "2024-02-29T12:34:56.123456789Z")?.nanosecondsSinceEpoch
                == 1_709_210_096_123_456_789)
        #expect(
            DockerTimestamp(rfc3339: "2024-02-29T13:34:56.123456789+01:00")?.nanosecondsSinceEpoch
                == 1_709_210_096_123_456_789)
        #expect(DockerTimestamp(rfc3339: "garbage") == nil)
        #expect(DockerTimestamp(nanosecondsSinceEpoch: 1_000_000_007).description == "1.000000007")
    }

    @Test func demultiplexesFramesSplitAnywhere() throws {
        let stream: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 3] + Array("out".utf8) + [2, 0, 0, 0, 0, 0, 0, 4] + Array("err\n".utf8)
        for split in 0...stream.count {
            var demux = StreamDemultiplexer()
            let frames = try demux.feed(Array(stream[..<split])) + demux.feed(Array(stream[split...]))
            try demux.finish()
            let output = ContainerOutput(frames: frames)
            #expect(output.stdoutText == "out" && output.stderrText == "err\n")
        }
        var bad = StreamDemultiplexer()
        #expect(throws: DockerError.self) { _ = try bad.feed(Array("hello world".utf8)) }
        var cut = StreamDemultiplexer()
        _ = try cut.feed([1, 0, 0, 0, 0, 0, 0, 9, 65])
        #expect(throws: DockerError.self) { try cut.finish() }
    }

    /// A fake daemon: `/version` answers 1.41; pulls answer 200 and then an error mid-stream.
    private func fakeDaemon(pullBody: [String], seenHeaders: Locked<[String]>? = nil) throws -> ScriptedUnixServer {
        try ScriptedUnixServer { requestLine, headers in
            if requestLine.hasPrefix("GET /version") {
                let body = #"{"Version":"fake","ApiVersion":"1.45","MinAPIVersion":"1.24"}"#
                return [Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)]
            }
            if requestLine.hasPrefix("POST /v1.45/images/create") {
                seenHeaders?.mutate { $0 = headers }
                return [Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8)]
                    + pullBody.map { chunk($0) } + [Array("0\r\n\r\n".utf8)]
            }
            let body = #"{"message":"No such container: bench-x-web"}"#
            return [Array("HTTP/1.1 404 Not Found\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)]
        }
    }

    @Test func pullFailsOnAnErrorMidStreamDespiteStatus200() throws {
        let server = try fakeDaemon(pullBody: [
            #"{"status":"Pulling from lab/app","id":"1"}"# + "\r\n",
            #"{"status":"Downloading","progressDetail":{"current":10,"total":100},"id":"abc"}"# + "\r\n",
            #"{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}"# + "\r\n",
        ])
        defer { server.stop() }
        let client = try DockerClient(configuration: .init(socketPath: server.socketPath, environment: [:]))
        #expect(client.apiVersion == DockerAPIVersion("1.45"))
        var seen: [PullProgress] = []
        let error = #expect(throws: DockerError.self) {
            try client.pullImage("lab/app:1") { seen.append($0) }
        }
        #expect(error?.kind == .stream)
        #expect(error?.message == "unexpected EOF")
        #expect(error?.description == "docker: cannot pull image 'lab/app:1': unexpected EOF")
        #expect(seen.count == 2)
        #expect(seen.last?.current == 10 && seen.last?.total == 100)
        #expect(server.requestLines.last == "POST /v1.45/images/create?fromImage=lab%2Fapp&tag=1 HTTP/1.1")
    }

    @Test func pullSucceedsAtEndOfStreamWithoutError() throws {
        let server = try fakeDaemon(pullBody: [#"{"status":"Status: Image is up to date for app:latest"}"# + "\n"])
        defer { server.stop() }
        let client = try DockerClient(configuration: .init(socketPath: server.socketPath, environment: [:]))
        try client.pullImage("app")
        #expect(server.requestLines.last == "POST /v1.45/images/create?fromImage=app&tag=latest HTTP/1.1")
    }

    @Test func registryAuthIsSentOnlyToTheMatchingRegistry() throws {
        let seen = Locked<[String]>([])
        let server = try fakeDaemon(pullBody: [#"{"status":"ok"}"#], seenHeaders: seen)
        defer { server.stop() }
        let credential = RegistryCredential(registry: "registry.example.com", username: "u", password: "p")
        let client = try DockerClient(
            configuration: .init(socketPath: server.socketPath, environment: [:], registryCredentials: [credential]))
        try client.pullImage("registry.example.com/lab/app:1")
        #expect(seen.value.contains("X-Registry-Auth: \(credential.registryAuthHeader)"))
        try client.pullImage("other.example.com/lab/app:1")
        #expect(!seen.value.contains { $0.lowercased().hasPrefix("x-registry-auth") })
        try client.pullImage("lab/app:1")
        #expect(!seen.value.contains { $0.lowercased().hasPrefix("x-registry-auth") })
    }

    @Test func daemonErrorsNameTheContainer() throws {
        let server = try fakeDaemon(pullBody: [])
        defer { server.stop() }
        let client = try DockerClient(configuration: .init(socketPath: server.socketPath, environment: [:]))
        let error = #expect(throws: DockerError.self) { try client.startContainer("bench-x-web") }
        #expect(error?.status == 404 && error?.isNotFound == true)
        #expect(error?.description == "docker: cannot start container 'bench-x-web': No such container: bench-x-web")
    }

    @Test func unreachableDaemonMessageNamesTheSocket() {
        let error = #expect(throws: DockerError.self) {
            _ = try DockerClient(configuration: .init(socketPath: "/nonexistent/docker.sock", environment: [:]))
        }
        #expect(error?.kind == .transport)
        #expect(error?.description.contains("cannot connect to /nonexistent/docker.sock") == true)
    }

    @Test func benchmarkSpecNamesAndLabels() {
        let spec = ContainerSpec(benchmarkID: "42", container: "web/1", image: "x")
        #expect(spec.name == "bench-42-web_1")
        #expect(spec.labels == ["rdt4nn.benchmark": "42", "rdt4nn.container": "web/1"])
    }
}
